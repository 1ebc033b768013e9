//! Seeding the process table from `/proc` at start, so processes that predate the sensor have
//! identity, ancestry, image, credentials, cgroup and stdio like the ones seen through events.
//!
//! Everything here is best effort per process: a process that vanishes while it is read is
//! skipped, and fields that cannot be read (kernel threads have no `exe`) stay empty.

use std::{
    collections::{HashMap, HashSet},
    fs,
    io::{self, Read},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    os::unix::{
        ffi::{OsStrExt, OsStringExt},
        fs::MetadataExt,
    },
    path::{Component, Path, PathBuf},
};

use super::table::Process;
use crate::event::{classify, kernel_rdev, split_argv, ProcessKey, RawStr, SocketProto, Stdio, ARGV_MAX_BYTES};


/// Seeding failed as a whole (single processes that cannot be read are skipped instead).
#[derive(Debug, thiserror::Error)]
pub enum ProcfsError {
    /// The proc root could not be listed.
    #[error("cannot list {}: {source}", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// Read every process under `proc_root` (normally `/proc`).
pub fn seed(proc_root: &Path) -> Result<Vec<Process>, ProcfsError> {
    let dir = fs::read_dir(proc_root)
        .map_err(|source| ProcfsError::ReadDir { path: proc_root.to_path_buf(), source })?;
    let mut seeder = Seeder {
        proc_root,
        cgroup_mount: cgroup2_mount(proc_root),
        cgroup_ids: HashMap::new(),
        nets: HashMap::new(),
    };
    let mut found: Vec<(Process, u32)> = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if let Some(p) = seeder.read_process(pid) {
            found.push(p);
        }
    }
    let starts: HashMap<u32, u64> = found.iter().map(|(p, _)| (p.key.pid, p.key.start)).collect();
    Ok(found
        .into_iter()
        .map(|(mut p, ppid)| {
            p.parent = match ppid {
                0 => None,
                _ => starts
                    .get(&ppid)
                    .copied()
                    .or_else(|| read_stat(&proc_root.join(ppid.to_string())).map(|s| s.start))
                    .map(|start| ProcessKey { pid: ppid, start }),
            };
            p
        })
        .collect())
}

/// The fields of `/proc/<pid>/stat` that seeding uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Field 1.
    pub pid: u32,
    /// Field 2, without the parentheses.
    pub comm: RawStr,
    /// Field 3 (`R`, `S`, `Z`, ...).
    pub state: u8,
    /// Field 4.
    pub ppid: u32,
    /// Field 22: start time in clock ticks since boot.
    pub start: u64,
    /// Field 52 (kernels since 3.5).
    pub exit_code: Option<u32>,
}

/// Parse `/proc/<pid>/stat`. `comm` may contain spaces and parentheses, so it ends at the last
/// `)` of the line.
pub fn parse_stat(buf: &[u8]) -> Option<Stat> {
    let open = buf.iter().position(|&b| b == b'(')?;
    let close = buf.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let pid = std::str::from_utf8(&buf[..open]).ok()?.trim().parse().ok()?;
    let rest = std::str::from_utf8(&buf[close + 1..]).ok()?;
    let mut f = rest.split_ascii_whitespace();
    let state = f.next()?.bytes().next()?;
    let ppid = f.next()?.parse().ok()?;
    let start = f.nth(17)?.parse().ok()?; // fields 5..=22
    let exit_code = f.nth(29).and_then(|v| v.parse().ok()); // fields 23..=52
    Some(Stat { pid, comm: RawStr::from(&buf[open + 1..close]), state, ppid, start, exit_code })
}

/// Where the cgroup2 hierarchy is mounted, from `<proc_root>/self/mountinfo`.
pub fn cgroup2_mount(proc_root: &Path) -> Option<PathBuf> {
    parse_mountinfo_cgroup2(&fs::read(proc_root.join("self/mountinfo")).ok()?)
}

