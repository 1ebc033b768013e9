//! `syscalls/sys_{enter,exit}_{dup,dup2,dup3,fcntl}`: a standard fd duplicated from a socket.
//! The new fd is only reliable at exit (it is the return value), so entry just remembers the
//! old fd and exit decides.

use agent_common::RedirectVia;
use aya_ebpf::{macros::tracepoint, programs::TracePointContext};

use crate::redirect::{finish, remember};

/// Offset of the first syscall argument (and of `ret` at exit) in the tracepoint record.
const ARG0: usize = 16;
const ARG1: usize = 24;
const F_DUPFD: i64 = 0;
const F_DUPFD_CLOEXEC: i64 = 1030;

#[inline(always)]
fn arg(ctx: &TracePointContext, offset: usize) -> i64 {
    // SAFETY: the syscalls tracepoint records hold 8-byte arguments at these offsets.
    unsafe { ctx.read_at::<i64>(offset) }.unwrap_or(-1)
}

#[tracepoint]
pub fn sys_enter_dup(ctx: TracePointContext) -> u32 {
    remember(arg(&ctx, ARG0) as i32, RedirectVia::Dup as u16);
    0
}

#[tracepoint]
pub fn sys_enter_dup2(ctx: TracePointContext) -> u32 {
    let newfd = arg(&ctx, ARG1);
    if (0..=2).contains(&newfd) {
        remember(arg(&ctx, ARG0) as i32, RedirectVia::Dup2 as u16);
    }
    0
}

#[tracepoint]
pub fn sys_enter_dup3(ctx: TracePointContext) -> u32 {
    let newfd = arg(&ctx, ARG1);
    if (0..=2).contains(&newfd) {
        remember(arg(&ctx, ARG0) as i32, RedirectVia::Dup3 as u16);
    }
    0
}

#[tracepoint]
pub fn sys_enter_fcntl(ctx: TracePointContext) -> u32 {
    let cmd = arg(&ctx, ARG1);
    if cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC {
        remember(arg(&ctx, ARG0) as i32, RedirectVia::Fcntl as u16);
    }
    0
}

/// Shared by the four exits: each only acts when its entry remembered something.
#[tracepoint]
pub fn sys_exit_dup_family(ctx: TracePointContext) -> u32 {
    finish(arg(&ctx, ARG0), false);
    0
}
