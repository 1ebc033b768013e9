//! Typed, owned events: what the sensor produces and everything after it consumes.
//!
//! This is the record/replay seam: `shrike record` writes these as JSON lines and `shrike replay`
//! reads them back into the same pipeline, so no stage after the sensor needs a kernel.

use std::{borrow::Cow, fmt, net::SocketAddr, sync::Arc};

use serde::{Deserialize, Serialize};

mod from_kernel;

pub use from_kernel::{classify, is_tty_rdev, kernel_rdev, split_argv, ARGV_MAX_ARGS, ARGV_MAX_BYTES};

/// Clock ticks per second of `/proc/<pid>/stat` start times (USER_HZ; 100 on every Linux ABI).
pub const USER_HZ: u64 = 100;

/// Stable identity of a process: its pid and its start time. A reused pid never has the same
/// start time, so two processes are never joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcessKey {
    /// Process id (tgid).
    pub pid: u32,
    /// Start time in clock ticks since boot, as in `/proc/<pid>/stat` field 22.
    pub start: u64,
}

impl ProcessKey {
    /// Identity from a pid and the kernel's `start_boottime` in nanoseconds.
    pub fn from_boot_ns(pid: u32, start_boot_ns: u64) -> Self {
        Self { pid, start: start_boot_ns / (1_000_000_000 / USER_HZ) }
    }
}

impl fmt::Display for ProcessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.pid, self.start)
    }
}

/// Bytes from the kernel that are usually, but not always, UTF-8 (paths, argv, comm).
/// Serialized as a JSON string when valid UTF-8, else as an array of byte values, so a
/// recording round-trips exactly. Shared, not copied, when cloned: a forked child and the
/// process table hold the exec's own bytes.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct RawStr(pub Arc<[u8]>);

/// A command line: made once when the exec is decoded, then shared by the event, the process
/// table entry and every child forked before the next exec.
pub type Argv = Arc<[RawStr]>;

impl RawStr {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// Text, with invalid UTF-8 replaced.
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The last `/`-separated component.
    pub fn basename(&self) -> &[u8] {
        match self.0.iter().rposition(|&b| b == b'/') {
            Some(i) => &self.0[i + 1..],
            None => &self.0,
        }
    }
}

impl From<&str> for RawStr {
    fn from(s: &str) -> Self {
        RawStr(s.as_bytes().into())
    }
}
impl From<&[u8]> for RawStr {
    fn from(s: &[u8]) -> Self {
        RawStr(s.into())
    }
}
impl From<Vec<u8>> for RawStr {
    fn from(s: Vec<u8>) -> Self {
        RawStr(s.into())
    }
}

impl fmt::Debug for RawStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_str_lossy(), f)
    }
}
impl fmt::Display for RawStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_str_lossy())
    }
}

impl Serialize for RawStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => self.0.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RawStr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Bytes(Vec<u8>),
        }
        Ok(match Repr::deserialize(d)? {
            Repr::Text(t) => RawStr(t.into_bytes().into()),
            Repr::Bytes(b) => RawStr(b.into()),
        })
    }
}

/// An address as shrike reports it: IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a
/// dual-stack socket shows for an IPv4 peer) become plain IPv4, so the same peer always looks
/// the same whichever way it was seen.
pub fn canonical_ip(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => std::net::IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// Transport of an inet socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketProto {
    /// SOCK_STREAM.
    Tcp,
    /// SOCK_DGRAM.
    Udp,
    /// SOCK_RAW.
    Raw,
    /// Unknown or other types.
    Other,
}

/// An IPv4 or IPv6 socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InetSocket {
    /// Transport.
    pub proto: SocketProto,
    /// Local address and port.
    pub local: SocketAddr,
    /// Remote address and port (unspecified when not connected).
    pub remote: SocketAddr,
    /// Socket inode.
    pub ino: u64,
}

