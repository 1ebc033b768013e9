//! `cargo xtask bench`: an exec storm with and without the agent, in one run, written to
//! BENCHMARKS.md.
//!
//! Wall-clock ratios of exec storms are noisy (±10% run to run on a 2-core VM), so besides the
//! ratio this measures what resolves the agent's real cost: the kernel programs' run time from
//! `kernel.bpf_stats_enabled` + bpftool, and the agent's own CPU time from its CPU-time clock,
//! each divided by the number of execs.

use std::{
    fmt::Write as _,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};

/// The agent's metrics endpoint in its default configuration.
const METRICS_ADDR: &str = "127.0.0.1:9477";

/// Program name prefixes (bpftool shows at most 15 characters).
const PROGRAMS: &[&str] = &[
    "sched_process_exec",
    "sched_process_fork",
    "sched_process_exit",
    "inet_sock_set_state",
    "sock_send_length",
    "sock_recv_length",
    "tcp_rcv_space_adjust",
];

/// What other workloads pay per call: syscalls shrike does not hook, one it used to hook
/// (dup2), and a loopback TCP round trip (the socket hooks run on every send and receive of
/// it). Run as `tax MODE N`, prints ns per call.
const TAX_C: &str = r#"#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  const char *mode = argv[1];
  long n = atol(argv[2]);
  double t0, t1;
  if (!strcmp(mode, "getppid")) {
    t0 = now(); for (long i = 0; i < n; i++) syscall(SYS_getppid); t1 = now();
  } else if (!strcmp(mode, "read")) {
    int fd = open("/dev/zero", O_RDONLY); char c;
    t0 = now(); for (long i = 0; i < n; i++) if (read(fd, &c, 1) != 1) return 1; t1 = now();
  } else if (!strcmp(mode, "dup2")) {
    int fd = open("/dev/null", O_RDONLY);
    t0 = now(); for (long i = 0; i < n; i++) if (dup2(fd, 100) != 100) return 1; t1 = now();
  } else if (!strcmp(mode, "tcp")) {
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a; memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(l, (void *)&a, sizeof a) || listen(l, 1) || getsockname(l, (void *)&a, &al)) return 1;
    pid_t p = fork();
    if (p == 0) {
      int c = accept(l, 0, 0); char b;
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      while (read(c, &b, 1) == 1) if (write(c, &b, 1) != 1) break;
      _exit(0);
    }
    int s = socket(AF_INET, SOCK_STREAM, 0); char b = 'x';
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s, (void *)&a, sizeof a)) return 1;
    t0 = now(); for (long i = 0; i < n; i++) if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1) return 1; t1 = now();
    close(s); waitpid(p, 0, 0);
  } else return 2;
  printf("%.1f\n", (t1 - t0) / n);
  return 0;
}
"#;

/// Calls per measurement of each [`TAX_C`] mode.
const TAX_MODES: &[(&str, &str, u64)] = &[
    ("getppid", "`getppid` (not hooked by anyone)", 3_000_000),
    ("read", "1-byte `read` of /dev/zero", 3_000_000),
    ("dup2", "`dup2` onto fd 100", 3_000_000),
    ("tcp", "loopback TCP round trip, 1 byte each way (2 sends + 2 receives)", 50_000),
];

/// A peer's way of watching syscalls, for comparison: one program on every syscall entry, as
/// syscall-based sensors attach (bpftrace, counting only).
const PEER_SCRIPT: &str = "tracepoint:raw_syscalls:sys_enter { @n = count(); }";

/// Write `source` to `dir/name.c` and compile it (`gcc -O2`, plus `flags`) to `dir/name`.
fn compile_c(dir: &Path, name: &str, source: &str, flags: &[&str]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    std::fs::write(&src, source)?;
    let ok = Command::new("gcc").arg("-O2").args(flags).arg("-o").arg(&bin).arg(&src).status().map(|s| s.success()).unwrap_or(false);
    if !ok {
        bail!("gcc failed on {}: install gcc and libc6-dev (cargo xtask setup --test-deps)", src.display());
    }
    Ok(bin)
}

