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
pub const EVENT_KINDS: [&str; 5] = ["exec", "fork", "exit", "stdio_redirect", "connect"];

/// Counters and sizes of the agent at one moment, built by the event loop and published with
/// [`Shared::publish`]. Counters are totals since the agent started (they only grow); the
/// `*_size`, `containers_known`, `queue_depth` and `spool_bytes` fields are current values.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Events handled by the pipeline, by kind (see [`EVENT_KINDS`]).
    pub events_by_kind: [(&'static str, u64); 5],
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
    /// One entry per configured sink.
    pub sinks: Vec<SinkSnapshot>,
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
            sinks: Vec::new(),
        }
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
