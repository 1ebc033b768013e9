//! The stages after the sensor, fed one event at a time, live or from a recording:
//! process table → container resolver ([`Tracker`]) → detectors → incidents → findings
//! ([`Pipeline`]). A recording needs only the [`Tracker`].

use std::{
    collections::VecDeque,
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use crate::{
    container::{ContainerRef, ContainerResolver, EnrichmentQueue},
    detect::{rules::Rules, Engine, Marks},
    event::{Event, EventBody, Exec, ProcessKey},
    finding::{
        self,
        flood::{FloodControl, Verdict},
        scc::Envelope,
        Incident, Incidents, Origin,
    },
    metrics::LatencyHistogram,
    process::{Process, ProcessTable},
};

/// How long an exited process stays in the table for ancestry lookups.
pub const EXIT_GRACE_NS: u64 = 30_000_000_000;

/// How long after lost records findings carry `Sensor_Records_Lost` (60 s).
pub const LOSS_MARK_NS: u64 = 60_000_000_000;

/// How long an incident's fate is kept beyond its dedupe window, for updates still waiting for
/// pod metadata.
const FATE_KEPT_EXTRA_NS: u64 = 300_000_000_000;

/// How long a flush waits for scripts still being judged.
pub const SCRIPT_WAIT_AT_FLUSH: Duration = Duration::from_secs(2);

/// Events a [`Tracker`] handled, by kind.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct EventCounts {
    /// Events handled.
    pub events: u64,
    /// Exec events handled.
    pub execs: u64,
    /// Fork events handled.
    pub forks: u64,
    /// Exit events handled.
    pub exits: u64,
    /// Stdio redirect events handled.
    pub redirects: u64,
    /// TCP connections opened or accepted.
    pub connects: u64,
    /// cgroups the kernel reported created.
    pub cgroups_created: u64,
}

impl EventCounts {
    /// The counts by kind, in the order of [`crate::metrics::EVENT_KINDS`].
    pub fn by_kind(&self) -> [(&'static str, u64); 6] {
        let [exec, fork, exit, redirect, connect, cgroup] = crate::metrics::EVENT_KINDS;
        [
            (exec, self.execs),
            (fork, self.forks),
            (exit, self.exits),
            (redirect, self.redirects),
            (connect, self.connects),
            (cgroup, self.cgroups_created),
        ]
    }
}

/// Counters of the pipeline after the [`Tracker`] (whose counts are [`EventCounts`]).
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct PipelineStats {
    /// Times the process table was brought back in line with /proc after lost records.
    pub loss_recoveries: u64,
    /// Detections made.
    pub detections: u64,
    /// Findings produced.
    pub findings: u64,
    /// Incidents silenced by an exception.
    pub excepted: u64,
    /// Incidents merged into a repeat count or held by the rate limit.
    pub suppressed: u64,
    /// Updates of findings that had gone out (more of the same incident).
    pub updates: u64,
}

/// The stages every event goes through, judged or not: the process table and the container
/// resolver. A recording uses only these; a [`Pipeline`] adds the detectors after them.
pub struct Tracker {
    table: ProcessTable,
    resolver: ContainerResolver,
    counts: EventCounts,
    last_expire_ns: u64,
    last_event_ns: u64,
}

impl Tracker {
    /// A tracker whose table starts with `seed` (processes that existed before the agent).
    pub fn new(seed: Vec<Process>, resolver: ContainerResolver) -> Self {
        let mut table = ProcessTable::new(EXIT_GRACE_NS);
        for p in seed {
            table.insert_seeded(p);
        }
        Self { table, resolver, counts: EventCounts::default(), last_expire_ns: 0, last_event_ns: 0 }
    }

