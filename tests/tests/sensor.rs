//! Privileged: the embedded eBPF programs on the real kernel, checked field by field.

use shrike_tests::common;
use std::{
    io::Write,
    net::{TcpListener, TcpStream},
    os::{fd::AsRawFd, unix::process::CommandExt},
    process::{Command, Stdio as ProcStdio},
    time::Duration,
};

use common::{marker, privileged, sensor, wait_for, LogBuf, TempDir, TestCgroup};
use shrike::event::{Connect, Direction, Event, EventBody, ProcessKey, RedirectVia, SocketProto, Stdio};

const WAIT: Duration = Duration::from_secs(10);

fn argv_has(e: &Event, needle: &str) -> bool {
    matches!(&e.body, EventBody::Exec(x) if x.argv.iter().any(|a| a.as_bytes() == needle.as_bytes()))
}

fn host_pid_ns() -> u32 {
    let link = std::fs::read_link("/proc/self/ns/pid").expect("pid ns link");
    let s = link.to_string_lossy();
    s.trim_start_matches("pid:[").trim_end_matches(']').parse().expect("pid ns inode")
}

/// A process started inside a fake container (its own cgroup2 dir, pid/mount/uts/ipc
/// namespaces) arrives with the right cgroup id, exe, argv, parent and namespace.
#[tokio::test(flavor = "current_thread")]
async fn exec_in_fake_container_arrives_field_by_field() {
    if !privileged("exec_in_fake_container_arrives_field_by_field") {
        return;
    }
    let mut sensor = sensor();
    let id = format!("{:064x}", std::process::id() as u128 * 0x9e37_79b9_7f4a_7c15);
    let id = &id[id.len() - 64..];
    let pod = format!("{}", std::process::id());
    let cg = TestCgroup::create(&format!(
        "shrike-test.slice/kubepods-besteffort-pod{pod}.slice/cri-containerd-{id}.scope"
    ));
    let mark = marker("fakectr");
    let procs = std::ffi::CString::new(cg.procs().to_string_lossy().as_bytes()).unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--mount", "--uts", "--ipc", "--fork", "--mount-proc", "/bin/sh", "-c"])
        .arg(format!("exec /bin/echo {mark}"))
        .stdout(ProcStdio::null());
    // SAFETY: only async-signal-safe calls (open, write, close) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let ok = libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
            libc::close(fd);
            if ok { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        });
    }
    let mut child = cmd.spawn().expect("unshare runs");
    let unshare_pid = child.id();

    let mut seen = Vec::new();
    let ev = wait_for(&mut sensor, &mut seen, WAIT, |e| argv_has(e, &mark)).await.expect("exec event of the container process");
    assert!(child.wait().expect("wait").success());

    let EventBody::Exec(exec) = &ev.body else { unreachable!() };
    assert_eq!(ev.cgroup_id, cg.id(), "cgroup id is the inode of the container's cgroup2 dir");
    let real_echo = std::fs::canonicalize("/bin/echo").unwrap();
    assert_eq!(exec.exe.to_string(), real_echo.to_string_lossy(), "full path of the binary really run");
    assert!(!exec.exe_truncated);
    assert_eq!(exec.filename.to_string(), "/bin/echo");
    let argv: Vec<String> = exec.argv.iter().map(|a| a.to_string()).collect();
    assert_eq!(argv, ["/bin/echo", mark.as_str()]);
    assert!(!exec.argv_truncated);
    assert_eq!(exec.parent.pid, unshare_pid, "parent is the unshare process that forked it");
    assert_eq!(exec.comm.to_string(), "echo");
    assert_eq!((exec.uid, exec.gid), (0, 0));
    assert_ne!(exec.pid_ns, 0);
    assert_ne!(exec.pid_ns, host_pid_ns(), "runs in its own pid namespace");
    assert_eq!(ev.process.pid, ev.tid);

    // The container's cgroup was reported when it was made, with its id and path, before the
    // exec of its first process: its container is known even if both are gone at once.
    let created = wait_for(&mut sensor, &mut seen, WAIT, |e| matches!(e.body, EventBody::CgroupCreated(_)) && e.cgroup_id == cg.id())
        .await
        .expect("the creation of the container's cgroup");
    let EventBody::CgroupCreated(c) = &created.body else { unreachable!() };
    let path = c.path.to_string();
    assert!(path.starts_with('/') && path.ends_with(&format!("/kubepods-besteffort-pod{pod}.slice/cri-containerd-{id}.scope")), "{path}");
    let position = |e: &Event| seen.iter().position(|s| s == e);
    assert!(position(&created) < position(&ev), "the cgroup's record comes before its first exec");

    // The sh that became echo was forked by unshare: the fork event carries both identities.
    let fork = wait_for(&mut sensor, &mut seen, WAIT, |e| {
        matches!(&e.body, EventBody::Fork(f) if e.process == ev.process && f.parent.pid == unshare_pid)
    })
    .await
    .expect("fork event for the container process");
    let EventBody::Fork(f) = &fork.body else { unreachable!() };
    assert_eq!(f.parent, exec.parent, "same parent identity (pid + start) in fork and exec");
    // ...and its exit is reported once.
    let exit = wait_for(&mut sensor, &mut seen, WAIT, |e| matches!(e.body, EventBody::Exit(_)) && e.process == ev.process)
        .await
        .expect("exit event");
    assert_eq!(exit.body, EventBody::Exit(shrike::event::Exit { code: 0 }));
    let k = sensor.kernel_counters();
    assert!(k.submitted >= 3, "{k:?}");
}

