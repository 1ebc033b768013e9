//! Reading files as a process sees them, inside its own root (a container's filesystem), such
//! that nothing the process controls can make the agent open a file outside that root: paths
//! are resolved by the kernel with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` relative
//! to `/proc/<pid>/root`, so `..`, absolute symlinks and `/proc/self/...` tricks all stay inside.
//!
//! Nothing a container controls can block the agent either: a path is first opened `O_PATH`
//! (which opens nothing: a FIFO is not waited on, a device not opened), then must be a regular
//! file on a file system whose files are data — not procfs (`/proc/kmsg` blocks, and would be the
//! host's), sysfs, debugfs, tracefs, securityfs, cgroupfs, bpffs, nsfs, nor FUSE (whose reads a
//! container's own daemon answers, or never does) — and only then is that same inode reopened
//! for reading (through `/proc/self/fd`, not by walking the path again), non-blocking.

use std::{
    ffi::CString,
    fs::File,
    io,
    os::fd::{FromRawFd, OwnedFd},
};

fn openat2(dirfd: libc::c_int, path: &[u8], flags: u64, resolve: u64) -> io::Result<OwnedFd> {
    let c = CString::new(path).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path has a NUL byte"))?;
    // SAFETY: open_how is plain data; all-zero is valid and the fields are set below.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags;
    how.resolve = resolve;
    // SAFETY: valid dirfd, NUL-terminated path and a properly sized open_how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dirfd,
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new file descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// File systems whose files are not plain data (magic numbers of `statfs`).
const REFUSED_FS: &[(i64, &str)] = &[
    (0x9fa0, "procfs"),
    (0x6265_6572, "sysfs"),
    (0x6462_6720, "debugfs"),
    (0x7472_6163, "tracefs"),
    (0x7363_6673, "securityfs"),
    (0x6367_7270, "cgroup2"),
    (0x0027_e0eb, "cgroup"),
    (0xcafe_4a11, "bpffs"),
    (0x6e73_6673, "nsfs"),
    (0x4249_4e4d, "binfmt_misc"),
    (0x6573_5546, "fuse"),
    (0x5049_5045, "pipefs"),
    (0x534f_434b, "sockfs"),
];

fn refused(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

/// Open `path` under `dirfd` (with `resolve` flags) for reading, only if it is a regular file on
/// a data file system; never blocks on what it finds (see the module docs).
fn open_regular(dirfd: libc::c_int, path: &[u8], resolve: u64) -> io::Result<File> {
    use std::os::fd::AsRawFd;
    let handle = openat2(dirfd, path, (libc::O_PATH | libc::O_CLOEXEC) as u64, resolve)?;
    // SAFETY: fstat/fstatfs on an fd we own into zeroed buffers.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(handle.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(refused(format!("not a regular file (mode {:o})", st.st_mode & libc::S_IFMT)));
    }
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatfs(handle.as_raw_fd(), &mut fs) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if let Some((_, name)) = REFUSED_FS.iter().find(|(magic, _)| *magic == fs.f_type as i64) {
        return Err(refused(format!("a file on {name}")));
    }
    // The same inode, opened for reading: /proc/self/fd/N of an O_PATH handle reopens it.
    let fd = openat2(
        libc::AT_FDCWD,
        format!("/proc/self/fd/{}", handle.as_raw_fd()).as_bytes(),
        (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC) as u64,
        0,
    )?;
    Ok(File::from(fd))
}

/// The executable process `pid` runs, opened through the kernel's own reference to it
/// (`/proc/<pid>/exe`), when it is `path` (the path the kernel reported at exec, possibly cut to
/// its last components): no path is walked, so a path the container has since replaced, a
/// chroot, a deleted file or a path too deep to report whole all give the file that ran. `None`
/// when the process now runs something else (or is gone).
///
/// A program executed through a file descriptor (`fexecve`, `execveat(fd, "", AT_EMPTY_PATH)`:
/// a memfd, a deleted file) has no path the kernel can give; it reports the descriptor's
/// (`/dev/fd/3`, `/proc/self/fd/3`), and then whatever the process runs is taken as it.
pub fn open_exe_of(pid: u32, path: &[u8]) -> Option<File> {
    use std::os::{fd::AsRawFd, unix::ffi::OsStrExt};
    let path = path.strip_suffix(b" (deleted)").unwrap_or(path);
    if path.is_empty() {
        return None;
    }
    // Open first, then ask what was opened: a process that execs again in between cannot make
    // the name checked differ from the file read.
    let file = open_regular(libc::AT_FDCWD, format!("/proc/{pid}/exe").as_bytes(), 0).ok()?;
    let link = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()?;
    let link = link.as_os_str().as_bytes();
    let link = link.strip_suffix(b" (deleted)").unwrap_or(link);
    (link.ends_with(path) || is_fd_path(path)).then_some(file)
}

/// `/dev/fd/N`, `/proc/self/fd/N` or `/proc/<pid>/fd/N`: the name of an executed descriptor.
fn is_fd_path(path: &[u8]) -> bool {
    let rest = if let Some(r) = path.strip_prefix(b"/dev/fd/") {
        r
    } else if let Some(r) = path.strip_prefix(b"/proc/") {
        match r.iter().position(|&b| b == b'/') {
            Some(i) if &r[..i] == b"self" || (i > 0 && r[..i].iter().all(u8::is_ascii_digit)) => match r[i..].strip_prefix(b"/fd/") {
                Some(n) => n,
                None => return false,
            },
            _ => return false,
        }
    } else {
        return false;
    };
    !rest.is_empty() && rest.iter().all(u8::is_ascii_digit)
}

/// An `O_PATH` handle on the root directory of process `pid`. It stays usable after the
/// process exits (it pins the container's root mount), so files of a short-lived container can
/// still be read.
pub fn open_root(pid: u32) -> io::Result<OwnedFd> {
    openat2(libc::AT_FDCWD, format!("/proc/{pid}/root").as_bytes(), (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64, 0)
}

/// A handle on the mount namespace of process `pid`. While it is held the namespace's mount
/// tree stays as it is after its last process exits: without it the kernel takes every mount
/// off the tree (volumes, bind mounts such as a `/usr` from the host), and a pinned root handle
/// ([`open_root`]) would then show the bare directories underneath.
pub fn open_mount_ns(pid: u32) -> io::Result<OwnedFd> {
    openat2(libc::AT_FDCWD, format!("/proc/{pid}/ns/mnt").as_bytes(), (libc::O_RDONLY | libc::O_CLOEXEC) as u64, 0)
}

/// True when a root handle is this agent's own root (the host), not a container's.
pub fn is_host_root(root: &OwnedFd) -> bool {
    use std::os::unix::fs::MetadataExt;
    let ours = std::fs::metadata("/");
    // SAFETY: fstat on an fd we own into a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::fstat(std::os::fd::AsRawFd::as_raw_fd(root), &mut st) };
    match ours {
        Ok(m) if rc == 0 => m.dev() == st.st_dev && m.ino() == st.st_ino,
        _ => true,
    }
}

/// The file process `pid` has as standard input (`python3 < script.py`), opened through the
/// kernel's own reference to it (`/proc/<pid>/fd/0`), only if it is a regular file on a data
/// file system: a pipe, socket, terminal or device is refused, never read from.
pub fn open_stdin_of(pid: u32) -> io::Result<File> {
    open_regular(libc::AT_FDCWD, format!("/proc/{pid}/fd/0").as_bytes(), 0)
}

/// Open `path` (as the agent itself sees it) for reading, only if it is a regular file on a data
/// file system, without blocking on whatever is there (a FIFO, a device, `/proc/kmsg`).
pub fn open_data_file(path: &[u8]) -> io::Result<File> {
    open_regular(libc::AT_FDCWD, path, 0)
}

/// Open `path` (absolute, as the process sees it) for reading below `root`, confined to it.
/// Only regular files are returned.
pub fn open_at_root(root: &OwnedFd, path: &[u8]) -> io::Result<File> {
    let confine = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    open_regular(std::os::fd::AsRawFd::as_raw_fd(root), path, confine)
}

/// Open `path` for reading inside the root of process `pid`. A relative path is resolved from
/// the process's working directory (its path as the process sees it), still confined to its
/// root. Only regular files are returned.
pub fn open_in_root(pid: u32, path: &[u8]) -> io::Result<File> {
    let root = open_root(pid)?;
    if path.first() == Some(&b'/') {
        return open_at_root(&root, path);
    }
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd"))?;
    let mut full = std::os::unix::ffi::OsStrExt::as_bytes(cwd.as_os_str()).to_vec();
    full.push(b'/');
    full.extend_from_slice(path);
    open_at_root(&root, &full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn symlinks_and_dotdot_stay_inside_the_root() {
        // Our own root is the host root; build a fake root and use a chrooted view through a
        // process whose root is that directory: simulate with RESOLVE_IN_ROOT directly.
        let dir = std::env::temp_dir().join(format!("shrike-rootfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/shadow"), b"inside").unwrap();
        std::os::unix::fs::symlink("/etc/shadow", dir.join("abs-link")).unwrap();
        std::os::unix::fs::symlink("../../../../../../etc/shadow", dir.join("rel-link")).unwrap();
        std::os::unix::fs::symlink("/proc/self/root/etc/hostname", dir.join("magic")).unwrap();
        let root = openat2(libc::AT_FDCWD, dir.to_str().unwrap().as_bytes(), (libc::O_PATH | libc::O_DIRECTORY) as u64, 0).unwrap();
        let confine = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
        for p in ["/abs-link", "rel-link", "/../../etc/shadow", "/etc/shadow"] {
            let fd = openat2(std::os::fd::AsRawFd::as_raw_fd(&root), p.as_bytes(), libc::O_RDONLY as u64, confine).unwrap();
            let mut s = String::new();
            File::from(fd).read_to_string(&mut s).unwrap();
            assert_eq!(s, "inside", "{p} resolved inside the root");
        }
        // A magic link through /proc cannot be followed at all (and /proc is not in this root).
        assert!(openat2(std::os::fd::AsRawFd::as_raw_fd(&root), b"/magic", libc::O_RDONLY as u64, confine).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fifos_devices_and_pseudo_files_are_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("shrike-rootfs-fifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("f");
        let c = CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let pid = std::process::id();
        let start = std::time::Instant::now();
        // A FIFO nobody writes to: a blocking open would wait forever.
        let e = open_in_root(pid, fifo.to_str().unwrap().as_bytes()).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        // /proc/kmsg is a "regular file" whose read blocks (and is the host's kernel log).
        let e = open_in_root(pid, b"/proc/kmsg").unwrap_err();
        assert!(e.to_string().contains("procfs") || e.kind() == io::ErrorKind::PermissionDenied, "{e}");
        assert!(open_in_root(pid, b"/sys/kernel/btf/vmlinux").unwrap_err().to_string().contains("sysfs"));
        assert!(open_in_root(pid, b"/dev/zero").unwrap_err().to_string().contains("not a regular file"));
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_executable_through_the_kernels_reference() {
        let exe = std::env::current_exe().unwrap();
        let path = exe.to_str().unwrap().as_bytes();
        let mut f = open_exe_of(std::process::id(), path).expect("our own executable");
        let mut head = [0u8; 4];
        f.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"\x7fELF");
        // The last components only, as the kernel reports a path too deep to give whole.
        let tail = &path[path.iter().rposition(|b| *b == b'/').unwrap()..];
        assert!(open_exe_of(std::process::id(), tail).is_some());
        // Another path: this process does not run it.
        assert!(open_exe_of(std::process::id(), b"/usr/bin/nc").is_none());
        // A program executed through a descriptor is named by it: whatever runs is it.
        assert!(open_exe_of(std::process::id(), b"/dev/fd/3").is_some());
        assert!(open_exe_of(std::process::id(), b"/proc/self/fd/4").is_some());
        for not_fd in [&b"/dev/fd/"[..], b"/dev/fd/3x", b"/proc/1/fdx/3", b"/proc/x/fd/3", b"/tmp/dev/fd/3"] {
            assert!(!is_fd_path(not_fd), "{}", String::from_utf8_lossy(not_fd));
        }
        assert!(is_fd_path(b"/proc/123/fd/7"));
    }

    #[test]
    fn opens_own_files_through_proc_root() {
        let exe = std::env::current_exe().unwrap();
        let f = open_in_root(std::process::id(), exe.to_str().unwrap().as_bytes()).unwrap();
        assert!(f.metadata().unwrap().len() > 0);
        assert!(open_in_root(std::process::id(), b"/").is_err(), "directories are refused");
    }

    #[test]
    fn standard_input_is_read_only_when_it_is_a_regular_file() {
        use std::process::{Command, Stdio};
        let path = std::env::temp_dir().join(format!("shrike-stdin-{}.py", std::process::id()));
        std::fs::write(&path, b"print('fed on stdin')\n").unwrap();
        let mut fed = Command::new("sleep").arg("5").stdin(File::open(&path).unwrap()).spawn().unwrap();
        let mut piped = Command::new("sleep").arg("5").stdin(Stdio::piped()).spawn().unwrap();
        let mut s = String::new();
        open_stdin_of(fed.id()).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "print('fed on stdin')\n");
        let e = open_stdin_of(piped.id()).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        for c in [&mut fed, &mut piped] {
            c.kill().unwrap();
            c.wait().unwrap();
        }
        std::fs::remove_file(&path).unwrap();
    }
}
