//! Layouts shared by shrike's kernel programs and its userspace agent.
//!
//! Every record the kernel writes into the ring buffer starts with an [`EventHeader`]; its `kind`
//! says which of the structs below follows. All layouts are `#[repr(C)]` with explicit padding,
//! and their sizes are asserted at compile time, so the two sides can never disagree silently.
//! Bump [`SCHEMA_VERSION`] on any layout change.
#![no_std]
#![deny(missing_docs)]

/// Version of the record layouts in this crate. The decoder refuses records of another version.
pub const SCHEMA_VERSION: u16 = 4;

/// Bytes of argv copied per exec. Longer command lines are cut and flagged.
pub const ARGV_MAX: usize = 4096;
/// Usable bytes of the executable path buffer.
pub const EXE_MAX: usize = 1024;
/// Longest single path component read at once (NAME_MAX + NUL).
pub const NAME_READ_MAX: usize = 256;
/// Size of the executable path buffer: the masked write offset plus one component always fit.
pub const EXE_BUF: usize = EXE_MAX + NAME_READ_MAX;
/// Room for an exec record's two paths (the executable's, less than `EXE_BUF` bytes, then the
/// filename, at most `NAME_READ_MAX - 1`): argv starts at most this far into the tail. A power
/// of two, so that masking the offsets bounds them for the verifier.
pub const EXEC_PATHS_MAX: usize = 2048;
/// Bytes of an exec record's variable part: both paths, then argv.
pub const EXEC_TAIL: usize = EXEC_PATHS_MAX + ARGV_MAX;
/// Path components walked from the executable up to its root before giving up.
pub const EXE_MAX_DEPTH: usize = 48;
/// Task command name length (TASK_COMM_LEN).
pub const COMM_LEN: usize = 16;

/// Record kinds. Stable, explicit and gapped so new kinds can be added without renumbering.
#[repr(u16)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// [`ExecRecord`]: a process image was replaced (sched_process_exec).
    Exec = 1,
    /// [`ForkRecord`]: a new process (not a thread) was created.
    Fork = 2,
    /// [`ExitRecord`]: a process (its thread-group leader) exited.
    Exit = 3,
    /// [`RedirectRecord`]: a process sent or received on a socket that is its fd 0, 1 or 2.
    StdioRedirect = 10,
    /// [`ConnectRecord`]: a process opened or accepted a TCP connection.
    Connect = 11,
    /// [`CgroupRecord`]: a cgroup v2 was created, with its path.
    Cgroup = 20,
}

impl EventKind {
    /// The kind for a raw discriminant, if known.
    pub fn from_u16(v: u16) -> Option<Self> {
        match v {
            1 => Some(Self::Exec),
            2 => Some(Self::Fork),
            3 => Some(Self::Exit),
            10 => Some(Self::StdioRedirect),
            11 => Some(Self::Connect),
            20 => Some(Self::Cgroup),
            _ => None,
        }
    }
}

/// Header of every record.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EventHeader {
    /// An [`EventKind`] discriminant.
    pub kind: u16,
    /// [`SCHEMA_VERSION`] of the writer.
    pub version: u16,
    /// Size in bytes of the whole record, header included.
    pub size: u32,
    /// `bpf_ktime_get_boot_ns()` when the record was made.
    pub ts_boot_ns: u64,
    /// Thread id of the task the record is about.
    pub pid: u32,
    /// Process id (thread group id) of the task the record is about.
    pub tgid: u32,
    /// Start time of the thread-group leader, ns since boot (`start_boottime`). With `tgid` this
    /// is the stable process identity: a reused pid never has the same start time.
    pub start_boot_ns: u64,
    /// cgroup v2 id (inode of the cgroup2 directory) of the task.
    pub cgroup_id: u64,
}

/// What the kernel saw at one of the standard fds (0, 1, 2). Classified in userspace.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct StdioRaw {
    /// `inode->i_mode`; 0 when the fd is not open.
    pub mode: u16,
    /// Socket address family (AF_INET, AF_INET6, AF_UNIX, ...) when `mode` is a socket.
    pub family: u16,
    /// Socket type (SOCK_STREAM, SOCK_DGRAM, ...) when known.
    pub sock_type: u16,
    /// Local port, host byte order.
    pub local_port: u16,
    /// Remote port, host byte order.
    pub remote_port: u16,
    /// [`stdio_flags`] bits.
    pub flags: u8,
    /// Explicit padding.
    pub _pad: u8,
    /// `inode->i_rdev` (character devices: tty detection).
    pub rdev: u32,
    /// `inode->i_ino` (pipes and sockets: match both ends).
    pub ino: u64,
    /// Local address: 4 bytes for IPv4, 16 for IPv6, network byte order.
    pub local_addr: [u8; 16],
    /// Remote address, like `local_addr`.
    pub remote_addr: [u8; 16],
}

