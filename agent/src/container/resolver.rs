//! cgroup id → host or container → pod metadata, with CRI lookups done asynchronously and
//! output that needs them held for a bounded time.
//!
//! The hot path (`identify` on a known cgroup id, `container` on a known id) is two hash
//! lookups: no /proc reads, no syscalls, no allocation.

use std::{
    collections::{HashMap, VecDeque},
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{
    cgroup_path::{self, ContainerRef, Runtime},
    cgroups::CgroupPaths,
    cri::{ContainerMeta, CriClient, CriError, Lookup, RuntimeEndpoint},
};

/// How complete a container's metadata is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enrichment {
    /// Pod and container metadata from the runtime.
    Complete,
    /// The runtime does not know this container (not a Kubernetes container): nothing to add.
    NotKubernetes,
    /// Metadata was not (yet) available when this went out.
    Incomplete,
}

/// Which container something ran in, with what is known about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInfo {
    /// Runtime, from the cgroup path.
    pub runtime: Runtime,
    /// Container id.
    pub id: String,
    /// Metadata from the runtime, when known.
    #[serde(flatten)]
    pub meta: ContainerMeta,
    /// How complete `meta` is.
    pub enrichment: Enrichment,
    /// Why it is incomplete, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrichment_error: Option<String>,
}

/// A recording line that carries what the resolver learned, so a replay knows the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// The cgroup id.
    pub cgroup_id: u64,
    /// The container of that cgroup, `None` for the host.
    pub container: Option<ContainerInfo>,
}

/// Counters of enrichment.
#[derive(Debug, Default)]
pub struct EnrichStats {
    /// CRI lookups made.
    pub lookups: AtomicU64,
    /// Lookups that failed (runtime down, timeout, error).
    pub failures: AtomicU64,
    /// Failed connection attempts to the runtime socket.
    pub connect_failures: AtomicU64,
    /// Sum of successful lookup latencies, microseconds.
    pub latency_us_sum: AtomicU64,
    /// Output that waited for metadata and went out without it.
    pub incomplete_outputs: AtomicU64,
}

struct Entry {
    info: Arc<ContainerInfo>,
    pending: bool,
    retry_at: Option<Instant>,
    cgroups: u32,
    attempts: u8,
}

type Reply = (String, Result<Lookup, String>);

/// Time between retries of a container whose lookup failed.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Lookups of a Kubernetes container the runtime does not list yet, and the delay between them.
const NOT_FOUND_RETRIES: u8 = 8;
const NOT_FOUND_RETRY_DELAY: Duration = Duration::from_millis(250);
/// How often the cgroup tree is rescanned to forget containers that are gone.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How long the path of a cgroup the kernel reported created is kept once the sweep no longer
/// finds it in the tree: events of its processes that are still queued need it.
const CREATED_KEPT: Duration = Duration::from_secs(600);
/// Most created-cgroup paths kept.
const CREATED_MAX: usize = 65_536;

/// The container resolver.
pub struct ContainerResolver {
    paths: Option<CgroupPaths>,
    host_pid_ns: u32,
    /// Looked up for every event: foldhash over the kernel's cgroup ids, not SipHash.
    identities: std::collections::HashMap<u64, Option<Arc<ContainerRef>>, foldhash::fast::RandomState>,
    containers: HashMap<String, Entry>,
    requests: Option<mpsc::UnboundedSender<String>>,
    replies: Option<mpsc::UnboundedReceiver<Reply>>,
    updates: Vec<ContainerRecord>,
    scheduled: Vec<(Instant, String)>,
    record_updates: bool,
    last_sweep: Instant,
    /// Paths of cgroups the kernel reported created, with when (see [`Self::cgroup_created`]).
    created: HashMap<u64, (Box<str>, Instant)>,
    /// Identified cgroups found gone at sweeps, not yet taken ([`Self::take_gone`]).
    gone: Vec<u64>,
    stats: Arc<EnrichStats>,
}

fn host_pid_ns() -> u32 {
    std::fs::read_link("/proc/1/ns/pid")
        .ok()
        .and_then(|l| l.to_str().and_then(|s| s.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()))
        .unwrap_or(0)
}

