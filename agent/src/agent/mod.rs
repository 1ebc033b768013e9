//! The agent: events from a source through the stages after it to an output, and shutdown.
//!
//! An [`Agent`] reads batches of events from its [`EventSource`] (the kernel [`Sensor`] when
//! live) and hands them to its [`Work`]: a [`Detection`] judges them and delivers findings to
//! the sinks, a [`Recording`] writes them (with their containers) to a file without judging
//! them. Once a second it publishes its counters for the metrics endpoint and, after lost kernel
//! records, brings its process table back in line with `/proc`. [`replay`] feeds a recording
//! through a [`Detection`], so replayed findings leave by the same path as live ones.

mod snapshot;
mod source;
mod upkeep;
mod work;

use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use tokio::signal::unix::{signal, SignalKind};

pub use source::{EventSource, SourceCounters};
pub use work::{Detection, Recorder, Recording, Work};

use crate::{
    config::Config,
    container::ContainerResolver,
    detect::rules::Rules,
    event::Event,
    finding::{boot_now_ns, GcpPlace, Origin},
    metrics,
    pipeline::{Pipeline, Tracker},
    privileges,
    process::procfs,
    replay as recording,
    sensor::{Sensor, SensorConfig},
    sink::{Delivery, SinksConfig},
};
use upkeep::{release_freed_memory, LossLog, TRIM_EVERY_TICKS};

/// How often findings that are still collecting or waiting for metadata are looked at.
const PENDING_TICK: Duration = Duration::from_millis(20);

/// How long the last events in the ring buffer are read for at shutdown.
const LAST_READ: Duration = Duration::from_millis(200);

/// The Python model of the detectors, if the rules use one.
pub type PythonModel = Option<Arc<python_model::Model>>;

/// What a live run does with events.
pub enum Job {
    /// Judge them with these rules; findings to the configured sinks.
    Detect {
        /// The rules.
        rules: Arc<Rules>,
        /// The Python model.
        model: PythonModel,
    },
    /// Write them to a recording at this path (`-`: stdout); nothing is judged.
    Record {
        /// Where to write.
        output: PathBuf,
    },
}

/// Events from a source through [`Work`], until shut down. See the module doc.
pub struct Agent<S> {
    source: S,
    work: Work,
    metrics: Arc<metrics::Shared>,
    proc_root: PathBuf,
    /// How long output waits for container metadata at shutdown.
    enrichment_wait: Duration,
}

impl Agent<Sensor> {
    /// Start a live run (needs root): load and attach the sensor, seed the process table from
    /// `/proc`, start the sinks (or open the recording) and the metrics listener. Logs `shrike
    /// ready` when done.
    pub async fn start(config: &Config, job: Job) -> anyhow::Result<Agent<Sensor>> {
        privileges::require().map_err(|e| anyhow::anyhow!("{e}"))?;
        let cfg = SensorConfig {
            ring_buffer_bytes: config.sensor.ring_buffer_bytes,
            program_stats: config.sensor.program_stats,
            ..SensorConfig::default()
        };
        let sensor = Sensor::start(&cfg).context("starting the sensor")?;
        let origin = origin(config, true).await;
        let wait = config.container.enrichment_wait();
        let recording = matches!(job, Job::Record { .. });
        let proc_root = PathBuf::from("/proc");
        let socket = config.container.endpoint();
        let cri_timeout = Duration::from_millis(config.container.cri_timeout_ms);
        let mut resolver = ContainerResolver::live(procfs::cgroup2_mount(&proc_root), Some((socket.clone(), cri_timeout)));
        resolver.record_updates(recording);
        // Seed after attaching so that nothing started in between is missed.
        let seed = procfs::seed(&proc_root).context("reading /proc")?;
        let work = match job {
            Job::Record { output } => Work::Record(Recording::new(Tracker::new(seed, resolver), Recorder::open(&output, wait, &origin)?)),
            Job::Detect { rules, model } => {
                let mut pipeline = Pipeline::new(seed, resolver, rules, origin, wait, true, model);
                let judged = pipeline.judge_running(boot_now_ns());
                tracing::debug!(judged, "processes running at start judged");
                let delivery = Delivery::start(&config.sinks).await.context("starting the sinks")?;
                Work::Detect(Detection::new(pipeline, delivery))
            }
        };
        let shared = metrics::Shared::new();
        shared.set_attached();
        let mut metrics_addr = String::from("off");
        if !config.metrics.listen.is_empty() {
            let addr: std::net::SocketAddr = config.metrics.listen.parse().context("metrics.listen")?;
            let (bound, _server) = metrics::serve(addr, shared.clone()).await.with_context(|| format!("metrics listener on {addr}"))?;
            metrics_addr = bound.to_string();
        }
        // Loading parsed the kernel's BTF twice and seeding read all of /proc: tens of MB freed
        // but kept by the allocator. Give them back before the long run.
        release_freed_memory();
        tracing::info!(
            processes = work.tracker().table().len(),
            node = %config.node_name(),
            runtime_socket = %socket,
            recording,
            metrics = %metrics_addr,
            "shrike ready"
        );
        Ok(Agent { source: sensor, work, metrics: shared, proc_root, enrichment_wait: wait })
    }
}

impl<S: EventSource> Agent<S> {
    /// An agent over `source` and `work` that publishes to `metrics`; output waits at most
    /// `enrichment_wait` for container metadata at shutdown. [`Agent::start`] makes the live one.
    pub fn new(source: S, work: Work, metrics: Arc<metrics::Shared>, enrichment_wait: Duration) -> Self {
        Agent { source, work, metrics, proc_root: PathBuf::from("/proc"), enrichment_wait }
    }