/// The executable's full path is put together across mounts: a binary two tmpfs mounts deep
/// (in a private mount namespace) arrives with every component, as the kernel's own d_path
/// names it, and marked as living in memory; the same binary copied onto the root file system
/// arrives with its path there and no such mark.
#[tokio::test(flavor = "current_thread")]
async fn exe_path_across_mounts() {
    if !privileged("exe_path_across_mounts") {
        return;
    }
    let mut sensor = sensor();
    let tmp = TempDir::new("mounts");
    let dir = &tmp.0;
    let (deep_mark, flat_mark) = (marker("deep"), marker("flat"));
    let deep = dir.join("outer/inner/bin/true-deep");
    let flat = dir.join("true-flat");
    std::fs::copy("/bin/true", &flat).unwrap();
    let script = format!(
        "set -e; mount --make-rprivate /; mkdir -p {d}/outer; mount -t tmpfs -o size=8m tmpfs {d}/outer; \
         mkdir {d}/outer/inner; mount -t tmpfs -o size=8m tmpfs {d}/outer/inner; mkdir {d}/outer/inner/bin; \
         cp /bin/true {deep}; {deep} {deep_mark}; {flat} {flat_mark}",
        d = dir.display(),
        deep = deep.display(),
        flat = flat.display(),
    );
    let status = Command::new("unshare").args(["--mount", "/bin/sh", "-c", &script]).status().expect("unshare runs");
    assert!(status.success(), "the mounts and the two execs");

    let mut seen = Vec::new();
    for (mark, path, in_memory) in [(&deep_mark, &deep, true), (&flat_mark, &flat, false)] {
        let ev = wait_for(&mut sensor, &mut seen, WAIT, |e| argv_has(e, mark)).await.expect("exec event");
        let EventBody::Exec(exec) = &ev.body else { unreachable!() };
        assert_eq!(exec.exe.to_string(), path.to_string_lossy(), "whole path, across mounts");
        assert!(!exec.exe_truncated);
        assert_eq!(exec.exe_storage.in_memory_fs, in_memory, "{}", path.display());
    }
}