/// Flag bits of [`StdioRaw::flags`].
pub mod stdio_flags {
    /// A FIFO with a name in a filesystem (mkfifo), not an anonymous pipe.
    pub const NAMED_FIFO: u8 = 1 << 0;
}

/// Flag bits of [`ExecRecord::flags`].
pub mod exec_flags {
    /// argv was longer than [`crate::ARGV_MAX`] and was cut.
    pub const ARGV_TRUNCATED: u32 = 1 << 0;
    /// The executable path did not fit or was deeper than [`crate::EXE_MAX_DEPTH`].
    pub const EXE_TRUNCATED: u32 = 1 << 1;
    /// argv could not be read from user memory.
    pub const ARGV_UNREADABLE: u32 = 1 << 2;
    /// The executable path could not be walked; `filename` is the only path.
    pub const EXE_UNREADABLE: u32 = 1 << 3;
    /// The executable lives in memory: on tmpfs or hugetlbfs (`/dev/shm`, a tmpfs mount, a
    /// memfd).
    pub const EXE_IN_MEMORY_FS: u32 = 1 << 4;
    /// The executable has no name left in any directory (deleted after it was opened, or a
    /// memfd): nothing on disk shows what ran.
    pub const EXE_UNLINKED: u32 = 1 << 5;
}

/// A process image was replaced: an [`ExecHead`] followed by its variable part, packed: the
/// executable's path components (`exe_len` bytes), the path given to execve (`filename_len`
/// bytes), then argv (`argv_len` bytes). A record is only as long as what it holds
/// (`header.size` = size of [`ExecHead`] + the three lengths; the ring buffer itself starts
/// every record on 8 bytes): a typical exec is a few hundred bytes, not the 6 KiB of room. The
/// kernel builds it in an [`ExecRecord`] scratch buffer and copies the used part out.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ExecRecord {
    /// Every fixed field.
    pub head: ExecHead,
    /// Executable path, filename and argv, back to back; `head.*_len` bytes of each used.
    pub tail: [u8; EXEC_TAIL],
}

impl ExecRecord {
    /// Bytes of the record sent for `tail_len` bytes of its variable part. Never more than
    /// `size_of::<ExecRecord>()` for `tail_len <= EXEC_TAIL`. (No padding: the verifier bounds
    /// `x + 7 & !7` by `x + 7`, which would let the copy run past the scratch record.)
    #[inline(always)]
    pub const fn sent_size(tail_len: usize) -> usize {
        core::mem::size_of::<ExecHead>() + tail_len
    }
}

/// The fixed part of an exec record.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ExecHead {
    /// Common header.
    pub header: EventHeader,
    /// tgid of `real_parent`.
    pub ppid: u32,
    /// Real uid.
    pub uid: u32,
    /// Real gid.
    pub gid: u32,
    /// [`exec_flags`] bits.
    pub flags: u32,
    /// Start time of the parent's thread-group leader (its identity with `ppid`).
    pub parent_start_boot_ns: u64,
    /// Inode number of the task's pid namespace (0 when unknown).
    pub pid_ns: u32,
    /// Bytes of the executable's path at the start of the tail: its components, leaf first,
    /// each NUL-terminated.
    pub exe_len: u16,
    /// Bytes of argv in the tail: NUL-separated strings as laid out in memory.
    pub argv_len: u16,
    /// Bytes of the path given to execve (`bprm->filename`, may be relative) in the tail,
    /// without its NUL.
    pub filename_len: u16,
    /// Explicit padding.
    pub _pad: [u8; 6],
    /// `comm` after exec.
    pub comm: [u8; COMM_LEN],
    /// fds 0, 1 and 2.
    pub stdio: [StdioRaw; 3],
}

/// A new process was created.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ForkRecord {
    /// Header; pid/tgid/start are the child's.
    pub header: EventHeader,
    /// tgid of the child's `real_parent`.
    pub ppid: u32,
    /// Explicit padding.
    pub _pad: u32,
    /// Start time of the parent's thread-group leader.
    pub parent_start_boot_ns: u64,
}