    /// Run until `shutdown` completes, then read what the source still has, give output its
    /// bounded wait for metadata, stop the sinks and log `shrike stopped`.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut publish = tokio::time::interval(Duration::from_secs(1));
        let mut ticks = 0u64;
        let mut losses = LossLog::default();
        let mut loop_running = false;
        let mut batch: Vec<Event> = Vec::with_capacity(1024);
        loop {
            tokio::select! {
                r = self.source.next_batch(&mut batch) => r?,
                // Nothing wakes an idle agent but data, shutdown and the 1 s publish tick;
                // output still collecting or waiting for metadata is looked at every 20 ms.
                _ = tokio::time::sleep(PENDING_TICK), if self.work.has_pending() => {}
                _ = &mut shutdown => break,
                _ = publish.tick() => {
                    ticks += 1;
                    self.publish(ticks, &mut losses);
                }
            }
            // Ready once the loop has gone round (the first publish tick is immediate): ready
            // must not wait for some process on the node to exec.
            if !loop_running {
                loop_running = true;
                self.metrics.set_loop_running();
            }
            self.work.handle(&mut batch);
            self.work.poll(boot_now_ns())?;
        }
        // Take what the source already has, then give output its bounded wait.
        if let Ok(r) = tokio::time::timeout(LAST_READ, self.source.next_batch(&mut batch)).await {
            r?;
        }
        self.work.handle(&mut batch);
        self.work.drain(self.enrichment_wait).await?;
        let last = snapshot::take(&self.source, &self.work);
        self.work.close().await;
        snapshot::log_stopped(&last, self.source.counters().decoded);
        Ok(())
    }

    /// Once a second: counters to the metrics endpoint, warnings and recovery after lost
    /// kernel records, and now and then memory back to the kernel.
    fn publish(&mut self, tick: u64, losses: &mut LossLog) {
        if tick.is_multiple_of(TRIM_EVERY_TICKS) {
            // What a storm made the agent allocate (exited processes kept for a while,
            // batches) goes back to the kernel once it is freed.
            release_freed_memory();
        }
        let snap = snapshot::take(&self.source, &self.work);
        losses.check(snap.ringbuf_drops);
        if let Some(lost) = losses.recovery_due(snap.ringbuf_drops) {
            self.recover(lost);
        }
        self.metrics.publish(snap);
    }

    /// Lost kernel records: bring the process table back in line with /proc, so that the
    /// processes whose exec or exit was lost are known (and judged) again.
    fn recover(&mut self, lost: u64) {
        let scan_ns = boot_now_ns();
        match procfs::seed(&self.proc_root) {
            Ok(alive) => {
                let (added, exited) = self.work.recover(alive, scan_ns, lost);
                tracing::warn!(lost, added, exited, "process table brought back in line with /proc after lost kernel records");
            }
            Err(e) => tracing::warn!(error = %e, lost, "kernel records lost and /proc could not be read to recover the process table"),
        }
    }
}

/// Completes at the first SIGINT or SIGTERM after this call (must run inside a tokio runtime).
pub fn termination() -> std::io::Result<impl Future<Output = ()>> {
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = sigint.recv() => {}
            _ = sigterm.recv() => {}
        }
    })
}

/// Who and where this node is. The metadata server is asked when `[node] metadata_server` is
/// `auto` (live only: on a Compute Engine VM) or a URL; the configuration overrides what it says.
pub async fn origin(config: &Config, live: bool) -> Origin {
    let setting = config.node.metadata_server.trim();
    let endpoint = if setting == "auto" && !live { None } else { crate::cloud::metadata_endpoint(setting) };
    let mut place = GcpPlace::default();
    if let Some(e) = endpoint {
        match crate::cloud::discover(&e, Duration::from_secs(2)).await {
            Ok(p) => {
                tracing::info!(project = %p.project_id, zone = %p.zone, instance = %p.instance, cluster = %p.cluster, location = %p.cluster_location, "node place from the metadata server");
                place = p;
            }
            Err(err) => tracing::warn!(error = %err, "cannot learn the node's place in Google Cloud; findings are named from the configuration"),
        }
    }
    Origin::this_host(config.node_name(), place.overridden_by(&config.node.gcp_place()), config.scc_parent())
}

/// The sinks of a replay: stdout only, whatever the configuration says.
fn replay_sinks() -> SinksConfig {
    SinksConfig::default()
}

/// Feed the recording at `file` (`-`: standard input) through a [`Detection`] with these
/// rules, in file order and in the recording's kernel time; findings go to stdout through the
/// same delivery as a live run's. Logs `replay done` with the counts.
pub async fn replay(file: &Path, config: &Config, rules: Arc<Rules>, model: PythonModel) -> anyhow::Result<()> {
    let origin = origin(config, false).await;
    let pipeline = Pipeline::new(Vec::new(), ContainerResolver::replay(), rules, origin, Duration::ZERO, false, model);
    let mut detection = Detection::new(pipeline, Delivery::start(&replay_sinks()).await.context("starting the output")?);
    let mut result = Ok(());
    let read = recording::read_recording(file, |line| {
        if result.is_ok() {
            result = detection.replay_line(line);
        }
    })?;
    result?;
    detection.poll(0, true)?;
    let p = detection.pipeline();
    tracing::info!(
        findings = p.stats().findings,
        lines = read.lines,
        events = p.tracker().counts().events,
        processes = p.table().len(),
        containers = p.resolver().container_count(),
        "replay done"
    );
    let lost: u64 = detection.delivery().stats().iter().map(|s| s.dropped).sum();
    detection.close().await;
    if lost > 0 {
        anyhow::bail!("{lost} findings could not be written to stdout");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
