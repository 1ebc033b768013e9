//! `tp_btf/cgroup_mkdir`: a cgroup was created. Emits a `CgroupRecord` with its id and path for
//! the v2 hierarchy, so the container of a process is known from the kernel even when the process
//! and its cgroup are gone before userspace looks. A cgroup is made before any process joins it,
//! so its record is in the ring buffer before any record of its processes.

use agent_common::{counter, CgroupRecord, EventKind, CGROUP_PATH_MAX};
use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_get_current_task_btf, generated::bpf_probe_read_kernel_str},
    macros::btf_tracepoint,
    programs::BtfTracePointContext,
};

use crate::{
    kernel::{self, off, read, read_ptr},
    maps::{count, lost, submit_flags, EVENTS},
};

#[btf_tracepoint(function = "cgroup_mkdir")]
pub fn cgroup_mkdir(ctx: BtfTracePointContext) -> i32 {
    try_mkdir(&ctx);
    0
}

#[inline(always)]
fn try_mkdir(ctx: &BtfTracePointContext) {
    let cgrp: *const u8 = ctx.arg(0);
    let path: *const u8 = ctx.arg(1);
    // Only the v2 hierarchy (id 0): v1 hierarchies number their cgroups on their own.
    let root = read_ptr(cgrp, off!(cgroup_root));
    if read::<i32>(root, off!(root_hierarchy_id)) != Some(0) {
        return;
    }
    let Some(id) = read::<u64>(read_ptr(cgrp, off!(cgroup_kn)), off!(kernfs_id)) else {
        return;
    };
    let Some(mut entry) = EVENTS.reserve::<CgroupRecord>(0) else {
        lost(EventKind::Cgroup as u16);
        return;
    };
    let rec = entry.as_mut_ptr();
    let pid_tgid = bpf_get_current_pid_tgid();
    // SAFETY: `rec` points at a reserved, exclusively owned ring-buffer slot of the right size;
    // the path is read with a bounded, checked kernel string read.
    unsafe {
        let task = bpf_get_current_task_btf() as *const u8;
        (*rec).header = kernel::header(
            EventKind::Cgroup as u16,
            core::mem::size_of::<CgroupRecord>(),
            task,
            pid_tgid as u32,
            (pid_tgid >> 32) as u32,
        );
        (*rec).header.cgroup_id = id;
        (*rec)._pad = [0; 3];
        let n = bpf_probe_read_kernel_str((*rec).path.as_mut_ptr().cast(), CGROUP_PATH_MAX as u32, path.cast());
        (*rec).path_len = if n > 0 { (n - 1) as u16 } else { 0 };
        if n <= 0 {
            count(counter::READ_ERRORS);
        }
    }
    entry.submit(submit_flags());
    count(counter::SUBMITTED);
}
