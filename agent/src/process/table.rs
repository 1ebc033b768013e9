//! The process table: what the agent currently knows about every process, built from fork, exec,
//! exit and stdio-redirect events and seeded from `/proc` at start.
//!
//! Entries are keyed by pid but identified by [`ProcessKey`] (pid + start time): an event whose
//! start differs from the stored entry's is about another process. A newer start replaces the
//! stored entry (pid reuse, nothing is merged); an older start is a stale event and is ignored.
//! Exited processes stay for a grace period so detectors still see the ancestry of short-lived
//! chains; [`ProcessTable::expire`] removes them afterwards.

use std::collections::{hash_map::Entry, VecDeque};

/// Keyed by pid, with a fast hasher (pids are chosen by the kernel, not by a process).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use serde::Serialize;

use crate::event::{clone_stdio, Argv, Event, EventBody, ExeStorage, Exec, ProcessKey, RawStr, Stdio};

/// Default maximum number of entries of a [`ProcessTable`].
pub const DEFAULT_MAX_ENTRIES: usize = 65_536;
/// Entries allocated up front (the map grows beyond this up to the configured maximum).
const INITIAL_CAPACITY: usize = 4_096;
/// Longest grace an exited process with no known children gets: long enough for the incident
/// settle window and late events of its own, short enough that an exec storm of short-lived
/// leaves (the common case: `sh -c cmd`'s `cmd`) does not fill the table for the full grace.
/// Processes that had children keep the whole grace: they are the ancestry of what still runs.
pub const LEAF_EXIT_GRACE_NS: u64 = 5_000_000_000;
/// Longest parent chain [`ProcessTable::ancestors`] walks (guards against cycles in bad data).
pub const MAX_ANCESTRY: usize = 64;

/// Everything known about one process.
#[derive(Clone, Debug, Serialize)]
pub struct Process {
    /// Identity.
    pub key: ProcessKey,
    /// Identity of the parent, when known.
    pub parent: Option<ProcessKey>,
    /// Full path of the executable (inherited from the parent until an exec is seen).
    pub exe: RawStr,
    /// Where the executable lives (in memory, unlinked); inherited like `exe`.
    pub exe_storage: ExeStorage,
    /// Arguments (shared with the exec event and with children forked since).
    pub argv: Argv,
    /// `argv` was cut (byte or count limit).
    pub argv_truncated: bool,
    /// Task command name.
    pub comm: RawStr,
    /// cgroup v2 id (inode of the cgroup2 directory); 0 when unknown.
    pub cgroup_id: u64,
    /// Real uid.
    pub uid: u32,
    /// Real gid.
    pub gid: u32,
    /// pid namespace inode; 0 when unknown.
    pub pid_ns: u32,
    /// What fds 0, 1 and 2 refer to.
    pub stdio: [Stdio; 3],
    /// An exec event was seen for this process (false when only forked, or seeded from /proc).
    pub exec_seen: bool,
    /// The entry was seeded from /proc.
    pub seeded: bool,
    /// A seeded entry was judged as if it had just started (see `Pipeline::judge_running`).
    pub judged: bool,
    /// When the last exec was seen (ns since boot); 0 when none was.
    pub exec_ts_boot_ns: u64,
    /// Exit code (wait status form) once the process exited.
    pub exited: Option<u32>,
    /// When the process exited (ns since boot); 0 while alive.
    pub exit_ts_boot_ns: u64,
    /// The TCP connections it opened or accepted most recently (at most
    /// [`CONNECTIONS_KEPT`], oldest first), on whatever fd.
    pub connections: Vec<Connection>,
    /// A child of it was seen (fork or exec naming it as parent): once exited, it keeps the
    /// full exit grace as ancestry of what may still run.
    pub had_children: bool,
}

/// How many of a process's latest TCP connections the table keeps.
pub const CONNECTIONS_KEPT: usize = 4;

/// A TCP connection a process opened or accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// Which way.
    pub direction: crate::event::Direction,
    /// The socket, with both addresses.
    pub socket: Stdio,
    /// When it was reported (ns since boot).
    pub ts_boot_ns: u64,
}

