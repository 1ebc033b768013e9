//! What the detectors share about how processes are wired to the network: which processes relay
//! a network connection to a program (socat with an EXEC address, netcat), and which stdio pipes
//! connect which processes, so that a shell fed through `nc | sh` or a FIFO loop is seen as fed
//! by the network.

use std::collections::HashMap;

use super::{
    spec::{put, Props, Render},
    tools::{identify, ToolKind, ToolLists},
};
use crate::{
    event::{ProcessKey, Stdio},
    process::{Process, ProcessTable},
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
}

/// Kind of relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayKind {
    /// Runs a program for a network peer (socat EXEC/SYSTEM, netcat -e/-c/--sh-exec): the
    /// programs it starts are fed by the network, whatever their stdio looks like.
    Exec,
    /// A netcat process talking to the network on its stdio.
    Netcat,
}

/// A netcat and the shell it drives through pipes or a FIFO (`nc h p | sh`,
/// `mkfifo f; cat f | sh -i 2>&1 | nc h p > f`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WiredLoop {
    /// The netcat.
    pub netcat: ProcessKey,
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

    /// The netcat/shell pipe loops `p` (just exec'd) is a member of: the exec that completes a
    /// loop may be any member of it, the netcat, the shell or a `cat` between them.
    pub fn wired_loops(&self, table: &ProcessTable, p: &Process, lists: &ToolLists) -> Vec<WiredLoop> {
        let mut out = Vec::new();
        if !p.stdio.iter().any(|s| s.pipe_ino().is_some()) {
            return out;
        }
        let mut near = self.upstream(table, p);
        near.extend(self.downstream(table, p));
        near.push(p.key);
        let mut netcats: Vec<ProcessKey> = near.into_iter().filter(|k| self.relay(k) == Some(RelayKind::Netcat)).collect();
        netcats.dedup();
        for netcat in netcats {
            let Some(nc) = table.get(netcat) else { continue };
            let mut shells = self.upstream(table, nc);
            shells.extend(self.downstream(table, nc));
            for sh in shells {
                let is_shell = |s: &&Process| matches!(identify(&s.exe, &s.argv, lists).kind, ToolKind::Shell | ToolKind::Interpreter);
                let Some(shell) = table.get(sh).filter(is_shell) else { continue };
                if self.drives(table, nc, shell) {
                    out.push(WiredLoop { netcat, shell: shell.key });
                }
            }
        }
        out
    }

    /// How `p`'s stdin (or stdout) comes from the network, if it does.
    pub fn network_fed(&self, table: &ProcessTable, p: &Process) -> Option<NetworkFed> {
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
        }
        None
    }

    /// Number of relays and indexed processes (for metrics and tests).
    pub fn sizes(&self) -> (usize, usize) {
        (self.relays.len(), self.indexed.len())
    }
}
