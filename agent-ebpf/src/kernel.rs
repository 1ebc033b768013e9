//! Readers for kernel structs through the offsets userspace resolved from BTF.

use agent_common::{
    counter, EventHeader, StdioRaw, EXE_MAX, EXE_MAX_DEPTH, NAME_READ_MAX, OFFSET_UNKNOWN,
    SCHEMA_VERSION,
};
use aya_ebpf::helpers::{
    bpf_get_current_cgroup_id, bpf_ktime_get_boot_ns, bpf_probe_read_kernel,
    generated::bpf_probe_read_kernel_str,
};

use crate::maps::count;

/// The offset of a kernel struct member, as resolved by userspace.
macro_rules! off {
    ($field:ident) => {
        {
            #[allow(unused_unsafe)]
            // SAFETY: reading a global that userspace set before load.
            let v = unsafe { core::ptr::read_volatile(&crate::maps::CONFIG.offsets.$field) };
            v
        }
    };
}
pub(crate) use off;

const S_IFMT: u16 = 0o170000;
const S_IFSOCK: u16 = 0o140000;
const S_IFIFO: u16 = 0o010000;
const PIPEFS_MAGIC: u64 = 0x5049_5045;
/// `TMPFS_MAGIC`: shmem (tmpfs mounts, `/dev/shm`, memfds).
const TMPFS_MAGIC: u64 = 0x0102_1994;
/// `HUGETLBFS_MAGIC` (memfds made with `MFD_HUGETLB`).
const HUGETLBFS_MAGIC: u64 = 0x9584_58f6;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// Whether a socket family is IPv4 or IPv6.
#[inline(always)]
pub fn is_inet(family: u16) -> bool {
    family == AF_INET || family == AF_INET6
}

/// Read a `T` at `base + offset`; `None` when the offset is unknown or the read faults.
#[inline(always)]
pub fn read<T: Copy>(base: *const u8, offset: u32) -> Option<T> {
    if base.is_null() || offset == OFFSET_UNKNOWN {
        return None;
    }
    // SAFETY: bpf_probe_read_kernel checks the address; a fault is an error, not a crash.
    match unsafe { bpf_probe_read_kernel(base.wrapping_add(offset as usize) as *const T) } {
        Ok(v) => Some(v),
        Err(_) => {
            // Counted only: a log statement here would be verified once per inlined read and
            // push the exec program past the verifier's limit. The callers that matter log.
            count(counter::READ_ERRORS);
            None
        }
    }
}

/// Read a kernel pointer at `base + offset`, null when unknown.
#[inline(always)]
pub fn read_ptr(base: *const u8, offset: u32) -> *const u8 {
    read::<*const u8>(base, offset).unwrap_or(core::ptr::null())
}

/// Load a `T` at `base + offset` straight from kernel memory, without a helper call. Only for
/// a `base` the verifier knows by its BTF type: a tp_btf argument, `bpf_get_current_task_btf()`,
/// or a pointer to a struct loaded through one of those with [`load_ptr`]. The offset is a
/// constant of the frozen CONFIG, so the verifier checks the access against the struct's BTF
/// (a wrong offset refuses the program at load, it cannot read astray), and the JIT makes the
/// load fault-safe: a bad or null address reads as 0. `bpf_probe_read_kernel` costs a call and
/// an address check per field; in the exec program those were half of its time.
///
/// `T` must be the member's own size (pointers exactly) and naturally aligned, so that it is one
/// load instruction. `None` only when the offset is unknown (a branch the verifier removes).
#[inline(always)]
pub fn load<T: Copy>(base: *const u8, offset: u32) -> Option<T> {
    if offset == OFFSET_UNKNOWN {
        return None;
    }
    // SAFETY: checked by the verifier against BTF and made fault-safe by the JIT, as above.
    Some(unsafe { core::ptr::read_volatile(base.wrapping_add(offset as usize).cast::<T>()) })
}

/// [`load`] of a pointer member; null when unknown. A pointer to a struct stays BTF-typed, so
/// [`load`] may go on through it; any other pointer (`char *`, `struct file **`) is a number to
/// the verifier, for [`read`] and the string helpers.
#[inline(always)]
pub fn load_ptr(base: *const u8, offset: u32) -> *const u8 {
    load::<*const u8>(base, offset).unwrap_or(core::ptr::null())
}

