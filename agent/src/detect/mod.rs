//! Detectors: pure functions of one event and the process view (table, container, rules,
//! network wiring) that say "this is an attack". Each detection lives in its own file and
//! implements [`Detector`]; the [`Engine`] identifies the tool once per exec, keeps the shared
//! network wiring current and runs them all.

pub mod binary;
mod compiler;
pub mod netcat;
mod netcat_rce;
pub mod network;
pub mod python;
mod remote_exec;
mod reverse_shell;
pub mod rules;
pub mod socat;
mod socat_shell;
pub mod tools;

use std::{net::SocketAddr, sync::Arc};

use serde::Serialize;

use self::{
    binary::{BinaryCache, BinaryInfo},
    network::{NetState, RelayKind},
    rules::{DetectionId, Rules},
    tools::{identify, identify_fingerprinted, KnownBinary, ToolKind, ToolLists},
};
use crate::{
    container::ContainerRef,
    event::{Event, EventBody, ProcessKey, SocketProto, Stdio},
    process::{Process, ProcessTable},
};

/// A process as a finding shows it, captured when the detection was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcessSnapshot {
    /// Identity.
    pub key: ProcessKey,
    /// Parent pid.
    pub parent_pid: Option<u32>,
    /// Command name.
    pub name: String,
    /// Executable path (as seen from the process's root).
    pub exe: String,
    /// Arguments.
    pub argv: Vec<String>,
    /// Arguments were cut.
    pub argv_truncated: bool,
    /// Real uid.
    pub uid: u32,
    /// Size and hash of the executable, when it could be read.
    pub binary: Option<BinaryInfo>,
}

/// Socket evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// Local end.
    pub local: SocketAddr,
    /// Remote end.
    pub remote: SocketAddr,
    /// Transport.
    pub proto: SocketProto,
}

impl Connection {
    /// From an inet stdio description.
    pub fn from_stdio(s: &Stdio) -> Option<Connection> {
        match s {
            Stdio::Inet { proto, local, remote, .. } => Some(Connection { local: *local, remote: *remote, proto: *proto }),
            _ => None,
        }
    }
}

/// A network peer named on a command line (netcat's host and port, a socat network address):
/// evidence of where a tool connects (or listens) before, or without, a socket to show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// Host as written: an IP address or a name (never resolved). Empty when not given.
    pub host: String,
    /// Port, when given as a number.
    pub port: Option<u16>,
    /// Transport.
    pub proto: SocketProto,
    /// The tool waits for the peer: `host`/`port` are the local end.
    pub listen: bool,
}

impl Peer {
    /// A peer from what a command line gave; `None` when it gave neither host nor port.
    pub fn new(host: String, port: Option<u16>, proto: SocketProto, listen: bool) -> Option<Peer> {
        (!host.is_empty() || port.is_some()).then_some(Peer { host, port, proto, listen })
    }

    /// `host:port`, `[v6]:port`, `host` or `:port` as written on a command line; `None` when
    /// nothing is left.
    pub fn parse_host_port(text: &str, proto: SocketProto, listen: bool) -> Option<Peer> {
        let text = text.trim();
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (h, after) = rest.split_once(']')?;
            (h.to_string(), after.strip_prefix(':').and_then(|p| p.parse().ok()))
        } else if text.matches(':').count() > 1 {
            (text.to_string(), None) // a bare IPv6 address
        } else {
            match text.split_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().ok()),
                None if text.parse::<u16>().is_ok() => (String::new(), text.parse().ok()),
                None => (text.to_string(), None),
            }
        };
        Peer::new(host, port, proto, listen)
    }
}

/// One detector's verdict about one event.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Which detection.
    pub id: DetectionId,
    /// Kernel time of the event.
    pub ts_boot_ns: u64,
    /// The process that did it.
    pub process: ProcessKey,
    /// The incident it belongs to: the root of the process tree the attack runs in.
    pub root: ProcessKey,
    /// cgroup of the process.
    pub cgroup_id: u64,
    /// Its container (None: host).
    pub container: Option<Arc<ContainerRef>>,
    /// Socket evidence, when there is any.
    pub connection: Option<Connection>,
    /// The peer its command line names, when there is one.
    pub peer: Option<Peer>,
    /// One line saying what was seen.
    pub summary: String,
    /// Detection-specific facts for `sourceProperties`.
    pub properties: Vec<(&'static str, serde_json::Value)>,
    /// The process and its parent (filled in by the engine).
    pub processes: Vec<ProcessSnapshot>,
    /// The process's ancestry, nearest first: (pid, command name, executable).
    pub ancestry: Vec<(u32, String, String)>,
    /// The script an interpreter ran, when the detection is about its code.
    pub script: Option<python::ScriptInfo>,
}

