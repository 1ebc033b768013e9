//! The `shrike` command.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use clap::{Parser, Subcommand};
use shrike::{
    doctor,
    pipeline::Pipeline,
    process::procfs,
    replay,
    sensor::{Sensor, SensorConfig},
};
use tokio::signal::unix::{signal, SignalKind};

/// Container runtime threat detector: eBPF process and socket sensor, findings as JSON lines.
#[derive(Parser)]
#[command(name = "shrike", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent: watch processes, write findings to stdout as JSON lines (needs root).
    Run {
        /// Ring buffer size in bytes (power of two).
        #[arg(long, default_value_t = 16 * 1024 * 1024)]
        ring_buffer_bytes: u32,
    },
    /// Write the sensor's typed events as JSON lines until SIGINT/SIGTERM (needs root).
    Record {
        /// Where to write (`-` for stdout).
        #[arg(long, short)]
        output: PathBuf,
        /// Ring buffer size in bytes (power of two).
        #[arg(long, default_value_t = 16 * 1024 * 1024)]
        ring_buffer_bytes: u32,
    },
    /// Feed a recording through the same pipeline as live events.
    Replay {
        /// A file written by `shrike record`.
        file: PathBuf,
    },
    /// Check whether this host can run the agent, and what to do if not.
    Doctor {
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHRIKE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Doctor { json } => run_doctor(json),
        Command::Replay { file } => run_replay(&file),
        Command::Run { ring_buffer_bytes } => live(ring_buffer_bytes, None),
        Command::Record { output, ring_buffer_bytes } => live(ring_buffer_bytes, Some(&output)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_doctor(json: bool) -> anyhow::Result<std::process::ExitCode> {
    let checks = doctor::run_checks();
    let ok = if json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
        checks.iter().all(|c| c.verdict != doctor::Verdict::Fail)
    } else {
        doctor::print(&checks, &mut std::io::stdout().lock())?
    };
    Ok(if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
}

fn run_replay(file: &Path) -> anyhow::Result<std::process::ExitCode> {
    let mut pipeline = Pipeline::new(Vec::new());
    let n = replay::read_events(file, |ev| pipeline.handle(&ev))?;
    tracing::info!(events = n, processes = pipeline.table().len(), stats = ?pipeline.stats(), "replay done");
    Ok(std::process::ExitCode::SUCCESS)
}

/// Run live: `record` writes events to a file, otherwise they go through the pipeline.
fn live(ring_buffer_bytes: u32, record: Option<&Path>) -> anyhow::Result<std::process::ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let cfg = SensorConfig { ring_buffer_bytes, ..SensorConfig::default() };
        let mut sensor = Sensor::start(&cfg).context("starting the sensor")?;
        let mut recorder: Option<Box<dyn Write>> = match record {
            Some(p) if p == Path::new("-") => Some(Box::new(std::io::BufWriter::new(std::io::stdout()))),
            Some(p) => Some(Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            ))),
            None => None,
        };
        // Seed after attaching so that nothing started in between is missed.
        let seed = procfs::seed(Path::new("/proc")).context("reading /proc")?;
        let mut pipeline = Pipeline::new(seed);
        tracing::info!(processes = pipeline.table().len(), recording = record.is_some(), "shrike ready");
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        let mut write_error: Option<std::io::Error> = None;
        loop {
            tokio::select! {
                r = sensor.read_batch(|ev| {
                    if let Some(w) = recorder.as_mut() {
                        if let Err(e) = replay::write_event(w, &ev) {
                            write_error.get_or_insert(e);
                        }
                    }
                    pipeline.handle(&ev);
                }) => { r?; }
                _ = sigint.recv() => break,
                _ = sigterm.recv() => break,
                _ = tick.tick() => {
                    if let Some(w) = recorder.as_mut() { w.flush()?; }
                    let k = sensor.kernel_counters();
                    tracing::debug!(?k, processes = pipeline.table().len(), "counters");
                }
            }
            if let Some(e) = write_error.take() {
                return Err(e).context("writing the recording");
            }
        }
        // Drain what is already in the ring buffer, then finish the recording.
        let _ = tokio::time::timeout(Duration::from_millis(200), sensor.read_batch(|ev| {
            if let Some(w) = recorder.as_mut() {
                let _ = replay::write_event(w, &ev);
            }
            pipeline.handle(&ev);
        }))
        .await;
        if let Some(mut w) = recorder {
            w.flush()?;
        }
        let k = sensor.kernel_counters();
        tracing::info!(
            submitted = k.submitted,
            ringbuf_full = k.ringbuf_full,
            read_errors = k.read_errors,
            decoded = sensor.stats().decoded.load(std::sync::atomic::Ordering::Relaxed),
            decode_errors = sensor.stats().decode_errors.load(std::sync::atomic::Ordering::Relaxed),
            "shrike stopped"
        );
        Ok(std::process::ExitCode::SUCCESS)
    })
}