impl Process {
    /// A process known only by its identity: no parent, empty strings, stdio `Closed`.
    pub fn new(key: ProcessKey) -> Self {
        Process {
            key,
            parent: None,
            exe: RawStr::default(),
            exe_storage: ExeStorage::default(),
            argv: Argv::default(),
            argv_truncated: false,
            comm: RawStr::default(),
            cgroup_id: 0,
            uid: 0,
            gid: 0,
            pid_ns: 0,
            stdio: [Stdio::Closed, Stdio::Closed, Stdio::Closed],
            exec_seen: false,
            seeded: false,
            judged: false,
            exec_ts_boot_ns: 0,
            exited: None,
            exit_ts_boot_ns: 0,
            connections: Vec::new(),
            had_children: false,
        }
    }

    /// Overwrite the image fields from an exec.
    fn fill_from_exec(&mut self, ev: &Event, e: &Exec) {
        self.parent = Some(e.parent);
        // The walked path is empty when the kernel could not read it; the execve path is the
        // best remaining name then.
        self.exe = if e.exe.is_empty() { e.filename.clone() } else { e.exe.clone() };
        self.exe_storage = e.exe_storage;
        self.argv = e.argv.clone();
        self.argv_truncated = e.argv_truncated;
        self.comm = e.comm.clone();
        self.cgroup_id = ev.cgroup_id;
        self.uid = e.uid;
        self.gid = e.gid;
        self.pid_ns = e.pid_ns;
        self.stdio = clone_stdio(&e.stdio);
        self.exec_seen = true;
        self.exec_ts_boot_ns = ev.ts_boot_ns;
    }
}

/// How an event's identity relates to the stored entry for its pid.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Nothing stored for the pid.
    Absent,
    /// The stored entry is this process.
    Same,
    /// The stored entry is an earlier process with the same pid: replace it.
    Older,
    /// The stored entry is a later process: the event is stale.
    Stale,
}

/// All known processes, keyed by pid, with pid-reuse detection, exit grace and a size cap.
#[derive(Debug)]
pub struct ProcessTable {
    /// Boxed: most entries are short-lived leaves, and a map of boxes keeps its slack and its
    /// growth copies small (a map of inline entries doubled ~400-byte slots during a storm).
    procs: HashMap<u32, Box<Process>>,
    /// `(exit_ts_boot_ns, key)` of exited processes that had children, in the order exits were
    /// applied; entries may be outdated.
    exit_queue: VecDeque<(u64, ProcessKey)>,
    /// The same for exited processes with no known children (see [`LEAF_EXIT_GRACE_NS`]).
    leaf_exit_queue: VecDeque<(u64, ProcessKey)>,
    /// Reused buffer for choosing live entries to evict.
    scratch: Vec<(bool, bool, u64, u32)>,
    exit_grace_ns: u64,
    leaf_exit_grace_ns: u64,
    max_entries: usize,
    evictions: u64,
}

impl ProcessTable {
    /// A table keeping exited processes for `exit_grace_ns`, holding at most
    /// [`DEFAULT_MAX_ENTRIES`].
    pub fn new(exit_grace_ns: u64) -> Self {
        Self::with_limits(exit_grace_ns, DEFAULT_MAX_ENTRIES)
    }

    /// A table keeping exited processes for `exit_grace_ns` (those with no known children for at
    /// most [`LEAF_EXIT_GRACE_NS`]), holding at most `max_entries` (at least 1).
    pub fn with_limits(exit_grace_ns: u64, max_entries: usize) -> Self {
        let max_entries = max_entries.max(1);
        let cap = max_entries.min(INITIAL_CAPACITY);
        ProcessTable {
            procs: HashMap::with_capacity_and_hasher(cap, Default::default()),
            exit_queue: VecDeque::with_capacity(cap),
            leaf_exit_queue: VecDeque::with_capacity(cap),
            scratch: Vec::new(),
            exit_grace_ns,
            leaf_exit_grace_ns: exit_grace_ns.min(LEAF_EXIT_GRACE_NS),
            max_entries,
            evictions: 0,
        }
    }

