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
