//! Maps shared by every program, and the configuration global.

use agent_common::{counter, is_container_pid_ns, reader_state, EventHeader, ProbeConfig};
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

/// `bpf_ringbuf_submit` flag: wake the reader now.
pub const BPF_RB_FORCE_WAKEUP: u64 = 2;

/// Flags for an exec record. Execs with a network socket on fd 0, 1 or 2 (`net_stdio`: a
/// finding on its own, not to wait for the next poll) wake the reader at once, and so do execs
/// inside containers (another pid namespace than the host's or the node's, `node` being 0 when
/// node scoping is off) unless the reader is already on its short timer: the agent may look at
/// a short-lived container process while it runs (a netcat that replaces itself with the shell
/// it serves lives a few milliseconds), and during a container's exec storm one look per short
/// poll serves them all. The rest use [`submit_flags`].
#[inline(always)]
pub fn exec_submit_flags(pid_ns: u32, node: u32, net_stdio: bool) -> u64 {
    // First as any record: a sleeping reader is woken and marked polling.
    let flags = submit_flags();
    if net_stdio || (is_container_pid_ns(pid_ns, node) && reader_state() != reader_state::POLLING_FAST) {
        BPF_RB_FORCE_WAKEUP
    } else {
        flags
    }
}

/// The reader's state (see [`READER_STATE`]).
#[inline(always)]
fn reader_state() -> u32 {
    match READER_STATE.get_ptr(0) {
        // SAFETY: a map value pointer.
        Some(p) => unsafe { core::ptr::read_volatile(p) },
        None => reader_state::POLLING,
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

/// What the reader is doing (`agent_common::reader_state`), written by the reader. Asleep
/// (nothing came for a while): the next record wakes it and sets it polling. Polling: it looks
/// on a timer and is not woken per record (a wakeup is an interrupt, costly in VMs, and per
/// record it made each exec cost tens of microseconds more on both sides).
#[map]
pub static READER_STATE: Array<u32> = Array::with_max_entries(1, 0);

/// Flags for submitting a record: wake the reader when it sleeps or when a burst is waiting.
#[inline(always)]
pub fn submit_flags() -> u64 {
    match READER_STATE.get_ptr_mut(0) {
        // SAFETY: a map value pointer; a racing writer at worst causes one extra wakeup.
        Some(p) => unsafe {
            if core::ptr::read_volatile(p) == reader_state::ASLEEP {
                core::ptr::write_volatile(p, reader_state::POLLING);
                return BPF_RB_FORCE_WAKEUP;
            }
        },
        None => debug!(&(), "READER_STATE has no entry 0"),
    }
    if EVENTS.query(BPF_RB_AVAIL_DATA) > EVENTS.query(BPF_RB_RING_SIZE) >> WAKEUP_SHARE_SHIFT {
        BPF_RB_FORCE_WAKEUP
    } else {
        BPF_RB_NO_WAKEUP
    }
}