/// A process exited.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ExitRecord {
    /// Common header.
    pub header: EventHeader,
    /// `task->exit_code` (wait status form).
    pub exit_code: u32,
    /// Explicit padding.
    pub _pad: u32,
}

/// How a standard fd was found to be a socket. Discriminants 1 to 5 name the syscall hooks of
/// schema 2 (kept so that old recordings still read); the sensor now reports [`RedirectVia::Use`].
#[repr(u16)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectVia {
    /// dup(2) returned 0, 1 or 2.
    Dup = 1,
    /// dup2(2).
    Dup2 = 2,
    /// dup3(2).
    Dup3 = 3,
    /// connect(2) on a socket that already was fd 0, 1 or 2.
    Connect = 4,
    /// fcntl(F_DUPFD*) returned 0, 1 or 2.
    Fcntl = 5,
    /// The process sent or received on a TCP socket that is its fd 0, 1 or 2, however the
    /// socket got there (dup2, dup3, fcntl, connect on a standard fd, an fd passed over a unix
    /// socket, io_uring).
    Use = 6,
}

impl RedirectVia {
    /// The value for a raw discriminant, if known.
    pub fn from_u16(v: u16) -> Option<Self> {
        match v {
            1 => Some(Self::Dup),
            2 => Some(Self::Dup2),
            3 => Some(Self::Dup3),
            4 => Some(Self::Connect),
            5 => Some(Self::Fcntl),
            6 => Some(Self::Use),
            _ => None,
        }
    }
}

/// Which way a TCP connection was made ([`ConnectRecord::direction`]).
pub mod connect_direction {
    /// The process connected out (reported once the handshake completed).
    pub const OUTBOUND: u16 = 1;
    /// The process accepted it (reported when the process first sends or receives on it).
    pub const INBOUND: u16 = 2;
}

/// A process opened or accepted a TCP connection, on whatever fd.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectRecord {
    /// Header; the process is the one that connected or accepted.
    pub header: EventHeader,
    /// A [`connect_direction`] value.
    pub direction: u16,
    /// Explicit padding.
    pub _pad: [u16; 3],
    /// The socket: addresses, ports, inode.
    pub socket: StdioRaw,
}

/// A standard fd of a process now refers to a socket.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RedirectRecord {
    /// Common header.
    pub header: EventHeader,
    /// A [`RedirectVia`] discriminant.
    pub via: u16,
    /// The standard fd (0, 1, 2) that now is the socket.
    pub fd: u16,
    /// The fd it was duplicated from (dup family), or the connected fd itself.
    pub old_fd: i32,
    /// What the fd now refers to.
    pub target: StdioRaw,
}

/// Bytes of a cgroup path a [`CgroupRecord`] carries, NUL included.
pub const CGROUP_PATH_MAX: usize = 512;

/// A cgroup v2 was created (`cgroup:cgroup_mkdir`): its id and path, so the container a process
/// runs in is known from the kernel even when the process and its cgroup are gone before the
/// agent could look (the first processes of a container that exits at once).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CgroupRecord {
    /// Common header; `cgroup_id` is the new cgroup's, the process is the one that made it.
    pub header: EventHeader,
    /// Bytes of `path` used, NUL excluded.
    pub path_len: u16,
    /// Explicit padding.
    pub _pad: [u16; 3],
    /// The path from the hierarchy's root (`/kubepods/burstable/pod<uid>/<container id>`).
    pub path: [u8; CGROUP_PATH_MAX],
}

/// What the reader is doing, in the single entry of the `READER_STATE` array: the kernel wakes it
/// per record only when it would otherwise look too late.
pub mod reader_state {
    /// Looking on its normal timer: execs in containers (and records that raise a finding on
    /// their own) wake it at once; the rest wait for the timer, or a burst wakes it.
    pub const POLLING: u32 = 0;
    /// Asleep without a timer: the next record wakes it (and sets [`POLLING`]).
    pub const ASLEEP: u32 = 1;
    /// Looking on its short timer, because execs in containers are coming: they wait for it
    /// instead of waking it each (one wakeup per exec of a container's exec storm cost the
    /// agent several times the exec's own handling).
    pub const POLLING_FAST: u32 = 2;
}

/// Inode number of the initial (host) pid namespace (`PROC_PID_INIT_INO`).
pub const HOST_PID_NS_INUM: u32 = 0xEFFF_FFFC;

