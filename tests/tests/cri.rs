//! Privileged, with a real containerd started and stopped here: processes of CRI pods show up in
//! shrike's events with their pod and container metadata, for cgroupfs and GKE-style systemd
//! cgroup paths; with the runtime socket gone, events still flow with the container id only and
//! a counted enrichment failure.

use shrike_tests::{common, containerd};
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread::JoinHandle,
};

use common::{marker, privileged, spawn_ready};
use containerd::{Containerd, PodSpec};
use serde_json::Value;

use shrike_tests::shrike;

struct Recording {
    child: Child,
    log: JoinHandle<String>,
    file: PathBuf,
}

fn start_recording(dir: &Path, name: &str, socket: &Path) -> Recording {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(&config, format!("[container]\nruntime_endpoint = \"{}\"\nenrichment_wait_ms = 3000\n", socket.display()))
        .unwrap();
    let file = dir.join(format!("{name}.jsonl"));
    let ready = spawn_ready(
        Command::new(shrike())
            .args(["record", "--config"])
            .arg(&config)
            .arg("--output")
            .arg(&file)
            .stdout(Stdio::null())
            .env("SHRIKE_LOG", "info,shrike::container=debug"),
    );
    Recording { child: ready.child, log: ready.log, file }
}

impl Recording {
    /// Stop (SIGINT by pid), return the recorded lines and the final log line.
    fn stop(mut self) -> (Vec<Value>, String) {
        // SAFETY: signalling the child we started, by its pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = self.child.wait().unwrap();
        let rest = self.log.join().unwrap();
        assert!(status.success(), "{rest}");
        let text = std::fs::read_to_string(&self.file).unwrap();
        let lines = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        eprintln!("{rest}");
        (lines, rest.lines().find(|l| l.contains("shrike stopped")).unwrap_or_default().to_string())
    }
}

/// The exec event whose argv mentions `mark`.
fn exec_with(lines: &[Value], mark: &str) -> Value {
    lines
        .iter()
        .find(|l| l["type"] == "exec" && l["argv"].as_array().is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|s| s.contains(mark)))))
        .unwrap_or_else(|| panic!("no exec with {mark} in {} lines", lines.len()))
        .clone()
}

fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace().find_map(|kv| kv.strip_prefix(&format!("{name}="))).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "current_thread")]
async fn cri_pods_are_enriched_and_runtime_loss_is_survived() {
    if !privileged("cri_pods_are_enriched_and_runtime_loss_is_survived") {
        return;
    }
    let ctrd = Containerd::start();
    let dir = ctrd.dir.join("shrike");
    std::fs::create_dir_all(&dir).unwrap();

    // 1. Enrichment with cgroupfs and GKE-style systemd paths.
    let rec = start_recording(&dir, "live", &ctrd.socket);
    let mark_a = marker("cri-a");
    let mut spec_a = PodSpec::new("web-a", &["/bin/sh", "-c", &format!("echo {mark_a}; sleep 30")]);
    spec_a.labels.insert("app".into(), "web".into());
    spec_a.container_name = "frontend".into();
    let pod_a = ctrd.run_pod(&spec_a).await;
    let mark_b = marker("cri-b");
    let mut spec_b = PodSpec::new("web-b", &["/bin/sh", "-c", &format!("echo {mark_b}; sleep 30")]);
    spec_b.gke_cgroups = true;
    spec_b.qos = "burstable";
    let pod_b = ctrd.run_pod(&spec_b).await;
    // A command run later inside pod a (kubectl exec) is enriched too.
    let mark_c = marker("cri-exec");
    let (code, _, _) = ctrd.exec_sync(&pod_a.container_id, &["/bin/sh", "-c", &format!("true {mark_c}")], 10).await;
    assert_eq!(code, 0);
    let (lines, _) = rec.stop();

    for (mark, pod, runtime_id) in [(&mark_a, &pod_a, &pod_a.container_id), (&mark_b, &pod_b, &pod_b.container_id), (&mark_c, &pod_a, &pod_a.container_id)] {
        let ev = exec_with(&lines, mark);
        let c = &ev["container"];
        assert_eq!(c["runtime"], "containerd", "{ev}");
        assert_eq!(c["id"].as_str(), Some(runtime_id.as_str()), "{ev}");
        assert_eq!(c["enrichment"], "complete", "metadata waited for, not missing: {ev}");
        assert_eq!(c["pod_name"].as_str(), Some(pod.spec.name.as_str()), "{ev}");
        assert_eq!(c["pod_namespace"].as_str(), Some(pod.spec.namespace.as_str()), "{ev}");
        assert_eq!(c["pod_uid"].as_str(), Some(pod.spec.uid.as_str()), "{ev}");
        assert_eq!(c["container_name"].as_str(), Some(pod.spec.container_name.as_str()), "{ev}");
        assert_eq!(c["image"], "localhost/shrike-tools:test", "{ev}");
        assert!(c["image_digest"].as_str().is_some_and(|d| d.contains("sha256:")), "{ev}");
        assert!(ev.get("host").is_none());
    }
    assert_eq!(exec_with(&lines, &mark_a)["container"]["pod_labels"]["app"], "web");
    // The GKE pod really ran under a systemd-style path, and the sandbox (pause) is known too.
    let b_path = spec_b.container_cgroup(&pod_b.container_id);
    assert!(b_path.contains(".slice/") && b_path.ends_with(&format!("cri-containerd-{}.scope", pod_b.container_id)), "{b_path}");
    let infos: Vec<&Value> = lines.iter().filter(|l| l["type"] == "container_info").collect();
    let sandbox: Vec<&&Value> = infos.iter().filter(|l| l["container"]["id"].as_str() == Some(pod_b.sandbox_id.as_str())).collect();
    assert!(sandbox.iter().any(|l| l["container"]["container_name"] == "POD" && l["container"]["pod_name"] == "web-b"), "{sandbox:?}");

    // 2. Runtime socket gone: events flow with the container id only, failure counted.
    let rec = start_recording(&dir, "down", &ctrd.dir.join("gone.sock"));
    let mark_d = marker("cri-down");
    let (code, _, _) = ctrd.exec_sync(&pod_a.container_id, &["/bin/sh", "-c", &format!("true {mark_d}")], 10).await;
    assert_eq!(code, 0);
    let (lines, last) = rec.stop();
    let ev = exec_with(&lines, &mark_d);
    assert_eq!(ev["container"]["id"].as_str(), Some(pod_a.container_id.as_str()), "{ev}");
    assert_eq!(ev["container"]["enrichment"], "incomplete", "{ev}");
    assert!(ev["container"]["enrichment_error"].as_str().is_some_and(|e| e.contains("unavailable")), "{ev}");
    assert_eq!(ev["container"]["pod_uid"].as_str(), Some(pod_a.spec.uid.as_str()), "the pod uid still comes from the cgroup path");
    assert!(ev["container"].get("pod_name").is_none());
    assert!(field(&last, "cri_failures") >= 1, "{last}");
    assert!(field(&last, "enrichment_incomplete") >= 1, "{last}");

    // 3. Doctor reports a runtime that answers and one that does not.
    let good = dir.join("live.toml");
    let out = Command::new(shrike()).args(["doctor", "--json", "--config"]).arg(&good).output().unwrap();
    let checks: Value = serde_json::from_slice(&out.stdout).unwrap();
    let runtime = checks.as_array().unwrap().iter().find(|c| c["name"] == "container-runtime").unwrap().clone();
    assert_eq!(runtime["verdict"], "ok", "{runtime}");
    assert!(runtime["detail"].as_str().unwrap().contains("containerd"), "{runtime}");

    ctrd.remove_pod(&pod_a).await;
    ctrd.remove_pod(&pod_b).await;
    ctrd.stop();
}