/// The cgroup2 mount point in a mountinfo text: the first one mounting the hierarchy's root,
/// else the first one.
pub fn parse_mountinfo_cgroup2(content: &[u8]) -> Option<PathBuf> {
    let mut fallback = None;
    for line in content.split(|&b| b == b'\n') {
        let mut f = line.split(|&b| b == b' ');
        let (Some(root), Some(mount_point)) = (f.nth(3), f.next()) else { continue };
        if f.find(|&x| x == b"-") != Some(b"-".as_slice()) || f.next() != Some(b"cgroup2") {
            continue;
        }
        let path = PathBuf::from(std::ffi::OsString::from_vec(unescape_octal(mount_point)));
        if root == b"/" {
            return Some(path);
        }
        fallback.get_or_insert(path);
    }
    fallback
}

/// Decode mountinfo's `\ooo` escapes (space, tab, newline, backslash).
fn unescape_octal(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let oct = s
            .get(i + 1..i + 4)
            .filter(|d| s[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match oct {
            Some(d) => {
                out.push(d.iter().fold(0u8, |acc, c| acc.wrapping_mul(8).wrapping_add(c - b'0')));
                i += 4;
            }
            None => {
                out.push(s[i]);
                i += 1;
            }
        }
    }
    out
}

/// The cgroup id (inode) of the cgroup2 directory `path` (as in `/proc/<pid>/cgroup`, absolute
/// within the hierarchy) under `mount`. `None` when it cannot be stat'ed or climbs out of the
/// mount (`..`, as seen from inside a cgroup namespace).
pub fn cgroup_id_of_path(mount: &Path, path: &Path) -> Option<u64> {
    let mut full = mount.to_path_buf();
    for c in path.components() {
        match c {
            Component::Normal(part) => full.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    fs::metadata(full).ok().map(|m| m.ino())
}

/// Parse one line of `/proc/net/{tcp,tcp6,udp,udp6,raw,raw6}`: `(local, remote, inode)`.
/// Addresses are the kernel's native-endian 32-bit words in hex, ports are hex.
pub fn parse_inet_line(line: &str) -> Option<(SocketAddr, SocketAddr, u64)> {
    let mut f = line.split_ascii_whitespace();
    f.next()?; // "sl:"
    let local = parse_hex_addr(f.next()?)?;
    let remote = parse_hex_addr(f.next()?)?;
    let ino = f.nth(6)?.parse().ok()?; // st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
    Some((local, remote, ino))
}

fn parse_hex_addr(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| {
        addr.get(i * 8..i * 8 + 8)
            .and_then(|w| u32::from_str_radix(w, 16).ok())
            .map(u32::to_ne_bytes)
    };
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    Some(SocketAddr::new(crate::event::canonical_ip(ip), port))
}

/// Parse one line of `/proc/net/unix`: the socket inode.
pub fn parse_unix_line(line: &str) -> Option<u64> {
    let mut f = line.split_ascii_whitespace();
    if !f.next()?.ends_with(':') {
        return None; // header
    }
    f.nth(5)?.parse().ok() // RefCount Protocol Flags Type St Inode
}

/// Sockets of one network namespace, by inode.
#[derive(Default)]
struct NetTables {
    inet: HashMap<u64, (SocketProto, SocketAddr, SocketAddr)>,
    unix: HashSet<u64>,
}

impl NetTables {
    fn load(pid_dir: &Path) -> Self {
        let mut t = NetTables::default();
        let net = pid_dir.join("net");
        let files = [
            ("tcp", SocketProto::Tcp),
            ("tcp6", SocketProto::Tcp),
            ("udp", SocketProto::Udp),
            ("udp6", SocketProto::Udp),
            ("raw", SocketProto::Raw),
            ("raw6", SocketProto::Raw),
        ];
        for (name, proto) in files {
            let Ok(text) = fs::read_to_string(net.join(name)) else { continue };
            for (local, remote, ino) in text.lines().skip(1).filter_map(parse_inet_line) {
                if ino != 0 {
                    t.inet.entry(ino).or_insert((proto, local, remote));
                }
            }
        }
        if let Ok(text) = fs::read_to_string(net.join("unix")) {
            t.unix.extend(text.lines().filter_map(parse_unix_line));
        }
        t
    }

    fn stdio(&self, ino: u64) -> Stdio {
        if let Some(&(proto, local, remote)) = self.inet.get(&ino) {
            Stdio::inet(proto, local, remote, ino)
        } else if self.unix.contains(&ino) {
            Stdio::Unix { ino }
        } else {
            Stdio::OtherSocket { family: 0, ino }
        }
    }
}

/// State shared by the processes of one seed run.
struct Seeder<'a> {
    proc_root: &'a Path,
    cgroup_mount: Option<PathBuf>,
    /// cgroup path → cgroup id (many processes share a cgroup).
    cgroup_ids: HashMap<Vec<u8>, Option<u64>>,
    /// netns inode → its sockets, parsed at most once.
    nets: HashMap<u64, NetTables>,
}

impl Seeder<'_> {
    /// One process and its ppid, or `None` when it vanished.
    fn read_process(&mut self, pid: u32) -> Option<(Process, u32)> {
        let dir = self.proc_root.join(pid.to_string());
        let stat = read_stat(&dir)?;
        let (argv, argv_truncated) = read_bounded(&dir.join("cmdline"))
            .map(|buf| split_argv(&buf, false))
            .unwrap_or_default();
        let exe = fs::read_link(dir.join("exe"))
            .map(|p| {
                let mut b = p.into_os_string().into_vec();
                if b.ends_with(b" (deleted)") {
                    b.truncate(b.len() - b" (deleted)".len());
                }
                RawStr::from(b)
            })
            .unwrap_or_default();
        let cgroup_id = self.cgroup_id(&dir).unwrap_or(0);
        let stdio = [self.stdio(&dir, 0), self.stdio(&dir, 1), self.stdio(&dir, 2)];
        let pid_ns = ns_inode(&dir.join("ns/pid")).and_then(|i| u32::try_from(i).ok()).unwrap_or(0);
        // status last: if the process is gone by now, it is skipped.
        let status = fs::read(dir.join("status")).ok()?;
        let uid = status_field(&status, b"Uid:").unwrap_or(0);
        let gid = status_field(&status, b"Gid:").unwrap_or(0);
        // A zombie leader whose other threads still run is alive; a real zombie has exited.
        let zombie = matches!(stat.state, b'Z' | b'X')
            && status_field(&status, b"Threads:").unwrap_or(1) <= 1;
        let key = ProcessKey { pid, start: stat.start };
        let p = Process {
            exe,
            argv,
            argv_truncated,
            comm: stat.comm,
            cgroup_id,
            uid,
            gid,
            pid_ns,
            stdio,
            seeded: true,
            exited: zombie.then(|| stat.exit_code.unwrap_or(0)),
            ..Process::new(key)
        };
        Some((p, stat.ppid))
    }

    fn cgroup_id(&mut self, dir: &Path) -> Option<u64> {
        let mount = self.cgroup_mount.as_deref()?;
        let text = fs::read(dir.join("cgroup")).ok()?;
        let path = text.split(|&b| b == b'\n').find_map(|l| l.strip_prefix(b"0::"))?;
        if let Some(&id) = self.cgroup_ids.get(path) {
            return id;
        }
        let id = cgroup_id_of_path(mount, Path::new(std::ffi::OsStr::from_bytes(path)));
        self.cgroup_ids.insert(path.to_vec(), id);
        id
    }

    fn stdio(&mut self, dir: &Path, fd: u8) -> Stdio {
        let md = match fs::metadata(dir.join("fd").join(fd.to_string())) {
            Ok(md) => md,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Stdio::Closed,
            Err(_) => return Stdio::Other { mode: 0, rdev: 0 },
        };
        if let Some(s) = classify(md.mode() as u16, md.ino(), kernel_rdev(md.rdev())) {
            // An anonymous pipe links as `pipe:[ino]`; a FIFO links to its path.
            if let Stdio::Pipe { ino, .. } = s {
                let named = fs::read_link(dir.join("fd").join(fd.to_string()))
                    .map(|l| !l.as_os_str().as_bytes().starts_with(b"pipe:"))
                    .unwrap_or(false);
                return Stdio::Pipe { ino, named };
            }
            return s;
        }
        match ns_inode(&dir.join("ns/net")) {
            Some(ns) => self.nets.entry(ns).or_insert_with(|| NetTables::load(dir)).stdio(md.ino()),
            None => NetTables::load(dir).stdio(md.ino()),
        }
    }
}

fn read_stat(dir: &Path) -> Option<Stat> {
    parse_stat(&fs::read(dir.join("stat")).ok()?)
}

/// Up to one byte more than [`ARGV_MAX_BYTES`], so cutting is detected without reading it all.
fn read_bounded(path: &Path) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(ARGV_MAX_BYTES + 1);
    fs::File::open(path).ok()?.take(ARGV_MAX_BYTES as u64 + 1).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// The first number after `name` in a `/proc/<pid>/status` text (the real id for Uid/Gid).
fn status_field(status: &[u8], name: &[u8]) -> Option<u32> {
    let line = status.split(|&b| b == b'\n').find_map(|l| l.strip_prefix(name))?;
    std::str::from_utf8(line).ok()?.split_ascii_whitespace().next()?.parse().ok()
}

/// The inode in a namespace link such as `pid:[4026531836]`.
pub fn ns_inode(link: &Path) -> Option<u64> {
    let target = fs::read_link(link).ok()?.into_os_string().into_vec();
    let open = target.iter().position(|&b| b == b'[')?;
    let close = target.iter().rposition(|&b| b == b']')?;
    std::str::from_utf8(target.get(open + 1..close)?).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        net::{TcpListener, TcpStream},
        os::fd::OwnedFd,
        process::{Command, Stdio as PStdio},
        time::{Duration, Instant},
    };

    #[test]
    fn stat_with_odd_comm() {
        let line = b"4242 (a) b (c) S 17 4242 4242 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 987654 \
            3133440 359 18446744073709551615 94016184983552 94016185003433 140732762576224 0 0 0 \
            0 0 0 0 0 0 17 1 0 0 0 0 0 94016185019440 94016185021056 94017225924608 \
            140732762581729 140732762581749 140732762581749 140732762583019 256\n";
        let s = parse_stat(line).unwrap();
        assert_eq!((s.pid, s.comm.as_bytes(), s.state, s.ppid), (4242, &b"a) b (c"[..], b'S', 17));
        assert_eq!((s.start, s.exit_code), (987654, Some(256)));
        // Old kernels without the trailing fields.
        let s = parse_stat(b"1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 1").unwrap();
        assert_eq!((s.start, s.exit_code), (5, None));
        assert!(parse_stat(b"1 init S 0").is_none());
        assert!(parse_stat(b"1 (x) S 0 1").is_none());
    }

    #[test]
    fn net_lines() {
        let tcp = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0";
        let (l, r, ino) = parse_inet_line(tcp).unwrap();
        assert_eq!(
            (l, r, ino),
            ("127.0.0.1:8080".parse().unwrap(), "0.0.0.0:0".parse().unwrap(), 12345)
        );
        let tcp = "   3: 0A00000A:A1B2 0901000A:115C 01 00000000:00000000 02:000A7D2B 00000000  1000        0 777 2 0000000000000000 20 4 30 10 -1";
        let (l, r, ino) = parse_inet_line(tcp).unwrap();
        assert_eq!(
            (l, r, ino),
            ("10.0.0.10:41394".parse().unwrap(), "10.0.1.9:4444".parse().unwrap(), 777)
        );
        let tcp6 = "   1: 00000000000000000000000001000000:0016 0000000000000000FFFF00000100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 20 4 29 10 -1";
        let (l, r, ino) = parse_inet_line(tcp6).unwrap();
        assert_eq!(l, "[::1]:22".parse().unwrap());
        assert_eq!((r, ino), ("127.0.0.1:40000".parse().unwrap(), 31337));
        let v6 = "   0: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0";
        assert_eq!(parse_inet_line(v6).unwrap().0, "[2001:db8::1]:443".parse().unwrap());
        assert!(parse_inet_line("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode").is_none());
        assert_eq!(
            parse_unix_line(
                "0000000000000000: 00000002 00000000 00010000 0001 01 22334 /run/x.sock"
            ),
            Some(22334)
        );
        assert_eq!(
            parse_unix_line("0000000000000000: 00000003 00000000 00000000 0001 03 4455"),
            Some(4455)
        );
        assert_eq!(
            parse_unix_line("Num       RefCount Protocol Flags    Type St Inode Path"),
            None
        );
    }

    #[test]
    fn mountinfo_cgroup2() {
        let info = b"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n\
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 master:2 - cgroup2 cgroup2 rw\n";
        assert_eq!(parse_mountinfo_cgroup2(info), Some(PathBuf::from("/sys/fs/cgroup/unified")));
        let ns = b"50 40 0:30 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup rw\n\
            51 40 0:30 / /host\\040cg rw - cgroup2 cgroup rw\n";
        assert_eq!(parse_mountinfo_cgroup2(ns), Some(PathBuf::from("/host cg")));
        assert_eq!(
            parse_mountinfo_cgroup2(b"50 40 0:30 /a /cg ro - cgroup2 c rw"),
            Some("/cg".into())
        );
        assert_eq!(parse_mountinfo_cgroup2(&info[..100]), None);
        assert_eq!(cgroup_id_of_path(Path::new("/"), Path::new("/../etc")), None);
    }

    #[test]
    fn live_seed() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        let client = TcpStream::connect(server).unwrap();
        let client_local = client.local_addr().unwrap();
        let mut child = Command::new("sleep")
            .arg("5")
            .stdin(PStdio::from(OwnedFd::from(client)))
            .stdout(PStdio::piped())
            .stderr(PStdio::null())
            .spawn()
            .unwrap();
        let child_pid = child.id();

        let deadline = Instant::now() + Duration::from_secs(10);
        let (procs, kid) = loop {
            let procs = seed(Path::new("/proc")).unwrap();
            // The child is visible between fork and execve (its stdin already the socket,
            // its argv still the parent's or empty); wait for the exec to have completed.
            let execed = |p: &&Process| p.comm.as_bytes() == b"sleep" && p.argv.len() == 2;
            if let Some(k) = procs
                .iter()
                .filter(execed)
                .find(|p| p.key.pid == child_pid && p.stdio[0].is_inet())
            {
                let k = k.clone();
                break (procs, k);
            }
            assert!(Instant::now() < deadline, "child {child_pid} not seen with a socket stdin");
            std::thread::yield_now();
        };
        let me = procs.iter().find(|p| p.key.pid == std::process::id()).unwrap();
        let exe = std::env::current_exe().unwrap().into_os_string().into_vec();
        assert_eq!(me.exe.as_bytes(), exe.as_slice());
        let args: Vec<RawStr> =
            std::env::args_os().take(crate::event::ARGV_MAX_ARGS).map(|a| RawStr::from(a.into_vec())).collect();
        assert_eq!(*me.argv, *args);
        assert!(me.seeded && !me.exec_seen && me.exited.is_none());
        assert!(me.cgroup_id != 0 && me.pid_ns != 0);
        let parent = me.parent.unwrap();
        assert!(procs.iter().any(|p| p.key == parent));
        let uid = fs::metadata("/proc/self").unwrap().uid();
        assert_eq!(me.uid, uid);

        assert_eq!(kid.parent, Some(me.key));
        assert_eq!(*kid.argv, [RawStr::from("sleep"), RawStr::from("5")]);
        assert_eq!(kid.comm.as_bytes(), b"sleep");
        assert_eq!(kid.cgroup_id, me.cgroup_id);
        match &kid.stdio[0] {
            Stdio::Inet(s) => {
                assert_eq!((s.proto, s.local, s.remote), (SocketProto::Tcp, client_local, server));
                assert!(s.ino != 0);
            }
            other => panic!("stdin is {other:?}"),
        }
        assert!(matches!(kid.stdio[1], Stdio::Pipe { ino, .. } if ino != 0), "{:?}", kid.stdio[1]);
        assert_eq!(kid.stdio[2], Stdio::Other { mode: 0o020_666, rdev: (1 << 20) | 3 });

        child.kill().unwrap();
        child.wait().unwrap();
    }
}