    /// Apply one event; returns the process it was about, after the update. `None` for a stale
    /// event (older than the stored process with that pid), an exit of an unknown process, or a
    /// redirect of an fd other than 0-2.
    pub fn apply(&mut self, ev: &Event) -> Option<&Process> {
        let key = ev.process;
        let slot = self.slot(key);
        if slot == Slot::Stale {
            return None;
        }
        match &ev.body {
            // Not about a process.
            EventBody::CgroupCreated(_) => None,
            EventBody::Fork(f) => {
                if slot == Slot::Same {
                    // An exec or redirect overtook the fork: keep that, add what the fork knows.
                    let p = self.procs.get_mut(&key.pid)?;
                    p.parent.get_or_insert(f.parent);
                    return Some(p);
                }
                let mut child = match self.get(f.parent) {
                    Some(par) => Process {
                        key,
                        parent: Some(f.parent),
                        exe: par.exe.clone(),
                        exe_storage: par.exe_storage,
                        argv: par.argv.clone(),
                        argv_truncated: par.argv_truncated,
                        comm: par.comm.clone(),
                        cgroup_id: par.cgroup_id,
                        uid: par.uid,
                        gid: par.gid,
                        pid_ns: par.pid_ns,
                        stdio: clone_stdio(&par.stdio),
                        ..Process::new(key)
                    },
                    None => Process { parent: Some(f.parent), ..Process::new(key) },
                };
                // The event's cgroup is at least as current as the parent's (CLONE_INTO_CGROUP).
                if ev.cgroup_id != 0 {
                    child.cgroup_id = ev.cgroup_id;
                }
                self.mark_parent(f.parent);
                Some(self.store(child))
            }
            EventBody::Exec(e) => {
                self.mark_parent(e.parent);
                let p = match slot {
                    Slot::Same => self.procs.get_mut(&key.pid)?,
                    _ => self.store(Process::new(key)),
                };
                p.fill_from_exec(ev, e);
                Some(p)
            }
            EventBody::StdioRedirect(r) => {
                let fd = usize::from(r.fd);
                if fd > 2 {
                    return None;
                }
                let p = match slot {
                    Slot::Same => self.procs.get_mut(&key.pid)?,
                    _ => self.store(Process { cgroup_id: ev.cgroup_id, ..Process::new(key) }),
                };
                p.stdio[fd] = r.target.clone();
                Some(p)
            }
            EventBody::Connect(c) => {
                let p = match slot {
                    Slot::Same => self.procs.get_mut(&key.pid)?,
                    _ => self.store(Process { cgroup_id: ev.cgroup_id, ..Process::new(key) }),
                };
                if p.connections.len() == CONNECTIONS_KEPT {
                    p.connections.remove(0);
                }
                p.connections.push(Connection { direction: c.direction, socket: c.socket.clone(), ts_boot_ns: ev.ts_boot_ns });
                Some(p)
            }
            EventBody::Exit(x) => match slot {
                Slot::Same => {
                    let p = self.procs.get_mut(&key.pid)?;
                    p.exited = Some(x.code);
                    p.exit_ts_boot_ns = ev.ts_boot_ns;
                    let queue = if p.had_children || p.seeded { &mut self.exit_queue } else { &mut self.leaf_exit_queue };
                    push_exit(queue, &self.procs, self.max_entries, ev.ts_boot_ns, key);
                    self.procs.get(&key.pid).map(|p| &**p)
                }
                Slot::Older => {
                    // The stored process is gone (its pid was reused) and its exit was missed.
                    self.procs.remove(&key.pid);
                    None
                }
                Slot::Absent | Slot::Stale => None,
            },
        }
    }

    /// Remove exited processes whose exit is at least the grace period before `now_boot_ns`.
    /// Returns how many were removed.
    pub fn expire(&mut self, now_boot_ns: u64) -> usize {
        let removed = expire_queue(&mut self.exit_queue, &mut self.procs, self.exit_grace_ns, now_boot_ns)
            + expire_queue(&mut self.leaf_exit_queue, &mut self.procs, self.leaf_exit_grace_ns, now_boot_ns);
        // After a storm the maps keep the capacity it needed: give most of it back.
        if removed > 0 && self.procs.capacity() > INITIAL_CAPACITY && self.procs.capacity() > 4 * self.procs.len() {
            self.procs.shrink_to((2 * self.procs.len()).max(INITIAL_CAPACITY));
        }
        for queue in [&mut self.exit_queue, &mut self.leaf_exit_queue] {
            if queue.capacity() > INITIAL_CAPACITY && queue.capacity() > 4 * queue.len() {
                queue.shrink_to((2 * queue.len()).max(INITIAL_CAPACITY));
            }
        }
        removed
    }

