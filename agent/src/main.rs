//! The `shrike` command.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use anyhow::Context;
use clap::{Parser, Subcommand};
use shrike::{
    config::Config,
    container::{ContainerResolver, EnrichmentQueue},
    detect::rules::Rules,
    doctor,
    event::Event,
    finding::{boot_now_ns, GcpPlace, Origin},
    logging::LogFormat,
    metrics,
    pipeline::Pipeline,
    privileges,
    process::procfs,
    replay::{self, Line},
    sensor::{Sensor, SensorConfig},
    sink::{Delivery, SinkFlags},
};
use tokio::signal::unix::{signal, SignalKind};

/// Container runtime threat detector: eBPF process and socket sensor, findings as JSON lines.
#[derive(Parser)]
#[command(name = "shrike", version, about)]
struct Cli {
    /// Log format on stderr: `text`, or `json` (one object per line with `severity`, `message`,
    /// `time`, as cluster log pipelines such as Cloud Logging read it). Default: the
    /// `SHRIKE_LOG_FORMAT` environment variable, else `text`.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent: watch processes, write findings to stdout as JSON lines (needs root).
    Run {
        /// Configuration file (TOML); defaults apply to everything it leaves out.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Rules file over the embedded defaults (overrides the config's `rules`).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Also POST findings to this webhook URL (repeatable; spooled as `cli-1`, `cli-2`, ...).
        #[arg(long = "webhook", value_name = "URL")]
        webhooks: Vec<String>,
        /// Also append findings to this file (rotated as `[sinks.file]` says).
        #[arg(long, value_name = "PATH")]
        output_file: Option<PathBuf>,
        /// Do not write findings to stdout.
        #[arg(long)]
        no_stdout: bool,
        /// Spool directory of the network sinks (overrides `[sinks] spool_dir`).
        #[arg(long, value_name = "DIR")]
        spool_dir: Option<PathBuf>,
    },
    /// Write the sensor's typed events (with their containers) as JSON lines until
    /// SIGINT/SIGTERM (needs root).
    Record {
        /// Where to write (`-` for stdout).
        #[arg(long, short)]
        output: PathBuf,
        /// Configuration file (TOML).
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Feed a recording through the same pipeline as live events; findings go to stdout.
    ///
    /// Events are replayed in file order. Events whose kernel timestamp goes back in time (an
    /// edited, sorted or pasted-together recording) are still replayed, with one warning that
    /// gives their count and the first line: time windows then see time go backwards, so the
    /// findings may differ from the live run's. A device (`/dev/zero`), a directory or a line
    /// longer than 1 MiB is an error.
    Replay {
        /// A file written by `shrike record`, a FIFO, or `-` for standard input.
        file: PathBuf,
        /// Configuration file (TOML): node identity, rules.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Rules file over the embedded defaults.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Check whether this host can run the agent, and what to do if not.
    Doctor {
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
        /// Configuration file (TOML), for the container runtime endpoint.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}


/// How often findings that are still collecting or waiting for metadata are looked at.
const PENDING_TICK: Duration = Duration::from_millis(20);
fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.log_format.or_else(|| {
        let v = std::env::var("SHRIKE_LOG_FORMAT").ok()?;
        <LogFormat as clap::ValueEnum>::from_str(v.trim(), true).ok()
    });
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHRIKE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter);
    match format.unwrap_or_default() {
        LogFormat::Json => logs.event_format(shrike::logging::JsonLines).init(),
        LogFormat::Text => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
    }
    let result = match cli.command {
        Command::Doctor { json, config } => load_config(config.as_deref()).and_then(|c| run_doctor(json, &c)),
        Command::Replay { file, config, rules } => load_config(config.as_deref()).and_then(|c| run_replay(&file, c, rules)),
        Command::Run { config, rules, webhooks, output_file, no_stdout, spool_dir } => {
            let flags = SinkFlags { no_stdout, file: output_file, webhooks, spool_dir };
            load_config(config.as_deref()).and_then(|mut c| {
                c.sinks.apply_flags(&flags);
                c.sinks.validate().context("sinks from the configuration and the command line")?;
                live(c, rules, None)
            })
        }
        Command::Record { output, config } => load_config(config.as_deref()).and_then(|c| live(c, None, Some(&output))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

fn run_doctor(json: bool, config: &Config) -> anyhow::Result<ExitCode> {
    let checks = doctor::run_checks(config);
    let ok = if json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
        checks.iter().all(|c| c.verdict != doctor::Verdict::Fail)
    } else {
        doctor::print(&checks, &mut std::io::stdout().lock())?
    };
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

type PythonModel = Option<Arc<python_model::Model>>;

fn load_rules(config: &Config, flag: Option<PathBuf>) -> anyhow::Result<(Arc<Rules>, PythonModel)> {
    let path = flag.or_else(|| (!config.rules.is_empty()).then(|| PathBuf::from(&config.rules)));
    let rules = match path {
        Some(p) => Rules::load(&p)?,
        None => Rules::defaults(),
    };
    let model = shrike::detect::python::load_model(&rules)?;
    Ok((Arc::new(rules), model))
}

/// Who and where this node is. The metadata server is asked when `[node] metadata_server` is
/// `auto` (live only: on a Compute Engine VM) or a URL; the configuration overrides what it says.
async fn origin(config: &Config, live: bool) -> Origin {
    let setting = config.node.metadata_server.trim();
    let endpoint = if setting == "auto" && !live { None } else { shrike::cloud::metadata_endpoint(setting) };
    let mut place = GcpPlace::default();
    if let Some(e) = endpoint {
        match shrike::cloud::discover(&e, Duration::from_secs(2)).await {
            Ok(p) => {
                tracing::info!(project = %p.project_id, zone = %p.zone, instance = %p.instance, cluster = %p.cluster, location = %p.cluster_location, "node place from the metadata server");
                place = p;
            }
            Err(err) => tracing::warn!(error = %err, "cannot learn the node's place in Google Cloud; findings are named from the configuration"),
        }
    }
    Origin::this_host(config.node_name(), place.overridden_by(&config.node.gcp_place()), config.scc_parent())
}

/// Hand findings to the sinks (stdout, file, webhooks, SCC).
fn deliver(pipeline: &mut Pipeline, delivery: &Delivery) -> anyhow::Result<()> {
    for f in pipeline.take_findings() {
        let props = &f.finding.source_properties;
        let id = props.get("Finding_Id").and_then(|v| v.as_str()).unwrap_or_default();
        let key = shrike::sink::delivery_key(id, props.get("Finding_Revision").and_then(|v| v.as_u64()).unwrap_or(1));
        let json: Arc<str> = serde_json::to_string(&f)?.into();
        delivery.submit(&key, json);
    }
    Ok(())
}

/// Write findings to stdout, one JSON object per line.
fn emit(pipeline: &mut Pipeline, out: &mut impl Write) -> std::io::Result<()> {
    for f in pipeline.take_findings() {
        serde_json::to_writer(&mut *out, &f)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn run_replay(file: &Path, config: Config, rules: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let (rules, model) = load_rules(&config, rules)?;
    let origin = tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(origin(&config, false));
    let mut pipeline = Pipeline::new(Vec::new(), ContainerResolver::replay(), rules, origin, Duration::ZERO, false, model);
    let mut stdout = std::io::stdout().lock();
    let mut result = Ok(());
    let read = replay::read_recording(file, |line| match line {
        Line::Event(ev) => {
            pipeline.handle(&ev);
            pipeline.poll(ev.ts_boot_ns, false);
            if result.is_ok() {
                result = emit(&mut pipeline, &mut stdout);
            }
        }
        Line::Container(rec) => pipeline.resolver_mut().apply_record(rec),
        Line::Clock(c) => pipeline.set_clock(c.boot_to_unix_ns, c.boot_id),
    })?;
    result?;
    pipeline.poll(0, true);
    emit(&mut pipeline, &mut stdout)?;
    tracing::info!(
        findings = pipeline.stats().findings,
        lines = read.lines,
        events = pipeline.stats().events,
        processes = pipeline.table().len(),
        containers = pipeline.resolver().container_count(),
        "replay done"
    );
    Ok(ExitCode::SUCCESS)
}

/// Where `record` writes: events held until their container's metadata is known.
struct Recorder {
    out: Box<dyn Write>,
    queue: EnrichmentQueue<Event>,
}

impl Recorder {
    fn open(path: &Path, wait: Duration, origin: &Origin) -> anyhow::Result<Recorder> {
        let mut out: Box<dyn Write> = if path == Path::new("-") {
            Box::new(std::io::BufWriter::new(std::io::stdout()))
        } else {
            Box::new(std::io::BufWriter::new(
                std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
            ))
        };
        let clock = replay::Clock { boot_to_unix_ns: origin.boot_to_unix_ns, boot_id: origin.boot_id.clone() };
        replay::write_clock(&mut out, &clock).with_context(|| format!("writing {}", path.display()))?;
        Ok(Recorder { out, queue: EnrichmentQueue::new(wait, 100_000) })
    }

    /// Write what the resolver learned, then every event that may go.
    fn release(&mut self, pipeline: &mut Pipeline, flush: bool) -> std::io::Result<()> {
        for rec in pipeline.resolver_mut().take_updates() {
            replay::write_container(&mut self.out, &rec)?;
        }
        let mut result = Ok(());
        let out = &mut self.out;
        self.queue.release(pipeline.resolver(), flush, |ev, info| {
            if result.is_ok() {
                result = replay::write_event(out, &ev, info.as_deref());
            }
        });
        result
    }
}

/// Run live: `record` writes events to a file, otherwise they go through the pipeline only.
fn live(config: Config, rules: Option<PathBuf>, record: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (rules, model) = load_rules(&config, rules)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    privileges::require().map_err(|e| anyhow::anyhow!("{e}"))?;
    rt.block_on(async move {
        let cfg = SensorConfig { ring_buffer_bytes: config.sensor.ring_buffer_bytes, ..SensorConfig::default() };
        let mut sensor = Sensor::start(&cfg).context("starting the sensor")?;
        let origin = origin(&config, true).await;
        let mut recorder = match record {
            Some(p) => Some(Recorder::open(p, config.container.enrichment_wait(), &origin)?),
            None => None,
        };
        let socket = config.container.endpoint();
        let cri_timeout = Duration::from_millis(config.container.cri_timeout_ms);
        let mut resolver = ContainerResolver::live(procfs::cgroup2_mount(Path::new("/proc")), Some((socket.clone(), cri_timeout)));
        resolver.record_updates(recorder.is_some());
        // Seed after attaching so that nothing started in between is missed.
        let seed = procfs::seed(Path::new("/proc")).context("reading /proc")?;
        let mut pipeline = Pipeline::new(seed, resolver, rules, origin, config.container.enrichment_wait(), true, model);
        if record.is_none() {
            let judged = pipeline.judge_running(boot_now_ns());
            tracing::debug!(judged, "processes running at start judged");
        }
        let delivery = if record.is_none() { Some(Delivery::start(&config.sinks).await.context("starting the sinks")?) } else { None };
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
            processes = pipeline.table().len(),
            node = %config.node_name(),
            runtime_socket = %socket,
            recording = record.is_some(),
            metrics = %metrics_addr,
            "shrike ready"
        );
        let mut publish = tokio::time::interval(Duration::from_secs(1));
        let mut trim_ticks = 0u64;
        let mut losses = LossLog::default();
        let mut loop_running = false;
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut batch: Vec<Event> = Vec::with_capacity(1024);
        loop {
            tokio::select! {
                r = sensor.read_batch(|ev| batch.push(ev)) => { r?; }
                // Nothing wakes an idle agent but data, signals and the 1 s publish tick;
                // findings still collecting or waiting for metadata are looked at every 20 ms.
                _ = tokio::time::sleep(PENDING_TICK), if pipeline.has_pending() => {}
                _ = sigint.recv() => break,
                _ = sigterm.recv() => break,
                _ = publish.tick() => {
                    trim_ticks += 1;
                    if trim_ticks % TRIM_EVERY_TICKS == 0 {
                        // What a storm made the agent allocate (exited processes kept for a
                        // while, batches) goes back to the kernel once it is freed.
                        release_freed_memory();
                    }
                    let snap = snapshot(&sensor, &pipeline, delivery.as_ref());
                    losses.check(snap.ringbuf_drops);
                    if let Some(lost) = losses.recovery_due(snap.ringbuf_drops) {
                        recover(&mut pipeline, lost);
                    }
                    shared.publish(snap);
                }
            }
            // Ready once the loop has gone round (the first publish tick is immediate): ready
            // must not wait for some process on the node to exec.
            if !loop_running {
                loop_running = true;
                shared.set_loop_running();
            }
            handle_batch(&mut batch, &mut pipeline, recorder.as_mut(), false)?;
            pipeline.poll(boot_now_ns(), false);
            if let Some(d) = &delivery {
                deliver(&mut pipeline, d)?;
            } else {
                // A recording keeps events only; findings come from replaying it.
                pipeline.take_findings().for_each(drop);
            }
        }
        // Drain what is already in the ring buffer, then finish the recording.
        if let Ok(r) = tokio::time::timeout(Duration::from_millis(200), sensor.read_batch(|ev| batch.push(ev))).await {
            r?;
        }
        handle_batch(&mut batch, &mut pipeline, recorder.as_mut(), false)?;
        // Findings still collecting or waiting for pod metadata get their bounded wait.
        let deadline = tokio::time::Instant::now() + config.container.enrichment_wait() + pipeline.settle();
        while pipeline.has_pending() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            pipeline.poll(boot_now_ns(), false);
            if let Some(d) = &delivery {
                deliver(&mut pipeline, d)?;
            }
        }
        pipeline.poll(boot_now_ns(), true);
        if let Some(d) = &delivery {
            deliver(&mut pipeline, d)?;
        }
        // Give output still waiting for pod metadata its bounded wait, then write it all.
        if let Some(r) = recorder.as_mut() {
            let deadline = tokio::time::Instant::now() + config.container.enrichment_wait();
            while !r.queue.is_empty() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
                pipeline.poll(boot_now_ns(), false);
                r.release(&mut pipeline, false)?;
            }
            r.release(&mut pipeline, true)?;
            r.out.flush()?;
        }
        if let Some(d) = delivery {
            d.shutdown(Duration::from_secs(5)).await;
        }
        let k = sensor.kernel_counters();
        let e = pipeline.resolver().stats();
        tracing::info!(
            submitted = k.submitted,
            ringbuf_full = k.ringbuf_full,
            read_errors = k.read_errors,
            other_node_dropped = k.other_node_dropped,
            decoded = sensor.stats().decoded.load(Ordering::Relaxed),
            decode_errors = sensor.stats().decode_errors.load(Ordering::Relaxed),
            cri_lookups = e.lookups.load(Ordering::Relaxed),
            cri_failures = e.failures.load(Ordering::Relaxed),
            enrichment_incomplete = e.incomplete_outputs.load(Ordering::Relaxed),
            detections = pipeline.stats().detections,
            findings = pipeline.stats().findings,
            excepted = pipeline.stats().excepted,
            finding_updates = pipeline.stats().updates,
            findings_timed = pipeline.latency().count(),
            finding_latency_p50_us = micros(pipeline.latency().quantile(0.5)),
            finding_latency_p99_us = micros(pipeline.latency().quantile(0.99)),
            "shrike stopped"
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Publish ticks (seconds) between two [`release_freed_memory`] calls in the event loop.
const TRIM_EVERY_TICKS: u64 = 10;

/// Return memory the allocator holds but no longer uses to the kernel (glibc keeps freed heap
/// for reuse; after start-up that is memory the agent will not need again).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; no pointer is involved.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Seconds as whole microseconds for a log field (0 for none).
fn micros(seconds: Option<f64>) -> u64 {
    seconds.map_or(0, |s| (s * 1e6).round() as u64)
}

/// Events the kernel could not put in the full ring buffer reach the log, not only the
/// metrics: one warning at the start of a loss, then at most one per [`LossLog::EVERY`] with the
/// count since the last.
#[derive(Default)]
struct LossLog {
    reported: u64,
    last_warning: Option<std::time::Instant>,
    recovered: u64,
    last_recovery: Option<std::time::Instant>,
}

/// Lost kernel records: bring the process table back in line with /proc, so that the processes
/// whose exec or exit was lost are known (and judged) again.
fn recover(pipeline: &mut Pipeline, lost: u64) {
    let scan_ns = boot_now_ns();
    match procfs::seed(Path::new("/proc")) {
        Ok(alive) => {
            let (added, exited) = pipeline.recover_after_loss(alive, scan_ns, lost);
            tracing::warn!(lost, added, exited, "process table brought back in line with /proc after lost kernel records");
        }
        Err(e) => tracing::warn!(error = %e, lost, "kernel records lost and /proc could not be read to recover the process table"),
    }
}

impl LossLog {
    const EVERY: Duration = Duration::from_secs(10);
    /// Least time between two recoveries of the process table during a long loss.
    const RECOVER_EVERY: Duration = Duration::from_secs(5);

    /// Records lost since the last recovery, when one is due.
    fn recovery_due(&mut self, ringbuf_full: u64) -> Option<u64> {
        let new = ringbuf_full.saturating_sub(self.recovered);
        if new == 0 || self.last_recovery.is_some_and(|t| t.elapsed() < Self::RECOVER_EVERY) {
            return None;
        }
        self.recovered = ringbuf_full;
        self.last_recovery = Some(std::time::Instant::now());
        Some(new)
    }

    fn check(&mut self, ringbuf_full: u64) {
        let new = ringbuf_full.saturating_sub(self.reported);
        if new == 0 || self.last_warning.is_some_and(|t| t.elapsed() < Self::EVERY) {
            return;
        }
        tracing::warn!(
            lost = new,
            lost_total = ringbuf_full,
            "kernel events lost: the ring buffer was full (findings about those processes may be missing); raise [sensor] ring_buffer_bytes or give the agent more CPU"
        );
        self.reported = ringbuf_full;
        self.last_warning = Some(std::time::Instant::now());
    }
}

/// Counters for the metrics endpoint, taken once a second (never per event).
fn snapshot(sensor: &Sensor, pipeline: &Pipeline, delivery: Option<&Delivery>) -> metrics::Snapshot {
    let k = sensor.kernel_counters();
    let p = pipeline.stats();
    let e = pipeline.resolver().stats();
    let mut s = metrics::Snapshot::default();
    s.events_by_kind = [("exec", p.execs), ("fork", p.forks), ("exit", p.exits), ("stdio_redirect", p.redirects), ("connect", p.connects)];
    s.ringbuf_submitted = k.submitted;
    s.ringbuf_drops = k.ringbuf_full;
    s.kernel_read_errors = k.read_errors;
    s.other_node_dropped = k.other_node_dropped;
    s.decode_errors = sensor.stats().decode_errors.load(Ordering::Relaxed);
    s.process_table_size = pipeline.table().len() as u64;
    s.containers_known = pipeline.container_count() as u64;
    s.enrichment_lookups = e.lookups.load(Ordering::Relaxed);
    s.enrichment_failures = e.failures.load(Ordering::Relaxed);
    s.enrichment_latency_seconds_sum = e.latency_us_sum.load(Ordering::Relaxed) as f64 / 1e6;
    s.enrichment_incomplete = e.incomplete_outputs.load(Ordering::Relaxed);
    s.detections = p.detections;
    s.findings_by_category = pipeline.findings_by_category().iter().map(|(k, v)| (k.to_string(), *v)).collect();
    s.findings_excepted = p.excepted;
    s.findings_suppressed = p.suppressed;
    s.finding_updates = p.updates;
    s.finding_latency = pipeline.latency().clone();
    s.sinks = delivery
        .map(|d| {
            d.stats()
                .into_iter()
                .map(|k| metrics::SinkSnapshot {
                    name: k.name,
                    queue_depth: k.queue_depth as u64,
                    spool_bytes: k.spool_bytes,
                    delivered: k.delivered,
                    failures: k.failures,
                    dropped: k.dropped,
                })
                .collect()
        })
        .unwrap_or_default();
    s
}

fn handle_batch(batch: &mut Vec<Event>, pipeline: &mut Pipeline, recorder: Option<&mut Recorder>, flush: bool) -> anyhow::Result<()> {
    match recorder {
        Some(r) => {
            for ev in batch.drain(..) {
                let container = pipeline.handle(&ev);
                r.queue.push(ev, container.as_deref().map(|c| c.id.as_str()));
            }
            r.release(pipeline, flush).context("writing the recording")?;
            r.out.flush().context("writing the recording")?;
        }
        None => {
            for ev in batch.drain(..) {
                pipeline.handle(&ev);
            }
        }
    }
    Ok(())
}
