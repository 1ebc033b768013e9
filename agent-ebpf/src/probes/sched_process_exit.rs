//! `tp_btf/sched_process_exit`: a process ended (reported once, for its thread-group leader).

use agent_common::{counter, EventKind, ExitRecord};
use aya_ebpf::{macros::btf_tracepoint, programs::BtfTracePointContext};

use crate::{
    kernel::{self, load, off},
    maps::{agent_tgid, count, lost, submit_flags, EVENTS},
};

#[btf_tracepoint(function = "sched_process_exit")]
pub fn sched_process_exit(ctx: BtfTracePointContext) -> i32 {
    try_exit(&ctx);
    0
}

#[inline(always)]
fn try_exit(ctx: &BtfTracePointContext) {
    let task: *const u8 = ctx.arg(0);
    let pid = load::<u32>(task, off!(task_pid)).unwrap_or(0);
    let tgid = load::<u32>(task, off!(task_tgid)).unwrap_or(0);
    if pid == 0 || pid != tgid {
        return;
    }
    let Some((pid, tgid)) = kernel::node_ids(task, pid, tgid, kernel::node_pid_ns()) else {
        return;
    };
    if tgid == agent_tgid() {
        count(counter::SELF_DROPPED);
        return;
    }
    let rec = ExitRecord {
        header: kernel::header(EventKind::Exit as u16, core::mem::size_of::<ExitRecord>(), task, pid, tgid),
        exit_code: load::<u32>(task, off!(task_exit_code)).unwrap_or(0),
        _pad: 0,
    };
    if EVENTS.output::<ExitRecord>(&rec, submit_flags()).is_ok() {
        count(counter::SUBMITTED);
    } else {
        lost(EventKind::Exit as u16);
    }
}
