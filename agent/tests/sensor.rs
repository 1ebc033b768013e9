//! Privileged: the embedded eBPF programs on the real kernel, checked field by field.

mod common;

use std::{
    io::Write,
    net::{TcpListener, TcpStream},
    os::{fd::AsRawFd, unix::process::CommandExt},
    process::{Command, Stdio as ProcStdio},
    time::Duration,
};

use common::{marker, privileged, sensor, wait_for, TestCgroup};
use shrike::event::{Event, EventBody, ProcessKey, RedirectVia, SocketProto, Stdio};

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

/// `dup2(socket, 0)` arrives as a redirect with the peer address, and the program exec'ed
/// afterwards is seen with that TCP socket on fd 0.
#[tokio::test(flavor = "current_thread")]
async fn dup2_socket_onto_stdin_then_exec() {
    if !privileged("dup2_socket_onto_stdin_then_exec") {
        return;
    }
    let mut sensor = sensor();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = listener.local_addr().unwrap();
    let stream = TcpStream::connect(peer).unwrap();
    let local = stream.local_addr().unwrap();
    let _accepted = listener.accept().unwrap();
    let sock = stream.as_raw_fd();
    let mark = marker("dup2");
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "exit 0", &mark]).stdout(ProcStdio::null());
    // SAFETY: dup2 is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || if libc::dup2(sock, 0) == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) });
    }
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    let mut seen = Vec::new();
    let redirect = wait_for(&mut sensor, &mut seen, WAIT, |e| {
        e.process.pid == pid && matches!(e.body, EventBody::StdioRedirect(_))
    })
    .await
    .expect("redirect event");
    let EventBody::StdioRedirect(r) = &redirect.body else { unreachable!() };
    assert_eq!(r.via, RedirectVia::Dup2);
    assert_eq!(r.fd, 0);
    assert_eq!(r.old_fd, sock);
    let Stdio::Inet { proto, local: l, remote, ino } = &r.target else { panic!("not inet: {:?}", r.target) };
    assert_eq!(*proto, SocketProto::Tcp);
    assert_eq!(*remote, peer, "peer address");
    assert_eq!(*l, local);

    let exec = wait_for(&mut sensor, &mut seen, WAIT, |e| e.process.pid == pid && argv_has(e, &mark)).await.expect("exec");
    assert!(child.wait().unwrap().success());
    let EventBody::Exec(x) = &exec.body else { unreachable!() };
    assert_eq!(exec.process, redirect.process, "same process identity before and after exec");
    assert_eq!(x.stdio[0], Stdio::Inet { proto: SocketProto::Tcp, local, remote: peer, ino: *ino }, "stdin is the socket");
    assert_eq!(x.stdio[1], Stdio::Other { mode: 0o20666, rdev: (1 << 20) | 3 }, "stdout is /dev/null");
    assert_eq!(x.parent, ProcessKey { pid: std::process::id(), start: x.parent.start });
}

/// A socket created while fd 0 is closed (so it *is* fd 0) and then connected is reported as a
/// connect redirect, and the exec after it sees the socket on stdin.
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
    cmd.args(["-c", "exit 0", &mark]).stdout(ProcStdio::null());
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
    let _accepted = listener.accept().unwrap();
    let mut seen = Vec::new();
    let redirect = wait_for(&mut sensor, &mut seen, WAIT, |e| {
        e.process.pid == pid && matches!(e.body, EventBody::StdioRedirect(_))
    })
    .await
    .expect("connect redirect");
    let EventBody::StdioRedirect(r) = &redirect.body else { unreachable!() };
    assert_eq!((r.via, r.fd, r.old_fd), (RedirectVia::Connect, 0, 0));
    assert_eq!(r.target.remote(), Some(peer));
    let exec = wait_for(&mut sensor, &mut seen, WAIT, |e| e.process.pid == pid && argv_has(e, &mark)).await.expect("exec");
    child.wait().unwrap();
    let EventBody::Exec(x) = &exec.body else { unreachable!() };
    assert_eq!(x.stdio[0].remote(), Some(peer));
}

/// Benign look-alikes of the redirect hooks: a dup2 of a pipe onto stdin and a dup of a socket
/// onto a high fd produce no redirect event.
#[tokio::test(flavor = "current_thread")]
async fn non_socket_and_high_fd_dups_are_not_redirects() {
    if !privileged("non_socket_and_high_fd_dups_are_not_redirects") {
        return;
    }
    let mut sensor = sensor();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let sock = stream.as_raw_fd();
    let mark = marker("benign-dup");
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "exit 0", &mark]).stdin(ProcStdio::piped()).stdout(ProcStdio::null());
    // SAFETY: dup2 is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(sock, 100) != 100 || libc::dup2(1, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    child.stdin.take().unwrap().write_all(b"").unwrap();
    let mut seen = Vec::new();
    wait_for(&mut sensor, &mut seen, WAIT, |e| e.process.pid == pid && argv_has(e, &mark)).await.expect("exec");
    child.wait().unwrap();
    assert!(
        !seen.iter().any(|e| e.process.pid == pid && matches!(e.body, EventBody::StdioRedirect(_))),
        "no redirect for a socket on fd 100 or /dev/null on fd 0"
    );
}