    /// Count one event, apply it to the process table and find its container (`None`: the
    /// host).
    pub fn observe(&mut self, ev: &Event) -> Option<Arc<ContainerRef>> {
        self.counts.events += 1;
        self.last_event_ns = self.last_event_ns.max(ev.ts_boot_ns);
        let pid_ns = match &ev.body {
            EventBody::CgroupCreated(c) => {
                self.counts.cgroups_created += 1;
                self.resolver.cgroup_created(ev.cgroup_id, &c.path.to_str_lossy());
                return None;
            }
            EventBody::Exec(x) => {
                self.counts.execs += 1;
                x.pid_ns
            }
            EventBody::Fork(_) => {
                self.counts.forks += 1;
                0
            }
            EventBody::Exit(_) => {
                self.counts.exits += 1;
                0
            }
            EventBody::StdioRedirect(_) => {
                self.counts.redirects += 1;
                0
            }
            EventBody::Connect(_) => {
                self.counts.connects += 1;
                0
            }
        };
        let pid_ns = match self.table.apply(ev) {
            Some(p) if pid_ns == 0 => p.pid_ns,
            _ => pid_ns,
        };
        self.resolver.identify(ev.cgroup_id, ev.process.pid, pid_ns)
    }

    /// At most once a second of kernel time: exited processes past their grace leave the
    /// table. True when it ran.
    pub fn expire(&mut self, now_ns: u64) -> bool {
        if now_ns.saturating_sub(self.last_expire_ns) <= 1_000_000_000 {
            return false;
        }
        self.table.expire(now_ns);
        self.last_expire_ns = now_ns;
        true
    }

    /// Upkeep at kernel time `now_ns`: take answers from the container runtime, and let exited
    /// processes leave the table on time even when no event comes. True when the table was
    /// expired.
    pub fn poll(&mut self, now_ns: u64) -> bool {
        self.resolver.poll();
        now_ns >= self.last_event_ns && self.expire(now_ns)
    }

    /// Bring the process table back in line with `/proc` (read into `alive` at kernel time
    /// `scan_ns`): processes it missed are added (seeded), processes it believes alive but
    /// `/proc` no longer has are marked exited. Returns (added, marked exited).
    pub fn reconcile(&mut self, alive: Vec<Process>, scan_ns: u64) -> (usize, usize) {
        let pids: std::collections::HashSet<u32> = alive.iter().map(|p| p.key.pid).collect();
        let mut added = 0;
        for p in alive {
            if self.table.insert_seeded(p) {
                added += 1;
            }
        }
        (added, self.table.reconcile_exits(&pids, scan_ns))
    }

    /// The latest kernel time seen in an event (or judged at).
    pub fn last_event_ns(&self) -> u64 {
        self.last_event_ns
    }

    /// Events handled, by kind.
    pub fn counts(&self) -> EventCounts {
        self.counts
    }

    /// The process table.
    pub fn table(&self) -> &ProcessTable {
        &self.table
    }

    /// The container resolver.
    pub fn resolver(&self) -> &ContainerResolver {
        &self.resolver
    }

    /// The container resolver, mutably.
    pub fn resolver_mut(&mut self) -> &mut ContainerResolver {
        &mut self.resolver
    }
}

/// The stages after the sensor.
pub struct Pipeline {
    tracker: Tracker,
    engine: Engine,
    incidents: Incidents,
    held: EnrichmentQueue<Incident>,
    flood: FloodControl,
    /// Findings ready for the sinks, each with the kernel time its latency counts from (the
    /// event's time plus the wait for pod metadata) when it is an incident's first finding of a
    /// live run.
    findings: VecDeque<(Envelope, Option<u64>)>,
    /// Whether each incident's first finding went out (not silenced, merged or rate-limited),
    /// with the kernel time of its latest revision: its updates share that fate.
    fates: std::collections::HashMap<String, (bool, u64)>,
    latency: LatencyHistogram,
    origin: Origin,
    live: bool,
    stats: PipelineStats,
    by_category: std::collections::BTreeMap<&'static str, u64>,
    /// Kernel time of the last recovery from lost records, and how many were lost.
    recent_loss: Option<(u64, u64)>,
}

impl Pipeline {
    /// A pipeline whose table starts with `seed` (processes that existed before the agent).
    /// `live` lets detectors read the executables of running processes (not for replays).
    pub fn new(
        seed: Vec<Process>,
        resolver: ContainerResolver,
        rules: Arc<Rules>,
        origin: Origin,
        enrichment_wait: Duration,
        live: bool,
        python_model: Option<Arc<python_model::Model>>,
    ) -> Self {
        let incidents = Incidents::new(rules.incidents.settle_ms * 1_000_000, rules.incidents.dedupe_window_s * 1_000_000_000);
        let rules_for_flood = rules.clone();
        Self {
            tracker: Tracker::new(seed, resolver),
            engine: Engine::new(rules_for_flood, python_model),
            incidents,
            held: EnrichmentQueue::new(enrichment_wait, 10_000),
            flood: FloodControl::new(rules.incidents.merge_window_s, rules.incidents.max_findings_per_container_per_minute),
            findings: VecDeque::new(),
            fates: std::collections::HashMap::new(),
            latency: LatencyHistogram::default(),
            origin,
            live,
            stats: PipelineStats::default(),
            by_category: std::collections::BTreeMap::new(),
            recent_loss: None,
        }
    }