/// ns per call of each mode, in [`TAX_MODES`] order.
fn tax_round(bin: &Path) -> Result<Vec<f64>> {
    TAX_MODES
        .iter()
        .map(|(mode, _, n)| {
            let out = Command::new(bin).arg(mode).arg(n.to_string()).output()?;
            if !out.status.success() {
                bail!("{} {mode} failed", bin.display());
            }
            Ok(String::from_utf8_lossy(&out.stdout).trim().parse::<f64>()?)
        })
        .collect()
}

/// An execsnoop-style bpftrace script: every exec's filename and argv printed, the way
/// syscall-based sensors collect exec context.
const PEER_EXEC_SCRIPT: &str = "tracepoint:syscalls:sys_enter_execve { printf(\"%d %s \", pid, str(args->filename)); join(args->argv); }";

/// The peer (bpftrace) finds syscall tracepoints through tracefs, which a freshly booted
/// machine may not have mounted; shrike needs none (its programs attach by BTF id).
fn ensure_tracefs() -> Result<()> {
    const TRACEFS: &str = "/sys/kernel/tracing";
    if Path::new(TRACEFS).join("events").is_dir() {
        return Ok(());
    }
    let status = Command::new("mount")
        .args(["-t", "tracefs", "-o", "nosuid,nodev,noexec", "tracefs", TRACEFS])
        .status()
        .context("mount tracefs for the bpftrace peer")?;
    ensure!(status.success(), "mounting tracefs on {TRACEFS} for the bpftrace peer failed ({status})");
    Ok(())
}

/// bpftrace running a script, once its probe is attached.
struct Peer(Child);

impl Peer {
    fn start() -> Result<Peer> {
        Self::start_script(PEER_SCRIPT)
    }