    /// Note that `parent` has (had) a child.
    fn mark_parent(&mut self, parent: ProcessKey) {
        if let Some(p) = self.procs.get_mut(&parent.pid).filter(|p| p.key == parent) {
            p.had_children = true;
        }
    }

    /// The process with this exact identity.
    pub fn get(&self, key: ProcessKey) -> Option<&Process> {
        self.procs.get(&key.pid).filter(|p| p.key.start == key.start).map(|p| &**p)
    }

    /// The process currently stored for a pid, whatever its start time.
    pub fn get_pid(&self, pid: u32) -> Option<&Process> {
        self.procs.get(&pid).map(|p| &**p)
    }

    /// Number of stored processes (exited ones in their grace period included).
    pub fn len(&self) -> usize {
        self.procs.len()
    }

    /// True when no process is stored.
    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    /// All stored processes, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Process> {
        self.procs.values().map(|p| &**p)
    }

    /// Entries evicted because the table was full.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Insert a process read from /proc (marked `seeded`). Events are fresher than /proc, so an
    /// entry already stored for the same or a later process is kept; an earlier one is replaced.
    /// Returns whether it was inserted.
    pub fn insert_seeded(&mut self, mut p: Process) -> bool {
        if matches!(self.slot(p.key), Slot::Same | Slot::Stale) {
            return false;
        }
        p.seeded = true;
        let exit = p.exited.map(|_| (p.exit_ts_boot_ns, p.key));
        self.store(p);
        if let Some((ts, key)) = exit {
            push_exit(&mut self.exit_queue, &self.procs, self.max_entries, ts, key);
        }
        true
    }

    /// Mark a seeded entry judged.
    pub fn mark_judged(&mut self, key: ProcessKey) {
        if let Some(p) = self.procs.get_mut(&key.pid).filter(|p| p.key == key) {
            p.judged = true;
        }
    }

    /// Entries believed alive whose pid `/proc` no longer lists (read at kernel time `scan_ns`)
    /// lost their exit: mark them exited then, with an unknown status (`u32::MAX`). Processes
    /// that started after the scan began are left alone. Returns how many were marked.
    pub fn reconcile_exits(&mut self, alive: &std::collections::HashSet<u32>, scan_ns: u64) -> usize {
        let tick_ns = 1_000_000_000 / crate::event::USER_HZ;
        let gone: Vec<ProcessKey> = self
            .procs
            .values()
            .filter(|p| p.exited.is_none() && !alive.contains(&p.key.pid))
            .filter(|p| (p.key.start + 1) * tick_ns < scan_ns)
            .map(|p| p.key)
            .collect();
        for key in &gone {
            if let Some(p) = self.procs.get_mut(&key.pid) {
                p.exited = Some(u32::MAX);
                p.exit_ts_boot_ns = scan_ns;
            }
            push_exit(&mut self.exit_queue, &self.procs, self.max_entries, scan_ns, *key);
        }
        gone.len()
    }

    /// The parent, grandparent, ... of `key` (not `key` itself). Stops at a parent that is not
    /// stored, after pid 1 (or 0), and after [`MAX_ANCESTRY`] steps.
    pub fn ancestors(&self, key: ProcessKey) -> Ancestors<'_> {
        Ancestors { table: self, next: self.get(key).and_then(parent_to_follow), steps: 0 }
    }

    fn slot(&self, key: ProcessKey) -> Slot {
        match self.procs.get(&key.pid) {
            None => Slot::Absent,
            Some(p) if p.key.start == key.start => Slot::Same,
            Some(p) if p.key.start < key.start => Slot::Older,
            Some(_) => Slot::Stale,
        }
    }

    /// Store `p` under its pid (replacing whatever is there), evicting first when full.
    fn store(&mut self, p: Process) -> &mut Process {
        if self.procs.len() >= self.max_entries && !self.procs.contains_key(&p.key.pid) {
            self.evict();
        }
        match self.procs.entry(p.key.pid) {
            Entry::Occupied(mut o) => {
                // Reuse the box of the process this one replaces.
                **o.get_mut() = p;
                o.into_mut()
            }
            Entry::Vacant(v) => v.insert(Box::new(p)),
        }
    }

    /// Make room: the oldest exited entry if there is one, else a batch of live entries
    /// (unseeded before seeded, pid 1 last, oldest start first).
    fn evict(&mut self) {
        // Exited leaves first, then exited ancestors.
        for queue in [&mut self.leaf_exit_queue, &mut self.exit_queue] {
            while let Some((ts, key)) = queue.pop_front() {
                if is_current_exit(&self.procs, ts, key) {
                    self.procs.remove(&key.pid);
                    self.evictions += 1;
                    return;
                }
            }
        }
        // No exited entries: the table is full of live processes (or of ones whose exit was
        // lost). Evict a batch in one scan so a fork storm does not cost a scan per fork.
        let batch = (self.max_entries / 64).max(1);
        self.scratch.clear();
        self.scratch.extend(
            self.procs.values().map(|p| (p.seeded, p.key.pid == 1, p.key.start, p.key.pid)),
        );
        if self.scratch.len() > batch {
            self.scratch.select_nth_unstable(batch - 1);
            self.scratch.truncate(batch);
        }
        for &(_, _, _, pid) in &self.scratch {
            self.procs.remove(&pid);
            self.evictions += 1;
        }
    }
}

