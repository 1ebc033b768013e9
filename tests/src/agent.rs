//! A `shrike run` child process whose findings (stdout) and log (stderr) the test collects, and
//! listeners on 127.0.0.1 for reverse shells to call.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::shrike;

/// A listener on 127.0.0.1 that sends commands to whoever connects and collects the answer.
pub struct Listener {
    pub port: u16,
    pub thread: JoinHandle<String>,
}

pub fn listen(commands: &'static str) -> Listener {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    let thread = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(if commands.is_empty() { 3 } else { 20 });
        let (mut s, _) = loop {
            match l.accept() {
                Ok(c) => break c,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => return String::from("<no connection>"),
            }
        };
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(4))).unwrap();
        let _ = s.write_all(commands.as_bytes());
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let end = Instant::now() + Duration::from_secs(6);
        while Instant::now() < end {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    if String::from_utf8_lossy(&out).contains("uid=") {
                        // Give the shell a moment to run `exit`, then hang up.
                        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                    }
                }
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    });
    Listener { port, thread }
}

pub struct Agent {
    /// Address of the agent's metrics listener.
    pub metrics: String,
    /// pid of the agent itself (the child, or the child's child when started under a wrapper
    /// such as nsenter); signals go to it.
    pub pid: u32,
    child: Child,
    /// One per finding name: the latest revision.
    findings: Arc<Mutex<Vec<Value>>>,
    /// Every line written, updates included.
    written: Arc<Mutex<Vec<Value>>>,
    reader: JoinHandle<()>,
    log: JoinHandle<String>,
}

/// How to run an agent: the rules' scope, the CRI socket (none: no runtime configured) and
/// extra configuration text appended to the generated config file (e.g. a `[sinks]` table).
pub struct AgentSpec<'a> {
    pub name: &'a str,
    pub socket: Option<&'a Path>,
    pub host_scope: bool,
    pub extra_config: String,
    /// Extra `shrike run` arguments.
    pub args: Vec<String>,
}

pub fn start_agent(dir: &Path, name: &str, socket: &Path, host_scope: bool) -> Agent {
    start(dir, &AgentSpec { name, socket: Some(socket), host_scope, extra_config: String::new(), args: Vec::new() })
}

/// Start `shrike run` with a config written into `dir`; returns once it is ready.
pub fn start(dir: &Path, spec: &AgentSpec) -> Agent {
    start_in(dir, spec, &[])
}

/// The only child of process `pid` (waits for it up to 5 s).
pub fn only_child(pid: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        let children: Vec<u32> = children.split_whitespace().filter_map(|c| c.parse().ok()).collect();
        match children.as_slice() {
            [one] => return *one,
            [] if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            other => panic!("process {pid}: expected one child, found {other:?}"),
        }
    }
}

/// [`start`] under a wrapper command that forks the agent as its only child (e.g.
/// `nsenter -t PID -p -m`); empty `wrapper`: no wrapper.
pub fn start_in(dir: &Path, spec: &AgentSpec, wrapper: &[&str]) -> Agent {
    let name = spec.name;
    let rules = dir.join(format!("{name}-rules.toml"));
    std::fs::write(&rules, format!("[scope]\nhost = {}\n[incidents]\nsettle_ms = 1500\ndedupe_window_s = 600\n", spec.host_scope)).unwrap();
    let config = dir.join(format!("{name}.toml"));
    let runtime = spec.socket.map(|s| format!("[container]\nruntime_endpoint = \"{}\"\n", s.display())).unwrap_or_default();
    std::fs::write(
        &config,
        format!(
            "rules = \"{}\"\n[node]\nname = \"test-node\"\ncluster = \"c1\"\nproject = \"p1\"\nlocation = \"europe-west1\"\n{runtime}[metrics]\nlisten = \"127.0.0.1:0\"\n{}",
            rules.display(),
            spec.extra_config,
        ),
    )
    .unwrap();
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(shrike());
            c
        }
        None => Command::new(shrike()),
    };
    let ready = crate::common::spawn_ready(
        cmd.args(["run", "--config"])
            .arg(&config)
            .args(&spec.args)
            .stdout(Stdio::piped())
            .env("SHRIKE_LOG", std::env::var("SHRIKE_TEST_LOG").unwrap_or_else(|_| "info".into())),
    );
    let mut child = ready.child;
    let findings = Arc::new(Mutex::new(Vec::new()));
    let written = Arc::new(Mutex::new(Vec::new()));
    let (sink, all) = (findings.clone(), written.clone());
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
            all.lock().unwrap().push(v.clone());
            supersede(&mut sink.lock().unwrap(), v);
        }
    });
    let metrics = ready.line.split_whitespace().find_map(|kv| kv.strip_prefix("metrics=")).unwrap_or_default().to_string();
    let pid = if wrapper.is_empty() { child.id() } else { only_child(child.id()) };
    Agent { metrics, pid, child, findings, written, reader, log: ready.log }
}