    fn start_script(script: &str) -> Result<Peer> {
        ensure_tracefs()?;
        let mut child = Command::new("bpftrace")
            .args(["-e", script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("bpftrace (apt-get install bpftrace)")?;
        let mut out = BufReader::new(child.stdout.take().context("stdout")?);
        let mut line = String::new();
        // "Attaching 1 probe..." comes once the probe is in place.
        out.read_line(&mut line)?;
        if !line.contains("Attaching") {
            let _ = child.kill();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            let _ = child.wait();
            bail!("bpftrace did not attach: {line}{err}");
        }
        if let Some(mut err) = child.stderr.take() {
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        }
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Ok(Peer(child))
    }

    /// CPU time (user + system) so far, in seconds.
    fn cpu_seconds(&self) -> Result<f64> {
        cpu_seconds_of(self.0.id())
    }

    fn stop(mut self) -> Result<()> {
        // SAFETY: signalling the child we started, by its pid.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGINT) };
        self.0.wait()?;
        Ok(())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Syscall tax: every mode `rounds` times alone, beside `shrike run`, and beside the peer,
/// interleaved. Returns the markdown section.
fn tax(shrike: &Path, root: &Path, rounds: usize) -> Result<String> {
    let bin = compile_c(&root.join("target/bench"), "tax", TAX_C, &[])?;
    tax_round(&bin)?; // warm up
    let (mut off, mut on, mut peer) = (vec![Vec::new(); TAX_MODES.len()], vec![Vec::new(); TAX_MODES.len()], vec![Vec::new(); TAX_MODES.len()]);
    let push = |into: &mut Vec<Vec<f64>>, r: Vec<f64>| r.into_iter().enumerate().for_each(|(i, v)| into[i].push(v));
    for round in 0..rounds {
        eprintln!("syscall tax round {}/{rounds}", round + 1);
        push(&mut off, tax_round(&bin)?);
        let agent = Agent::start(shrike, &["run"])?;
        push(&mut on, tax_round(&bin)?);
        agent.stop()?;
        let p = Peer::start()?;
        push(&mut peer, tax_round(&bin)?);
        p.stop()?;
    }
    let mut md = String::new();
    writeln!(md, "\n## What other workloads pay: ns per call, median of {rounds} rounds, interleaved\n")?;
    writeln!(md, "Each call in a tight loop (`target/bench/tax MODE N`). \"peer\" is one bpftrace program on `raw_syscalls:sys_enter` that only counts: how syscall-based sensors watch.\n")?;
    writeln!(md, "| call | alone | with shrike | ratio | with a syscall hook (peer) | ratio |")?;
    writeln!(md, "|---|---|---|---|---|---|")?;
    for (i, (_, what, n)) in TAX_MODES.iter().enumerate() {
        let (a, b, c) = (median(off[i].clone()), median(on[i].clone()), median(peer[i].clone()));
        writeln!(md, "| {what} ({n} calls) | {a:.0} | {b:.0} | {:.3} | {c:.0} | {:.3} |", b / a, c / a)?;
    }
    Ok(md)
}

/// The program the exec storms run: exits at once (static, so no dynamic loader runs).
const NOOP_C: &str = "int main(void) { return 0; }\n";

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

/// A C program that posix_spawns and waits for `argv[1] argv[2]` `argv[3]` times: run inside
/// a new pid namespace, a container's exec storm.
const SPAWNER_C: &str = r#"#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
extern char **environ;
int main(int argc, char **argv) {
    if (argc != 4) return 2;
    char *args[] = {argv[1], argv[2], NULL};
    for (long i = 0, n = atol(argv[3]); i < n; i++) {
        pid_t pid;
        int status;
        if (posix_spawn(&pid, argv[1], NULL, NULL, args, environ) != 0) { perror("posix_spawn"); return 1; }
        if (waitpid(pid, &status, 0) != pid || status != 0) return 1;
    }
    return 0;
}
"#;

/// `n` execs of `bin` by `spawner`, in a new pid namespace (as a container's processes are);
/// returns the elapsed time.
fn container_storm(spawner: &Path, bin: &Path, nonce: &str, n: usize) -> Result<Duration> {
    let start = Instant::now();
    let status = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(spawner)
        .arg(bin)
        .arg(nonce)
        .arg(n.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .context("unshare (util-linux)")?;
    ensure!(status.success(), "the exec storm in a pid namespace failed: {status}");
    Ok(start.elapsed())
}

/// Voluntary context switches of all of a process's threads: how often it slept and was woken.
fn wakeups_of(pid: u32) -> Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let status = std::fs::read_to_string(task?.path().join("status"))?;
        total += status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .context("voluntary_ctxt_switches")?;
    }
    Ok(total)
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
        cpu_seconds_of(self.child.id())
    }

    /// A `/proc/<pid>/status` size field (`VmRSS`, `VmHWM`) in KiB.
    fn status_kb(&self, name: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{name} in /proc/{}/status", self.child.id()))
    }

    /// SIGINT, wait, and return the final log line's fields.
    fn stop(mut self) -> Result<String> {
        // SAFETY: signalling the child we started, by its pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        let mut rest = String::new();
        if let Some(mut s) = self.stderr.take() {
            std::io::Read::read_to_string(&mut s, &mut rest)?;
        }
        self.child.wait()?;
        Ok(rest.lines().find(|l| l.contains("shrike stopped")).unwrap_or("").to_string())
    }
}

/// CPU time (user + system) of a process so far, in seconds: its CPU-time clock
/// (`clock_getcpuclockid`), which the kernel keeps to the nanosecond for all its threads, live
/// and exited. /proc/PID/stat's utime and stime count whole 10 ms ticks: coarse next to the
/// tenth of a second a storm of 20,000 execs costs the agent.
fn cpu_seconds_of(pid: u32) -> Result<f64> {
    let mut clock: libc::clockid_t = 0;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a libc call writing into the local passed.
    let err = unsafe { libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) };
    ensure!(err == 0, "clock_getcpuclockid({pid}): {}", std::io::Error::from_raw_os_error(err));
    // SAFETY: as above.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        bail!("clock_gettime of process {pid}'s CPU clock: {}", std::io::Error::last_os_error());
    }
    Ok(ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
}

/// Total run time (ns) of every loaded BPF program, from bpftool.
fn bpf_run_time_all() -> Result<u64> {
    let out = Command::new("bpftool").args(["prog", "show"]).output().context("bpftool (apt-get install bpftool)")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().skip_while(|w| *w != "run_time_ns").nth(1).and_then(|v| v.parse::<u64>().ok()))
        .sum())
}

