//! The `shrike` command line: what it refuses before anything starts, and replay's handling of
//! odd input. (End-to-end runs on the real kernel are in the top-level `tests` crate.)

use std::process::{Command, Stdio};

const SHRIKE: &str = env!("CARGO_BIN_EXE_shrike");

/// A name no other test run uses.
fn marker(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("shrike-test-{name}-{}-{nanos}", std::process::id())
}

#[test]
fn bad_sinks_on_the_command_line_are_refused_before_anything_starts() {
    let out = Command::new(SHRIKE).args(["run", "--webhook", "ftp://127.0.0.1/x", "--spool-dir", "/nonexistent/shrike-spool"]).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("sinks.webhook[0].url") && log.contains("command line"), "{log}");
    assert!(!log.contains("shrike ready") && !log.contains("sensor"), "refused before the sensor starts: {log}");
}

/// Replay refuses what never ends, at once and without growing: a device given as the file or
/// as standard input, and an endless line coming down a pipe.
#[test]
fn replay_refuses_devices_and_endless_lines() {
    let started = std::time::Instant::now();
    let out = Command::new(SHRIKE).args(["replay", "/dev/zero"]).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("/dev/zero: a character device, not a recording"), "{log}");

    let out = Command::new(SHRIKE).args(["replay", "-"]).stdin(std::fs::File::open("/dev/zero").unwrap()).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("-: a character device"), "{log}");

    // Zeros through a pipe: the first line never ends, and stops at the bound.
    let mut child = Command::new(SHRIKE)
        .args(["replay", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        let zeros = vec![0u8; 1 << 16];
        // Stops when the agent closes its end (EPIPE), or after 64 MiB at most.
        for _ in 0..1024 {
            if stdin.write_all(&zeros).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("-:1: line longer than 1048576 bytes"), "{log}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
}

/// Events that go back in time are replayed, with one warning naming their count and the first.
#[test]
fn replay_warns_once_about_events_out_of_order() {
    let dir = std::env::temp_dir().join(marker("order"));
    std::fs::create_dir_all(&dir).unwrap();
    let exit = |ts: u64| format!(r#"{{"ts_boot_ns":{ts},"process":{{"pid":5,"start":6}},"tid":5,"cgroup_id":9,"type":"exit","code":0,"host":true}}"#);
    let file = dir.join("shuffled.jsonl");
    std::fs::write(&file, [exit(100), exit(300), exit(200), exit(400), exit(50)].join("\n")).unwrap();
    let out = Command::new(SHRIKE).args(["--log-format", "json", "replay"]).arg(&file).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let warnings: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["severity"] == "WARNING")
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    let w = &warnings[0];
    assert!(w["message"].as_str().unwrap().contains("go back in time"), "{w}");
    assert_eq!((w["events"].as_u64(), w["first_line"].as_u64()), (Some(2), Some(3)), "{w}");
    assert!(log.contains("\"events\":5") || log.contains("events=5"), "every event is replayed: {log}");

    // In order: no warning.
    std::fs::write(&file, [exit(100), exit(200)].join("\n")).unwrap();
    let out = Command::new(SHRIKE).arg("replay").arg(&file).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !log.contains("WARN") && !log.contains("back in time"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `shrike scan` as a CI gate: exit 1 on a malicious file, 0 on clean ones, 2 when something
/// could not be scanned or the model is unusable; JSON Lines with the evidence.
#[test]
fn scan_judges_files_offline_with_exit_codes_for_ci() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../training/python");
    let evil = samples.join("malicious/dropper_urlretrieve_chmod.py");
    let fine = samples.join("benign/setup_c_extension.py");

    let out = Command::new(SHRIKE).arg("scan").arg("--json").arg(&evil).arg(&fine).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(lines[0]["verdict"], "malicious");
    assert!(lines[0]["score"].as_f64().unwrap() >= lines[0]["threshold"].as_f64().unwrap());
    assert!(lines[0]["model_version"].as_str().unwrap().starts_with("py-"));
    assert_eq!(lines[0]["sha256"].as_str().unwrap().len(), 64);
    let evidence = lines[0]["evidence"].as_array().unwrap();
    assert!(!evidence.is_empty() && evidence.iter().all(|e| e["feature"].is_string() && e["contribution"].is_number()), "{evidence:?}");
    assert_eq!(lines[1]["verdict"], "clean");
    assert!(stderr.contains("2 scanned, 1 malicious, 0 not scanned"), "{stderr}");

    let out = Command::new(SHRIKE).arg("scan").arg(&fine).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "clean files are not listed without --all");

    // What cannot be scanned is exit 2, at once: a device, a missing file.
    let out = Command::new(SHRIKE).args(["scan", "/dev/zero", "/nonexistent/shrike.py"]).arg(&fine).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("/dev/zero: not a regular file") && text.contains("/nonexistent/shrike.py:"), "{text}");

    // A model file that is not one: exit 2 with the reason.
    let out = Command::new(SHRIKE).arg("scan").arg("--model").arg(&fine).arg(&evil).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a shrike Python model"), "{}", String::from_utf8_lossy(&out.stderr));
}
