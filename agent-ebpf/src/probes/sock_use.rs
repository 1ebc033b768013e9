//! `tp_btf/sock_send_length` and `tp_btf/sock_recv_length`: a process sent or received on a
//! socket (any of read, write, send*, recv*, io_uring). For the TCP sockets the sensor follows
//! (see [`super::inet_sock_set_state`]) two things are settled here, in the process's context:
//! - an accepted connection gets its process, and is reported once;
//! - when the socket is the process's fd 0, 1 or 2, that is reported once per process and fd,
//!   however the socket got there (dup2, dup3, fcntl, a connect on a standard fd, an fd received
//!   over a unix socket). This is a state, found where it matters: a shell reading commands from
//!   a socket or writing its prompt to one.
//!
//! Sockets the sensor does not follow cost one hash lookup. Kernels before 6.3 lack the two
//! tracepoints; `tcp_rcv_space_adjust` (TCP receives, in the receiving process) stands in for them.

use agent_common::{connect_direction, counter, EventKind, RedirectRecord, RedirectVia};
use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_get_current_task_btf},
    macros::btf_tracepoint,
    programs::BtfTracePointContext,
};

use super::inet_sock_set_state::emit;
use crate::{
    kernel,
    maps::{agent_tgid, count, lost, StdioKey, BPF_RB_FORCE_WAKEUP, EVENTS, STDIO_SEEN, WATCHED},
};

#[btf_tracepoint(function = "sock_send_length")]
pub fn sock_send_length(ctx: BtfTracePointContext) -> i32 {
    used(ctx.arg(0));
    0
}

#[btf_tracepoint(function = "sock_recv_length")]
pub fn sock_recv_length(ctx: BtfTracePointContext) -> i32 {
    used(ctx.arg(0));
    0
}

/// Where `sock_recv_length` is missing (kernels before 6.3): TCP receives that copied data.
#[btf_tracepoint(function = "tcp_rcv_space_adjust")]
pub fn tcp_rcv_space_adjust(ctx: BtfTracePointContext) -> i32 {
    used(ctx.arg(0));
    0
}

#[inline(always)]
fn used(sk: *const u8) {
    let Some(w) = WATCHED.get_ptr_mut(&(sk as u64)) else {
        return;
    };
    // SAFETY: a map value pointer, valid for this program run.
    let w = unsafe { &mut *w };
    let pid_tgid = bpf_get_current_pid_tgid();
    let global_tgid = (pid_tgid >> 32) as u32;
    // SAFETY: plain helper call.
    let task = unsafe { bpf_get_current_task_btf() } as *const u8;
    if w.file == 0 {
        w.file = kernel::sock_file(sk) as u64;
    }
    let file = w.file;
    if w.owner == 0 {
        w.owner = global_tgid;
        if w.report == connect_direction::INBOUND {
            w.report = 0;
            if let Some((pid, tgid)) = ids(task, pid_tgid) {
                let header = kernel::header(
                    EventKind::Connect as u16,
                    core::mem::size_of::<agent_common::ConnectRecord>(),
                    task,
                    pid,
                    tgid,
                );
                emit(header, connect_direction::INBOUND, sk, file as *const u8);
            }
        }
    }
    if file == 0 {
        return;
    }
    // Is the socket one of fds 0, 1, 2?
    let std = kernel::std_files(task);
    let mut mask = 0u32;
    for (i, f) in std.iter().enumerate() {
        if *f as u64 == file {
            mask |= 1 << i;
        }
    }
    if mask == 0 {
        return;
    }
    let key = StdioKey { file, tgid: global_tgid, _pad: 0 };
    // SAFETY: the value is copied out at once.
    let seen = unsafe { STDIO_SEEN.get(&key) }.copied().unwrap_or(0);
    let new = mask & !seen;
    if new == 0 {
        return;
    }
    let _ = STDIO_SEEN.insert(&key, &(seen | mask), 0);
    let Some((pid, tgid)) = ids(task, pid_tgid) else {
        return;
    };
    // Each record is written in place in the ring buffer (no copy on the stack, which the
    // inlined connection report above shares).
    for fd in 0..3u16 {
        if new & (1 << fd) == 0 {
            continue;
        }
        let Some(mut entry) = EVENTS.reserve::<RedirectRecord>(0) else {
            lost(EventKind::StdioRedirect as u16);
            continue;
        };
        let rec = entry.as_mut_ptr();
        // SAFETY: `rec` points at a reserved, exclusively owned ring-buffer slot of the right
        // size; every field is written before it is submitted.
        unsafe {
            (*rec).header =
                kernel::header(EventKind::StdioRedirect as u16, core::mem::size_of::<RedirectRecord>(), task, pid, tgid);
            (*rec).via = RedirectVia::Use as u16;
            (*rec).fd = fd;
            (*rec).old_fd = -1;
            kernel::describe_file(file as *const u8, &mut (*rec).target);
        }
        // A network socket that is a standard fd: a finding on its own, the reader looks now.
        entry.submit(BPF_RB_FORCE_WAKEUP);
        count(counter::SUBMITTED);
    }
}

/// The current task's ids as records carry them; `None` for the agent and for tasks of other
/// nodes (counted).
#[inline(always)]
fn ids(task: *const u8, pid_tgid: u64) -> Option<(u32, u32)> {
    let ids = kernel::node_ids(task, pid_tgid as u32, (pid_tgid >> 32) as u32, kernel::node_pid_ns())?;
    if ids.1 == agent_tgid() {
        count(counter::SELF_DROPPED);
        return None;
    }
    Some(ids)
}