/// The execsnoop-style peer over one storm of `n`: (kernel µs, userspace µs) per exec.
fn peer_per_exec(bin: &Path, nonce: &str, n: usize) -> Result<(f64, f64)> {
    let peer = Peer::start_script(PEER_EXEC_SCRIPT)?;
    set_bpf_stats(true)?;
    let ns0 = bpf_run_time_all()?;
    let cpu0 = peer.cpu_seconds()?;
    storm(bin, nonce, n)?;
    let ns1 = bpf_run_time_all()?;
    let cpu1 = peer.cpu_seconds()?;
    set_bpf_stats(false)?;
    peer.stop()?;
    Ok(((ns1 - ns0) as f64 / 1000.0 / n as f64, (cpu1 - cpu0) * 1e6 / n as f64))
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

/// Runs and run time (ns) of each of the agent's programs, from its metrics endpoint (full
/// program names, which bpftool cuts to 15 characters).
fn program_stats(addr: &str) -> Result<std::collections::BTreeMap<String, (u64, f64)>> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).with_context(|| format!("metrics endpoint {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut body = String::new();
    s.read_to_string(&mut body)?;
    let mut out = std::collections::BTreeMap::<String, (u64, f64)>::new();
    for line in body.lines() {
        let (runs, rest) = if let Some(r) = line.strip_prefix("shrike_bpf_program_runs_total{program=\"") {
            (true, r)
        } else if let Some(r) = line.strip_prefix("shrike_bpf_program_run_time_seconds_total{program=\"") {
            (false, r)
        } else {
            continue;
        };
        let Some((name, value)) = rest.split_once("\"} ") else { continue };
        let v: f64 = value.trim().parse().with_context(|| format!("metric line {line:?}"))?;
        let slot = out.entry(name.to_string()).or_default();
        if runs {
            slot.0 = v as u64;
        } else {
            slot.1 = v * 1e9;
        }
    }
    Ok(out)
}

fn set_bpf_stats(on: bool) -> Result<()> {
    std::fs::write("/proc/sys/kernel/bpf_stats_enabled", if on { "1" } else { "0" }).context("kernel.bpf_stats_enabled (needs root)")
}

/// Both CPUs busy execing for `secs` seconds beside `shrike run`: how many execs, and how many
/// records the kernel lost. Returns (execs, execs per second, final log line of the agent, RSS
/// after it and peak RSS, KiB).
/// What the agent costs at rest and what memory it holds: (idle CPU %, RSS at start KiB).
fn idle(shrike: &Path, secs: u64) -> Result<(f64, u64, u64)> {
    let agent = Agent::start(shrike, &["run"])?;
    std::thread::sleep(Duration::from_secs(2));
    let rss0 = agent.status_kb("VmRSS")?;
    let cpu0 = agent.cpu_seconds()?;
    std::thread::sleep(Duration::from_secs(secs));
    let cpu1 = agent.cpu_seconds()?;
    let rss1 = agent.status_kb("VmRSS")?;
    agent.stop()?;
    Ok(((cpu1 - cpu0) / secs as f64 * 100.0, rss0, rss1))
}

fn sustained(shrike: &Path, bin: &Path, nonce: &str, secs: u64) -> Result<(u64, f64, String, u64, u64)> {
    let agent = Agent::start(shrike, &["run"])?;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (bin, nonce) = (bin.to_path_buf(), nonce.to_string());
            std::thread::spawn(move || -> Result<u64> {
                let mut n = 0;
                while Instant::now() < deadline {
                    storm(&bin, &nonce, 100)?;
                    n += 100;
                }
                Ok(n)
            })
        })
        .collect();
    let mut execs = 0;
    for w in workers {
        execs += w.join().map_err(|_| anyhow::anyhow!("storm thread panicked"))??;
    }
    let rate = execs as f64 / start.elapsed().as_secs_f64();
    let (rss, hwm) = (agent.status_kb("VmRSS")?, agent.status_kb("VmHWM")?);
    let last = agent.stop()?;
    Ok((execs, rate, last, rss, hwm))
}

