//! Maps shared by every program, and the configuration global.

use agent_common::{counter, EventHeader, ProbeConfig};
use aya_log_ebpf::debug;
use aya_ebpf::{
    macros::map,
    maps::{Array, LruHashMap, PerCpuArray, RingBuf},
};

/// Configuration written by userspace before load (agent tgid, node scoping, kernel struct
/// offsets).
#[no_mangle]
pub static CONFIG: ProbeConfig = ProbeConfig::DEFAULT;

/// Records to userspace. Userspace may resize it before load.
#[map]
pub static EVENTS: RingBuf = RingBuf::with_byte_size(4 * 1024 * 1024, 0);

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

/// A record of `kind` could not be put in the full ring buffer: counted, and logged at debug
/// level.
#[inline(never)]
pub fn lost(kind: u16) {
    count(counter::RINGBUF_FULL);
    debug!(&(), "ring buffer full: a record of kind {} lost", kind);
}

/// tgid of the agent itself.
#[inline(always)]
pub fn agent_tgid() -> u32 {
    // SAFETY: reading a global that userspace set before load.
    unsafe { core::ptr::read_volatile(&CONFIG.agent_tgid) }
}

/// Inode number of the initial (host) pid namespace (PROC_PID_INIT_INO).
pub const HOST_PID_NS_INUM: u32 = 0xEFFF_FFFC;
/// `bpf_ringbuf_submit` flag: wake the reader now.
pub const BPF_RB_FORCE_WAKEUP: u64 = 2;

/// Flags for an exec record: execs inside containers (another pid namespace than the host's or
/// the node's, `node` being 0 when node scoping is off) wake the reader at once even while it
/// is busy, so that the agent can still look at short-lived container processes (a netcat
/// that replaces itself with the shell it serves lives a few milliseconds), and so do execs
/// with a network socket on fd 0, 1 or 2 (`net_stdio`: a finding on its own, not to wait for
/// the next poll); the rest use [`submit_flags`].
#[inline(always)]
pub fn exec_submit_flags(pid_ns: u32, node: u32, net_stdio: bool) -> u64 {
    if net_stdio || (pid_ns != 0 && pid_ns != HOST_PID_NS_INUM && pid_ns != node) {
        BPF_RB_FORCE_WAKEUP
    } else {
        submit_flags()
    }
}

/// Above this share of the ring buffer waiting (1/2^N), the reader is woken at once (a burst):
/// 256 KiB, some 650 exec records of a typical command line, of the default 4 MiB ring. At a fixed 64 KiB a host exec
/// storm woke the reader every dozen execs, and each wakeup costs both sides more than decoding
/// the records it brings.
const WAKEUP_SHARE_SHIFT: u64 = 4;
const BPF_RB_RING_SIZE: u64 = 1;
const BPF_RB_NO_WAKEUP: u64 = 1;
const BPF_RB_AVAIL_DATA: u64 = 0;

/// Set to 1 by the reader before it sleeps without a timer (nothing came for a while); the next
/// record wakes it and clears it. While the reader is active it polls on a short timer and is
/// not woken per record: a wakeup is an interrupt, costly in VMs, and per record it made each
/// exec cost tens of microseconds more on both sides.
#[map]
pub static READER_ASLEEP: Array<u32> = Array::with_max_entries(1, 0);

/// Flags for submitting a record: wake the reader when it sleeps or when a burst is waiting.
#[inline(always)]
pub fn submit_flags() -> u64 {
    match READER_ASLEEP.get_ptr_mut(0) {
        // SAFETY: a map value pointer; a racing writer at worst causes one extra wakeup.
        Some(p) => unsafe {
            if core::ptr::read_volatile(p) != 0 {
                core::ptr::write_volatile(p, 0);
                return BPF_RB_FORCE_WAKEUP;
            }
        },
        None => debug!(&(), "READER_ASLEEP has no entry 0"),
    }
    if EVENTS.query(BPF_RB_AVAIL_DATA) > EVENTS.query(BPF_RB_RING_SIZE) >> WAKEUP_SHARE_SHIFT {
        BPF_RB_FORCE_WAKEUP
    } else {
        BPF_RB_NO_WAKEUP
    }
}