/// What a detector sees for one event.
pub struct Ctx<'a> {
    /// The event.
    pub event: &'a Event,
    /// The process the event is about, after the table applied the event.
    pub process: &'a Process,
    /// The process table.
    pub table: &'a ProcessTable,
    /// The process's container (None: host).
    pub container: Option<&'a Arc<ContainerRef>>,
    /// The rules.
    pub rules: &'a Rules,
    /// Name lists.
    pub lists: &'a ToolLists,
    /// What the exec'd program is (exec events only).
    pub tool: Option<ToolKind>,
    /// Index in argv where the program's own arguments start.
    pub args_from: usize,
    /// What the executable was recognised as by its contents, when its name did not say.
    pub known: Option<KnownBinary>,
    /// Network wiring.
    pub net: &'a NetState,
}

impl Ctx<'_> {
    /// True when a detection may apply to this process: containers always, the host only for
    /// detections that are not container-only and when host scope is on.
    pub fn in_scope(&self, id: DetectionId) -> bool {
        self.rules.detection(id).enabled && (self.container.is_some() || (self.rules.scope.host && !id.container_only()))
    }

    /// A detection about this event's process.
    pub fn detection(&self, id: DetectionId, root: ProcessKey, summary: String) -> Detection {
        Detection {
            id,
            ts_boot_ns: self.event.ts_boot_ns,
            process: self.process.key,
            root,
            cgroup_id: self.event.cgroup_id,
            container: self.container.cloned(),
            connection: None,
            peer: None,
            summary,
            properties: Vec::new(),
            processes: Vec::new(),
            ancestry: Vec::new(),
            script: None,
        }
    }

    /// Ancestors of this process in the same container (for the host: any), nearest first.
    pub fn ancestors(&self) -> impl Iterator<Item = &Process> {
        let cgroup = self.process.cgroup_id;
        let in_container = self.container.is_some();
        self.table.ancestors(self.process.key).take_while(move |a| !in_container || a.cgroup_id == cgroup)
    }

    /// The peer a netcat's or socat's command line names.
    pub fn command_line_peer(&self, p: &Process) -> Option<Peer> {
        let id = identify(&p.exe, &p.argv, self.lists);
        let args = &p.argv[id.args_from.min(p.argv.len())..];
        match id.kind {
            ToolKind::Netcat(flavor) => netcat::parse(flavor, args).peer(),
            ToolKind::Socat => socat::parse(args).addresses.iter().find_map(socat::SocatAddress::peer),
            _ => None,
        }
    }

    /// What a process that relays the network to a shell shows of it: the socket on its own
    /// stdio, else the peer its command line names.
    pub fn relay_evidence(&self, relay: ProcessKey) -> (Option<Connection>, Option<Peer>) {
        let Some(r) = self.table.get(relay) else { return (None, None) };
        match r.stdio.iter().find_map(Connection::from_stdio) {
            Some(c) => (Some(c), None),
            None => (None, self.command_line_peer(r)),
        }
    }

    /// The arguments as text.
    pub fn argv_text(&self) -> String {
        self.process.argv.iter().map(|a| a.to_str_lossy()).collect::<Vec<_>>().join(" ")
    }
}

/// A detection, as code.
pub trait Detector {
    /// Look at one event; push what it finds.
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>);
}

/// Processes whose root (`/proc/<pid>/root`) shows `p`'s files: itself and its ancestors in
/// the same cgroup (one of them is usually still alive when `p` is already gone).
fn root_pids(table: &ProcessTable, p: &Process) -> Vec<u32> {
    let mut pids = vec![p.key.pid];
    pids.extend(table.ancestors(p.key).take_while(|a| a.cgroup_id == p.cgroup_id && a.pid_ns == p.pid_ns).take(4).map(|a| a.key.pid));
    pids
}

/// The file a process really runs (the program, when the dynamic loader was exec'd directly).
fn program_file(p: &Process) -> &[u8] {
    tools::program_path(&p.exe, &p.argv)
}

/// Ancestors listed in a finding.
pub const MAX_ANCESTRY: usize = 16;

/// Runs every detector on every event.
pub struct Engine {
    rules: Arc<Rules>,
    detectors: Vec<Box<dyn Detector + Send>>,
    net: NetState,
    binaries: BinaryCache,
    python: Option<python::PythonJudge>,
    out: Vec<Detection>,
    scripts: Vec<python::ScriptJob>,
}

