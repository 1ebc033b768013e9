//! A process started before the agent is in the process table after start, with exe, argv,
//! parent, cgroup and stdio kinds.

use std::{
    os::unix::fs::MetadataExt,
    path::Path,
    process::{Command, Stdio as ProcStdio},
};

use shrike::{
    container::ContainerResolver, detect::rules::Rules, event::Stdio, finding::Origin, pipeline::Pipeline, process::procfs,
};

#[test]
fn process_started_before_the_agent_is_seeded() {
    let mut child = Command::new("/bin/sleep").arg("30").stdin(ProcStdio::piped()).stdout(ProcStdio::null()).spawn().unwrap();
    let pipeline = Pipeline::new(
        procfs::seed(Path::new("/proc")).expect("seed from /proc"),
        ContainerResolver::replay(),
        std::sync::Arc::new(Rules::defaults()),
        Origin::default(),
        std::time::Duration::ZERO,
        false,
        None,
    );
    let p = pipeline.table().get_pid(child.id()).expect("child in the table").clone();
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(p.exe.to_string(), std::fs::canonicalize("/bin/sleep").unwrap().to_string_lossy());
    let argv: Vec<String> = p.argv.iter().map(|a| a.to_string()).collect();
    assert_eq!(argv, ["/bin/sleep", "30"]);
    assert_eq!(p.parent.map(|k| k.pid), Some(std::process::id()));
    let me = pipeline.table().get_pid(std::process::id()).expect("the test itself is seeded");
    assert_eq!(p.parent, Some(me.key), "parent identity includes the start time");
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
    let mount = procfs::cgroup2_mount(Path::new("/proc")).unwrap();
    let ino = std::fs::metadata(mount.join(path.trim_start_matches('/'))).unwrap().ino();
    assert_eq!(p.cgroup_id, ino);
    assert!(matches!(p.stdio[0], Stdio::Pipe { .. }), "{:?}", p.stdio[0]);
    assert!(matches!(p.stdio[1], Stdio::Other { .. }), "/dev/null: {:?}", p.stdio[1]);
    assert!(p.seeded && !p.exec_seen);
}

/// Kernel time now (CLOCK_BOOTTIME), as the sensor stamps events.
fn boot_now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec out-pointer.
    assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) }, 0);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// After lost kernel records, the table is brought back in line with /proc: a shell whose
/// exec was lost (here: never seen, the pipeline starts empty) is added and judged, its finding
/// marked `Sensor_Records_Lost`; a process the table thought alive but whose exit was lost is
/// marked exited. Benign look-alike: a `sleep` with a pipe on stdin, added but not reported.
#[test]
fn lost_records_are_recovered_from_proc() {
    use shrike::event::{Event, EventBody, Exec, ProcessKey, RawStr};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (_accepted, _) = listener.accept().unwrap();
    let mut shell = Command::new("/bin/bash")
        .args(["-c", "read -r line"])
        .stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(stream)))
        .stdout(ProcStdio::null())
        .spawn()
        .unwrap();
    let mut benign = Command::new("/bin/sleep").arg("30").stdin(ProcStdio::piped()).stdout(ProcStdio::null()).spawn().unwrap();
    let mut rules = Rules::defaults();
    rules.scope.host = true;
    let mut pipeline = Pipeline::new(Vec::new(), ContainerResolver::replay(), std::sync::Arc::new(rules), Origin::default(), std::time::Duration::ZERO, false, None);
    // A process the table believes alive: its exit was lost (no such pid runs).
    let ghost = ProcessKey { pid: u32::MAX - 7, start: 1 };
    let exec = Exec {
        parent: ProcessKey { pid: 1, start: 0 },
        uid: 0,
        gid: 0,
        pid_ns: 0,
        comm: RawStr::from("ghost"),
        filename: RawStr::from("/bin/ghost"),
        exe: RawStr::from("/bin/ghost"),
        exe_truncated: false,
        exe_storage: Default::default(),
        argv: vec![RawStr::from("ghost")].into(),
        argv_truncated: false,
        stdio: [Stdio::Closed, Stdio::Closed, Stdio::Closed],
    };
    pipeline.handle(&Event { ts_boot_ns: 20_000_000, process: ghost, tid: ghost.pid, cgroup_id: 0, body: EventBody::Exec(exec) });
    assert!(pipeline.table().get_pid(shell.id()).is_none());

    let now = boot_now_ns();
    let (added, exited) = pipeline.recover_after_loss(procfs::seed(Path::new("/proc")).unwrap(), now, 7);
    assert!(added >= 2, "the shell and the sleep at least: {added}");
    assert_eq!(exited, 1, "the ghost");
    assert!(pipeline.table().get(ghost).unwrap().exited.is_some());
    assert!(pipeline.table().get_pid(benign.id()).is_some());
    pipeline.poll(now + 120_000_000_000, true);
    let findings: Vec<serde_json::Value> = pipeline.take_findings().map(|e| serde_json::to_value(&e).unwrap()).collect();
    shell.kill().unwrap();
    shell.wait().unwrap();
    benign.kill().unwrap();
    benign.wait().unwrap();
    let of = |pid: u32| {
        findings
            .iter()
            .filter(|f| {
                let text = f.to_string();
                // SCC process pids are strings; the ancestry's are numbers.
                text.contains(&format!("\"pid\":\"{pid}\"")) || text.contains(&format!("\"pid\":{pid},")) || text.contains(&format!("\"pid\":{pid}}}"))
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    let shell_findings = of(shell.id());
    let rs = shell_findings
        .iter()
        .find(|f| f["finding"]["category"] == "Reverse Shell")
        .unwrap_or_else(|| panic!("a Reverse Shell for the recovered shell: {findings:#?}"));
    assert_eq!(rs["finding"]["sourceProperties"]["Sensor_Records_Lost"], 7, "{rs:#}");
    assert!(of(benign.id()).is_empty(), "nothing for the sleep: {findings:#?}");
}