/// Whether an exec in pid namespace `pid_ns` is one of a container's (another pid namespace
/// than the host's or, with node scoping, the node's `node`; 0 = unknown or off): the agent may
/// want to look at such a short-lived process while it still runs.
pub const fn is_container_pid_ns(pid_ns: u32, node: u32) -> bool {
    pid_ns != 0 && pid_ns != HOST_PID_NS_INUM && pid_ns != node
}

/// Index of each counter in the `COUNTERS` per-CPU array.
pub mod counter {
    /// Records submitted to the ring buffer.
    pub const SUBMITTED: u32 = 0;
    /// Records lost because the ring buffer was full.
    pub const RINGBUF_FULL: u32 = 1;
    /// Kernel memory reads that failed (fields left zero).
    pub const READ_ERRORS: u32 = 2;
    /// Records about the agent itself, dropped in the kernel.
    pub const SELF_DROPPED: u32 = 3;
    /// Records about tasks outside the agent's node (another pid namespace than the node's and
    /// none below it), dropped in the kernel. Only counted when node scoping is on.
    pub const OTHER_NODE_DROPPED: u32 = 4;
    /// Number of counters.
    pub const COUNT: u32 = 5;
}

/// Kernel struct member offsets in bytes, resolved from BTF at start and handed to the programs
/// as one global. A value of [`OFFSET_UNKNOWN`] means the member does not exist on this kernel;
/// the programs then skip what needs it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelOffsets {
    /// `task_struct.pid`.
    pub task_pid: u32,
    /// `task_struct.tgid`.
    pub task_tgid: u32,
    /// `task_struct.real_parent`.
    pub task_real_parent: u32,
    /// `task_struct.group_leader`.
    pub task_group_leader: u32,
    /// `task_struct.start_boottime`.
    pub task_start_boottime: u32,
    /// `task_struct.exit_code`.
    pub task_exit_code: u32,
    /// `task_struct.files`.
    pub task_files: u32,
    /// `task_struct.fs`.
    pub task_fs: u32,
    /// `task_struct.mm`.
    pub task_mm: u32,
    /// `task_struct.nsproxy`.
    pub task_nsproxy: u32,
    /// `nsproxy.pid_ns_for_children`.
    pub nsproxy_pid_ns: u32,
    /// `pid_namespace.ns` + `ns_common.inum`.
    pub pid_ns_inum: u32,
    /// `mm_struct.arg_start`.
    pub mm_arg_start: u32,
    /// `mm_struct.arg_end`.
    pub mm_arg_end: u32,
    /// `files_struct.fdt`.
    pub files_fdt: u32,
    /// `fdtable.max_fds`.
    pub fdt_max_fds: u32,
    /// `fdtable.fd`.
    pub fdt_fd: u32,
    /// `file.f_path`.
    pub file_path: u32,
    /// `file.f_inode`.
    pub file_inode: u32,
    /// `file.private_data`.
    pub file_private_data: u32,
    /// `inode.i_mode`.
    pub inode_mode: u32,
    /// `inode.i_ino`.
    pub inode_ino: u32,
    /// `inode.i_rdev`.
    pub inode_rdev: u32,
    /// `path.mnt`.
    pub path_mnt: u32,
    /// `path.dentry`.
    pub path_dentry: u32,
    /// `fs_struct.root`.
    pub fs_root: u32,
    /// `dentry.d_parent`.
    pub dentry_parent: u32,
    /// `dentry.d_name` + `qstr.name`.
    pub dentry_name: u32,
    /// `vfsmount.mnt_root`.
    pub vfsmount_root: u32,
    /// `mount.mnt` (the embedded vfsmount).
    pub mount_mnt: u32,
    /// `mount.mnt_parent`.
    pub mount_parent: u32,
    /// `mount.mnt_mountpoint`.
    pub mount_mountpoint: u32,
    /// `linux_binprm.file`.
    pub bprm_file: u32,
    /// `linux_binprm.filename`.
    pub bprm_filename: u32,
    /// `socket.sk`.
    pub socket_sk: u32,
    /// `sock_common.skc_family`.
    pub sk_family: u32,
    /// `sock_common.skc_daddr`.
    pub sk_daddr: u32,
    /// `sock_common.skc_rcv_saddr`.
    pub sk_rcv_saddr: u32,
    /// `sock_common.skc_dport`.
    pub sk_dport: u32,
    /// `sock_common.skc_num`.
    pub sk_num: u32,
    /// `sock_common.skc_v6_daddr`.
    pub sk_v6_daddr: u32,
    /// `sock_common.skc_v6_rcv_saddr`.
    pub sk_v6_rcv_saddr: u32,
    /// `sock.sk_type`.
    pub sk_type: u32,
    /// `inode.i_sb`.
    pub inode_sb: u32,
    /// `super_block.s_magic`.
    pub sb_magic: u32,
    /// `task_struct.thread_pid` (the task's `struct pid *`).
    pub task_thread_pid: u32,
    /// `pid.level`: depth of the pid namespace the pid was allocated in (0 = initial).
    pub pid_level: u32,
    /// `pid.numbers`: one `struct upid` per level, 0 up to `level`.
    pub pid_numbers: u32,
    /// `sizeof(struct upid)`: the stride of `pid.numbers`.
    pub upid_size: u32,
    /// `upid.nr`: the pid as seen in that level's namespace.
    pub upid_nr: u32,
    /// `upid.ns`: that level's `struct pid_namespace *`.
    pub upid_ns: u32,
    /// `sock.sk_socket`.
    pub sk_socket: u32,
    /// `socket.file`.
    pub socket_file: u32,
    /// `inode.i_nlink` (a member of an anonymous union).
    pub inode_nlink: u32,
    /// `cgroup.kn`: the cgroup's kernfs node.
    pub cgroup_kn: u32,
    /// `kernfs_node.id`: the cgroup id.
    pub kernfs_id: u32,
    /// `cgroup.root`.
    pub cgroup_root: u32,
    /// `cgroup_root.hierarchy_id` (0: the v2 hierarchy).
    pub root_hierarchy_id: u32,
}

