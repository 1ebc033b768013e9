//! Reading files as a process sees them, inside its own root (a container's filesystem), such
//! that nothing the process controls can make the agent open a file outside that root: paths
//! are resolved by the kernel with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` relative
//! to `/proc/<pid>/root`, so `..`, absolute symlinks and `/proc/self/...` tricks all stay inside.

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

/// An `O_PATH` handle on the root directory of process `pid`. It stays usable after the
/// process exits (it pins the container's root mount), so files of a short-lived container can
/// still be read.
pub fn open_root(pid: u32) -> io::Result<OwnedFd> {
    openat2(libc::AT_FDCWD, format!("/proc/{pid}/root").as_bytes(), (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64, 0)
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

/// Open `path` (absolute, as the process sees it) for reading below `root`, confined to it.
/// Only regular files are returned.
pub fn open_at_root(root: &OwnedFd, path: &[u8]) -> io::Result<File> {
    let confine = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    let fd = openat2(std::os::fd::AsRawFd::as_raw_fd(root), path, (libc::O_RDONLY | libc::O_CLOEXEC) as u64, confine)?;
    let file = File::from(fd);
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    Ok(file)
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
    fn opens_own_files_through_proc_root() {
        let exe = std::env::current_exe().unwrap();
        let f = open_in_root(std::process::id(), exe.to_str().unwrap().as_bytes()).unwrap();
        assert!(f.metadata().unwrap().len() > 0);
        assert!(open_in_root(std::process::id(), b"/").is_err(), "directories are refused");
    }
}