/// Start time (ns since boot) of a task's thread-group leader: half of the process identity.
/// `task` is BTF-typed (see [`load`]).
#[inline(always)]
pub fn leader_start(task: *const u8) -> u64 {
    let leader = load_ptr(task, off!(task_group_leader));
    load::<u64>(leader, off!(task_start_boottime)).unwrap_or(0)
}

/// tgid of a task's real parent and that parent's start time. With node scoping on (`node`
/// not 0) the tgid is the one in the node's pid namespace, and a parent outside the node (the
/// parent of the node's init) is `(0, 0)`, as the node's own `/proc` shows it. `task` is
/// BTF-typed (see [`load`]).
#[inline(always)]
pub fn parent_of(task: *const u8, node: u32) -> (u32, u64) {
    let parent = load_ptr(task, off!(task_real_parent));
    if node == 0 {
        let ppid = load::<u32>(parent, off!(task_tgid)).unwrap_or(0);
        return (ppid, leader_start(parent));
    }
    match node_tgid(parent, node) {
        Some(ppid) => (ppid, leader_start(parent)),
        None => (0, 0),
    }
}

/// Deepest pid namespace level searched for the node's namespace (level 0 is the initial one;
/// a kind node is at level 1 and its pods at level 2).
const MAX_PID_LEVELS: u32 = 8;

/// Node scoping: 0 when off (the agent is in the initial pid namespace), else the inode of the
/// node's pid namespace. One global read.
#[inline(always)]
pub fn node_pid_ns() -> u32 {
    // SAFETY: reading a global that userspace set before load.
    unsafe { core::ptr::read_volatile(&crate::maps::CONFIG.node_pid_ns) }
}

/// The number of `pid` (a `struct pid *`) in the pid namespace with inode `node`; `None` when
/// the pid has no number there (the task is not on the node).
#[inline(always)]
pub fn pid_nr_in(pid: *const u8, node: u32) -> Option<u32> {
    let level = read::<u32>(pid, off!(pid_level))?;
    let (numbers, stride) = (off!(pid_numbers), off!(upid_size));
    let (nr_off, ns_off, inum_off) = (off!(upid_nr), off!(upid_ns), off!(pid_ns_inum));
    for i in 0..MAX_PID_LEVELS {
        if i > level {
            break;
        }
        let upid = numbers.wrapping_add(i.wrapping_mul(stride));
        let ns = read_ptr(pid, upid.wrapping_add(ns_off));
        if read::<u32>(ns, inum_off) == Some(node) {
            return read::<u32>(pid, upid.wrapping_add(nr_off));
        }
    }
    None
}

/// A task's process id in the node's pid namespace (its group leader's pid there).
#[inline(always)]
pub fn node_tgid(task: *const u8, node: u32) -> Option<u32> {
    let leader = read_ptr(task, off!(task_group_leader));
    pid_nr_in(read_ptr(leader, off!(task_thread_pid)), node)
}

/// Who a record is about, in the numbering the agent understands: `(pid, tgid)` as given
/// (global) when node scoping is off, the task's pids in the node's namespace when it is on.
/// `None` (counted) when the task is not on the node: the record must not be made.
#[inline(always)]
pub fn node_ids(task: *const u8, pid: u32, tgid: u32, node: u32) -> Option<(u32, u32)> {
    if node == 0 {
        return Some((pid, tgid));
    }
    let ids = match pid_nr_in(read_ptr(task, off!(task_thread_pid)), node) {
        Some(npid) if pid == tgid => Some((npid, npid)),
        Some(npid) => node_tgid(task, node).map(|ntgid| (npid, ntgid)),
        None => None,
    };
    if ids.is_none() {
        count(counter::OTHER_NODE_DROPPED);
    }
    ids
}

/// Header for a record about `task` (which must be the current task for the cgroup id, and
/// BTF-typed: see [`load`]).
#[inline(always)]
pub fn header(kind: u16, size: usize, task: *const u8, pid: u32, tgid: u32) -> EventHeader {
    EventHeader {
        kind,
        version: SCHEMA_VERSION,
        size: size as u32,
        // SAFETY: plain helper calls without pointer arguments.
        ts_boot_ns: unsafe { bpf_ktime_get_boot_ns() },
        pid,
        tgid,
        start_boot_ns: leader_start(task),
        // SAFETY: as above.
        cgroup_id: unsafe { bpf_get_current_cgroup_id() },
    }
}

