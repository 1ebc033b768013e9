//! `cargo xtask <task>`: build the agent with its eBPF object, install what a fresh machine
//! lacks, run every test, run the benchmark.

mod bench;
mod deb;
#[allow(dead_code)]
mod fuzz;
use xtask::image;
mod setup;

use std::{path::PathBuf, process::Command};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install what building needs (Debian packages, bpf-linker) when missing.
    Setup {
        /// Also install what the privileged tests use (containerd, runc, attack tools) and
        /// cargo-fuzz for the fuzz targets.
        #[arg(long)]
        test_deps: bool,
    },
    /// Build the eBPF object and the agent (release) into target/release/shrike.
    Build,
    /// Build, then run the agent (`shrike run` unless other arguments are given).
    Run {
        /// Arguments for shrike.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Exec storm with and without the agent; writes BENCHMARKS.md (root).
    Bench {
        /// Execs per storm.
        #[arg(short, long, default_value_t = 20_000)]
        n: usize,
        /// Rounds of (without, with).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Train the malicious-Python classifier: writes rules/python-model.bin and the evaluation
    /// report docs/python-model-evaluation.md.
    TrainPythonModel {
        /// The malicious PyPI packages (read in memory only, never unpacked or run).
        #[arg(long, default_value = "../shared/data/pypi-malregistry")]
        malregistry: PathBuf,
    },
    /// Build the release binary and package it: target/debian/shrike_<version>_<arch>.deb.
    Deb {
        /// Package this already built binary instead of building one.
        #[arg(long)]
        binary: Option<PathBuf>,
        /// Directory to write the .deb to (default: target/debian in the workspace).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Build the release binary and write the agent's container image archive (docker-archive
    /// format: `ctr images import`, `podman load`, `kind load image-archive`, `docker load`).
    Image {
        /// Put this already built binary in the image instead of building one.
        #[arg(long)]
        binary: Option<PathBuf>,
        /// Archive to write (default: target/image/shrike-<version>.tar).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Image names (default: localhost/shrike:<version> and localhost/shrike:dev).
        #[arg(long)]
        tag: Vec<String>,
    },
    /// Build the fuzz targets (fuzz/); each replays its committed corpus, then is fuzzed for a
    /// while (what `cargo xtask test` does last). Installs cargo-fuzz when missing.
    Fuzz {
        /// Seconds of fuzzing per target after its corpus (0: only replay the corpus).
        #[arg(long, default_value_t = fuzz::SMOKE_SECONDS)]
        seconds: u64,
    },
    /// Run every test, the privileged ones included (they need root; with CI=true a skip fails),
    /// then the fuzz targets: each replays its committed corpus and is fuzzed for a few seconds.
    Test {
        /// Extra arguments for `cargo test`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(mut cmd: Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

fn build() -> Result<PathBuf> {
    setup::build_deps()?;
    let mut c = cargo();
    c.args(["build", "--release", "--package", "shrike", "--bin", "shrike"]);
    run(c)?;
    let bin = root().join("target/release/shrike");
    eprintln!("built {}", bin.display());
    Ok(bin)
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Setup { test_deps } => {
            setup::build_deps()?;
            if test_deps {
                setup::test_deps()?;
            }
        }
        Task::Build => {
            build()?;
        }
        Task::Run { args } => {
            let bin = build()?;
            let mut c = Command::new(bin);
            if args.is_empty() {
                c.arg("run");
            } else {
                c.args(args);
            }
            run(c)?;
        }
        Task::Bench { n, rounds } => {
            setup::test_deps()?;
            setup::bench_deps()?;
            let bin = build()?;
            let report = bench::run(&bin, &root(), n, rounds)?;
            std::fs::write(root().join("BENCHMARKS.md"), &report)?;
            print!("{report}");
        }
        Task::TrainPythonModel { malregistry } => {
            let r = root();
            let malregistry = if malregistry.is_absolute() { malregistry } else { r.join(malregistry) };
            python_model_trainer::run(&r, &malregistry, &r.join("rules/python-model.bin"), &r.join("docs/python-model-evaluation.md"))?;
        }
        Task::Deb { binary, output } => {
            let bin = match binary {
                Some(b) => b,
                None => build()?,
            };
            let output = output.unwrap_or_else(|| root().join("target/debian"));
            println!("{}", deb::package(&root(), &bin, &output)?.display());
        }
        Task::Image { binary, output, tag } => {
            let bin = match binary {
                Some(b) => b,
                None => build()?,
            };
            let version = env!("CARGO_PKG_VERSION");
            let output = output.unwrap_or_else(|| root().join(format!("target/image/shrike-{version}.tar")));
            let tags = if tag.is_empty() { vec![format!("localhost/shrike:{version}"), "localhost/shrike:dev".into()] } else { tag };
            let id = image::write_archive(&bin, version, &tags, &output)?;
            let size = std::fs::metadata(&output)?.len();
            eprintln!("image {id} ({:.1} MiB), tags {}", size as f64 / 1048576.0, tags.join(" "));
            println!("{}", output.display());
        }
        Task::Fuzz { seconds } => {
            setup::build_deps()?;
            fuzz::install()?;
            fuzz::smoke(&root(), seconds)?;
        }
        Task::Test { args } => {
            setup::build_deps()?;
            setup::test_deps()?;
            let mut c = cargo();
            c.args(["test", "--workspace", "--release"]);
            c.args(args);
            run(c)?;
            fuzz::smoke(&root(), fuzz::SMOKE_SECONDS)?;
        }
    }
    Ok(())
}