/// A TCP connection is reported on whatever fd it is (here fd 3 of the connecting process, then
/// the accepting side), with both addresses; a process that moves the socket onto its stdin
/// after exec (`exec 0<&3` in sh: a dup2 inside the shell, no exec) and reads it is reported as
/// having that socket on fd 0, found when it read, without any syscall hook.
#[tokio::test(flavor = "current_thread")]
async fn connections_on_any_fd_and_a_socket_moved_onto_stdin() {
    if !privileged("connections_on_any_fd_and_a_socket_moved_onto_stdin") {
        return;
    }
    let mut sensor = sensor();
    let me = std::process::id();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = listener.local_addr().unwrap();
    let stream = TcpStream::connect(peer).unwrap();
    let local = stream.local_addr().unwrap();
    let (mut accepted, _) = listener.accept().unwrap();
    let sock = stream.as_raw_fd();
    let mark = marker("use");
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "exec 0<&3 3<&-; read -r line; exit 0", &mark]).stdin(ProcStdio::null()).stdout(ProcStdio::null());
    // SAFETY: dup2 is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || if libc::dup2(sock, 3) == 3 { Ok(()) } else { Err(std::io::Error::last_os_error()) });
    }
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    accepted.write_all(b"a line\n").unwrap();
    let mut seen = Vec::new();
    let redirect = wait_for(&mut sensor, &mut seen, WAIT, |e| {
        e.process.pid == pid && matches!(e.body, EventBody::StdioRedirect(_))
    })
    .await
    .expect("the socket on stdin is reported when the shell reads it");
    assert!(child.wait().unwrap().success());
    let EventBody::StdioRedirect(r) = &redirect.body else { unreachable!() };
    assert_eq!((r.via, r.fd, r.old_fd), (RedirectVia::Use, 0, -1));
    let Stdio::Inet(s) = &r.target else { panic!("not inet: {:?}", r.target) };
    assert_eq!(s.proto, SocketProto::Tcp);
    assert_eq!((s.local, s.remote), (local, peer), "both addresses");
    assert!(s.ino > 0);

    // The exec saw the socket on fd 3 only: stdin was /dev/null then.
    let exec = seen.iter().find(|e| e.process.pid == pid && argv_has(e, &mark)).expect("exec before the redirect");
    let EventBody::Exec(x) = &exec.body else { unreachable!() };
    assert_eq!(exec.process, redirect.process, "same process identity before and after exec");
    assert!(!x.stdio[0].is_inet(), "stdin at exec is /dev/null: {:?}", x.stdio[0]);
    assert_eq!(x.parent, ProcessKey { pid: me, start: x.parent.start });

    // The connection itself, both ways: out from this process, and accepted by it.
    let connects: Vec<&Connect> = seen
        .iter()
        .filter(|e| e.process.pid == me)
        .filter_map(|e| match &e.body {
            EventBody::Connect(c) => Some(c),
            _ => None,
        })
        .collect();
    // (Tests running beside this one in the same process make connections of their own.)
    let ends = |c: &Connect| match &c.socket {
        Stdio::Inet(s) => Some((s.local, s.remote)),
        _ => None,
    };
    let out = connects
        .iter()
        .find(|c| c.direction == Direction::Outbound && ends(c) == Some((local, peer)))
        .unwrap_or_else(|| panic!("outbound connection {local} -> {peer} of this process among {connects:?}"));
    assert_eq!(&out.socket, &r.target, "same socket, same addresses");
    assert!(
        connects.iter().any(|c| c.direction == Direction::Inbound && ends(c) == Some((peer, local))),
        "inbound connection {peer} <- {local}, attributed when used, among {connects:?}"
    );
}

/// A socket created while fd 0 is closed (so it *is* fd 0) and connected before exec: the exec
/// sees it on stdin, and reading it reports it as well.
#[tokio::test(flavor = "current_thread")]
async fn connect_on_stdin_socket() {
    if !privileged("connect_on_stdin_socket") {
        return;
    }
    let mut sensor = sensor();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = listener.local_addr().unwrap();
    let std::net::SocketAddr::V4(v4) = peer else { unreachable!() };
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(v4.ip().octets()) },
        sin_zero: [0; 8],
    };
    let mark = marker("connect");
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "read -r line; exit 0", &mark]).stdout(ProcStdio::null());
    // SAFETY: close, socket and connect are async-signal-safe; `addr` is a valid sockaddr_in.
    unsafe {
        cmd.pre_exec(move || {
            libc::close(0);
            let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            if s != 0 {
                return Err(std::io::Error::other("socket did not land on fd 0"));
            }
            let rc = libc::connect(0, (&addr as *const libc::sockaddr_in).cast(), std::mem::size_of::<libc::sockaddr_in>() as u32);
            if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        });
    }
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    let (mut accepted, _) = listener.accept().unwrap();
    accepted.write_all(b"a line\n").unwrap();
    let mut seen = Vec::new();
    let redirect = wait_for(&mut sensor, &mut seen, WAIT, |e| {
        e.process.pid == pid && matches!(e.body, EventBody::StdioRedirect(_))
    })
    .await
    .expect("redirect when the socket on stdin is read");
    child.wait().unwrap();
    let EventBody::StdioRedirect(r) = &redirect.body else { unreachable!() };
    assert_eq!((r.via, r.fd), (RedirectVia::Use, 0));
    assert_eq!(r.target.remote(), Some(peer));
    let exec = seen.iter().find(|e| e.process.pid == pid && argv_has(e, &mark)).expect("exec");
    let EventBody::Exec(x) = &exec.body else { unreachable!() };
    assert_eq!(x.stdio[0].remote(), Some(peer));
    let connect = seen
        .iter()
        .find(|e| e.process.pid == pid && matches!(&e.body, EventBody::Connect(c) if c.direction == Direction::Outbound))
        .expect("the child's own outbound connection");
    assert_eq!(connect.process, redirect.process);
}