/// Remove the processes of `queue` whose exit is at least `grace_ns` before `now_boot_ns`.
fn expire_queue(queue: &mut VecDeque<(u64, ProcessKey)>, procs: &mut HashMap<u32, Box<Process>>, grace_ns: u64, now_boot_ns: u64) -> usize {
    let mut removed = 0;
    while let Some(&(ts, key)) = queue.front() {
        if ts.saturating_add(grace_ns) > now_boot_ns {
            break;
        }
        queue.pop_front();
        if is_current_exit(procs, ts, key) {
            procs.remove(&key.pid);
            removed += 1;
        }
    }
    removed
}

/// Whether `(ts, key)` from the exit queue still describes a stored, exited process.
fn is_current_exit(procs: &HashMap<u32, Box<Process>>, ts: u64, key: ProcessKey) -> bool {
    procs
        .get(&key.pid)
        .is_some_and(|p| p.key == key && p.exited.is_some() && p.exit_ts_boot_ns == ts)
}

/// Queue an exit; drop outdated queue entries when the queue grows past twice the table size.
fn push_exit(
    queue: &mut VecDeque<(u64, ProcessKey)>,
    procs: &HashMap<u32, Box<Process>>,
    max_entries: usize,
    ts: u64,
    key: ProcessKey,
) {
    if queue.len() >= max_entries.saturating_mul(2) {
        queue.retain(|&(t, k)| is_current_exit(procs, t, k));
    }
    queue.push_back((ts, key));
}

/// The parent link to follow from `p`: none above pid 1 (or 0).
fn parent_to_follow(p: &Process) -> Option<ProcessKey> {
    if p.key.pid > 1 {
        p.parent
    } else {
        None
    }
}

/// Iterator over a process's ancestors; see [`ProcessTable::ancestors`].
pub struct Ancestors<'a> {
    table: &'a ProcessTable,
    next: Option<ProcessKey>,
    steps: usize,
}

impl<'a> Iterator for Ancestors<'a> {
    type Item = &'a Process;

