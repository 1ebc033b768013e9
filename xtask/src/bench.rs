//! `cargo xtask bench`: an exec storm with and without the agent, in one run, written to
//! BENCHMARKS.md.
//!
//! Wall-clock ratios of exec storms are noisy (±10% run to run on a 2-core VM), so besides the
//! ratio this measures what resolves the agent's real cost: the kernel programs' run time from
//! `kernel.bpf_stats_enabled` + bpftool, and the agent's own CPU time from /proc/<pid>/stat,
//! each divided by the number of execs.

use std::{
    fmt::Write as _,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

/// Program name prefixes (bpftool shows at most 15 characters).
const PROGRAMS: &[&str] = &[
    "sched_process_exec",
    "sched_process_fork",
    "sched_process_exit",
    "sys_enter_dup",
    "sys_enter_dup2",
    "sys_enter_dup3",
    "sys_enter_fcntl",
    "sys_exit_dup_family",
    "sys_enter_connect",
    "sys_exit_connect",
];

fn noop_binary(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let src = dir.join("noop.c");
    let bin = dir.join("noop");
    std::fs::write(&src, "int main(void) { return 0; }\n")?;
    let ok = Command::new("gcc").args(["-O2", "-static", "-o"]).arg(&bin).arg(&src).status().map(|s| s.success()).unwrap_or(false);
    if !ok {
        bail!("gcc -static failed: install gcc and libc6-dev (cargo xtask setup --test-deps)");
    }
    Ok(bin)
}

/// fork+exec+wait `n` times; returns the elapsed time.
fn storm(bin: &Path, nonce: &str, n: usize) -> Result<Duration> {
    let start = Instant::now();
    for _ in 0..n {
        let status = Command::new(bin).arg(nonce).stdin(Stdio::null()).stdout(Stdio::null()).status()?;
        if !status.success() {
            bail!("{} failed", bin.display());
        }
    }
    Ok(start.elapsed())
}

struct Agent {
    child: Child,
    stderr: Option<BufReader<std::process::ChildStderr>>,
}

impl Agent {
    fn start(shrike: &Path, args: &[&str]) -> Result<Agent> {
        let mut child = Command::new(shrike).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).env("SHRIKE_LOG", "info").spawn()?;
        let mut stderr = BufReader::new(child.stderr.take().context("stderr")?);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut line = String::new();
        loop {
            line.clear();
            if stderr.read_line(&mut line)? == 0 {
                bail!("agent exited before it was ready");
            }
            if line.contains("shrike ready") {
                break;
            }
            if Instant::now() > deadline {
                bail!("agent not ready after 60 s");
            }
        }
        Ok(Agent { child, stderr: Some(stderr) })
    }

    /// CPU time (user + system) so far, in seconds.
    fn cpu_seconds(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        let after = stat.rsplit_once(')').context("stat format")?.1;
        let f: Vec<&str> = after.split_whitespace().collect();
        let utime: f64 = f.get(11).context("utime")?.parse()?;
        let stime: f64 = f.get(12).context("stime")?.parse()?;
        Ok((utime + stime) / 100.0)
    }

    /// SIGINT, wait, and return the final log line's fields.
    fn stop(mut self) -> Result<String> {
        // SAFETY: signalling the child we started, by its pid.
        unsafe { libc_kill(self.child.id() as i32, 2) };
        let mut rest = String::new();
        if let Some(mut s) = self.stderr.take() {
            std::io::Read::read_to_string(&mut s, &mut rest)?;
        }
        self.child.wait()?;
        Ok(rest.lines().find(|l| l.contains("shrike stopped")).unwrap_or("").to_string())
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Total run time (ns) and run count of our programs, from bpftool.
fn bpf_run_stats() -> Result<(u64, u64)> {
    let out = Command::new("bpftool").args(["prog", "show"]).output().context("bpftool (apt-get install bpftool)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut ns, mut cnt) = (0, 0);
    for line in text.lines() {
        let Some(name) = line.split_whitespace().skip_while(|w| *w != "name").nth(1) else { continue };
        if !PROGRAMS.iter().any(|p| p.starts_with(name)) {
            continue;
        }
        ns += line.split_whitespace().skip_while(|w| *w != "run_time_ns").nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        cnt += line.split_whitespace().skip_while(|w| *w != "run_cnt").nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    Ok((ns, cnt))
}

fn set_bpf_stats(on: bool) -> Result<()> {
    std::fs::write("/proc/sys/kernel/bpf_stats_enabled", if on { "1" } else { "0" }).context("kernel.bpf_stats_enabled (needs root)")
}

/// Run the benchmark; returns the markdown report.
pub fn run(shrike: &Path, root: &Path, n: usize, rounds: usize) -> Result<String> {
    let bin = noop_binary(&root.join("target/bench"))?;
    let nonce = format!("shrike-bench-{}", std::process::id());
    storm(&bin, &nonce, n / 10)?; // warm caches

    let mut off = Vec::new();
    let mut on = Vec::new();
    let (mut bpf_ns, mut bpf_cnt, mut cpu_s, mut drops, mut submitted, mut decoded, mut decode_errors) = (0u64, 0u64, 0f64, 0u64, 0u64, 0u64, 0u64);
    for round in 0..rounds {
        eprintln!("round {}/{rounds}: without agent", round + 1);
        off.push(storm(&bin, &nonce, n)?);
        eprintln!("round {}/{rounds}: with agent", round + 1);
        let agent = Agent::start(shrike, &["run"])?;
        set_bpf_stats(true)?;
        let (ns0, c0) = bpf_run_stats()?;
        let cpu0 = agent.cpu_seconds()?;
        on.push(storm(&bin, &nonce, n)?);
        let (ns1, c1) = bpf_run_stats()?;
        let cpu1 = agent.cpu_seconds()?;
        set_bpf_stats(false)?;
        let last = agent.stop()?;
        bpf_ns += ns1 - ns0;
        bpf_cnt += c1 - c0;
        cpu_s += cpu1 - cpu0;
        drops += field(&last, "ringbuf_full");
        submitted += field(&last, "submitted");
        decoded += field(&last, "decoded");
        decode_errors += field(&last, "decode_errors");
    }

    // Completeness: record one storm and count what arrived for our nonce.
    eprintln!("recording one storm to count events");
    let rec = root.join("target/bench/storm.jsonl");
    let agent = Agent::start(shrike, &["record", "--output", rec.to_str().context("path")?])?;
    storm(&bin, &nonce, n)?;
    let last = agent.stop()?;
    let text = std::fs::read_to_string(&rec)?;
    let mut pids = std::collections::HashSet::new();
    let mut execs = 0usize;
    for line in text.lines() {
        if line.contains("\"type\":\"exec\"") && line.contains(&nonce) {
            execs += 1;
            if let Some(pid) = line.split("\"pid\":").nth(1).and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next()).and_then(|s| s.parse::<u32>().ok()) {
                pids.insert(pid);
            }
        }
    }
    let (mut forks, mut exits) = (0usize, 0usize);
    for line in text.lines() {
        let pid = line.split("\"pid\":").nth(1).and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next()).and_then(|s| s.parse::<u32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            if line.contains("\"type\":\"fork\"") {
                forks += 1;
            } else if line.contains("\"type\":\"exit\"") {
                exits += 1;
            }
        }
    }

    let total_execs = (n * rounds) as f64;
    let sum = |v: &[Duration]| v.iter().map(Duration::as_secs_f64).sum::<f64>();
    let (t_off, t_on) = (sum(&off), sum(&on));
    let per_exec = |t: f64| t / total_execs * 1e6;
    let kernel_us = bpf_ns as f64 / 1000.0 / total_execs;
    let user_us = cpu_s * 1e6 / total_execs;
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut md = String::new();
    writeln!(md, "# Benchmarks\n")?;
    writeln!(md, "Regenerate with `cargo xtask bench` (root; add `-n N --rounds R` to change the storm). Machine: {} cores, Linux {}.\n", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), kernel.trim())?;
    writeln!(md, "## Exec storm: {n} fork+exec+wait of a static do-nothing binary, {rounds} rounds alternating without / with `shrike run`\n")?;
    writeln!(md, "| measure | without agent | with agent | ratio |")?;
    writeln!(md, "|---|---|---|---|")?;
    writeln!(md, "| wall time, all rounds | {t_off:.2} s | {t_on:.2} s | {:.3} |", t_on / t_off)?;
    writeln!(md, "| per exec | {:.1} µs | {:.1} µs | |", per_exec(t_off), per_exec(t_on))?;
    for (i, (a, b)) in off.iter().zip(&on).enumerate() {
        writeln!(md, "| round {} | {:.2} s | {:.2} s | {:.3} |", i + 1, a.as_secs_f64(), b.as_secs_f64(), b.as_secs_f64() / a.as_secs_f64())?;
    }
    writeln!(md, "\nWall-clock ratios of exec storms vary ±10% run to run here; the costs below are what resolves the agent's overhead.\n")?;
    writeln!(md, "| cost per exec (fork + exec + exit and every syscall hook that ran) | µs |")?;
    writeln!(md, "|---|---|")?;
    writeln!(md, "| kernel: eBPF programs (`bpf_stats_enabled`, {bpf_cnt} program runs) | {kernel_us:.2} |")?;
    writeln!(md, "| userspace: agent CPU (utime+stime, 10 ms resolution) | {user_us:.2} |")?;
    writeln!(md, "| total | {:.2} |", kernel_us + user_us)?;
    writeln!(md, "\n## Events seen versus expected (one recorded storm of {n})\n")?;
    writeln!(md, "| event | expected | seen |")?;
    writeln!(md, "|---|---|---|")?;
    writeln!(md, "| exec | {n} | {execs} |")?;
    writeln!(md, "| fork | {n} | {forks} |")?;
    writeln!(md, "| exit | {n} | {exits} |")?;
    writeln!(md, "\nKernel counters over the `run` rounds: {submitted} records submitted, {decoded} decoded, {decode_errors} decode errors, {drops} lost to a full ring buffer. Recording round: ring-buffer drops {}.", field(&last, "ringbuf_full"))?;
    Ok(md)
}