/// The `struct file *` of fds 0, 1 and 2 (null when not open): the fd table is walked once and
/// the three pointers read together. `task` is BTF-typed (see [`load`]); the array of file
/// pointers is not, so the three come in one [`read`], as numbers.
#[inline(always)]
pub fn std_files(task: *const u8) -> [*const u8; 3] {
    let none = [core::ptr::null(); 3];
    let files = load_ptr(task, off!(task_files));
    let fdt = load_ptr(files, off!(files_fdt));
    // An fd table always has room for at least BITS_PER_LONG fds.
    if load::<u32>(fdt, off!(fdt_max_fds)).unwrap_or(0) < 3 {
        return none;
    }
    let fds = load_ptr(fdt, off!(fdt_fd));
    if fds.is_null() {
        return none;
    }
    read::<[*const u8; 3]>(fds, 0).unwrap_or(none)
}

/// Where an executed file lives, as [`agent_common::exec_flags`] bits: in memory (tmpfs,
/// hugetlbfs), and without a name in any directory (nlink 0: deleted, or a memfd). `file` is
/// BTF-typed (see [`load`]).
#[inline(always)]
pub fn exe_storage(file: *const u8) -> u32 {
    if file.is_null() {
        return 0;
    }
    let inode = load_ptr(file, off!(file_inode));
    let mut flags = 0;
    let sb = load_ptr(inode, off!(inode_sb));
    if let Some(magic) = load::<u64>(sb, off!(sb_magic)) {
        if magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC {
            flags |= agent_common::exec_flags::EXE_IN_MEMORY_FS;
        }
    }
    if load::<u32>(inode, off!(inode_nlink)) == Some(0) {
        flags |= agent_common::exec_flags::EXE_UNLINKED;
    }
    flags
}

/// Bytes at the start of a `struct inode` that [`describe_file`] reads at once: `i_mode`,
/// `i_sb`, `i_ino` and `i_rdev` are among its first members (all within 80 bytes on 6.18,
/// fewer without ACLs or an LSM); one that lies past them is read on its own.
const INODE_HEAD: usize = 80;

/// A member at `offset` of the [`INODE_HEAD`] bytes read from `base`, or read from `base`
/// when it lies past them (or the head could not be read). `offset` is a CONFIG constant, so
/// the verifier sees one of the two branches.
#[inline(always)]
fn head_or_read<T: Copy>(head: &Option<[u64; INODE_HEAD / 8]>, base: *const u8, offset: u32) -> Option<T> {
    match head {
        Some(h) if offset != OFFSET_UNKNOWN && offset as usize + core::mem::size_of::<T>() <= INODE_HEAD => {
            // SAFETY: in bounds of the head, checked above; any bit pattern is a valid `T`.
            Some(unsafe { core::ptr::read_unaligned(h.as_ptr().cast::<u8>().add(offset as usize).cast::<T>()) })
        }
        _ => read::<T>(base, offset),
    }
}

/// Describe an open file: inode mode, number, device and, for sockets, family and addresses.
/// `file` is a number to the verifier (an fd table entry): the inode's members come in one
/// read of its first bytes, not one read each.
#[inline(always)]
pub fn describe_file(file: *const u8, out: &mut StdioRaw) {
    *out = StdioRaw::default();
    if file.is_null() {
        return;
    }
    let inode = read_ptr(file, off!(file_inode));
    let head = read::<[u64; INODE_HEAD / 8]>(inode, 0);
    out.mode = head_or_read::<u16>(&head, inode, off!(inode_mode)).unwrap_or(0);
    out.ino = head_or_read::<u64>(&head, inode, off!(inode_ino)).unwrap_or(0);
    out.rdev = head_or_read::<u32>(&head, inode, off!(inode_rdev)).unwrap_or(0);
    if out.mode & S_IFMT == S_IFIFO {
        let sb = head_or_read::<*const u8>(&head, inode, off!(inode_sb)).unwrap_or(core::ptr::null());
        if let Some(magic) = read::<u64>(sb, off!(sb_magic)) {
            if magic != PIPEFS_MAGIC {
                out.flags |= agent_common::stdio_flags::NAMED_FIFO;
            }
        }
        return;
    }
    if out.mode & S_IFMT != S_IFSOCK {
        return;
    }
    let socket = read_ptr(file, off!(file_private_data));
    describe_sock(read_ptr(socket, off!(socket_sk)), out);
}

