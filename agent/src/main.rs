//! The `shrike` command.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use anyhow::Context;
use clap::{Parser, Subcommand};
use shrike::{
    agent::{self, Agent, Job, PythonModel},
    config::Config,
    detect::rules::Rules,
    doctor,
    logging::LogFormat,
    sink::SinkFlags,
};

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
    /// Judge Python files with the malicious-Python model, offline, as the agent judges a script
    /// a container runs: verdict, score, threshold and the features behind the score.
    ///
    /// Exit status: 0 when nothing is malicious, 1 when a file is, 2 when nothing is but a file
    /// could not be scanned (or the model cannot be loaded).
    Scan {
        /// Files, and directories to search for `*.py`, `*.pyw` and scripts with a Python `#!`
        /// line (symbolic links inside them are not followed).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// A model file (as written by `cargo xtask train-python-model`) instead of the embedded one.
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
        /// One JSON object per file, clean files included (JSON Lines).
        #[arg(long)]
        json: bool,
        /// List clean files too (text output lists malicious files and errors).
        #[arg(long)]
        all: bool,
        /// Features listed per file.
        #[arg(long, default_value_t = 8, value_name = "N")]
        top: usize,
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
        Command::Scan { paths, model, json, all, top } => return run_scan(&paths, model.as_deref(), &shrike::scan::ScanOptions { json, all, top }),
        Command::Doctor { json, config } => load_config(config.as_deref()).and_then(|c| run_doctor(json, &c)),
        Command::Replay { file, config, rules } => load_config(config.as_deref()).and_then(|c| {
            let (rules, model) = load_rules(&c, rules)?;
            runtime()?.block_on(agent::replay(&file, &c, rules, model))?;
            Ok(ExitCode::SUCCESS)
        }),
        Command::Run { config, rules, webhooks, output_file, no_stdout, spool_dir } => {
            let flags = SinkFlags { no_stdout, file: output_file, webhooks, spool_dir };
            load_config(config.as_deref()).and_then(|mut c| {
                c.sinks.apply_flags(&flags);
                c.sinks.validate().context("sinks from the configuration and the command line")?;
                let (rules, model) = load_rules(&c, rules)?;
                live(&c, Job::Detect { rules, model })
            })
        }
        Command::Record { output, config } => load_config(config.as_deref()).and_then(|c| live(&c, Job::Record { output })),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_scan(paths: &[PathBuf], model: Option<&Path>, options: &shrike::scan::ScanOptions) -> ExitCode {
    let loaded = match model {
        Some(p) => python_model::Model::load(p),
        None => python_model::Model::from_bytes(shrike::detect::python::EMBEDDED_MODEL),
    };
    let model = match loaded {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(2);
        }
    };
    match shrike::scan::scan(&model, paths, options, &mut std::io::stdout().lock()) {
        Ok(t) => {
            eprintln!(
                "{} scanned, {} malicious, {} not scanned (model {}, threshold {:.3})",
                t.scanned,
                t.malicious,
                t.errors,
                model.version(),
                model.threshold()
            );
            t.exit_code()
        }
        Err(e) => {
            tracing::error!("writing the report: {e}");
            ExitCode::from(2)
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

fn load_rules(config: &Config, flag: Option<PathBuf>) -> anyhow::Result<(Arc<Rules>, PythonModel)> {
    let path = flag.or_else(|| (!config.rules.is_empty()).then(|| PathBuf::from(&config.rules)));
    let rules = match path {
        Some(p) => Rules::load(&p)?,
        None => Rules::defaults(),
    };
    let model = shrike::detect::python::load_model(&rules)?;
    Ok((Arc::new(rules), model))
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// Run live until SIGINT or SIGTERM.
fn live(config: &Config, job: Job) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let agent = Agent::start(config, job).await?;
        agent.run(agent::termination()?).await
    })?;
    Ok(ExitCode::SUCCESS)
}
