//! End-to-end check of the real-containerd CRI fixture (tests/common/containerd.rs). Needs root.

use shrike_tests::containerd;
use std::time::Instant;

use containerd::{Containerd, PodSpec};

fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("containerd_fixture: needs root and CI=true: a skip is a failure here");
    }
    println!("skipping test - not root");
    false
}

/// The `0::` line of /proc/<pid>/cgroup.
fn cgroup_v2_path(pid: u32) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("read /proc/<pid>/cgroup");
    text.lines().find_map(|l| l.strip_prefix("0::")).expect("0:: line").to_string()
}

#[tokio::test]
async fn containerd_fixture_runs_cri_pods() {
    if !privileged() {
        return;
    }
    let t = Instant::now();
    let ctd = Containerd::start();
    println!("start: {:?}", t.elapsed());
    let (socket, dir) = (ctd.socket.clone(), ctd.dir.clone());
    assert!(socket.exists());

    // Pod 1: cgroupfs layout.
    let t = Instant::now();
    let spec = PodSpec::new("fixture-plain", &["/bin/sh", "-c", "sleep 30"]);
    let pod = ctd.run_pod(&spec).await;
    println!("run_pod: {:?} (pid {}, container {})", t.elapsed(), pod.pid, pod.container_id);
    assert_eq!(pod.container_id.len(), 64, "CRI container id is 64 hex");
    let want = format!("/kubepods/besteffort/pod{}/{}", spec.uid, pod.container_id);
    assert_eq!(cgroup_v2_path(pod.pid), want);
    assert_eq!(spec.container_cgroup(&pod.container_id), want);
    let (code, out, err) = ctd.exec_sync(&pod.container_id, &["/bin/sh", "-c", "echo hi; id -u"], 10).await;
    let (out, err) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&err));
    assert_eq!((code, out.as_ref()), (0, "hi\n0\n"), "stderr: {err}");

    // Pod 2: GKE (systemd driver) layout through the "gke" runtime handler.
    let mut gspec = PodSpec::new("fixture-gke", &["/bin/sh", "-c", "sleep 30"]);
    gspec.gke_cgroups = true;
    let t = Instant::now();
    let gpod = ctd.run_pod(&gspec).await;
    println!("run_pod (gke): {:?}", t.elapsed());
    let uid_ = gspec.uid.replace('-', "_");
    let want = format!(
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{uid_}.slice/cri-containerd-{}.scope",
        gpod.container_id
    );
    assert_eq!(cgroup_v2_path(gpod.pid), want);
    assert_eq!(gspec.container_cgroup(&gpod.container_id), want);

    // The host's tools run inside both containers.
    let tools: &[(&str, &[&str])] = &[
        ("sh", &["/bin/sh", "-c", "exit 0"]),
        ("bash", &["bash", "-c", "exit 0"]),
        ("nc.traditional", &["/bin/sh", "-c", "nc.traditional -h 2>&1 | grep -q -- -e"]),
        ("nc.openbsd", &["/bin/sh", "-c", "nc.openbsd -h 2>&1 | grep -qi usage"]),
        ("nc", &["/bin/sh", "-c", "command -v nc"]),
        ("ncat", &["ncat", "--version"]),
        ("socat", &["socat", "-V"]),
        ("python3", &["/usr/bin/python3", "-c", "print(1)"]),
        ("perl", &["perl", "-e", "print 1"]),
        ("gcc", &["gcc", "--version"]),
    ];
    let mut failed = Vec::new();
    for p in [&pod, &gpod] {
        for (name, cmd) in tools {
            let (code, out, err) = ctd.exec_sync(&p.container_id, cmd, 10).await;
            if code != 0 {
                failed.push(format!(
                    "{name} in {}: exit {code}: {}{}",
                    p.spec.name,
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&err)
                ));
            }
        }
    }
    assert!(failed.is_empty(), "host tools failing inside containers:\n{}", failed.join("\n"));

    let t = Instant::now();
    ctd.remove_pod(&pod).await;
    println!("remove_pod: {:?}", t.elapsed());
    let t = Instant::now();
    ctd.remove_pod(&gpod).await;
    println!("remove_pod (gke): {:?}", t.elapsed());
    assert!(!std::path::Path::new(&format!("/proc/{}", pod.pid)).exists(), "container process gone");
    for m in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/memory"] {
        for s in [&spec, &gspec] {
            let p = std::path::Path::new(m).join(s.pod_cgroup());
            assert!(!p.exists(), "{} still exists", p.display());
        }
    }

    let t = Instant::now();
    ctd.stop();
    println!("stop: {:?}", t.elapsed());
    assert!(!socket.exists(), "socket {} still exists", socket.display());
    assert!(!dir.exists(), "temp dir {} still exists", dir.display());
}