    fn next(&mut self) -> Option<&'a Process> {
        if self.steps >= MAX_ANCESTRY {
            return None;
        }
        let p = self.table.get(self.next.take()?)?;
        self.steps += 1;
        self.next = parent_to_follow(p);
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Exit, Fork, RedirectVia, SocketProto, StdioRedirect};

    fn k(pid: u32, start: u64) -> ProcessKey {
        ProcessKey { pid, start }
    }
    fn ev(ts: u64, key: ProcessKey, body: EventBody) -> Event {
        Event { ts_boot_ns: ts, process: key, tid: key.pid, cgroup_id: 0, body }
    }
    fn fork(ts: u64, child: ProcessKey, parent: ProcessKey) -> Event {
        ev(ts, child, EventBody::Fork(Fork { parent }))
    }
    fn exit(ts: u64, key: ProcessKey, code: u32) -> Event {
        ev(ts, key, EventBody::Exit(Exit { code }))
    }
    fn exec(ts: u64, key: ProcessKey, parent: ProcessKey, exe: &str, args: &[&str]) -> Event {
        let mut e = ev(
            ts,
            key,
            EventBody::Exec(Exec {
                parent,
                uid: 1000,
                gid: 1001,
                pid_ns: 4026531836,
                comm: exe.rsplit('/').next().unwrap_or(exe).into(),
                filename: exe.into(),
                exe: exe.into(),
                exe_truncated: false,
                exe_storage: Default::default(),
                argv: args.iter().map(|a| RawStr::from(*a)).collect(),
                argv_truncated: false,
                stdio: [Stdio::Pipe { ino: 7, named: false }, Stdio::Tty { rdev: 136 << 20 }, Stdio::Closed],
            }),
        );
        e.cgroup_id = 42;
        e
    }
    fn redirect(ts: u64, key: ProcessKey, fd: u8, target: Stdio) -> Event {
        ev(
            ts,
            key,
            EventBody::StdioRedirect(StdioRedirect {
                via: RedirectVia::Dup2,
                fd,
                old_fd: 3,
                target,
            }),
        )
    }
    fn inet() -> Stdio {
        Stdio::inet(SocketProto::Tcp, "10.0.0.2:40000".parse().unwrap(), "10.0.0.9:4444".parse().unwrap(), 99)
    }
    /// A table with a shell (pid 100) whose parent is init.
    fn with_shell(t: &mut ProcessTable) -> ProcessKey {
        let init = k(1, 1);
        t.apply(&exec(1, init, k(0, 0), "/sbin/init", &["/sbin/init"]));
        let sh = k(100, 50);
        t.apply(&fork(10, sh, init));
        t.apply(&exec(11, sh, init, "/bin/sh", &["sh", "-i"]));
        sh
    }

    #[test]
    fn fork_exec_exit_expire() {
        let mut t = ProcessTable::new(1_000);
        let sh = with_shell(&mut t);
        let child = k(200, 60);
        let p = t.apply(&fork(20, child, sh)).unwrap();
        assert!(!p.exec_seen && p.parent == Some(sh));
        let p = t.apply(&exec(21, child, sh, "/usr/bin/curl", &["curl", "x"])).unwrap();
        assert!(p.exec_seen);
        assert_eq!(p.exe.as_bytes(), b"/usr/bin/curl");
        assert_eq!(p.argv.len(), 2);
        assert_eq!((p.uid, p.gid, p.cgroup_id, p.exec_ts_boot_ns), (1000, 1001, 42, 21));
        let p = t.apply(&exit(30, child, 256)).unwrap();
        assert_eq!((p.exited, p.exit_ts_boot_ns), (Some(256), 30));
        // Still there during the grace period, with its ancestry.
        assert_eq!(t.expire(1_029), 0);
        assert_eq!(t.ancestors(child).count(), 2);
        assert_eq!(t.expire(1_030), 1);
        assert!(t.get(child).is_none());
        assert_eq!(t.len(), 2);
        // Exit of an unknown process is ignored.
        assert!(t.apply(&exit(40, k(999, 1), 0)).is_none());
    }

    #[test]
    fn exited_leaves_go_sooner_than_exited_ancestors() {
        let mut t = ProcessTable::new(30 * LEAF_EXIT_GRACE_NS);
        let sh = with_shell(&mut t);
        // sh -c 'a; b': the intermediate shell has a child, `a` has none.
        let mid = k(200, 60);
        t.apply(&fork(20, mid, sh));
        t.apply(&exec(21, mid, sh, "/bin/sh", &["sh", "-c", "a; b"]));
        let a = k(201, 61);
        t.apply(&fork(22, a, mid));
        t.apply(&exec(23, a, mid, "/usr/bin/a", &["a"]));
        assert!(t.get(mid).unwrap().had_children && !t.get(a).unwrap().had_children);
        t.apply(&exit(30, a, 0));
        t.apply(&exit(31, mid, 0));
        assert_eq!(t.expire(30 + LEAF_EXIT_GRACE_NS - 1), 0, "both within the leaf grace");
        assert_eq!(t.expire(30 + LEAF_EXIT_GRACE_NS), 1, "the leaf is gone after the leaf grace");
        assert!(t.get(a).is_none());
        assert_eq!(t.get(mid).unwrap().key, mid, "the ancestor stays");
        assert_eq!(t.expire(31 + 30 * LEAF_EXIT_GRACE_NS - 1), 0);
        assert_eq!(t.expire(31 + 30 * LEAF_EXIT_GRACE_NS), 1);
        assert!(t.get(mid).is_none());
        // A short table grace applies to leaves too.
        let mut short = ProcessTable::new(1_000);
        let sh = with_shell(&mut short);
        let c = k(300, 70);
        short.apply(&fork(40, c, sh));
        short.apply(&exit(50, c, 0));
        assert_eq!(short.expire(1_049), 0);
        assert_eq!(short.expire(1_050), 1);
    }

    #[test]
    fn pid_reuse_replaces_and_stale_events_are_ignored() {
        let mut t = ProcessTable::new(1_000);
        let sh = with_shell(&mut t);
        let old = k(300, 70);
        t.apply(&exec(20, old, sh, "/bin/old", &["old", "secret"]));
        t.apply(&redirect(21, old, 0, inet()));
        // Same pid, later start: a different process, nothing carried over.
        let new = k(300, 900);
        let p = t.apply(&redirect(30, new, 1, Stdio::Pipe { ino: 5, named: false })).unwrap();
        assert_eq!(p.key, new);
        assert!(p.exe.is_empty() && p.argv.is_empty() && p.parent.is_none());
        assert_eq!(p.stdio[0], Stdio::Closed);
        assert_eq!(p.stdio[1], Stdio::Pipe { ino: 5, named: false });
        assert!(t.get(old).is_none());
        assert_eq!(t.get_pid(300).unwrap().key, new);
        // Stale events about the old process do not touch the new one.
        assert!(t.apply(&exec(31, old, sh, "/bin/old", &["old"])).is_none());
        assert!(t.apply(&fork(32, old, sh)).is_none());
        assert!(t.apply(&redirect(33, old, 2, inet())).is_none());
        assert!(t.apply(&exit(34, old, 9)).is_none());
        let p = t.get(new).unwrap();
        assert!(p.exe.is_empty() && p.exited.is_none() && p.stdio[2] == Stdio::Closed);
        // An exec of the new process after reuse.
        let p = t.apply(&exec(35, new, sh, "/bin/new", &["new"])).unwrap();
        assert_eq!(p.exe.as_bytes(), b"/bin/new");
        // Exit of a later process with that pid drops the stored, older one.
        assert!(t.apply(&exit(40, k(300, 1000), 0)).is_none());
        assert!(t.get_pid(300).is_none());
    }

    #[test]
    fn fork_inherits_parent_fields() {
        let mut t = ProcessTable::new(1_000);
        let sh = with_shell(&mut t);
        t.apply(&redirect(12, sh, 2, inet()));
        let child = k(400, 80);
        let p = t.apply(&fork(20, child, sh)).unwrap().clone();
        let par = t.get(sh).unwrap();
        assert_eq!(p.exe, par.exe);
        assert_eq!(p.argv, par.argv);
        assert_eq!(p.comm, par.comm);
        assert_eq!((p.cgroup_id, p.uid, p.gid, p.pid_ns), (42, 1000, 1001, 4026531836));
        assert_eq!(p.stdio, par.stdio);
        assert!(p.stdio[2].is_inet());
        assert!(!p.exec_seen && !p.seeded && p.exec_ts_boot_ns == 0);
        // Unknown parent: empty child with the parent link.
        let orphan = k(401, 81);
        let p = t.apply(&fork(21, orphan, k(77, 7))).unwrap();
        assert!(p.exe.is_empty() && p.parent == Some(k(77, 7)));
        // A fork arriving after the exec keeps the exec's data.
        let late = k(402, 82);
        t.apply(&exec(22, late, sh, "/bin/true", &["true"]));
        let p = t.apply(&fork(21, late, sh)).unwrap();
        assert!(p.exec_seen && p.exe.as_bytes() == b"/bin/true");
    }

    #[test]
    fn redirect_sets_stdio() {
        let mut t = ProcessTable::new(1_000);
        let sh = with_shell(&mut t);
        let p = t.apply(&redirect(20, sh, 0, inet())).unwrap();
        assert_eq!(p.stdio[0].remote(), Some("10.0.0.9:4444".parse().unwrap()));
        assert_eq!(p.stdio[1], Stdio::Tty { rdev: 136 << 20 });
        assert!(t.apply(&redirect(21, sh, 3, inet())).is_none());
        // Unknown process: a minimal entry.
        let p = t.apply(&redirect(22, k(500, 5), 1, inet())).unwrap();
        assert!(p.stdio[1].is_inet() && p.stdio[0] == Stdio::Closed && p.parent.is_none());
    }

    #[test]
    fn ancestors_chain_and_cycle_bound() {
        let mut t = ProcessTable::new(1_000);
        let sh = with_shell(&mut t);
        let a = k(600, 100);
        let b = k(601, 101);
        t.apply(&fork(20, a, sh));
        t.apply(&fork(21, b, a));
        let chain: Vec<u32> = t.ancestors(b).map(|p| p.key.pid).collect();
        assert_eq!(chain, vec![600, 100, 1]);
        // pid 1's own (bogus) parent is not followed.
        t.apply(&exec(22, k(1, 1), k(0, 0), "/sbin/init", &[]));
        assert_eq!(t.ancestors(k(1, 1)).count(), 0);
        assert_eq!(t.ancestors(k(12345, 1)).count(), 0);
        // A missing link ends the chain.
        t.apply(&fork(23, k(700, 200), k(650, 150)));
        assert_eq!(t.ancestors(k(700, 200)).count(), 0);
        // A cycle (bad data) is bounded.
        t.apply(&fork(24, k(800, 300), k(801, 301)));
        t.apply(&fork(25, k(801, 301), k(800, 300)));
        assert_eq!(t.ancestors(k(800, 300)).count(), MAX_ANCESTRY);
    }

    #[test]
    fn capacity_evicts_exited_oldest_first_then_live() {
        let mut t = ProcessTable::with_limits(1_000_000, 4);
        let p = |pid| k(pid, u64::from(pid));
        for pid in 10..14 {
            t.apply(&fork(u64::from(pid), p(pid), k(1, 1)));
        }
        t.apply(&exit(50, p(12), 0));
        t.apply(&exit(51, p(11), 0));
        t.apply(&fork(60, p(20), k(1, 1)));
        assert_eq!((t.len(), t.evictions()), (4, 1));
        assert!(t.get(p(12)).is_none() && t.get(p(11)).is_some());
        t.apply(&fork(61, p(21), k(1, 1)));
        assert!(t.get(p(11)).is_none());
        // No exited entries left: the oldest live one goes.
        t.apply(&fork(62, p(22), k(1, 1)));
        assert_eq!((t.len(), t.evictions()), (4, 3));
        assert!(t.get(p(10)).is_none() && t.get(p(22)).is_some());
        // Replacing a pid does not evict.
        t.apply(&fork(63, k(22, 999), k(1, 1)));
        assert_eq!(t.evictions(), 3);
        // Seeded entries: inserted unless an event already described that process.
        let mut s = Process::new(k(13, 13));
        s.exe = "/seeded".into();
        assert!(!t.insert_seeded(s));
        let mut z = Process::new(k(30, 30));
        z.exited = Some(0);
        assert!(t.insert_seeded(z));
        assert!(t.get(k(30, 30)).unwrap().seeded);
        assert_eq!(t.expire(1_000_000), 1);
    }
}