/// The `struct file *` of a `struct sock *` (`sk->sk_socket->file`); null when the socket has
/// none yet (a connection not accepted yet) or the offsets are unknown.
#[inline(always)]
pub fn sock_file(sk: *const u8) -> *const u8 {
    read_ptr(read_ptr(sk, off!(sk_socket)), off!(socket_file))
}

/// Describe a socket: family, type, ports and addresses (`mode`, `ino` are left to the caller).
#[inline(always)]
pub fn describe_sock(sk: *const u8, out: &mut StdioRaw) {
    out.family = read::<u16>(sk, off!(sk_family)).unwrap_or(0);
    out.sock_type = read::<u16>(sk, off!(sk_type)).unwrap_or(0);
    out.local_port = read::<u16>(sk, off!(sk_num)).unwrap_or(0);
    out.remote_port = u16::from_be(read::<u16>(sk, off!(sk_dport)).unwrap_or(0));
    if out.family == AF_INET {
        let r = read::<[u8; 4]>(sk, off!(sk_daddr)).unwrap_or([0; 4]);
        let l = read::<[u8; 4]>(sk, off!(sk_rcv_saddr)).unwrap_or([0; 4]);
        out.remote_addr[..4].copy_from_slice(&r);
        out.local_addr[..4].copy_from_slice(&l);
    } else if out.family == AF_INET6 {
        out.remote_addr = read::<[u8; 16]>(sk, off!(sk_v6_daddr)).unwrap_or([0; 16]);
        out.local_addr = read::<[u8; 16]>(sk, off!(sk_v6_rcv_saddr)).unwrap_or([0; 16]);
    }
}

/// Inode number of a task's pid namespace, 0 when unknown. `task` is BTF-typed (see [`load`]).
#[inline(always)]
pub fn pid_ns(task: *const u8) -> u32 {
    let nsproxy = load_ptr(task, off!(task_nsproxy));
    let ns = load_ptr(nsproxy, off!(nsproxy_pid_ns));
    load::<u32>(ns, off!(pid_ns_inum)).unwrap_or(0)
}

/// Outcome of [`walk_path`].
pub struct PathWalk {
    /// Bytes written.
    pub len: u32,
    /// The walk reached the root.
    pub complete: bool,
    /// The error of a path component that could not be read (0: none).
    pub read_error: i64,
}