/// What a standard fd (0, 1, 2) refers to.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stdio {
    /// Not open.
    Closed,
    /// An IPv4 or IPv6 socket (boxed: it is rare on stdio, and inline its two addresses would
    /// make every `Stdio` five times larger).
    Inet(Box<InetSocket>),
    /// A unix-domain socket.
    Unix {
        /// Socket inode.
        ino: u64,
    },
    /// A socket of another family (netlink, packet, vsock, ...).
    OtherSocket {
        /// Address family.
        family: u16,
        /// Socket inode.
        ino: u64,
    },
    /// A pipe or FIFO; both ends of one pipe share the inode.
    Pipe {
        /// Pipe inode.
        ino: u64,
        /// A named FIFO (made with mkfifo) rather than an anonymous pipe.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        named: bool,
    },
    /// A terminal (tty, pts, console).
    Tty {
        /// Device number (kernel encoding: major << 20 | minor).
        rdev: u32,
    },
    /// A regular file.
    File {
        /// File inode.
        ino: u64,
    },
    /// Anything else (character devices such as /dev/null, directories, ...).
    Other {
        /// `i_mode`.
        mode: u16,
        /// Device number, for character and block devices.
        rdev: u32,
    },
}

impl Clone for Stdio {
    /// Every fork and exec copies three of these. The derived clone copied the small variants
    /// field by field through overlapping unaligned stack moves (store-forwarding stalls: 12% of
    /// the agent's CPU in an exec storm); a bitwise copy is one 16-byte move.
    #[inline]
    fn clone(&self) -> Self {
        match self {
            Stdio::Inet(s) => Stdio::Inet(s.clone()),
            // SAFETY: every variant but `Inet` holds only `Copy` data (integers and bools), so
            // a bitwise copy is a valid, independent value and nothing is owned twice.
            _ => unsafe { std::ptr::read(self) },
        }
    }
}

/// A copy of fds 0-2, one element at a time. The array's own `clone` goes through the generic
/// iterator-to-array path, which took 6% of the agent's CPU in an exec storm (a copy per fork
/// and per exec).
#[inline]
pub fn clone_stdio(s: &[Stdio; 3]) -> [Stdio; 3] {
    [s[0].clone(), s[1].clone(), s[2].clone()]
}

impl Stdio {
    /// An IPv4 or IPv6 socket.
    pub fn inet(proto: SocketProto, local: SocketAddr, remote: SocketAddr, ino: u64) -> Stdio {
        Stdio::Inet(Box::new(InetSocket { proto, local, remote, ino }))
    }
    /// The socket, for IPv4/IPv6 sockets.
    pub fn as_inet(&self) -> Option<&InetSocket> {
        match self {
            Stdio::Inet(s) => Some(s),
            _ => None,
        }
    }
    /// True for an IPv4/IPv6 socket.
    pub fn is_inet(&self) -> bool {
        matches!(self, Stdio::Inet(_))
    }
    /// The remote address of a connected inet socket.
    pub fn remote(&self) -> Option<SocketAddr> {
        match self {
            Stdio::Inet(s) if !s.remote.ip().is_unspecified() || s.remote.port() != 0 => Some(s.remote),
            _ => None,
        }
    }
    /// True for a named FIFO.
    pub fn is_named_fifo(&self) -> bool {
        matches!(self, Stdio::Pipe { named: true, .. })
    }

    /// The pipe inode, for pipes and FIFOs.
    pub fn pipe_ino(&self) -> Option<u64> {
        match self {
            Stdio::Pipe { ino, .. } => Some(*ino),
            _ => None,
        }
    }
}

/// A process replaced its image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exec {
    /// The parent's identity.
    pub parent: ProcessKey,
    /// Real uid.
    pub uid: u32,
    /// Real gid.
    pub gid: u32,
    /// pid namespace inode (0 when unknown).
    pub pid_ns: u32,
    /// Task command name after exec.
    pub comm: RawStr,
    /// Path as passed to execve (may be relative).
    pub filename: RawStr,
    /// Full path of the executable, as seen from the process's root.
    pub exe: RawStr,
    /// The path was cut or could not be walked to the root.
    pub exe_truncated: bool,
    /// Where the executable lives (in memory, unlinked), as the kernel saw the file that ran.
    #[serde(default)]
    pub exe_storage: ExeStorage,
    /// Arguments.
    pub argv: Argv,
    /// Arguments were cut (byte or count limit).
    pub argv_truncated: bool,
    /// fds 0, 1, 2.
    pub stdio: [Stdio; 3],
}

