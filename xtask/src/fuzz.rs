//! The fuzz targets (`fuzz/`, a cargo-fuzz crate outside the workspace): the short run that
//! `cargo xtask test` does, and what it needs.
//!
//! cargo-fuzz asks for nightly features (`-Zsanitizer=address`); the machine's toolchain is
//! stable, so its unstable flags are allowed with `RUSTC_BOOTSTRAP=1`, only for these builds.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{bail, Context, Result};

/// The command that installs cargo-fuzz (pinned, like the other tools the build installs).
pub const CARGO_FUZZ_INSTALL: &str = "cargo install cargo-fuzz --locked --version 0.13.2";

/// Seconds each target is fuzzed by `cargo xtask test`, after its committed corpus replayed.
pub const SMOKE_SECONDS: u64 = 10;

/// True when `cargo fuzz` runs.
pub fn installed() -> bool {
    Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success())
}

/// Install cargo-fuzz when it is missing.
pub fn install() -> Result<()> {
    if installed() {
        return Ok(());
    }
    eprintln!("installing cargo-fuzz: {CARGO_FUZZ_INSTALL}");
    let status = Command::new("sh").arg("-c").arg(CARGO_FUZZ_INSTALL).status().context("installing cargo-fuzz")?;
    if !status.success() {
        bail!("cargo-fuzz install failed; run: {CARGO_FUZZ_INSTALL}");
    }
    Ok(())
}

/// Names of the fuzz targets: the `[[bin]]` entries of fuzz/Cargo.toml.
pub fn targets(root: &Path) -> Result<Vec<String>> {
    let manifest = root.join("fuzz/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let mut out = Vec::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if let Some(v) = line.strip_prefix("name = ").filter(|_| in_bin) {
            out.push(v.trim_matches('"').to_string());
        }
    }
    if out.is_empty() {
        bail!("no fuzz targets in {}", manifest.display());
    }
    Ok(out)
}

/// `cargo fuzz <sub>` in the repository, with the build options of every run (README, RUNS.md):
/// the address sanitizer, debug assertions and overflow checks, 16 codegen units.
pub fn cargo_fuzz(root: &Path, sub: &str) -> Command {
    let mut c = Command::new("cargo");
    c.current_dir(root).env("RUSTC_BOOTSTRAP", "1").args(["fuzz", sub, "--sanitizer", "address", "--debug-assertions", "--codegen-units", "16"]);
    c
}

/// [`cargo_fuzz`] for the short run: a build of its own (target/fuzz-smoke of the workspace's
/// target directory, so it never overwrites the optimised build of long runs), unoptimised and
/// without debug info (but for the few small crates fuzz/Cargo.toml optimises: the corpus
/// replays spend their time there). For seconds of fuzzing the build is what counts: measured
/// on the 2-core machine, opt-level 0 builds the targets with 5 CPU-minutes, opt-level 1 with
/// 13 and the optimised build of long runs with 18. Replaying every committed corpus then takes
/// about 80 s, and libFuzzer counts it in each target's seconds.
fn cargo_fuzz_smoke(root: &Path, target_dir: &Path, sub: &str) -> Command {
    let mut c = cargo_fuzz(root, sub);
    c.arg("--target-dir").arg(target_dir).env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0").env("CARGO_PROFILE_RELEASE_DEBUG", "0");
    c
}

/// Build every target, then for each: replay its committed corpus (fuzz/corpus/<target>: every
/// input that ever mattered, a crash there is a regression) and fuzz it for `seconds` from it
/// (new inputs go to a scratch directory, not to the committed corpus). Fails on the first
/// crash, leak, timeout or out-of-memory, naming the input libFuzzer saved.
pub fn smoke(root: &Path, seconds: u64) -> Result<()> {
    let started = Instant::now();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target")).join("fuzz-smoke");
    crate::run(cargo_fuzz_smoke(root, &target_dir, "build"))?;
    eprintln!("fuzz targets built in {:.0?}", started.elapsed());
    let scratch = target_dir.join("corpus");
    for t in targets(root)? {
        let t0 = Instant::now();
        let corpus = root.join("fuzz/corpus").join(&t);
        let work = scratch.join(&t);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
        let mut c = cargo_fuzz_smoke(root, &target_dir, "run");
        // libFuzzer reads -max_total_time=0 as "no limit": 0 s is -runs=0 (the corpus only).
        let limit = if seconds == 0 { "-runs=0".to_string() } else { format!("-max_total_time={seconds}") };
        c.arg(&t).arg(&work).arg(&corpus).args([
            "--",
            &limit,
            "-rss_limit_mb=2048",
            "-timeout=10",
            "-print_final_stats=1",
        ]);
        let out = c.output().with_context(|| format!("running {c:?}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "fuzz target {t} failed ({}); the input is under fuzz/artifacts/{t}/; reproduce with `RUSTC_BOOTSTRAP=1 cargo fuzz run {t} <input>`\n{}",
                out.status,
                tail.join("\n")
            );
        }
        let stat = |name: &str| {
            log.lines().find_map(|l| l.strip_prefix(&format!("stat::{name}:")).map(|v| v.trim().to_string())).unwrap_or_default()
        };
        eprintln!(
            "fuzz {t}: ok, {} runs in {:.0?} ({} corpus inputs replayed), peak rss {} MB",
            stat("number_of_executed_units"),
            t0.elapsed(),
            std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0),
            stat("peak_rss_mb")
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!("fuzz smoke run: every target ok in {:.0?}", started.elapsed());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every target in fuzz/Cargo.toml has its source, a committed corpus that is not empty and
    /// stays small, and a mention in the README's Fuzzing section.
    #[test]
    fn every_target_has_its_source_a_corpus_and_its_docs() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let targets = super::targets(root).unwrap();
        assert!(targets.len() >= 11, "{targets:?}");
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let fuzzing = &readme[readme.find("## Fuzzing").expect("a Fuzzing section")..];
        for t in &targets {
            assert!(root.join(format!("fuzz/fuzz_targets/{t}.rs")).is_file(), "{t}: no source");
            let corpus: Vec<_> = std::fs::read_dir(root.join("fuzz/corpus").join(t)).unwrap().flatten().collect();
            assert!(!corpus.is_empty(), "{t}: empty corpus");
            let bytes: u64 = corpus.iter().map(|e| e.metadata().unwrap().len()).sum();
            assert!(bytes < 2_500_000, "{t}: corpus of {bytes} bytes; minimise it (README, Fuzzing)");
            assert!(fuzzing.contains(&format!("`{t}`")), "{t}: not in the README's Fuzzing section");
        }
    }
}
