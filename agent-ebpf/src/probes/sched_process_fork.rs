//! `tp_btf/sched_process_fork`: a new process (threads are skipped) with its parent identity.

use agent_common::{counter, EventKind, ForkRecord};
use aya_ebpf::{helpers::bpf_get_current_pid_tgid, macros::btf_tracepoint, programs::BtfTracePointContext};

use crate::{
    kernel::{self, load, off},
    maps::{agent_tgid, count, lost, submit_flags, EVENTS},
};

#[btf_tracepoint(function = "sched_process_fork")]
pub fn sched_process_fork(ctx: BtfTracePointContext) -> i32 {
    try_fork(&ctx);
    0
}

#[inline(always)]
fn try_fork(ctx: &BtfTracePointContext) {
    let child: *const u8 = ctx.arg(1);
    let pid = load::<u32>(child, off!(task_pid)).unwrap_or(0);
    let tgid = load::<u32>(child, off!(task_tgid)).unwrap_or(0);
    if pid == 0 || pid != tgid {
        return; // a thread, not a process
    }
    let node = kernel::node_pid_ns();
    if node == 0 && (bpf_get_current_pid_tgid() >> 32) as u32 == agent_tgid() {
        count(counter::SELF_DROPPED);
        return;
    }
    let Some((pid, tgid)) = kernel::node_ids(child, pid, tgid, node) else {
        return;
    };
    let (ppid, pstart) = kernel::parent_of(child, node);
    // With node scoping the forking process is known by the child's parent, already in the
    // node's numbering (the same process unless it cloned with CLONE_PARENT).
    if node != 0 && ppid == agent_tgid() {
        count(counter::SELF_DROPPED);
        return;
    }
    let rec = ForkRecord {
        header: kernel::header(EventKind::Fork as u16, core::mem::size_of::<ForkRecord>(), child, pid, tgid),
        ppid,
        _pad: 0,
        parent_start_boot_ns: pstart,
    };
    if EVENTS.output::<ForkRecord>(&rec, submit_flags()).is_ok() {
        count(counter::SUBMITTED);
    } else {
        lost(EventKind::Fork as u16);
    }
}