impl ContainerResolver {
    /// A resolver for live events: cgroup paths from `cgroup2_mount`; pod metadata from the CRI
    /// socket when `cri` is given (spawns the lookup task on the current tokio runtime).
    pub fn live(cgroup2_mount: Option<PathBuf>, cri: Option<(RuntimeEndpoint, Duration)>) -> Self {
        let mut paths = cgroup2_mount.map(CgroupPaths::new);
        if let Some(p) = paths.as_mut() {
            if let Err(e) = p.scan() {
                tracing::warn!(error = %e, "cannot scan the cgroup2 tree; containers will not be recognised");
            }
        }
        let stats = Arc::new(EnrichStats::default());
        let (requests, replies) = match cri {
            Some((endpoint, timeout)) => {
                let (req_tx, req_rx) = mpsc::unbounded_channel();
                let (rep_tx, rep_rx) = mpsc::unbounded_channel();
                tokio::spawn(cri_worker(endpoint, timeout, req_rx, rep_tx, stats.clone()));
                (Some(req_tx), Some(rep_rx))
            }
            None => (None, None),
        };
        Self {
            paths,
            host_pid_ns: host_pid_ns(),
            identities: std::collections::HashMap::with_capacity_and_hasher(1024, foldhash::fast::RandomState::default()),
            containers: HashMap::with_capacity(256),
            requests,
            replies,
            updates: Vec::new(),
            scheduled: Vec::new(),
            record_updates: false,
            last_sweep: Instant::now(),
            created: HashMap::new(),
            gone: Vec::new(),
            stats,
        }
    }

    /// A resolver that only knows what recordings tell it (replay).
    pub fn replay() -> Self {
        let mut r = Self::live(None, None);
        r.host_pid_ns = 0;
        r
    }

    /// Keep a list of what was learned, for [`Self::take_updates`] (recording).
    pub fn record_updates(&mut self, on: bool) {
        self.record_updates = on;
    }

    /// Enrichment counters.
    pub fn stats(&self) -> &Arc<EnrichStats> {
        &self.stats
    }

    /// Host (`None`) or the container of a cgroup. `pid` is a process in that cgroup (asked once
    /// per unknown cgroup, when the cached tree does not have it yet); `pid_ns` (0 when unknown)
    /// decides for cgroup layouts no runtime uses: another pid namespace than the host's means a
    /// container.
    pub fn identify(&mut self, cgroup_id: u64, pid: u32, pid_ns: u32) -> Option<Arc<ContainerRef>> {
        if let Some(known) = self.identities.get(&cgroup_id) {
            return known.clone();
        }
        let path = self.path_of(cgroup_id, pid);
        let identity = match path.as_deref().and_then(cgroup_path::parse) {
            Some(r) => Some(Arc::new(r)),
            None if pid_ns != 0 && self.host_pid_ns != 0 && pid_ns != self.host_pid_ns => Some(Arc::new(ContainerRef {
                runtime: Runtime::Unknown,
                id: format!("cgroup-{cgroup_id}"),
                pod_uid: None,
                namespace: None,
            })),
            // Not known yet (the process is gone and the tree has no such cgroup): no verdict
            // is cached, the next event of this cgroup asks again.
            None if path.is_none() => return None,
            None => None,
        };
        self.identities.insert(cgroup_id, identity.clone());
        if let Some(r) = &identity {
            let info = self.container(r);
            if let Some(e) = self.containers.get_mut(&r.id) {
                e.cgroups += 1;
            }
            if self.record_updates {
                self.updates.push(ContainerRecord { cgroup_id, container: Some((*info).clone()) });
            }
        } else if self.record_updates {
            self.updates.push(ContainerRecord { cgroup_id, container: None });
        }
        identity
    }

    /// The kernel created cgroup `id` at `path`: its processes will be known as its container's
    /// even if they and the cgroup are gone before their events are handled (a container whose
    /// first process attacks and exits at once). Kept [`CREATED_KEPT`] after it left the tree.
    pub fn cgroup_created(&mut self, id: u64, path: &str) {
        if self.paths.is_none() || path.is_empty() || path.contains("/..") {
            return;
        }
        if self.created.len() >= CREATED_MAX {
            let now = Instant::now();
            self.created.retain(|_, (_, at)| now.duration_since(*at) < SWEEP_EVERY);
            if self.created.len() >= CREATED_MAX {
                return;
            }
        }
        self.created.insert(id, (path.into(), Instant::now()));
    }