/// Add a finding to what the agent wrote: an update (the same name, the next
/// `Finding_Revision`) replaces the revision before it, as SCC and SIEMs keyed on the name do.
pub fn supersede(findings: &mut Vec<Value>, f: Value) {
    let name = f["finding"]["name"].as_str().map(str::to_string);
    let revision = f["finding"]["sourceProperties"]["Finding_Revision"].as_u64().unwrap_or(1);
    if let Some(i) = findings.iter().position(|g| name.is_some() && g["finding"]["name"].as_str() == name.as_deref()) {
        let before = findings[i]["finding"]["sourceProperties"]["Finding_Revision"].as_u64().unwrap_or(1);
        assert_eq!(revision, before + 1, "{name:?}: an update follows the revision before it");
        findings[i] = f;
    } else {
        assert_eq!(revision, 1, "{name:?}: an incident's first finding is revision 1");
        findings.push(f);
    }
}

/// Run `cmd` (`{P}`: the port of a fresh listener that sends `commands`) from its own `sh -c`
/// runner on the host; with commands, fail unless the shell really answered. Returns the
/// runner's pid (findings name it in their ancestry).
pub fn run_attack(name: &str, cmd: &str, commands: &'static str) -> u32 {
    let l = listen(commands);
    let cmd = cmd.replace("{P}", &l.port.to_string());
    let mut child = Command::new("/bin/sh").args(["-c", &cmd]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let pid = child.id();
    let got = l.thread.join().unwrap();
    if !commands.is_empty() {
        assert!(got.contains("uid="), "{name}: the listener got {got:?}");
    }
    reap(&mut child, Duration::from_secs(10));
    pid
}

/// Let a child we started finish within `within`, then kill it (by its pid) and reap it.
pub fn reap(child: &mut Child, within: Duration) {
    let deadline = Instant::now() + within;
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The value of one series (`name{labels}` exactly as rendered) in metrics text; 0 if absent.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

/// The finding belongs to the attack run by `runner` (its ancestry or processes name it).
pub fn belongs_to_runner(f: &Value, runner: u32) -> bool {
    let in_ancestry = f["finding"]["sourceProperties"]["Process_Ancestry"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["pid"].as_u64() == Some(u64::from(runner))));
    let in_processes = f["finding"]["processes"]
        .as_array()
        .is_some_and(|a| a.iter().any(|p| p["pid"].as_str() == Some(runner.to_string().as_str())));
    in_ancestry || in_processes
}

/// GET a path from a listener on 127.0.0.1 (HTTP/1.0, whole response as text).
pub fn http_get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

impl Agent {
    /// The findings it has written to stdout so far, the latest revision of each.
    pub fn findings(&self) -> Vec<Value> {
        self.findings.lock().unwrap().clone()
    }

    /// Every finding line it has written to stdout so far, updates included.
    pub fn written(&self) -> Vec<Value> {
        self.written.lock().unwrap().clone()
    }

    /// A handle on every line written, to read after the agent is gone.
    pub fn written_handle(&self) -> Arc<Mutex<Vec<Value>>> {
        self.written.clone()
    }

    /// Kill it (SIGKILL by pid: no shutdown of any kind); returns what it wrote and logged.
    pub fn kill(mut self) -> (Vec<Value>, String) {
        // SAFETY: signalling the agent we started, by its pid.
        unsafe { libc::kill(self.pid as i32, libc::SIGKILL) };
        let _ = self.child.wait().unwrap();
        self.reader.join().unwrap();
        let log = self.log.join().unwrap();
        let f = self.findings.lock().unwrap().clone();
        (f, log)
    }

    pub fn stop(mut self) -> (Vec<Value>, String) {
        // SAFETY: signalling the agent we started, by its pid.
        unsafe { libc::kill(self.pid as i32, libc::SIGINT) };
        let status = self.child.wait().unwrap();
        self.reader.join().unwrap();
        let log = self.log.join().unwrap();
        assert!(status.success(), "{log}");
        let f = self.findings.lock().unwrap().clone();
        (f, log)
    }
}

