//! `syscalls/sys_{enter,exit}_connect`: a socket that already is fd 0, 1 or 2 gets connected
//! (e.g. a shell that opened its socket with stdin closed).

use agent_common::RedirectVia;
use aya_ebpf::{macros::tracepoint, programs::TracePointContext};

use crate::redirect::{finish, remember};

const ARG0: usize = 16;

#[tracepoint]
pub fn sys_enter_connect(ctx: TracePointContext) -> u32 {
    // SAFETY: the syscalls tracepoint record holds the fd at offset 16.
    let fd = unsafe { ctx.read_at::<i64>(ARG0) }.unwrap_or(-1);
    if (0..=2).contains(&fd) {
        remember(fd as i32, RedirectVia::Connect as u16);
    }
    0
}

#[tracepoint]
pub fn sys_exit_connect(ctx: TracePointContext) -> u32 {
    // SAFETY: `ret` is at offset 16 of sys_exit records.
    let ret = unsafe { ctx.read_at::<i64>(ARG0) }.unwrap_or(-1);
    finish(ret, true);
    0
}