    /// The cgroup path of an id: the cached tree, else what the kernel said when it created it,
    /// else the cgroup of `pid` if that is the same cgroup (checked by inode), else a
    /// rate-limited rescan of the tree.
    fn path_of(&mut self, cgroup_id: u64, pid: u32) -> Option<String> {
        let paths = self.paths.as_mut()?;
        if let Some(p) = paths.peek(cgroup_id) {
            return Some(p.to_owned());
        }
        if let Some((p, _)) = self.created.get(&cgroup_id) {
            return Some(p.to_string());
        }
        let from_proc = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .ok()
            .and_then(|text| cgroup_path::unified_path(&text).map(str::to_owned))
            .filter(|p| {
                let dir = paths.mount().join(p.trim_start_matches('/'));
                !p.contains("/..") && std::fs::metadata(dir).map(|m| std::os::unix::fs::MetadataExt::ino(&m) == cgroup_id).unwrap_or(false)
            });
        if let Some(p) = from_proc {
            paths.learn(cgroup_id, &p);
            return Some(p);
        }
        paths.path_of(cgroup_id).map(str::to_owned)
    }

    /// What is known about a container; the first sighting starts a runtime lookup.
    pub fn container(&mut self, r: &ContainerRef) -> Arc<ContainerInfo> {
        let now = Instant::now();
        if let Some(e) = self.containers.get_mut(&r.id) {
            let retry = matches!(e.retry_at, Some(t) if now >= t);
            if !retry {
                return e.info.clone();
            }
            e.retry_at = None;
            e.pending = true;
            e.attempts = 1;
            if let Some(tx) = &self.requests {
                let _ = tx.send(r.id.clone());
            }
            return e.info.clone();
        }
        let can_lookup = self.requests.is_some() && r.runtime != Runtime::Unknown;
        let info = Arc::new(ContainerInfo {
            runtime: r.runtime,
            id: r.id.clone(),
            meta: ContainerMeta { pod_uid: r.pod_uid.clone(), ..Default::default() },
            enrichment: Enrichment::Incomplete,
            enrichment_error: if can_lookup { None } else { Some("no container runtime configured".into()) },
        });
        if can_lookup {
            if let Some(tx) = &self.requests {
                let _ = tx.send(r.id.clone());
            }
        }
        self.containers
            .insert(r.id.clone(), Entry { info: info.clone(), pending: can_lookup, retry_at: None, cgroups: 0, attempts: 1 });
        info
    }

    /// The latest info for a container id, if seen.
    pub fn info(&self, id: &str) -> Option<Arc<ContainerInfo>> {
        self.containers.get(id).map(|e| e.info.clone())
    }

    /// True when a lookup for this container is still under way.
    pub fn is_pending(&self, id: &str) -> bool {
        self.containers.get(id).is_some_and(|e| e.pending)
    }