/// argv that would make an unknown binary worth fingerprinting: something that could be an exec
/// option of netcat (short options clustered with `e` or `c`, ncat's long options and their
/// abbreviations), an EXEC/SYSTEM/SHELL address of socat, or the code of an interpreter (`-c`,
/// `-e`, a `.py`/`.pl` script).
fn suspicious_args(argv: &[crate::event::RawStr]) -> bool {
    argv.iter().skip(1).any(|a| {
        let b = a.as_bytes();
        let short_exec = b.len() > 1 && b[0] == b'-' && b[1] != b'-' && b[1..].iter().any(|&c| c == b'e' || c == b'c');
        let long_exec = b.starts_with(b"--e") || b.starts_with(b"--sh") || b.starts_with(b"--lua");
        let address = |w: &[u8]| b.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
        let script = b.ends_with(b".py") || b.ends_with(b".pl");
        short_exec || long_exec || script || address(b"exec:") || address(b"system:") || address(b"shell:")
    })
}

/// True when a standard fd of `p` is a connected inet socket (no lookups, no allocation).
fn stdio_on_network(p: &Process) -> bool {
    p.stdio.iter().any(|s| s.remote().is_some())
}

impl Engine {
    /// An engine with every detector; `python_model` enables the malicious-Python detection.
    pub fn new(rules: Arc<Rules>, python_model: Option<Arc<python_model::Model>>) -> Self {
        Self {
            rules,
            detectors: vec![
                Box::new(netcat_rce::NetcatRce),
                Box::new(socat_shell::SocatShell),
                Box::new(reverse_shell::ReverseShell),
                Box::new(remote_exec::RemoteExec),
                Box::new(compiler::Compiler),
            ],
            net: NetState::default(),
            binaries: BinaryCache::default(),
            python: python_model.map(python::PythonJudge::new),
            out: Vec::new(),
            scripts: Vec::new(),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &Arc<Rules> {
        &self.rules
    }

    /// What the program of an exec is: by the real executable's name or busybox applet; else,
    /// when the name says nothing (or only "everyday command" / "compiler") and the process is
    /// wired to the network or has netcat-, socat- or interpreter-like arguments, by the
    /// executable's contents (a renamed or copied shell, interpreter or network tool, or one run
    /// from a memfd). Contents are read once per file (cached by identity).
    fn tool_of(&mut self, table: &ProcessTable, p: &Process, live: bool) -> (ToolKind, usize, Option<KnownBinary>) {
        let id = identify(&p.exe, &p.argv, &self.rules.lists);
        let worth_reading = live
            && match id.kind {
                ToolKind::Other => suspicious_args(&p.argv) || stdio_on_network(p) || self.net.network_fed(table, p).is_some(),
                ToolKind::CommonCommand | ToolKind::Compiler => stdio_on_network(p),
                _ => false,
            };
        if !worth_reading {
            return (id.kind, id.args_from, None);
        }
        let roots = root_pids(table, p);
        let known = self.binaries.fingerprint(p.cgroup_id, &roots, program_file(p));
        tracing::debug!(pid = p.key.pid, exe = %p.exe, ?roots, ?known, "fingerprinted an executable");
        match known {
            Some(known) => {
                let by_name = id.kind;
                let id = identify_fingerprinted(known, &p.exe, &p.argv, &self.rules.lists);
                (id.kind, id.args_from, (id.kind != by_name).then_some(known))
            }
            None => (id.kind, id.args_from, None),
        }
    }

    /// Run the detectors on one event (already applied to `table`). `live` allows reading the
    /// process's executable (not in replays, where the processes are not on this host).
    pub fn handle(
        &mut self,
        ev: &Event,
        table: &ProcessTable,
        container: Option<&Arc<ContainerRef>>,
        live: bool,
    ) -> Vec<Detection> {
        let Some(process) = table.get(ev.process) else {
            if let EventBody::Exit(_) = ev.body {
                self.net.forget(&ev.process);
            }
            return Vec::new();
        };
        let scoped = live && (container.is_some() || self.rules.scope.host);
        let (tool, args_from, known) = match &ev.body {
            EventBody::Exec(x) => {
                // A container's root, from a process already inside it (its own pid namespace):
                // files stay readable after short-lived processes are gone.
                if live && container.is_some() && x.pid_ns != 0 {
                    self.binaries.capture_root(process.cgroup_id, process.key.pid);
                }
                self.net.index_stdio(process);
                let (tool, args_from, known) = self.tool_of(table, process, scoped);
                match tool {
                    ToolKind::Socat => {
                        let cmd = socat::parse(&process.argv[args_from.min(process.argv.len())..]);
                        if socat::reverse_shell(&cmd).is_some() {
                            self.net.add_relay(process.key, RelayKind::Exec, tool);
                        }
                    }
                    ToolKind::Netcat(flavor) => {
                        let cmd = netcat::parse(flavor, &process.argv[args_from.min(process.argv.len())..]);
                        if cmd.exec.is_some() {
                            self.net.add_relay(process.key, RelayKind::Exec, tool);
                        } else if !cmd.scan_only {
                            self.net.add_relay(process.key, RelayKind::Netcat, tool);
                        }
                    }
                    _ => {}
                }
                (Some(tool), args_from, known)
            }
            // A process that puts a socket on its stdin: what is it (a renamed shell doing
            // `exec 0<&3`)?
            EventBody::StdioRedirect(r) if r.fd == 0 && r.target.remote().is_some() => {
                let (tool, args_from, known) = self.tool_of(table, process, scoped);
                (Some(tool), args_from, known)
            }
            _ => (None, 1, None),
        };
        let ctx = Ctx {
            event: ev,
            process,
            table,
            container,
            rules: &self.rules,
            lists: &self.rules.lists,
            tool,
            args_from,
            known,
            net: &self.net,
        };
        self.out.clear();
        for d in &mut self.detectors {
            d.on_event(&ctx, &mut self.out);
        }
        if let Some(judge) = self.python.as_mut() {
            let roots = root_pids(table, process);
            judge.judge(&ctx, &roots, self.binaries.root(process.cgroup_id), live, &mut self.out, &mut self.scripts);
        }
        if let EventBody::Exit(_) = ev.body {
            self.net.forget(&ev.process);
        }
        let mut found = std::mem::take(&mut self.out);
        for d in &mut found {
            if let Some(known) = known.filter(|_| d.process == process.key) {
                d.properties.push(("Executable_Recognised_As", known.name().into()));
            }
            self.complete(d, table, live);
        }
        // Scripts: their processes as they are now, the verdict later (see `verdicts`).
        for mut job in std::mem::take(&mut self.scripts) {
            self.complete(&mut job.detection, table, live);
            if let Some(d) = self.python.as_mut().and_then(|j| j.submit(job)) {
                found.push(d);
            }
        }
        found.extend(self.verdicts(None));
        found
    }

    /// Detections of scripts judged since the last call (they are complete: their processes
    /// were captured when the script was handed out). With `wait`, waits up to that long for
    /// all scripts handed out (at shutdown).
    pub fn verdicts(&mut self, wait: Option<std::time::Duration>) -> Vec<Detection> {
        self.python.as_mut().map(|j| j.verdicts(wait)).unwrap_or_default()
    }

    /// Scripts handed out and not judged yet.
    pub fn pending_scripts(&self) -> usize {
        self.python.as_ref().map_or(0, python::PythonJudge::pending)
    }

    /// Fill in the processes and ancestry a finding shows.
    fn complete(&mut self, d: &mut Detection, table: &ProcessTable, live: bool) {
        d.processes = self.snapshots(table, d.process, live);
        d.ancestry = table
            .ancestors(d.process)
            .take(MAX_ANCESTRY)
            .map(|a| (a.key.pid, a.comm.to_string(), a.exe.to_string()))
            .collect();
    }

    /// The offending process and its parent, as findings show them.
    fn snapshots(&mut self, table: &ProcessTable, key: ProcessKey, live: bool) -> Vec<ProcessSnapshot> {
        let mut out = Vec::with_capacity(2);
        let mut next = Some(key);
        for _ in 0..2 {
            let Some(p) = next.and_then(|k| table.get(k)) else { break };
            out.push(ProcessSnapshot {
                key: p.key,
                parent_pid: p.parent.map(|k| k.pid),
                name: p.comm.to_string(),
                exe: p.exe.to_string(),
                argv: p.argv.iter().map(|a| a.to_string()).collect(),
                argv_truncated: p.argv_truncated,
                uid: p.uid,
                binary: if live { self.binaries.info(p.cgroup_id, &root_pids(table, p), p.exe.as_bytes()) } else { None },
            });
            next = p.parent;
        }
        out
    }

    /// Shared network wiring (for metrics and tests).
    pub fn net(&self) -> &NetState {
        &self.net
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_peers() {
        let p = |t| Peer::parse_host_port(t, SocketProto::Tcp, false).map(|p| (p.host, p.port));
        assert_eq!(p("127.0.0.1:4444"), Some(("127.0.0.1".into(), Some(4444))));
        assert_eq!(p("[::1]:80"), Some(("::1".into(), Some(80))));
        assert_eq!(p("::1"), Some(("::1".into(), None)));
        assert_eq!(p("evil.example"), Some(("evil.example".into(), None)));
        assert_eq!(p("4444"), Some((String::new(), Some(4444))));
        assert_eq!(p(""), None);
    }
}