/// Reverse shells on the host (a shell started with its stdin on a TCP connection to a local
/// listener), `n` of them `gap` apart, each a new incident; with `storm`, every CPU execs the
/// no-op binary meanwhile. Returns the agent's final log line (its finding latency fields).
fn latency(shrike: &Path, root: &Path, bin: &Path, nonce: &str, n: usize, gap: Duration, storm_on: bool) -> Result<String> {
    let rules = root.join("target/bench/latency-rules.toml");
    std::fs::write(&rules, "[scope]\nhost = true\n")?;
    let agent = Agent::start(shrike, &["run", "--rules", rules.to_str().context("path")?])?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    // Accept (and hold) exactly the connections made below.
    let acceptor = std::thread::spawn(move || -> Vec<std::net::TcpStream> { (0..n).filter_map(|_| listener.accept().ok().map(|(s, _)| s)).collect() });
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = if storm_on {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        (0..threads)
            .map(|_| {
                let (bin, nonce, stop) = (bin.to_path_buf(), nonce.to_string(), stop.clone());
                std::thread::spawn(move || -> Result<()> {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        storm(&bin, &nonce, 50)?;
                    }
                    Ok(())
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    if storm_on {
        std::thread::sleep(Duration::from_secs(2));
    }
    let shells = || -> Result<()> {
        for k in 0..n {
            let sock = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
            // Each a different command line: repeats of one would be merged into one finding.
            let status = Command::new("/bin/sh")
                .args(["-c", &format!(": {nonce} reverse shell {k}")])
                .stdin(Stdio::from(std::os::fd::OwnedFd::from(sock)))
                .stdout(Stdio::null())
                .status()?;
            if !status.success() {
                bail!("sh failed");
            }
            std::thread::sleep(gap);
        }
        Ok(())
    };
    let result = shells();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.join().map_err(|_| anyhow::anyhow!("storm thread panicked"))??;
    }
    result?;
    drop(acceptor.join());
    // Let the last findings go out before the agent stops.
    std::thread::sleep(Duration::from_millis(500));
    agent.stop()
}

/// Run the benchmark; returns the markdown report.
pub fn run(shrike: &Path, root: &Path, n: usize, rounds: usize) -> Result<String> {
    let bin = compile_c(&root.join("target/bench"), "noop", NOOP_C, &["-static"])?;
    let nonce = format!("shrike-bench-{}", std::process::id());
    storm(&bin, &nonce, n / 10)?; // warm caches

    let mut off = Vec::new();
    let mut on = Vec::new();
    let (mut bpf_ns, mut bpf_cnt, mut cpu_s, mut drops, mut submitted, mut decoded, mut decode_errors) = (0u64, 0u64, 0f64, 0u64, 0u64, 0u64, 0u64);
    let mut per_program = std::collections::BTreeMap::<String, (u64, f64)>::new();
    for round in 0..rounds {
        eprintln!("round {}/{rounds}: without agent", round + 1);
        off.push(storm(&bin, &nonce, n)?);
        eprintln!("round {}/{rounds}: with agent", round + 1);
        let agent = Agent::start(shrike, &["run"])?;
        set_bpf_stats(true)?;
        let (ns0, c0) = bpf_run_stats()?;
        let p0 = program_stats(METRICS_ADDR)?;
        let cpu0 = agent.cpu_seconds()?;
        on.push(storm(&bin, &nonce, n)?);
        let (ns1, c1) = bpf_run_stats()?;
        let cpu1 = agent.cpu_seconds()?;
        // The agent publishes its counters once a second: wait for a snapshot taken after the
        // storm (the programs are idle meanwhile).
        std::thread::sleep(Duration::from_millis(1500));
        for (name, (runs, ns)) in program_stats(METRICS_ADDR)? {
            let (r0, n0) = p0.get(&name).copied().unwrap_or_default();
            let slot = per_program.entry(name).or_default();
            slot.0 += runs.saturating_sub(r0);
            slot.1 += (ns - n0).max(0.0);
        }
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
    writeln!(md, "| cost per exec (fork + exec + exit and every program that ran) | µs |")?;
    writeln!(md, "|---|---|")?;
    writeln!(md, "| kernel: eBPF programs (`bpf_stats_enabled`, {bpf_cnt} program runs) | {kernel_us:.2} |")?;
    writeln!(md, "| userspace: agent CPU (its process CPU-time clock, ns resolution) | {user_us:.2} |")?;
    writeln!(md, "| total | {:.2} |", kernel_us + user_us)?;
    writeln!(md, "\nPer kernel program, from the agent's `shrike_bpf_program_*` metrics over the same rounds:\n")?;
    writeln!(md, "| program | runs | ns per run | µs per exec |")?;
    writeln!(md, "|---|---:|---:|---:|")?;
    for (name, (runs, ns)) in per_program.iter().filter(|(_, (runs, _))| *runs > 0) {
        writeln!(md, "| `{name}` | {runs} | {:.0} | {:.2} |", ns / *runs as f64, ns / 1000.0 / total_execs)?;
    }
    eprintln!("the storm in a pid namespace, as a container's processes");
    let spawner = compile_c(&root.join("target/bench"), "spawner", SPAWNER_C, &[])?;
    let ctr_off = container_storm(&spawner, &bin, &nonce, n)?;
    let agent = Agent::start(shrike, &["run"])?;
    let (cpu0, wake0) = (agent.cpu_seconds()?, wakeups_of(agent.child.id())?);
    let ctr_on = container_storm(&spawner, &bin, &nonce, n)?;
    let (cpu1, wake1) = (agent.cpu_seconds()?, wakeups_of(agent.child.id())?);
    agent.stop()?;
    writeln!(md, "\nThe same storm of {n} execs in a new pid namespace, as a container's processes are (`unshare --pid`, a C `posix_spawn` loop): the kernel wakes the reader for the first exec in a container after a quiet moment, and while they keep coming the reader looks every 5 ms instead of being woken by each.\n")?;
    writeln!(md, "| | without agent | with agent |")?;
    writeln!(md, "|---|---|---|")?;
    writeln!(md, "| wall time | {:.2} s | {:.2} s |", ctr_off.as_secs_f64(), ctr_on.as_secs_f64())?;
    writeln!(md, "| agent CPU per exec | | {:.2} µs |", (cpu1 - cpu0) * 1e6 / n as f64)?;
    writeln!(md, "| agent wakeups per 1,000 execs | | {:.0} |", (wake1 - wake0) as f64 * 1000.0 / n as f64)?;
    eprintln!("peer: bpftrace execsnoop-style (filename + argv) over one storm");
    let (peer_k, peer_u) = peer_per_exec(&bin, &nonce, n)?;
    writeln!(md, "\nSide by side, per exec (µs): the same storm beside a bpftrace script printing each exec's pid, filename and argv from `syscalls:sys_enter_execve` (`{PEER_EXEC_SCRIPT}`), output discarded:\n")?;
    writeln!(md, "| | kernel | userspace | total | ratio to shrike |")?;
    writeln!(md, "|---|---|---|---|---|")?;
    writeln!(md, "| shrike (exe, argv, stdio kinds, cgroup, parent, container; fork and exit too) | {kernel_us:.2} | {user_us:.2} | {:.2} | 1.00 |", kernel_us + user_us)?;
    writeln!(md, "| bpftrace execsnoop-style (filename + argv) | {peer_k:.2} | {peer_u:.2} | {:.2} | {:.2} |", peer_k + peer_u, (peer_k + peer_u) / (kernel_us + user_us))?;
    writeln!(md, "\n## Events seen versus expected (one recorded storm of {n})\n")?;
    writeln!(md, "| event | expected | seen |")?;
    writeln!(md, "|---|---|---|")?;
    writeln!(md, "| exec | {n} | {execs} |")?;
    writeln!(md, "| fork | {n} | {forks} |")?;
    writeln!(md, "| exit | {n} | {exits} |")?;
    writeln!(md, "\nKernel counters over the `run` rounds: {submitted} records submitted, {decoded} decoded, {decode_errors} decode errors, {drops} lost to a full ring buffer. Recording round: ring-buffer drops {}.", field(&last, "ringbuf_full"))?;
    eprintln!("sustained storm: every CPU execing for 60 s beside the agent");
    let (execs, rate, last, rss, hwm) = sustained(shrike, &bin, &nonce, 60)?;
    writeln!(md, "\n## Sustained: every CPU execing for 60 s beside `shrike run`\n")?;
    writeln!(md, "| execs | per second | records submitted | lost (ring buffer full) | decode errors | agent RSS after | agent peak RSS |")?;
    writeln!(md, "|---|---|---|---|---|---|---|")?;
    writeln!(md, "| {execs} | {rate:.0} | {} | {} | {} | {:.1} MiB | {:.1} MiB |", field(&last, "submitted"), field(&last, "ringbuf_full"), field(&last, "decode_errors"), rss as f64 / 1024.0, hwm as f64 / 1024.0)?;
    eprintln!("idle: 30 s");
    let (cpu, rss0, rss1) = idle(shrike, 30)?;
    writeln!(md, "\n## At rest: 30 s with nothing to report\n")?;
    writeln!(md, "| agent CPU | RSS after start | RSS after 30 s |")?;
    writeln!(md, "|---|---|---|")?;
    writeln!(md, "| {cpu:.3} % of one CPU | {:.1} MiB | {:.1} MiB |", rss0 as f64 / 1024.0, rss1 as f64 / 1024.0)?;
    eprintln!("latency: reverse shells on the host, unsaturated and beside a storm");
    let quiet = latency(shrike, root, &bin, &nonce, 50, Duration::from_millis(100), false)?;
    let busy = latency(shrike, root, &bin, &nonce, 50, Duration::from_millis(200), true)?;
    writeln!(md, "\n## Latency: kernel event → finding handed to the sinks\n")?;
    writeln!(md, "50 reverse shells on the host (`sh` started with its stdin on a TCP connection to a 127.0.0.1 listener, `[scope] host = true`), each a new incident; the agent's `shrike_finding_latency_seconds` histogram (no pod metadata wait on the host), quantiles as Prometheus' `histogram_quantile` estimates them.\n")?;
    writeln!(md, "| load | findings timed | p50 | p99 |")?;
    writeln!(md, "|---|---|---|---|")?;
    for (what, line) in [("unsaturated: one every 100 ms", &quiet), ("every CPU execing beside it, one every 200 ms", &busy)] {
        let ms = |f: &str| field(line, f) as f64 / 1000.0;
        writeln!(md, "| {what} | {} | {:.1} ms | {:.1} ms |", field(line, "findings_timed"), ms("finding_latency_p50_us"), ms("finding_latency_p99_us"))?;
    }
    md.push_str(&tax(shrike, root, rounds.max(3))?);
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::cpu_seconds_of;
    use std::time::{Duration, Instant};

    #[test]
    fn a_process_cpu_clock_resolves_milliseconds() {
        let pid = std::process::id();
        let before = cpu_seconds_of(pid).unwrap();
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(5) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        let wall = start.elapsed().as_secs_f64();
        let spent = cpu_seconds_of(pid).unwrap() - before;
        // Half a tick of busy work shows (utime + stime would often read 0), and no more CPU
        // than the process's threads could have had.
        assert!(spent > 0.0, "no CPU time seen after {wall} s of busy work ({x})");
        let threads = std::thread::available_parallelism().map_or(64, |n| n.get()) as f64;
        assert!(spent <= (wall + 0.05) * threads, "{spent} s of CPU in {wall} s");
        assert!(cpu_seconds_of(0x3fff_fff0).is_err(), "a pid that does not exist has no clock");
    }
}