/// Marker for an offset the running kernel does not have.
pub const OFFSET_UNKNOWN: u32 = u32::MAX;

impl KernelOffsets {
    /// True when every offset node scoping needs is known (see [`ProbeConfig::node_pid_ns`]).
    pub const fn has_pid_numbers(&self) -> bool {
        self.task_thread_pid != OFFSET_UNKNOWN
            && self.pid_level != OFFSET_UNKNOWN
            && self.pid_numbers != OFFSET_UNKNOWN
            && self.upid_size != OFFSET_UNKNOWN
            && self.upid_size != 0
            && self.upid_nr != OFFSET_UNKNOWN
            && self.upid_ns != OFFSET_UNKNOWN
            && self.pid_ns_inum != OFFSET_UNKNOWN
            && self.task_group_leader != OFFSET_UNKNOWN
            && self.task_real_parent != OFFSET_UNKNOWN
    }

    /// All offsets unknown: the programs read nothing through struct members.
    pub const UNKNOWN: KernelOffsets = KernelOffsets {
        task_pid: OFFSET_UNKNOWN,
        task_tgid: OFFSET_UNKNOWN,
        task_real_parent: OFFSET_UNKNOWN,
        task_group_leader: OFFSET_UNKNOWN,
        task_start_boottime: OFFSET_UNKNOWN,
        task_exit_code: OFFSET_UNKNOWN,
        task_files: OFFSET_UNKNOWN,
        task_fs: OFFSET_UNKNOWN,
        task_mm: OFFSET_UNKNOWN,
        task_nsproxy: OFFSET_UNKNOWN,
        nsproxy_pid_ns: OFFSET_UNKNOWN,
        pid_ns_inum: OFFSET_UNKNOWN,
        mm_arg_start: OFFSET_UNKNOWN,
        mm_arg_end: OFFSET_UNKNOWN,
        files_fdt: OFFSET_UNKNOWN,
        fdt_max_fds: OFFSET_UNKNOWN,
        fdt_fd: OFFSET_UNKNOWN,
        file_path: OFFSET_UNKNOWN,
        file_inode: OFFSET_UNKNOWN,
        file_private_data: OFFSET_UNKNOWN,
        inode_mode: OFFSET_UNKNOWN,
        inode_ino: OFFSET_UNKNOWN,
        inode_rdev: OFFSET_UNKNOWN,
        path_mnt: OFFSET_UNKNOWN,
        path_dentry: OFFSET_UNKNOWN,
        fs_root: OFFSET_UNKNOWN,
        dentry_parent: OFFSET_UNKNOWN,
        dentry_name: OFFSET_UNKNOWN,
        vfsmount_root: OFFSET_UNKNOWN,
        mount_mnt: OFFSET_UNKNOWN,
        mount_parent: OFFSET_UNKNOWN,
        mount_mountpoint: OFFSET_UNKNOWN,
        bprm_file: OFFSET_UNKNOWN,
        bprm_filename: OFFSET_UNKNOWN,
        socket_sk: OFFSET_UNKNOWN,
        sk_family: OFFSET_UNKNOWN,
        sk_daddr: OFFSET_UNKNOWN,
        sk_rcv_saddr: OFFSET_UNKNOWN,
        sk_dport: OFFSET_UNKNOWN,
        sk_num: OFFSET_UNKNOWN,
        sk_v6_daddr: OFFSET_UNKNOWN,
        sk_v6_rcv_saddr: OFFSET_UNKNOWN,
        sk_type: OFFSET_UNKNOWN,
        inode_sb: OFFSET_UNKNOWN,
        sb_magic: OFFSET_UNKNOWN,
        task_thread_pid: OFFSET_UNKNOWN,
        pid_level: OFFSET_UNKNOWN,
        pid_numbers: OFFSET_UNKNOWN,
        upid_size: OFFSET_UNKNOWN,
        upid_nr: OFFSET_UNKNOWN,
        upid_ns: OFFSET_UNKNOWN,
        sk_socket: OFFSET_UNKNOWN,
        socket_file: OFFSET_UNKNOWN,
        inode_nlink: OFFSET_UNKNOWN,
        cgroup_kn: OFFSET_UNKNOWN,
        kernfs_id: OFFSET_UNKNOWN,
        cgroup_root: OFFSET_UNKNOWN,
        root_hierarchy_id: OFFSET_UNKNOWN,
    };
}

