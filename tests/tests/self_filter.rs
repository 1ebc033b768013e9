//! The agent's own events are dropped in the kernel (counted, never delivered). Alone in its
//! test binary because it briefly points this process's stderr at a socket.

use shrike_tests::common;
use std::{
    net::{TcpListener, TcpStream},
    os::{fd::AsRawFd, unix::process::CommandExt},
    process::{Command, Stdio},
    time::Duration,
};

use common::{privileged, wait_for};
use shrike::{
    event::EventBody,
    sensor::{Sensor, SensorConfig},
};

#[tokio::test(flavor = "current_thread")]
async fn own_events_are_dropped_in_the_kernel() {
    if !privileged("own_events_are_dropped_in_the_kernel") {
        return;
    }
    let me = std::process::id();
    let mut sensor = Sensor::start(&SensorConfig { ring_buffer_bytes: 1 << 20, agent_tgid: me, ..SensorConfig::default() }).unwrap();
    let before = sensor.kernel_counters().self_dropped;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut accepted, _) = listener.accept().unwrap();
    let sock = stream.as_raw_fd();
    // Our own socket on stderr, written to: must be dropped.
    // SAFETY: plain fd syscalls on fds this test owns; stderr is restored right after.
    unsafe {
        let saved = libc::dup(2);
        assert!(saved > 2);
        assert_eq!(libc::dup2(sock, 2), 2);
        assert_eq!(libc::write(2, b"x".as_ptr().cast(), 1), 1);
        assert_eq!(libc::dup2(saved, 2), 2);
        libc::close(saved);
    }
    let mut got = [0u8; 1];
    std::io::Read::read_exact(&mut accepted, &mut got).unwrap();
    // A child doing the same is not the agent: its redirect arrives and marks the point by which
    // ours would have arrived too.
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "read -r line"]).stdout(Stdio::null());
    // SAFETY: dup2 is async-signal-safe.
    unsafe { cmd.pre_exec(move || if libc::dup2(sock, 0) == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }) };
    let mut child = cmd.spawn().unwrap();
    let child_pid = child.id();
    std::io::Write::write_all(&mut accepted, b"line\n").unwrap();
    let mut seen = Vec::new();
    wait_for(&mut sensor, &mut seen, Duration::from_secs(10), |e| {
        e.process.pid == child_pid && matches!(e.body, EventBody::StdioRedirect(_))
    })
    .await
    .expect("the child's redirect arrives");
    child.wait().unwrap();
    assert!(!seen.iter().any(|e| e.process.pid == me), "no event of the agent's own process (its connections, its socket on stderr)");
    assert!(sensor.kernel_counters().self_dropped > before, "the drop is counted");
    // The child was forked by us (the agent): that fork is dropped too, but its exec is not.
    assert!(!seen.iter().any(|e| e.process.pid == child_pid && matches!(e.body, EventBody::Fork(_))));
}