/// Benign look-alike: a process that writes to a socket on fd 100 and has a pipe on stdin
/// produces no redirect event although the socket is used.
#[tokio::test(flavor = "current_thread")]
async fn sockets_on_other_fds_are_not_redirects() {
    if !privileged("sockets_on_other_fds_are_not_redirects") {
        return;
    }
    let mut sensor = sensor();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut accepted, _) = listener.accept().unwrap();
    let sock = stream.as_raw_fd();
    let mark = marker("benign-use");
    // Written straight to fd 100 (a shell's `>&100` would move the socket onto stdout first).
    let mut cmd = Command::new("python3");
    cmd.args(["-c", "import os, sys; os.write(100, b'benign\\n')", &mark]).stdin(ProcStdio::piped()).stdout(ProcStdio::null());
    // SAFETY: dup2 is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || if libc::dup2(sock, 100) == 100 { Ok(()) } else { Err(std::io::Error::last_os_error()) });
    }
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    child.stdin.take().unwrap().write_all(b"").unwrap();
    assert!(child.wait().unwrap().success());
    let mut got = [0u8; 7];
    std::io::Read::read_exact(&mut accepted, &mut got).unwrap();
    assert_eq!(&got, b"benign\n", "the socket on fd 100 was really written");
    let mut seen = Vec::new();
    wait_for(&mut sensor, &mut seen, WAIT, |e| e.process.pid == pid && argv_has(e, &mark)).await.expect("exec");
    // Give a late record the time to arrive.
    let _ = wait_for(&mut sensor, &mut seen, Duration::from_millis(500), |_| false).await;
    assert!(
        !seen.iter().any(|e| e.process.pid == pid && matches!(e.body, EventBody::StdioRedirect(_))),
        "no redirect for a socket on fd 100"
    );
}

/// A socket handed over a unix socket (SCM_RIGHTS) to another process, which moves it onto its
/// stdin and reads: reported for that process, although it never connected or dup'ed the
/// socket it received before exec.
#[tokio::test(flavor = "current_thread")]
async fn a_socket_received_over_a_unix_socket_and_put_on_stdin() {
    if !privileged("a_socket_received_over_a_unix_socket_and_put_on_stdin") {
        return;
    }
    let mut sensor = sensor();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = listener.local_addr().unwrap();
    let stream = TcpStream::connect(peer).unwrap();
    let (mut accepted, _) = listener.accept().unwrap();
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let theirs_fd = theirs.as_raw_fd();
    let mark = marker("scm-rights");
    let script = "import os, socket, sys\n\
                  u = socket.socket(fileno=3)\n\
                  _, fds, _, _ = socket.recv_fds(u, 1, 1)\n\
                  os.dup2(fds[0], 0)\n\
                  sys.stdin.readline()\n";
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script, &mark]).stdin(ProcStdio::null()).stdout(ProcStdio::null());
    // SAFETY: dup2 is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || if libc::dup2(theirs_fd, 3) == 3 { Ok(()) } else { Err(std::io::Error::last_os_error()) });
    }
    let mut child = cmd.spawn().unwrap();
    drop(theirs);
    let pid = child.id();
    // Hand the connected socket over, then close ours: only the child holds it.
    let fd = stream.as_raw_fd();
    let mut space = vec![0u8; unsafe { libc::CMSG_SPACE(std::mem::size_of::<i32>() as u32) } as usize];
    let mut byte = [1u8];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    // SAFETY: a msghdr over live buffers; one SCM_RIGHTS control message with one fd.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = space.as_mut_ptr().cast();
        msg.msg_controllen = space.len() as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<i32>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>(), fd);
        assert_eq!(libc::sendmsg(ours.as_raw_fd(), &msg, 0), 1, "{}", std::io::Error::last_os_error());
    }
    drop(stream);
    accepted.write_all(b"a line\n").unwrap();
    let mut seen = Vec::new();
    let redirect = wait_for(&mut sensor, &mut seen, WAIT, |e| {
        e.process.pid == pid && matches!(e.body, EventBody::StdioRedirect(_))
    })
    .await
    .expect("the received socket on stdin is reported when read");
    assert!(child.wait().unwrap().success());
    let EventBody::StdioRedirect(r) = &redirect.body else { unreachable!() };
    assert_eq!((r.via, r.fd), (RedirectVia::Use, 0));
    assert_eq!(r.target.remote(), Some(peer));
}