/// Settings handed to the programs as one global before load.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeConfig {
    /// tgid of the agent: its own records are dropped in the kernel. In the node's numbering
    /// when `node_pid_ns` is set.
    pub agent_tgid: u32,
    /// Node scoping: 0 (off) when the agent runs in the initial pid namespace, where every task
    /// of the kernel is on its node. Otherwise the inode of the agent's pid namespace (e.g. a
    /// kind node's): records are made only for tasks with a pid in that namespace, and every
    /// pid they carry is the pid in that namespace (0 for a parent outside it).
    pub node_pid_ns: u32,
    /// Struct member offsets of the running kernel.
    pub offsets: KernelOffsets,
}

impl ProbeConfig {
    /// The default before userspace fills it in.
    pub const DEFAULT: ProbeConfig =
        ProbeConfig { agent_tgid: 0, node_pid_ns: 0, offsets: KernelOffsets::UNKNOWN };
}

#[cfg(feature = "user")]
mod user {
    // SAFETY: all of these are #[repr(C)] plain data with explicit padding and no pointers.
    unsafe impl aya::Pod for super::ProbeConfig {}
    unsafe impl aya::Pod for super::KernelOffsets {}
}

// Layout guards: both sides compile these same definitions; the sizes pin the padding.
const _: () = assert!(core::mem::size_of::<EventHeader>() == 40);
const _: () = assert!(core::mem::size_of::<StdioRaw>() == 56);
const _: () = assert!(
    core::mem::size_of::<ExecHead>() == 40 + 4 * 4 + 8 + 4 + 2 * 3 + 6 + COMM_LEN + 3 * 56
);
const _: () = assert!(core::mem::size_of::<ExecHead>() % 8 == 0);
const _: () = assert!(core::mem::size_of::<ExecRecord>() == core::mem::size_of::<ExecHead>() + EXEC_TAIL);
const _: () = assert!(ExecRecord::sent_size(EXEC_TAIL) == core::mem::size_of::<ExecRecord>());
const _: () = assert!(EXEC_PATHS_MAX.is_power_of_two() && EXE_BUF + NAME_READ_MAX <= EXEC_PATHS_MAX);
const _: () = assert!(core::mem::size_of::<ForkRecord>() == 56);
const _: () = assert!(core::mem::size_of::<ExitRecord>() == 48);
const _: () = assert!(core::mem::size_of::<RedirectRecord>() == 40 + 8 + 56);
const _: () = assert!(core::mem::size_of::<ConnectRecord>() == 40 + 8 + 56);
const _: () = assert!(core::mem::size_of::<CgroupRecord>() == 40 + 8 + CGROUP_PATH_MAX);
const _: () = assert!(core::mem::size_of::<KernelOffsets>() == 58 * 4);
const _: () = assert!(core::mem::size_of::<ProbeConfig>() == 8 + 58 * 4);
