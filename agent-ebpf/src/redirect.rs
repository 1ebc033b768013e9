//! Shared by the dup-family and connect hooks: remember a syscall's fd argument at entry, and at
//! exit report a standard fd that now refers to a socket.

use agent_common::{counter, EventKind, RedirectRecord, StdioRaw};
use aya_ebpf::helpers::{bpf_get_current_pid_tgid, bpf_get_current_task};

use crate::{
    kernel,
    maps::{agent_tgid, count, submit_flags, Pending, EVENTS, PENDING},
};

const S_IFMT: u16 = 0o170000;
const S_IFSOCK: u16 = 0o140000;
const EINPROGRESS: i64 = 115;

/// Remember `fd` for the current thread until its syscall exits. With node scoping on, the
/// agent and tasks of other nodes are only recognised at exit, when a record is about to be made
/// (rare), so that this hook stays as cheap for every dup of the kernel as without scoping.
#[inline(always)]
pub fn remember(fd: i32, via: u16) {
    let pid_tgid = bpf_get_current_pid_tgid();
    if kernel::node_pid_ns() == 0 && (pid_tgid >> 32) as u32 == agent_tgid() {
        count(counter::SELF_DROPPED);
        return;
    }
    let _ = PENDING.insert(&pid_tgid, &Pending { fd, via, _pad: 0 }, 0);
}

/// At syscall exit: take what entry remembered; `ret` is the syscall's return value.
/// For the dup family the new fd is `ret`; for connect it is the remembered fd.
#[inline(always)]
pub fn finish(ret: i64, is_connect: bool) {
    let pid_tgid = bpf_get_current_pid_tgid();
    // SAFETY: the value is copied out before the entry is removed.
    let Some(pending) = (unsafe { PENDING.get(&pid_tgid) }).copied() else {
        return;
    };
    let _ = PENDING.remove(&pid_tgid);
    let fd = if is_connect {
        if ret != 0 && ret != -EINPROGRESS {
            return;
        }
        pending.fd as i64
    } else {
        ret
    };
    if !(0..=2).contains(&fd) {
        return;
    }
    // SAFETY: plain helper call.
    let task = unsafe { bpf_get_current_task() } as *const u8;
    let file = kernel::fd_file(task, fd as u32);
    let mut target = StdioRaw::default();
    kernel::describe_file(file, &mut target);
    if target.mode & S_IFMT != S_IFSOCK {
        return;
    }
    let node = kernel::node_pid_ns();
    let Some((pid, tgid)) = kernel::node_ids(task, pid_tgid as u32, (pid_tgid >> 32) as u32, node)
    else {
        return;
    };
    if node != 0 && tgid == agent_tgid() {
        count(counter::SELF_DROPPED);
        return;
    }
    let rec = RedirectRecord {
        header: kernel::header(
            EventKind::StdioRedirect as u16,
            core::mem::size_of::<RedirectRecord>(),
            task,
            pid,
            tgid,
        ),
        via: pending.via,
        fd: fd as u16,
        old_fd: pending.fd,
        target,
    };
    if EVENTS.output::<RedirectRecord>(&rec, submit_flags()).is_ok() {
        count(counter::SUBMITTED);
    } else {
        count(counter::RINGBUF_FULL);
    }
}
