//! `tp_btf/sched_process_exec`: a process image was replaced. Emits an `ExecRecord` with the
//! full executable path, argv, credentials, parent and what fds 0-2 are.
//!
//! The record is built in a per-CPU scratch buffer and only its used part goes to the ring
//! buffer (`bpf_ringbuf_output`): the head, then executable path, filename and argv packed back
//! to back at their real lengths, not the 6 KiB of room. `bpf_ringbuf_reserve` takes only a
//! constant size.

use agent_common::{
    counter, exec_flags, EventKind, ExecRecord, ARGV_MAX, EXEC_PATHS_MAX, EXEC_TAIL, EXE_MAX_DEPTH, NAME_READ_MAX,
};
use aya_ebpf::{
    helpers::{
        bpf_get_current_comm, bpf_get_current_pid_tgid, bpf_get_current_uid_gid,
        generated::{bpf_probe_read_kernel_str, bpf_probe_read_user},
    },
    macros::{btf_tracepoint, map},
    maps::PerCpuArray,
    programs::BtfTracePointContext,
};
use aya_log_ebpf::debug;

use crate::{
    kernel::{self, load, load_ptr, off},
    maps::{agent_tgid, count, lost, exec_submit_flags, EVENTS},
};

/// Where the exec record is built before its used part is copied to the ring buffer. One per
/// CPU: the program runs with migration disabled and does not nest with itself.
#[map]
static EXEC_SCRATCH: PerCpuArray<ExecRecord> = PerCpuArray::with_max_entries(1, 0);

#[btf_tracepoint(function = "sched_process_exec")]
pub fn sched_process_exec(ctx: BtfTracePointContext) -> i32 {
    try_exec(&ctx);
    0
}