    /// Handle one event; returns the container it came from (`None`: the host).
    pub fn handle(&mut self, ev: &Event) -> Option<Arc<ContainerRef>> {
        let container = self.tracker.observe(ev);
        let recent_loss = self.recent_loss.filter(|(at, _)| ev.ts_boot_ns.saturating_sub(*at) < LOSS_MARK_NS);
        for mut d in self.engine.handle(ev, &self.tracker.table, container.as_ref(), self.live) {
            if let Some((_, lost)) = recent_loss {
                d.marks.records_lost = Some(lost);
            }
            self.stats.detections += 1;
            self.incidents.add(d, &self.origin);
        }
        self.expire(ev.ts_boot_ns);
        container
    }

    /// At most once a second of kernel time: exited processes past their grace leave the
    /// table, and the fates of incidents closed long ago are forgotten.
    fn expire(&mut self, now_ns: u64) {
        if self.tracker.expire(now_ns) {
            self.forget_fates(now_ns);
        }
    }

    /// Forget the fates of incidents closed long ago.
    fn forget_fates(&mut self, now_ns: u64) {
        // An incident closes `dedupe_window_s` after its latest detection; its last update
        // may still wait for pod metadata a while after that.
        let keep_ns = self.engine.rules().incidents.dedupe_window_s.saturating_mul(1_000_000_000).saturating_add(FATE_KEPT_EXTRA_NS);
        self.fates.retain(|_, (_, at)| now_ns < at.saturating_add(keep_ns));
    }

    /// Judge the processes that were running before the agent started as if each had just
    /// started, parents first (so that a relay is known before what it feeds): a reverse shell
    /// or a netcat relay that predates the agent is reported, its findings marked
    /// `Running_Before_Agent_Start`. `now_ns` (kernel time) stands for their exec time. Returns how
    /// many processes were judged.
    pub fn judge_running(&mut self, now_ns: u64) -> usize {
        self.judge_seeded(now_ns, |m| m.running_before_agent_start = true)
    }

    /// After the kernel lost records (ring buffer full): bring the process table back in line
    /// with `/proc` (read into `alive` at kernel time `scan_ns`). Processes the table missed are
    /// added and judged as if they had just started (their exec may have been among the lost
    /// records), with `Sensor_Records_Lost` on their findings; processes the table believes alive
    /// but `/proc` no longer has (their exit was lost) are marked exited. Findings made in the
    /// next [`LOSS_MARK_NS`] carry `Sensor_Records_Lost` too: something about them may be
    /// missing. Returns (added, marked exited).
    pub fn recover_after_loss(&mut self, alive: Vec<Process>, scan_ns: u64, lost: u64) -> (usize, usize) {
        self.recent_loss = Some((scan_ns, lost));
        let (added, gone) = self.tracker.reconcile(alive, scan_ns);
        self.judge_seeded(scan_ns, |m| m.records_lost = Some(lost));
        self.stats.loss_recoveries += 1;
        (added, gone)
    }

