//! The `shrike` binary end to end: doctor, record (real kernel) and replay of that recording.

use std::process::{Command, Stdio};

use shrike::{
    event::{Event, EventBody},
    replay::Line,
};
use shrike_tests::common::{marker, privileged, spawn_ready};

use shrike_tests::shrike;

#[test]
fn doctor_passes_on_this_host() {
    if !privileged("doctor_passes_on_this_host") {
        return;
    }
    let out = Command::new(shrike()).args(["doctor", "--json"]).output().unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor --json prints JSON");
    let checks = checks.as_array().expect("a list of checks");
    let names: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    for want in ["kernel", "privileges", "btf", "ring-buffer", "cgroup-v2", "container-runtime", "probes"] {
        assert!(names.contains(&want), "doctor checks {want}: {names:?}");
    }
    for c in checks {
        if ["kernel", "privileges", "btf", "ring-buffer", "cgroup-v2", "probes"].contains(&c["name"].as_str().unwrap()) {
            assert_eq!(c["verdict"], "ok", "{c}");
        }
        if c["verdict"] != "ok" {
            assert!(c["advice"].as_str().is_some_and(|a| !a.is_empty()), "a non-ok check says what to do: {c}");
        }
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn record_then_replay() {
    if !privileged("record_then_replay") {
        return;
    }
    let dir = std::env::temp_dir().join(marker("rec"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.jsonl");
    let ready = spawn_ready(Command::new(shrike()).args(["record", "--output"]).arg(&file).stdout(Stdio::null()));
    let mut agent = ready.child;
    let agent_pid = agent.id();
    let mark = marker("record");
    assert!(Command::new("/bin/true").arg(&mark).status().unwrap().success());
    // Poll the recording for the marker (the agent flushes every 10 s and at exit), then stop.
    // SAFETY: signalling the child we started, by its pid.
    unsafe { libc::kill(agent_pid as i32, libc::SIGINT) };
    assert!(agent.wait().unwrap().success());
    let log = ready.log.join().unwrap();
    assert!(log.contains("shrike stopped"), "{log}");

    let text = std::fs::read_to_string(&file).unwrap();
    let mut events: Vec<Event> = Vec::new();
    let mut containers = 0;
    let mut clocks = Vec::new();
    shrike::replay::read_recording(&file, |l| match l {
        Line::Event(e) => events.push(e),
        Line::Container(_) => containers += 1,
        Line::Clock(c) => clocks.push(c),
    })
    .expect("every line is an event, a container record or the clock");
    // The clock comes first, once, and maps kernel time to now.
    assert!(text.starts_with("{\"type\":\"clock\","), "{}", &text[..text.len().min(200)]);
    assert_eq!(clocks.len(), 1);
    let unix_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i128;
    assert!(clocks[0].boot_to_unix_ns > 0 && clocks[0].boot_to_unix_ns < unix_now);
    // The test runs on the host: its events are marked as such.
    let line = text.lines().find(|l| l.contains(&mark)).unwrap();
    assert!(line.contains("\"host\":true"), "{line}");
    let exec = events
        .iter()
        .find(|e| matches!(&e.body, EventBody::Exec(x) if x.argv.iter().any(|a| a.to_string() == mark)))
        .expect("the recording has the marked exec");
    let EventBody::Exec(x) = &exec.body else { unreachable!() };
    assert_eq!(x.exe.to_string(), std::fs::canonicalize("/bin/true").unwrap().to_string_lossy());
    assert_eq!(x.parent.pid, std::process::id());
    assert!(
        !events.iter().any(|e| e.process.pid == agent_pid),
        "the agent's own events are dropped in the kernel"
    );

    let out = Command::new(shrike()).arg("replay").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains(&format!("events={}", events.len())), "replay saw every event: {log}");
    assert!(log.contains(&format!("lines={}", events.len() + containers + clocks.len())), "{log}");

    // A recording with a broken line is refused with its line number.
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, format!("{}\nnot json\n", text.lines().next().unwrap())).unwrap();
    let out = Command::new(shrike()).arg("replay").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.jsonl:2"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}