/// Where an executed file lives, from the kernel's own reference to it at exec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExeStorage {
    /// On tmpfs or hugetlbfs: `/dev/shm`, a tmpfs mount, a memfd.
    pub in_memory_fs: bool,
    /// No name left in any directory: deleted after it was opened, or a memfd.
    pub unlinked: bool,
}

impl ExeStorage {
    /// Nothing on disk: a memfd, or a file on tmpfs or deleted.
    pub fn fileless(self) -> bool {
        self.in_memory_fs || self.unlinked
    }
}

/// A new process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fork {
    /// The parent's identity.
    pub parent: ProcessKey,
}

/// A process ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// Wait status (`exit_code` of the task).
    pub code: u32,
}

/// How a standard fd became a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectVia {
    /// dup(2).
    Dup,
    /// dup2(2).
    Dup2,
    /// dup3(2).
    Dup3,
    /// connect(2) on an fd that already was 0, 1 or 2.
    Connect,
    /// fcntl(F_DUPFD).
    Fcntl,
    /// Found when the process sent or received on it, however it got there (the sensor's way
    /// since it stopped hooking syscalls; the others appear in older recordings).
    Use,
}

impl RedirectVia {
    /// How the finding says it.
    pub fn describe(self) -> &'static str {
        match self {
            RedirectVia::Dup => "dup",
            RedirectVia::Dup2 => "dup2",
            RedirectVia::Dup3 => "dup3",
            RedirectVia::Connect => "connect on a standard fd",
            RedirectVia::Fcntl => "fcntl F_DUPFD",
            RedirectVia::Use => "seen when it read or wrote the socket",
        }
    }
}

/// Which way a TCP connection was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The process connected out.
    Outbound,
    /// The process accepted it.
    Inbound,
}

/// A process opened or accepted a TCP connection (on any fd).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connect {
    /// Which way.
    pub direction: Direction,
    /// The socket, with both addresses.
    pub socket: Stdio,
}

/// A standard fd refers to a socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StdioRedirect {
    /// How it was found.
    pub via: RedirectVia,
    /// 0, 1 or 2.
    pub fd: u8,
    /// The fd it was duplicated from (syscall hooks of older recordings); -1 when unknown.
    pub old_fd: i32,
    /// What it now is.
    pub target: Stdio,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// See [`Exec`].
    Exec(Exec),
    /// See [`Fork`].
    Fork(Fork),
    /// See [`Exit`].
    Exit(Exit),
    /// See [`StdioRedirect`].
    StdioRedirect(StdioRedirect),
    /// See [`Connect`].
    Connect(Connect),
    /// See [`CgroupCreated`].
    CgroupCreated(CgroupCreated),
}

/// A cgroup v2 was created (the event's `cgroup_id` is the new cgroup's; the process made it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupCreated {
    /// Its path from the hierarchy's root, as the kernel gave it.
    pub path: RawStr,
}

/// One event from the kernel about one process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Nanoseconds since boot (CLOCK_BOOTTIME) when the kernel made the record.
    pub ts_boot_ns: u64,
    /// The process.
    pub process: ProcessKey,
    /// Thread id that caused the event.
    pub tid: u32,
    /// cgroup v2 id of the process.
    pub cgroup_id: u64,
    /// What happened.
    #[serde(flatten)]
    pub body: EventBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdio_clones_are_equal_and_own_their_socket() {
        let all = [
            Stdio::Closed,
            Stdio::inet(SocketProto::Tcp, "10.0.0.2:40000".parse().unwrap(), "[2001:db8::9]:4444".parse().unwrap(), 7),
            Stdio::Unix { ino: u64::MAX },
            Stdio::OtherSocket { family: 16, ino: 3 },
            Stdio::Pipe { ino: 9, named: true },
            Stdio::Tty { rdev: 136 << 20 | 4 },
            Stdio::File { ino: 12 },
            Stdio::Other { mode: 0o20666, rdev: 1 << 20 | 3 },
        ];
        let copies = all.clone();
        assert_eq!(copies, all);
        let (Stdio::Inet(a), Stdio::Inet(b)) = (&all[1], &copies[1]) else { unreachable!() };
        assert!(!std::ptr::eq(&**a, &**b), "the socket is copied, not shared");
        drop(all);
        assert_eq!(copies[1].remote(), Some("[2001:db8::9]:4444".parse().unwrap()));
    }
}