/// Write the components of `file`'s path, leaf first, each NUL-terminated, into `buf`
/// (which must hold `EXE_BUF` bytes). The walk stops at the task's root (so a container
/// process gets the path inside its container) or at the root of its mount tree.
///
/// `task` and `file` are BTF-typed (see [`load`]). Within the file's own mount (the whole walk
/// for most executables: a container's root, the host's `/usr`) every step is a direct load.
/// Past it the walk goes on through `struct mount`, which only `container_of` reaches from a
/// `vfsmount` and BTF therefore cannot type, with [`read`], for at most [`EXE_MAX_DEPTH`] more
/// components.
#[inline(always)]
pub fn walk_path(task: *const u8, file: *const u8, buf: *mut u8) -> PathWalk {
    let mut out = PathWalk { len: 0, complete: false, read_error: 0 };
    let mount_mnt = off!(mount_mnt);
    if file.is_null() || off!(file_path) == OFFSET_UNKNOWN || mount_mnt == OFFSET_UNKNOWN {
        return out;
    }
    let fpath = file.wrapping_add(off!(file_path) as usize);
    let fs = load_ptr(task, off!(task_fs));
    let (root_dentry, root_mnt) = if fs.is_null() || off!(fs_root) == OFFSET_UNKNOWN {
        (core::ptr::null(), core::ptr::null())
    } else {
        let root = fs.wrapping_add(off!(fs_root) as usize);
        (load_ptr(root, off!(path_dentry)), load_ptr(root, off!(path_mnt)))
    };
    let mut len: u32 = 0;

    // Within the file's own mount, BTF-typed.
    let mut dentry = load_ptr(fpath, off!(path_dentry));
    let first_mnt = load_ptr(fpath, off!(path_mnt));
    let first_root = load_ptr(first_mnt, off!(vfsmount_root));
    let mut crossed = false;
    for _ in 0..EXE_MAX_DEPTH {
        if dentry.is_null() {
            break;
        }
        if dentry == root_dentry && first_mnt == root_mnt {
            out.complete = true;
            break;
        }
        if dentry == first_root {
            crossed = true;
            break;
        }
        match step_up(load_ptr, dentry, buf, &mut len, &mut out) {
            Some(parent) => dentry = parent,
            None => break,
        }
    }
    if !crossed {
        out.len = len;
        return out;
    }

    // Through the parent mounts, read: the loop's first step crosses into the parent mount.
    let mut vfsmnt = read_ptr(fpath, off!(path_mnt));
    let mut mnt = vfsmnt.wrapping_sub(mount_mnt as usize);
    let mut mnt_root = read_ptr(vfsmnt, off!(vfsmount_root));
    let mut dentry = mnt_root;
    for _ in 0..EXE_MAX_DEPTH {
        if dentry.is_null() {
            break;
        }
        if dentry == root_dentry && vfsmnt == root_mnt {
            out.complete = true;
            break;
        }
        if dentry == mnt_root {
            let parent = read_ptr(mnt, off!(mount_parent));
            if parent.is_null() || parent == mnt {
                out.complete = true;
                break;
            }
            dentry = read_ptr(mnt, off!(mount_mountpoint));
            mnt = parent;
            vfsmnt = mnt.wrapping_add(mount_mnt as usize);
            mnt_root = read_ptr(vfsmnt, off!(vfsmount_root));
            continue;
        }
        match step_up(read_ptr, dentry, buf, &mut len, &mut out) {
            Some(parent) => dentry = parent,
            None => break,
        }
    }
    out.len = len;
    out
}

/// One step of [`walk_path`] from a dentry that is not a root: append its name and return its
/// parent, or `None` when the walk ends here (at the top of the tree, with `out.complete` set; at
/// the end of the buffer; at a failed read, in `out.read_error`). `ptr` is how pointers are
/// fetched: [`load_ptr`] for BTF-typed dentries, [`read_ptr`] for the others (a function item:
/// each is its own instance, with a direct call).
#[inline(always)]
fn step_up(
    ptr: impl Fn(*const u8, u32) -> *const u8,
    dentry: *const u8,
    buf: *mut u8,
    len: &mut u32,
    out: &mut PathWalk,
) -> Option<*const u8> {
    let parent = ptr(dentry, off!(dentry_parent));
    // A file with no directory (a memfd, `memfd:NAME`) is its own parent: its name is its whole
    // path, as the kernel's d_path shows it.
    if parent.is_null() || (parent == dentry && *len > 0) {
        out.complete = true;
        return None;
    }
    if *len as usize >= EXE_MAX {
        return None;
    }
    match append_name(buf, *len, ptr(dentry, off!(dentry_name))) {
        Ok(n) => {
            *len += n;
            Some(parent)
        }
        Err(e) => {
            out.read_error = e;
            None
        }
    }
}

/// Append one path component, NUL-terminated, at `buf + len`; its length with the NUL, or the
/// read's error (counted).
#[inline(always)]
fn append_name(buf: *mut u8, len: u32, name: *const u8) -> Result<u32, i64> {
    // Through a volatile load, so that the compiler keeps the mask: it can prove that `len` is
    // below EXE_MAX at the callers and dropped the mask, but the verifier needs it to bound
    // `dst`.
    // SAFETY: reading a local.
    let len = unsafe { core::ptr::read_volatile(&len) };
    let dst = buf.wrapping_add((len as usize) & (EXE_MAX - 1));
    // SAFETY: dst + NAME_READ_MAX stays inside the EXE_BUF-byte buffer (masked offset).
    let n = unsafe { bpf_probe_read_kernel_str(dst.cast(), NAME_READ_MAX as u32, name.cast()) };
    if n <= 0 {
        count(counter::READ_ERRORS);
        return Err(n);
    }
    Ok((n as u32) & (NAME_READ_MAX as u32 * 2 - 1))
}