    /// Take the answers that arrived from the runtime; forget containers that are gone.
    pub fn poll(&mut self) {
        if let Some(rx) = self.replies.as_mut() {
            while let Ok((id, result)) = rx.try_recv() {
                let Some(e) = self.containers.get_mut(&id) else { continue };
                let mut info = (*e.info).clone();
                match result {
                    Ok(Lookup::Found(meta)) => {
                        let path_uid = info.meta.pod_uid.take();
                        info.meta = meta;
                        if info.meta.pod_uid.is_none() {
                            info.meta.pod_uid = path_uid;
                        }
                        info.enrichment = Enrichment::Complete;
                        info.enrichment_error = None;
                        e.retry_at = None;
                    }
                    // A Kubernetes cgroup path whose container or sandbox the runtime does not
                    // list yet: its first process runs while CRI is still creating it. Ask again
                    // shortly; the output waiting for it stays held.
                    Ok(Lookup::NotFound) if info.meta.pod_uid.is_some() && e.attempts < NOT_FOUND_RETRIES => {
                        e.attempts += 1;
                        self.scheduled.push((Instant::now() + NOT_FOUND_RETRY_DELAY, id));
                        continue;
                    }
                    Ok(Lookup::NotFound) => {
                        info.enrichment = Enrichment::NotKubernetes;
                        info.enrichment_error = None;
                        e.retry_at = None;
                    }
                    Err(reason) => {
                        info.enrichment = Enrichment::Incomplete;
                        info.enrichment_error = Some(reason);
                        e.retry_at = Some(Instant::now() + RETRY_AFTER);
                    }
                }
                e.pending = false;
                e.info = Arc::new(info);
                if self.record_updates {
                    for (cg, ident) in &self.identities {
                        if ident.as_ref().is_some_and(|r| r.id == id) {
                            self.updates.push(ContainerRecord { cgroup_id: *cg, container: Some((*e.info).clone()) });
                        }
                    }
                }
            }
        }
        if !self.scheduled.is_empty() {
            let now = Instant::now();
            let (due, later): (Vec<_>, Vec<_>) = self.scheduled.drain(..).partition(|(t, _)| *t <= now);
            self.scheduled = later;
            if let Some(tx) = &self.requests {
                for (_, id) in due {
                    let _ = tx.send(id);
                }
            }
        }
        if self.last_sweep.elapsed() >= SWEEP_EVERY {
            self.sweep();
        }
    }

    /// Rescan the cgroup tree and forget cgroups and containers that no longer exist.
    pub fn sweep(&mut self) {
        self.last_sweep = Instant::now();
        let Some(paths) = self.paths.as_mut() else { return };
        if paths.scan().is_err() {
            return;
        }
        // Created cgroups still in the tree are refreshed; those gone age out.
        let now = Instant::now();
        self.created.retain(|id, (_, at)| {
            if paths.contains(*id) {
                *at = now;
            }
            now.duration_since(*at) < CREATED_KEPT
        });
        let gone: Vec<u64> = self.identities.keys().copied().filter(|id| !paths.contains(*id)).collect();
        for cg in gone {
            self.gone.push(cg);
            if let Some(Some(r)) = self.identities.remove(&cg) {
                if let Some(e) = self.containers.get_mut(&r.id) {
                    e.cgroups = e.cgroups.saturating_sub(1);
                    if e.cgroups == 0 && !e.pending {
                        self.containers.remove(&r.id);
                    }
                }
            }
        }
    }

    /// The identified cgroups that left the tree since the last call: what is held for them
    /// (a container's pinned root) can go.
    pub fn take_gone(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.gone)
    }

    /// What was learned since the last call (only with [`Self::record_updates`]).
    pub fn take_updates(&mut self) -> Vec<ContainerRecord> {
        std::mem::take(&mut self.updates)
    }

    /// Learn from a recording.
    pub fn apply_record(&mut self, rec: ContainerRecord) {
        match rec.container {
            None => {
                self.identities.insert(rec.cgroup_id, None);
            }
            Some(info) => {
                let r = Arc::new(ContainerRef {
                    runtime: info.runtime,
                    id: info.id.clone(),
                    pod_uid: info.meta.pod_uid.clone(),
                    namespace: None,
                });
                self.identities.insert(rec.cgroup_id, Some(r));
                let id = info.id.clone();
                self.containers
                    .insert(id, Entry { info: Arc::new(info), pending: false, retry_at: None, cgroups: 1, attempts: 0 });
            }
        }
    }

    /// Number of containers known.
    pub fn container_count(&self) -> usize {
        self.containers.len()
    }
}

fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.subsec_nanos()).unwrap_or(0);
    // ±20%
    let f = 0.8 + (nanos % 400) as f64 / 1000.0;
    d.mul_f64(f)
}