#[inline(always)]
fn try_exec(ctx: &BtfTracePointContext) {
    let task: *const u8 = ctx.arg(0);
    let bprm: *const u8 = ctx.arg(2);
    let pid_tgid = bpf_get_current_pid_tgid();
    let node = kernel::node_pid_ns();
    let Some((pid, tgid)) = kernel::node_ids(task, pid_tgid as u32, (pid_tgid >> 32) as u32, node)
    else {
        return;
    };
    if tgid == agent_tgid() {
        count(counter::SELF_DROPPED);
        return;
    }
    let Some(rec) = EXEC_SCRATCH.get_ptr_mut(0) else {
        debug!(ctx, "EXEC_SCRATCH has no entry 0");
        return;
    };
    let tail_len;
    // SAFETY: `rec` points at this CPU's scratch record, which nothing else uses meanwhile.
    unsafe {
        let tail = (*rec).tail.as_mut_ptr();
        let h = &mut (*rec).head;
        // The size is set once argv's length is known.
        h.header = kernel::header(EventKind::Exec as u16, 0, task, pid, tgid);
        let (ppid, pstart) = kernel::parent_of(task, node);
        h.ppid = ppid;
        h.parent_start_boot_ns = pstart;
        let uid_gid = bpf_get_current_uid_gid();
        h.uid = uid_gid as u32;
        h.gid = (uid_gid >> 32) as u32;
        h.pid_ns = kernel::pid_ns(task);
        h.comm = bpf_get_current_comm().unwrap_or([0; 16]);
        h._pad = [0; 6];
        let mut flags = 0u32;

        // The full path of the file really executed, at the start of the tail (a fixed
        // destination: the walk's loops verify as they did in a fixed-size field).
        let file = load_ptr(bprm, off!(bprm_file));
        flags |= kernel::exe_storage(file);
        let walk = kernel::walk_path(task, file, tail);
        h.exe_len = walk.len as u16;

        // The path as given to execve, right after it (its NUL is overwritten by argv). Through a
        // volatile load, so that the compiler keeps the mask the verifier needs.
        let exe_len = walk.len;
        let filename_at = core::ptr::read_volatile(&exe_len) & (EXEC_PATHS_MAX as u32 - 1);
        let filename = load_ptr(bprm, off!(bprm_filename));
        let n = bpf_probe_read_kernel_str(tail.wrapping_add(filename_at as usize).cast(), NAME_READ_MAX as u32, filename.cast());
        let filename_len = if n > 0 { (n - 1) as u32 & (NAME_READ_MAX as u32 - 1) } else { 0 };
        h.filename_len = filename_len as u16;
        if walk.read_error != 0 {
            debug!(ctx, "exec of pid {}: reading a path component failed: {}", tgid, walk.read_error);
        }
        if walk.len == 0 {
            flags |= exec_flags::EXE_UNREADABLE;
            debug!(ctx, "exec of pid {}: executable path unreadable", tgid);
        } else if !walk.complete {
            flags |= exec_flags::EXE_TRUNCATED;
            debug!(ctx, "exec of pid {}: executable path cut to its last {} components", tgid, EXE_MAX_DEPTH);
        }

        // argv from the new image's memory.
        let mm = load_ptr(task, off!(task_mm));
        let start = load::<u64>(mm, off!(mm_arg_start)).unwrap_or(0);
        let end = load::<u64>(mm, off!(mm_arg_end)).unwrap_or(0);
        let mut len = end.wrapping_sub(start);
        if start == 0 || end < start {
            len = 0;
            flags |= exec_flags::ARGV_UNREADABLE;
            debug!(ctx, "exec of pid {}: no argv bounds", tgid);
        } else if len > ARGV_MAX as u64 {
            debug!(ctx, "exec of pid {}: argv of {} bytes cut to {}", tgid, len, ARGV_MAX as u64);
            len = ARGV_MAX as u64;
            flags |= exec_flags::ARGV_TRUNCATED;
        }
        let len = (len as u32) & (ARGV_MAX as u32 * 2 - 1);
        // After both paths (under EXEC_PATHS_MAX bytes). Through a volatile load, so that the
        // compiler keeps the mask the verifier needs to bound the destination.
        let paths = filename_at + filename_len;
        let argv_at = core::ptr::read_volatile(&paths) & (EXEC_PATHS_MAX as u32 - 1);
        let argv_len;
        if len > 0 && len <= ARGV_MAX as u32 {
            let r = bpf_probe_read_user(
                tail.wrapping_add(argv_at as usize).cast(),
                len,
                start as *const core::ffi::c_void,
            );
            if r < 0 {
                flags |= exec_flags::ARGV_UNREADABLE;
                debug!(ctx, "exec of pid {}: reading argv failed: {}", tgid, r);
                argv_len = 0;
            } else {
                argv_len = len;
            }
        } else {
            argv_len = 0;
        }
        let h = &mut (*rec).head;
        h.argv_len = argv_len as u16;
        tail_len = argv_at + argv_len;

        let files = kernel::std_files(task);
        for (f, out) in files.iter().zip(h.stdio.iter_mut()) {
            kernel::describe_file(*f, out);
        }
        h.flags = flags;
    }
    // The used part: the head, both paths and argv, bounded for the verifier.
    // SAFETY: reading a local.
    let tail_len = unsafe { core::ptr::read_volatile(&tail_len) };
    let size = ExecRecord::sent_size((tail_len & (EXEC_TAIL.next_power_of_two() as u32 - 1)).min(EXEC_TAIL as u32) as usize);
    // SAFETY: fields of the scratch record written above; `size` never exceeds the record.
    let (flags, used) = unsafe {
        (*rec).head.header.size = size as u32;
        let net_stdio = (*rec).head.stdio.iter().any(|s| kernel::is_inet(s.family));
        (exec_submit_flags((*rec).head.pid_ns, node, net_stdio), core::slice::from_raw_parts(rec.cast::<u8>(), size))
    };
    if EVENTS.output::<[u8]>(used, flags).is_err() {
        lost(EventKind::Exec as u16);
        return;
    }
    count(counter::SUBMITTED);
}