/// The kernel programs' diagnostics (aya-log): off by default, where the verifier removes the
/// log statements (the loaded programs are smaller); on, an executable path cut at the depth
/// limit reaches the agent's log under `shrike::kernel`.
#[tokio::test(flavor = "current_thread")]
async fn kernel_diagnostics_cost_nothing_off_and_reach_the_log_on() {
    if !privileged("kernel_diagnostics_cost_nothing_off_and_reach_the_log_on") {
        return;
    }
    use shrike::sensor::{KernelLogLevel, Sensor, SensorConfig};
    let log = LogBuf::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("shrike::kernel=debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let config = |kernel_log| SensorConfig { ring_buffer_bytes: 1 << 20, agent_tgid: 0, kernel_log, ..SensorConfig::default() };
    let off = Sensor::start(&config(KernelLogLevel::Off)).expect("sensor starts");
    let on = Sensor::start(&config(KernelLogLevel::Debug)).expect("sensor starts with kernel diagnostics");
    for program in ["sched_process_exec", "inet_sock_set_state"] {
        let (a, b) = (off.translated_size(program).expect("size off"), on.translated_size(program).expect("size on"));
        assert!(a < b, "{program}: {a} bytes with diagnostics off, {b} on: the verifier kept dead log statements");
    }
    drop(off);

    // A program 60 directories deep: its path is cut at 48 components, which is logged.
    let dir = std::env::temp_dir().join(marker("deep"));
    let mut deep = dir.clone();
    for _ in 0..60 {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    let exe = deep.join("true");
    std::fs::copy("/bin/true", &exe).unwrap();
    let mut child = Command::new(&exe).spawn().expect("deep program runs");
    let want = format!("exec of pid {}: executable path cut to its last 48 components", child.id());
    child.wait().unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    let text = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
        if text.contains(&want) || std::time::Instant::now() > deadline {
            break text;
        }
    };
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(text.contains(&want), "no {want:?} in the log:\n{text}");
    assert!(text.contains("shrike::kernel"), "{text}");
    drop(on);
}

/// `program_stats` turns the kernel's per-program counts on for the sensor's life: every
/// attached program is listed, and an exec adds runs and run time to the exec program.
#[tokio::test(flavor = "current_thread")]
async fn program_stats_count_the_runs_of_each_attached_program() {
    if !privileged("program_stats_count_the_runs_of_each_attached_program") {
        return;
    }
    use shrike::sensor::{Sensor, SensorConfig};
    let sensor = Sensor::start(&SensorConfig { ring_buffer_bytes: 1 << 20, agent_tgid: 0, program_stats: true, ..SensorConfig::default() })
        .expect("sensor starts with program statistics");
    let exec_stats = || sensor.program_stats().into_iter().find(|p| p.program == "sched_process_exec").expect("exec program listed");
    let before = exec_stats();
    let names: Vec<&str> = sensor.program_stats().iter().map(|p| p.program).collect();
    for name in ["sched_process_exec", "sched_process_fork", "sched_process_exit", "inet_sock_set_state"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for _ in 0..5 {
        assert!(Command::new("/bin/true").status().unwrap().success());
    }
    let after = exec_stats();
    assert!(after.runs >= before.runs + 5, "5 execs, runs {} -> {}", before.runs, after.runs);
    assert!(after.run_time_ns > before.run_time_ns, "run time {} -> {}", before.run_time_ns, after.run_time_ns);
}

/// Read `want` execs of `/bin/echo` with `mark` as an argument, recording for each look at the ring buffer how
/// many it brought and, for each exec, how long after its kernel timestamp it was read.
async fn read_marked_execs(sensor: &mut shrike::sensor::Sensor, mark: &str, want: usize) -> (Vec<usize>, Vec<u64>) {
    let (mut looks, mut delays) = (Vec::new(), Vec::new());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while delays.len() < want && std::time::Instant::now() < deadline {
        let mut in_look = 0;
        sensor
            .read_batch(|e| {
                if argv_has(&e, mark) && matches!(&e.body, EventBody::Exec(x) if x.argv.first().is_some_and(|a| a.as_bytes() == b"/bin/echo")) {
                    in_look += 1;
                    delays.push(shrike::finding::boot_now_ns().saturating_sub(e.ts_boot_ns));
                }
            })
            .await
            .expect("ring buffer read");
        if in_look > 0 {
            looks.push(in_look);
        }
    }
    (looks, delays)
}

fn percentile(mut v: Vec<u64>, p: usize) -> u64 {
    v.sort_unstable();
    v[(v.len() * p / 100).min(v.len() - 1)]
}

/// The reader is woken at once by the first exec in a container, and during a container's exec
/// storm looks on its short timer instead of being woken by every exec (a wakeup per exec cost
/// the agent several times the exec's own handling): the storm's execs take no more looks than
/// that timer makes, and are still read within milliseconds of their kernel timestamps.
#[tokio::test(flavor = "current_thread")]
async fn container_execs_wake_the_reader_at_once_and_a_storm_of_them_in_batches() {
    if !privileged("container_execs_wake_the_reader_at_once_and_a_storm_of_them_in_batches") {
        return;
    }
    let mut sensor = sensor();
    const N: usize = 400;
    let mark = marker("ctrstorm");
    let mut storm = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "/bin/sh", "-c"])
        .arg(format!("i=0; while [ $i -lt {N} ]; do /bin/echo {mark}; i=$((i+1)); done"))
        .stdout(ProcStdio::null())
        .spawn()
        .expect("unshare runs");
    let started = std::time::Instant::now();
    let (looks, delays) = read_marked_execs(&mut sensor, &mark, N).await;
    let elapsed = started.elapsed();
    assert!(storm.wait().expect("wait").success());
    assert_eq!(delays.len(), N, "every exec of the storm is read");
    // Looks come from the short timer, not from the execs: at most about one per short poll
    // (a slack for the forced first look and a loaded machine), whatever the exec rate. Woken
    // per exec, the reader made a look per exec.
    let timer_looks = elapsed.as_secs_f64() / shrike::sensor::FAST_POLL_INTERVAL.as_secs_f64();
    assert!(
        (looks.len() as f64) <= 1.5 * timer_looks + 10.0 && looks.len() < N,
        "{N} execs in a container in {elapsed:?} came in {} looks, more than the short timer makes: {looks:?}",
        looks.len()
    );
    let p90 = percentile(delays.clone(), 90);
    assert!(p90 <= 25_000_000, "90% of the storm's execs read within 25 ms of their exec (the normal poll is 50 ms), not {p90} ns (looks {looks:?})");

    // Single execs in a container, apart: each wakes the reader, whatever its timer.
    let mut single = Vec::new();
    for i in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let mark = marker(&format!("ctrsingle{i}"));
        let mut child = Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "/bin/echo", &mark])
            .stdout(ProcStdio::null())
            .spawn()
            .expect("unshare runs");
        let (_, delays) = read_marked_execs(&mut sensor, &mark, 1).await;
        assert!(child.wait().expect("wait").success());
        assert_eq!(delays.len(), 1, "the exec is read");
        single.push(delays[0]);
    }
    assert!(single.iter().all(|&d| d <= 20_000_000), "each lone exec in a container read within 20 ms (the normal poll is 50 ms): {single:?} ns");
}