    /// Judge every seeded process not judged yet (no exec seen, alive), parents first.
    fn judge_seeded(&mut self, now_ns: u64, mark: impl Fn(&mut Marks)) -> usize {
        let mut keys: Vec<ProcessKey> = self
            .tracker
            .table
            .iter()
            .filter(|p| p.seeded && !p.exec_seen && !p.judged && p.exited.is_none())
            .map(|p| p.key)
            .collect();
        keys.sort_unstable_by_key(|k| (k.start, k.pid));
        for key in &keys {
            let Some(p) = self.tracker.table.get(*key) else { continue };
            let ev = Event {
                ts_boot_ns: now_ns,
                process: p.key,
                tid: p.key.pid,
                cgroup_id: p.cgroup_id,
                body: EventBody::Exec(Exec {
                    parent: p.parent.unwrap_or(ProcessKey { pid: 0, start: 0 }),
                    uid: p.uid,
                    gid: p.gid,
                    pid_ns: p.pid_ns,
                    comm: p.comm.clone(),
                    filename: p.exe.clone(),
                    exe: p.exe.clone(),
                    exe_truncated: false,
                    exe_storage: p.exe_storage,
                    argv: p.argv.clone(),
                    argv_truncated: p.argv_truncated,
                    stdio: crate::event::clone_stdio(&p.stdio),
                }),
            };
            let container = self.tracker.resolver.identify(ev.cgroup_id, ev.process.pid, p.pid_ns);
            for mut d in self.engine.handle(&ev, &self.tracker.table, container.as_ref(), self.live) {
                mark(&mut d.marks);
                self.stats.detections += 1;
                self.incidents.add(d, &self.origin);
            }
            self.tracker.table.mark_judged(*key);
        }
        self.tracker.last_event_ns = self.tracker.last_event_ns.max(now_ns);
        keys.len()
    }

    /// Upkeep and output: take answers from the container runtime, close incidents whose time
    /// is over at kernel time `now_ns` (all with `flush`), and turn those whose container
    /// metadata is known (or waited long enough) into findings.
    pub fn poll(&mut self, now_ns: u64, flush: bool) {
        if self.tracker.poll(now_ns) {
            self.forget_fates(now_ns);
        }
        for cgroup_id in self.tracker.resolver.take_gone() {
            self.engine.forget_cgroup(cgroup_id);
        }
        // Verdicts on scripts read off the event loop (all of them before a flush).
        for d in self.engine.verdicts(flush.then_some(SCRIPT_WAIT_AT_FLUSH)) {
            self.stats.detections += 1;
            self.incidents.add(d, &self.origin);
        }
        // Kernel time now, for the wait for pod metadata (live runs only).
        let boot_now = if self.live { finding::boot_now_ns() } else { 0 };
        for mut i in self.incidents.due(now_ns.max(self.tracker.last_event_ns), flush) {
            i.out_ns = boot_now;
            let container = i.first.container.as_ref().map(|c| c.id.clone());
            self.held.push(i, container.as_deref());
        }
        let rules = self.engine.rules().clone();
        let now = now_ns.max(self.tracker.last_event_ns);
        let live = self.live;
        let (origin, findings, stats, flood, fates) =
            (&self.origin, &mut self.findings, &mut self.stats, &mut self.flood, &mut self.fates);
        self.held.release(&self.tracker.resolver, flush, |i, info| {
            if i.revision > 1 {
                // An update goes where its first finding went.
                match fates.get_mut(&i.id) {
                    Some((true, at)) => {
                        *at = i.last_ts_boot_ns;
                        stats.findings += 1;
                        stats.updates += 1;
                        findings.push_back((finding::build(&i, &rules, origin, info.as_deref()), None));
                    }
                    Some((false, at)) => *at = i.last_ts_boot_ns,
                    None => {}
                }
                return;
            }
            if let Some(e) = finding::excepted(&rules, &i, info.as_deref()) {
                stats.excepted += 1;
                fates.insert(i.id.clone(), (false, i.last_ts_boot_ns));
                tracing::debug!(category = i.detection.category(), exception = %e.description, "incident silenced by an exception");
                return;
            }
            match flood.admit(&i, info.as_ref(), rules.detection(i.detection).severity, now) {
                Verdict::Emit(counts) => {
                    fates.insert(i.id.clone(), (true, i.last_ts_boot_ns));
                    let mut i = i;
                    i.flood = counts;
                    let f = finding::build(&i, &rules, origin, info.as_deref());
                    stats.findings += 1;
                    // Latency counts from the event, less the wait for pod metadata.
                    let waited = if live { finding::boot_now_ns().saturating_sub(i.out_ns) } else { 0 };
                    findings.push_back((f, live.then(|| i.first.ts_boot_ns.saturating_add(waited))));
                }
                Verdict::Merged | Verdict::RateLimited => {
                    fates.insert(i.id.clone(), (false, i.last_ts_boot_ns));
                    stats.suppressed += 1
                }
            }
        });

        for (i, info) in self.flood.expired(now, flush) {
            // What was known when the repeat came, else what is known now.
            let info = info.or_else(|| i.first.container.as_ref().and_then(|c| self.tracker.resolver.info(&c.id)));
            let f = finding::build(&i, &rules, &self.origin, info.as_deref());
            self.stats.findings += 1;
            self.findings.push_back((f, None));
        }
    }

