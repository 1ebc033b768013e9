//! Prometheus metrics and health endpoints on one small HTTP listener.
//!
//! The event loop owns all stage state and never touches this module per event: it builds a
//! [`Snapshot`] of its counters periodically (say once a second) and hands it to
//! [`Shared::publish`], which costs one short lock. Scrapes read the last published snapshot,
//! so a scrape never waits on the loop and the loop never waits on a scrape.
//!
//! [`serve`] binds the listener and answers:
//! - `GET /metrics`: the last snapshot as OpenMetrics text (see [`render`] for the names);
//! - `GET /healthz`: `200 ok` while the process serves;
//! - `GET /readyz`: `200 ready` once [`Shared::set_attached`] and [`Shared::set_loop_running`]
//!   were called (programs attached, process table seeded, the event loop reading the ring
//!   buffer: not "an event arrived", which on a quiet node may take a long while), else `503`
//!   with the reason;
//! - anything else: `404` (`405` for a method other than GET/HEAD on a known path).

mod render;
mod server;

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::SystemTime,
};

pub use render::{render, CONTENT_TYPE};
pub use server::{serve, serve_with, ServeOptions};

/// The event kinds the sensor reports, in the order of [`Snapshot::events_by_kind`].
pub const EVENT_KINDS: [&str; 6] = ["exec", "fork", "exit", "stdio_redirect", "connect", "cgroup_created"];

/// Counters and sizes of the agent at one moment, built by the event loop and published with
/// [`Shared::publish`]. Counters are totals since the agent started (they only grow); the
/// `*_size`, `containers_known`, `queue_depth` and `spool_bytes` fields are current values.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Events handled by the pipeline, by kind (see [`EVENT_KINDS`]).
    pub events_by_kind: [(&'static str, u64); 6],
    /// Records the kernel side submitted to the ring buffer.
    pub ringbuf_submitted: u64,
    /// Records the kernel side dropped because the ring buffer was full.
    pub ringbuf_drops: u64,
    /// Errors reading the ring buffer or kernel maps.
    pub kernel_read_errors: u64,
    /// Records about processes of other nodes sharing the kernel (kind), dropped by the kernel
    /// side; always 0 when the agent runs in the initial pid namespace.
    pub other_node_dropped: u64,
    /// Records that could not be decoded into events.
    pub decode_errors: u64,
    /// Processes currently in the process table.
    pub process_table_size: u64,
    /// Containers the resolver currently knows.
    pub containers_known: u64,
    /// Container metadata lookups made (e.g. CRI calls).
    pub enrichment_lookups: u64,
    /// Container metadata lookups that failed.
    pub enrichment_failures: u64,
    /// Total seconds spent in container metadata lookups.
    pub enrichment_latency_seconds_sum: f64,
    /// Findings emitted with incomplete container metadata.
    pub enrichment_incomplete: u64,
    /// Detections made by the detectors (before exceptions and suppression).
    pub detections: u64,
    /// Findings emitted, by category.
    pub findings_by_category: Vec<(String, u64)>,
    /// Incidents silenced by an exception rule.
    pub findings_excepted: u64,
    /// Incidents suppressed as duplicates or by rate limiting.
    pub findings_suppressed: u64,
    /// Updates of findings that had gone out (more of the same incident), counted in
    /// `findings_by_category` too.
    pub finding_updates: u64,
    /// Time from the kernel's timestamp of an incident's first event to the hand-off of its
    /// first finding to the sinks, less any wait for pod metadata.
    pub finding_latency: LatencyHistogram,
    /// One entry per configured sink.
    pub sinks: Vec<SinkSnapshot>,
    /// Runs and run time of each attached kernel program (counted while BPF statistics are on).
    pub bpf_programs: Vec<ProgramSnapshot>,
}

/// Runs and run time of one kernel program (see [`Snapshot::bpf_programs`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramSnapshot {
    /// Program (= tracepoint) name.
    pub program: &'static str,
    /// Runs counted.
    pub runs: u64,
    /// Run time counted, in nanoseconds.
    pub run_time_ns: u64,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            events_by_kind: EVENT_KINDS.map(|kind| (kind, 0)),
            ringbuf_submitted: 0,
            ringbuf_drops: 0,
            kernel_read_errors: 0,
            other_node_dropped: 0,
            decode_errors: 0,
            process_table_size: 0,
            containers_known: 0,
            enrichment_lookups: 0,
            enrichment_failures: 0,
            enrichment_latency_seconds_sum: 0.0,
            enrichment_incomplete: 0,
            detections: 0,
            findings_by_category: Vec::new(),
            findings_excepted: 0,
            findings_suppressed: 0,
            finding_updates: 0,
            finding_latency: LatencyHistogram::default(),
            sinks: Vec::new(),
            bpf_programs: Vec::new(),
        }
    }
}

