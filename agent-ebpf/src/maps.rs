//! Maps shared by every program, and the configuration global.

use agent_common::{counter, EventHeader, ProbeConfig};
use aya_ebpf::{
    macros::map,
    maps::{LruHashMap, PerCpuArray, RingBuf},
};

/// Configuration written by userspace before load (agent tgid, node scoping, kernel struct
/// offsets).
#[no_mangle]
pub static CONFIG: ProbeConfig = ProbeConfig::DEFAULT;

/// Records to userspace. Userspace may resize it before load.
#[map]
pub static EVENTS: RingBuf = RingBuf::with_byte_size(16 * 1024 * 1024, 0);

/// Per-CPU counters, indexed by `agent_common::counter`.
#[map]
pub static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(counter::COUNT, 0);

/// A TCP socket the sensor follows, keyed by its `struct sock *`: every socket that connected
/// out or was accepted since the agent started, until it closes. Checked when a process sends
/// or receives on it: is it that process's fd 0, 1 or 2? Least recently used entries make room.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Watched {
    /// The socket's `struct file *`, once known (an accepted socket gets its file on accept).
    pub file: u64,
    /// Global tgid of the process that connected or first used it; 0 while unknown.
    pub owner: u32,
    /// A `connect_direction` value while the connection still has to be reported, else 0.
    pub report: u16,
    /// Explicit padding.
    pub _pad: u16,
    /// Who connected (outbound only): the record's header, made in the connecting process's
    /// context and sent when the handshake completes (when both addresses are known).
    pub header: EventHeader,
}

#[map]
pub static WATCHED: LruHashMap<u64, Watched> = LruHashMap::with_max_entries(65536, 0);

/// A socket file on a standard fd of one process, already reported.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StdioKey {
    /// The socket's `struct file *`.
    pub file: u64,
    /// Global tgid.
    pub tgid: u32,
    /// Explicit padding.
    pub _pad: u32,
}

/// Which of fds 0, 1, 2 (bits) were reported for a [`StdioKey`].
#[map]
pub static STDIO_SEEN: LruHashMap<StdioKey, u32> = LruHashMap::with_max_entries(16384, 0);

/// Add one to a counter.
#[inline(always)]
pub fn count(index: u32) {
    if let Some(p) = COUNTERS.get_ptr_mut(index) {
        // SAFETY: per-CPU slot, no concurrent writer on this CPU while the program runs.
        unsafe { *p += 1 };
    }
}

/// tgid of the agent itself.
#[inline(always)]
pub fn agent_tgid() -> u32 {
    // SAFETY: reading a global that userspace set before load.
    unsafe { core::ptr::read_volatile(&CONFIG.agent_tgid) }
}

/// Inode number of the initial (host) pid namespace (PROC_PID_INIT_INO).
pub const HOST_PID_NS_INUM: u32 = 0xEFFF_FFFC;
const BPF_RB_FORCE_WAKEUP: u64 = 2;

/// Flags for an exec record: execs inside containers (another pid namespace than the host's or
/// the node's, `node` being 0 when node scoping is off) wake the reader at once even while it
/// is busy, so that the agent can still look at short-lived container processes (a netcat
/// that replaces itself with the shell it serves lives a few milliseconds); the rest use
/// [`submit_flags`].
#[inline(always)]
pub fn exec_submit_flags(pid_ns: u32, node: u32) -> u64 {
    if pid_ns != 0 && pid_ns != HOST_PID_NS_INUM && pid_ns != node {
        BPF_RB_FORCE_WAKEUP
    } else {
        submit_flags()
    }
}

/// Flags for submitting a record: 0, the ring buffer's adaptive notification. The reader is
/// woken by the first record written after it has read everything (one wakeup per batch, none
/// while it is still reading), so it needs no timer: an idle agent sleeps, a busy one is woken
/// once per drain, and no record waits for a poll.
#[inline(always)]
pub fn submit_flags() -> u64 {
    0
}