    /// Map kernel time to wall time (and name findings) as the machine a recording was made on
    /// did.
    pub fn set_clock(&mut self, boot_to_unix_ns: i128, boot_id: String) {
        self.origin.boot_to_unix_ns = boot_to_unix_ns;
        if !boot_id.is_empty() {
            self.origin.boot_id = boot_id;
        }
    }

    /// How long incidents collect before they go out.
    pub fn settle(&self) -> Duration {
        Duration::from_millis(self.engine.rules().incidents.settle_ms)
    }

    /// True while something is to go out: a finding or update not out yet, one waiting for
    /// container metadata, or a script being judged.
    pub fn has_pending(&self) -> bool {
        self.incidents.pending_count() > 0 || !self.held.is_empty() || self.engine.pending_scripts() > 0
    }

    /// Flood control counters.
    pub fn flood_stats(&self) -> finding::flood::FloodStats {
        self.flood.stats()
    }

    /// Findings ready to go out, oldest first. The time an incident's first finding took from
    /// its event to here goes into [`Pipeline::latency`].
    pub fn take_findings(&mut self) -> impl Iterator<Item = Envelope> + '_ {
        let now = if self.findings.iter().any(|(_, t)| t.is_some()) { finding::boot_now_ns() } else { 0 };
        for (f, from) in &self.findings {
            *self.by_category.entry(f.finding.category).or_default() += 1;
            if let Some(from) = from {
                self.latency.observe_ns(now.saturating_sub(*from));
            }
        }
        self.findings.drain(..).map(|(f, _)| f)
    }

    /// How long incidents' first findings took from the kernel's timestamp of their event to
    /// the hand-off to the sinks, less any wait for pod metadata (live runs).
    pub fn latency(&self) -> &LatencyHistogram {
        &self.latency
    }

    /// Findings that went out, by category.
    pub fn findings_by_category(&self) -> &std::collections::BTreeMap<&'static str, u64> {
        &self.by_category
    }

    /// Number of containers the resolver knows.
    pub fn container_count(&self) -> usize {
        self.tracker.resolver.container_count()
    }

    /// The process table and container resolver in front of the detectors.
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// The process table.
    pub fn table(&self) -> &ProcessTable {
        &self.tracker.table
    }

    /// The container resolver.
    pub fn resolver(&self) -> &ContainerResolver {
        &self.tracker.resolver
    }

    /// The container resolver, mutably.
    pub fn resolver_mut(&mut self) -> &mut ContainerResolver {
        &mut self.tracker.resolver
    }

    /// Counters.
    pub fn stats(&self) -> PipelineStats {
        self.stats
    }

    /// Incident counters.
    pub fn incident_stats(&self) -> finding::IncidentStats {
        self.incidents.stats()
    }

    /// Output that went out without complete container metadata.
    pub fn incomplete_outputs(&self) -> u64 {
        self.tracker.resolver.stats().incomplete_outputs.load(Ordering::Relaxed)
    }
}