/// Upper bounds (seconds) of the [`LatencyHistogram`] buckets, besides `+Inf`.
pub const LATENCY_BUCKETS_S: [f64; 15] =
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];

/// A histogram of durations over [`LATENCY_BUCKETS_S`]: how long findings took from the kernel's
/// timestamp of the event that raised them to the hand-off to the sinks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyHistogram {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    counts: [u64; LATENCY_BUCKETS_S.len() + 1],
    sum_s: f64,
    count: u64,
}

impl LatencyHistogram {
    /// Count one duration.
    pub fn observe_ns(&mut self, ns: u64) {
        let s = ns as f64 / 1e9;
        let i = LATENCY_BUCKETS_S.iter().position(|b| s <= *b).unwrap_or(LATENCY_BUCKETS_S.len());
        self.counts[i] += 1;
        self.sum_s += s;
        self.count += 1;
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the observations, in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_s
    }

    /// (upper bound, observations in that bucket) pairs, `+Inf` last; not cumulative.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        LATENCY_BUCKETS_S.iter().copied().chain([f64::INFINITY]).zip(self.counts).collect()
    }

    /// The `q` quantile (0..=1) estimated as Prometheus' `histogram_quantile` does: linear
    /// within the bucket that holds it. `None` without observations; the largest finite bound
    /// when it falls in `+Inf`.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * self.count as f64;
        let mut seen = 0u64;
        for (i, n) in self.counts.iter().enumerate() {
            if *n > 0 && (seen + n) as f64 >= rank {
                let Some(upper) = LATENCY_BUCKETS_S.get(i) else { return LATENCY_BUCKETS_S.last().copied() };
                let lower = if i == 0 { 0.0 } else { LATENCY_BUCKETS_S[i - 1] };
                return Some(lower + (upper - lower) * ((rank - seen as f64) / *n as f64).clamp(0.0, 1.0));
            }
            seen += n;
        }
        LATENCY_BUCKETS_S.last().copied()
    }
}

/// The state of one sink in a [`Snapshot`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkSnapshot {
    /// The sink's name, used as the `sink` label (e.g. `webhook`, `stdout`).
    pub name: String,
    /// Findings waiting in the sink's in-memory queue.
    pub queue_depth: u64,
    /// Bytes currently held in the sink's on-disk spool.
    pub spool_bytes: u64,
    /// Findings delivered since start.
    pub delivered: u64,
    /// Delivery attempts that failed since start.
    pub failures: u64,
    /// Findings given up on (queue or spool full, too many retries) since start.
    pub dropped: u64,
}

/// Readiness of the agent, as `/readyz` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// When the [`Shared`] was created (about when the agent started).
    pub started: SystemTime,
    /// The eBPF programs are attached.
    pub programs_attached: bool,
    /// The event loop runs: it reads the ring buffer and publishes its counters.
    pub loop_running: bool,
    /// When the agent became ready (both of the above), if it is.
    pub ready_since: Option<SystemTime>,
}

impl Health {
    fn new(started: SystemTime) -> Self {
        Health {
            started,
            programs_attached: false,
            loop_running: false,
            ready_since: None,
        }
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.programs_attached && self.loop_running
    }

    /// Why the agent is not ready, or `None` if it is.
    pub fn not_ready_reason(&self) -> Option<&'static str> {
        match (self.programs_attached, self.loop_running) {
            (true, true) => None,
            (false, _) => Some("eBPF programs not attached yet"),
            (true, false) => Some("event loop not running yet"),
        }
    }

    fn update_ready_since(&mut self) {
        if self.ready_since.is_none() && self.is_ready() {
            self.ready_since = Some(SystemTime::now());
        }
    }
}

/// The last published snapshot and when it was published.
#[derive(Clone, Debug)]
pub(crate) struct Published {
    pub(crate) snapshot: Arc<Snapshot>,
    pub(crate) at: Option<SystemTime>,
}

