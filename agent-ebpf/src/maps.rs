//! Maps shared by every program, and the configuration global.

use agent_common::{counter, ProbeConfig};
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

/// A syscall of interest between its entry and its exit, keyed by pid_tgid.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Pending {
    /// fd argument captured at entry (old fd for the dup family, the socket for connect).
    pub fd: i32,
    /// `RedirectVia` discriminant.
    pub via: u16,
    pub _pad: u16,
}

#[map]
pub static PENDING: LruHashMap<u64, Pending> = LruHashMap::with_max_entries(16384, 0);

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

/// Bytes waiting in the ring buffer above which the reader is woken at once. Below it the
/// reader is not woken per record (a wakeup is an IPI, costly in VMs); it polls on a short
/// timer instead, so latency stays bounded by the poll interval.
const WAKEUP_BYTES: u64 = 64 * 1024;
const BPF_RB_NO_WAKEUP: u64 = 1;
const BPF_RB_FORCE_WAKEUP: u64 = 2;
const BPF_RB_AVAIL_DATA: u64 = 0;

/// Inode number of the initial (host) pid namespace (PROC_PID_INIT_INO).
pub const HOST_PID_NS_INUM: u32 = 0xEFFF_FFFC;

/// Flags for an exec record: execs inside containers (another pid namespace than the host's or
/// the node's, `node` being 0 when node scoping is off) wake the reader at once, so that the
/// agent can still look at short-lived container processes; host execs wait for the threshold
/// or the poll like every other record.
#[inline(always)]
pub fn exec_submit_flags(pid_ns: u32, node: u32) -> u64 {
    if pid_ns != 0 && pid_ns != HOST_PID_NS_INUM && pid_ns != node {
        BPF_RB_FORCE_WAKEUP
    } else {
        submit_flags()
    }
}

/// Flags for submitting a record: wake the reader only when enough data is waiting.
#[inline(always)]
pub fn submit_flags() -> u64 {
    if EVENTS.query(BPF_RB_AVAIL_DATA) > WAKEUP_BYTES {
        BPF_RB_FORCE_WAKEUP
    } else {
        BPF_RB_NO_WAKEUP
    }
}