/// The lookup task: one connection, lookups one at a time, reconnect with backoff and jitter.
async fn cri_worker(
    endpoint: RuntimeEndpoint,
    timeout: Duration,
    mut requests: mpsc::UnboundedReceiver<String>,
    replies: mpsc::UnboundedSender<Reply>,
    stats: Arc<EnrichStats>,
) {
    let mut client: Option<CriClient> = None;
    let mut backoff = Duration::from_millis(500);
    let mut next_try = Instant::now();
    let mut last_error = String::new();
    while let Some(id) = requests.recv().await {
        if client.is_none() {
            // Discovery looks again on every attempt (a few stat calls): a socket that appears
            // after the start (a runtime started later, a directory mounted later) is used at
            // the next lookup; back-off applies only to a socket that exists but does not answer.
            let Some(socket) = endpoint.current() else {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                stats.connect_failures.fetch_add(1, Ordering::Relaxed);
                if stats.connect_failures.load(Ordering::Relaxed).is_power_of_two() {
                    tracing::warn!(looked_for = %endpoint, "no container runtime socket found; findings carry container ids without pod metadata");
                }
                let _ = replies.send((id, Err(format!("no container runtime socket found ({endpoint})"))));
                continue;
            };
            if Instant::now() < next_try {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                let _ = replies.send((id, Err(format!("container runtime unavailable ({last_error})"))));
                continue;
            }
            match CriClient::connect(socket.clone(), timeout).await {
                Ok(c) => {
                    tracing::info!(socket = %socket.display(), "connected to the container runtime");
                    client = Some(c);
                    backoff = Duration::from_millis(500);
                }
                Err(e) => {
                    stats.connect_failures.fetch_add(1, Ordering::Relaxed);
                    stats.failures.fetch_add(1, Ordering::Relaxed);
                    last_error = e.to_string();
                    if stats.connect_failures.load(Ordering::Relaxed).is_power_of_two() {
                        tracing::warn!(error = %e, retry_in = ?backoff, "container runtime unavailable");
                    }
                    next_try = Instant::now() + jitter(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    let _ = replies.send((id, Err(format!("container runtime unavailable ({last_error})"))));
                    continue;
                }
            }
        }
        let Some(c) = client.as_mut() else { continue };
        stats.lookups.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let result = c.lookup(&id).await;
        tracing::debug!(container = %id, ?result, "CRI lookup");
        match result {
            Ok(l) => {
                stats.latency_us_sum.fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
                let _ = replies.send((id, Ok(l)));
            }
            Err(e) => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                let broken = match &e {
                    CriError::Connect { .. } | CriError::Timeout { .. } => true,
                    CriError::Call { status, .. } => status.code() == tonic::Code::Unavailable,
                };
                if broken {
                    client = None;
                    next_try = Instant::now() + jitter(backoff);
                }
                last_error = e.to_string();
                let _ = replies.send((id, Err(last_error.clone())));
            }
        }
    }
}

/// Output (events, findings) held until its container's metadata is known or its deadline
/// passes, in arrival order.
pub struct EnrichmentQueue<T> {
    held: VecDeque<(T, Option<String>, Instant)>,
    wait: Duration,
    max: usize,
}

impl<T> EnrichmentQueue<T> {
    /// Hold items at most `wait`; never more than `max` items.
    pub fn new(wait: Duration, max: usize) -> Self {
        Self { held: VecDeque::new(), wait, max }
    }

    /// Add an item about `container` (None: host, nothing to wait for).
    pub fn push(&mut self, item: T, container: Option<&str>) {
        self.held.push_back((item, container.map(str::to_owned), Instant::now() + self.wait));
    }

    /// Items held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Release, in order, every item at the front that may go: its container is settled, its
    /// deadline passed, the queue is over its bound, or `flush` is set.
    pub fn release(&mut self, resolver: &ContainerResolver, flush: bool, mut out: impl FnMut(T, Option<Arc<ContainerInfo>>)) {
        let now = Instant::now();
        while let Some((_, container, deadline)) = self.held.front() {
            let settled = container.as_deref().is_none_or(|id| !resolver.is_pending(id));
            if !(settled || flush || now >= *deadline || self.held.len() > self.max) {
                break;
            }
            let Some((item, container, _)) = self.held.pop_front() else { break };
            let info = container.as_deref().and_then(|id| resolver.info(id));
            if info.as_ref().is_some_and(|i| i.enrichment == Enrichment::Incomplete) {
                resolver.stats.incomplete_outputs.fetch_add(1, Ordering::Relaxed);
            }
            out(item, info);
        }
    }
}