/// State shared between the event loop (writer) and the HTTP server (reader): the last
/// published [`Snapshot`] and the [`Health`]. Every method takes one short lock and never
/// blocks on I/O; share it as `Arc<Shared>`.
#[derive(Debug)]
pub struct Shared {
    published: Mutex<Published>,
    health: Mutex<Health>,
}

/// Locks a mutex, ignoring poisoning: the data behind these locks is replaced whole, never
/// left half-updated, so a panic elsewhere cannot leave it inconsistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// A new shared state: empty snapshot, not ready, start time now.
    pub fn new() -> Arc<Shared> {
        Arc::new(Shared {
            published: Mutex::new(Published {
                snapshot: Arc::new(Snapshot::default()),
                at: None,
            }),
            health: Mutex::new(Health::new(SystemTime::now())),
        })
    }

    /// Replaces the snapshot scrapes see. Call it periodically from the event loop, not per
    /// event; the previous snapshot is freed outside the lock.
    pub fn publish(&self, snapshot: Snapshot) {
        let new = Published {
            snapshot: Arc::new(snapshot),
            at: Some(SystemTime::now()),
        };
        let old = std::mem::replace(&mut *lock(&self.published), new);
        drop(old);
    }

    /// Records that the eBPF programs are attached.
    pub fn set_attached(&self) {
        let mut h = lock(&self.health);
        h.programs_attached = true;
        h.update_ready_since();
    }

    /// Records that the event loop runs.
    pub fn set_loop_running(&self) {
        let mut h = lock(&self.health);
        h.loop_running = true;
        h.update_ready_since();
    }

    /// The last published snapshot (the default, all zero, before the first publish).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        lock(&self.published).snapshot.clone()
    }

    /// When the last snapshot was published, if ever.
    pub fn published_at(&self) -> Option<SystemTime> {
        lock(&self.published).at
    }

    /// The current readiness.
    pub fn health(&self) -> Health {
        lock(&self.health).clone()
    }

    pub(crate) fn published(&self) -> Published {
        lock(&self.published).clone()
    }
}

#[cfg(test)]
mod latency_tests {
    use super::*;

    #[test]
    fn buckets_and_quantiles() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        for _ in 0..98 {
            h.observe_ns(3_000_000); // 3 ms: the (2 ms, 5 ms] bucket
        }
        h.observe_ns(150_000_000); // 150 ms
        h.observe_ns(90_000_000_000); // beyond the last bound
        assert_eq!(h.count(), 100);
        let b = h.buckets();
        assert_eq!(b.len(), LATENCY_BUCKETS_S.len() + 1);
        assert_eq!(b[2], (0.005, 98));
        assert_eq!(b[7], (0.2, 1));
        assert_eq!(b.last().copied(), Some((f64::INFINITY, 1)));
        let p50 = h.quantile(0.5).unwrap();
        assert!(p50 > 0.002 && p50 <= 0.005, "{p50}");
        let p99 = h.quantile(0.99).unwrap();
        assert!(p99 > 0.1 && p99 <= 0.2, "{p99}");
        assert_eq!(h.quantile(1.0), Some(60.0));
        assert!((h.sum_seconds() - (0.294 + 0.15 + 90.0)).abs() < 1e-9);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_needs_both_flags() {
        let shared = Shared::new();
        let h = shared.health();
        assert!(!h.is_ready());
        assert_eq!(h.not_ready_reason(), Some("eBPF programs not attached yet"));
        shared.set_loop_running();
        assert_eq!(
            shared.health().not_ready_reason(),
            Some("eBPF programs not attached yet")
        );
        assert!(shared.health().ready_since.is_none());
        shared.set_attached();
        let h = shared.health();
        assert!(h.is_ready());
        assert_eq!(h.not_ready_reason(), None);
        let since = h.ready_since.unwrap();
        shared.set_attached();
        assert_eq!(
            shared.health().ready_since,
            Some(since),
            "ready_since stays the first time"
        );
    }

    #[test]
    fn publish_replaces_snapshot() {
        let shared = Shared::new();
        assert!(shared.published_at().is_none());
        assert_eq!(shared.snapshot().events_by_kind[0], ("exec", 0));
        shared.publish(Snapshot {
            detections: 7,
            ..Snapshot::default()
        });
        assert_eq!(shared.snapshot().detections, 7);
        assert!(shared.published_at().is_some());
    }
}
