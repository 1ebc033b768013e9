//! Facts about executables: size and SHA-256 for findings, and the fingerprint of renamed
//! netcat/socat copies. The file is the one the process runs (`/proc/<pid>/exe`) while it runs
//! it; otherwise it is opened by the path the kernel reported, inside the root of the process
//! (or, when it is gone, of a relative in the same container) with `RESOLVE_IN_ROOT`, so that
//! nothing a container controls can point the agent at a host file or make it wait
//! ([`rootfs`]); a process that already exec'd something else is still judged by the file it ran.
//! Cached by file identity (device, inode, size, mtime); only ever called for processes that a
//! detection is about, never per event.

use std::{
    collections::HashMap,
    fs::File,
    io::Read,
    os::unix::fs::MetadataExt,
};

use std::os::fd::OwnedFd;

use sha2::{Digest, Sha256};

use super::tools::{fingerprint, KnownBinary};
use crate::process::rootfs;

/// At most this many bytes are hashed; larger files are marked partially hashed.
pub const HASH_LIMIT: u64 = 64 * 1024 * 1024;
/// At most this many bytes are read to fingerprint a binary.
pub const FINGERPRINT_LIMIT: u64 = 8 * 1024 * 1024;

/// Size and hash of an executable.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BinaryInfo {
    /// File size.
    pub size: u64,
    /// Hex SHA-256 of the first `hashed_size` bytes.
    pub sha256: String,
    /// Bytes hashed.
    pub hashed_size: u64,
    /// True when only a prefix was hashed.
    pub partially_hashed: bool,
}

type FileKey = (u64, u64, u64, i64);

/// Cache of binary facts by file identity, and a root handle per container cgroup.
#[derive(Default)]
pub struct BinaryCache {
    info: HashMap<FileKey, BinaryInfo>,
    prints: HashMap<FileKey, Option<KnownBinary>>,
    roots: HashMap<u64, PinnedRoot>,
    uses: u64,
}

/// A container's root directory and its mount namespace, held from one of its processes so that
/// its files, mounted volumes included, can still be read after its processes are gone. Released
/// when the container's cgroup leaves the tree ([`BinaryCache::forget_root`]) or, past
/// [`ROOTS_MAX`], least recently used first.
struct PinnedRoot {
    root: OwnedFd,
    /// Keeps the mount tree under `root` whole (see [`rootfs::open_mount_ns`]).
    _mount_ns: Option<OwnedFd>,
    used: u64,
}

/// Container roots kept open at once.
const ROOTS_MAX: usize = 1024;

const CACHE_MAX: usize = 4096;

/// The executable: the file the process runs, through the kernel's reference to it, while it
/// still runs it; else `path` in the root of the process or of a relative (its own root, so a
/// chroot counts); else in the container's pinned root (all of them gone).
fn open_exe(root: Option<&OwnedFd>, pids: &[u32], path: &[u8]) -> Option<(File, FileKey)> {
    let own = pids.first().and_then(|pid| rootfs::open_exe_of(*pid, path));
    let f = own
        .or_else(|| {
            pids.iter().find_map(|pid| match rootfs::open_in_root(*pid, path) {
                Ok(f) => Some(f),
                Err(e) => {
                    tracing::debug!(pid, path = %String::from_utf8_lossy(path), error = %e, "cannot open executable in the process's root");
                    None
                }
            })
        })
        .or_else(|| {
            root.and_then(|r| match rootfs::open_at_root(r, path) {
                Ok(f) => Some(f),
                Err(e) => {
                    tracing::debug!(path = %String::from_utf8_lossy(path), error = %e, "cannot open executable in the container's pinned root");
                    None
                }
            })
        })?;
    let m = f.metadata().ok()?;
    if !m.is_file() {
        return None;
    }
    Some((f, (m.dev(), m.ino(), m.size(), m.mtime())))
}

impl BinaryCache {
    /// Remember the root of a container cgroup from one of its processes (once per cgroup; never
    /// the host's own root).
    pub fn capture_root(&mut self, cgroup_id: u64, pid: u32) {
        self.uses += 1;
        if let Some(e) = self.roots.get_mut(&cgroup_id) {
            e.used = self.uses;
            return;
        }
        let root = match rootfs::open_root(pid) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(cgroup_id, pid, error = %e, "cannot open the container's root");
                return;
            }
        };
        if rootfs::is_host_root(&root) {
            return;
        }
        let mount_ns = rootfs::open_mount_ns(pid).map_err(|e| tracing::debug!(cgroup_id, pid, error = %e, "cannot hold the container's mount namespace")).ok();
        tracing::debug!(cgroup_id, pid, mount_ns = mount_ns.is_some(), "container root captured");
        if self.roots.len() >= ROOTS_MAX {
            if let Some(oldest) = self.roots.iter().min_by_key(|(_, r)| r.used).map(|(k, _)| *k) {
                self.roots.remove(&oldest);
            }
        }
        self.roots.insert(cgroup_id, PinnedRoot { root, _mount_ns: mount_ns, used: self.uses });
    }

    /// The pinned root of a container cgroup, if captured.
    pub fn root(&self, cgroup_id: u64) -> Option<&OwnedFd> {
        self.roots.get(&cgroup_id).map(|r| &r.root)
    }


    /// Forget a cgroup's root.
    pub fn forget_root(&mut self, cgroup_id: u64) {
        self.roots.remove(&cgroup_id);
    }

    /// Size and SHA-256 of the executable `path` as seen from the root of the first of `roots`
    /// (pids) that is still there.
    pub fn info(&mut self, cgroup_id: u64, roots: &[u32], path: &[u8]) -> Option<BinaryInfo> {
        let (f, key) = open_exe(self.root(cgroup_id), roots, path)?;
        if let Some(i) = self.info.get(&key) {
            return Some(i.clone());
        }
        let size = key.2;
        let mut hasher = Sha256::new();
        let mut reader = f.take(HASH_LIMIT);
        let mut buf = vec![0u8; 256 * 1024];
        let mut hashed = 0u64;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    hasher.update(&buf[..n]);
                    hashed += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
        let sha256 = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let info = BinaryInfo { size, sha256, hashed_size: hashed, partially_hashed: hashed < size };
        if self.info.len() >= CACHE_MAX {
            self.info.clear();
        }
        self.info.insert(key, info.clone());
        Some(info)
    }

    /// What known tool the executable `path` is, by its contents (opened like [`Self::info`]).
    pub fn fingerprint(&mut self, cgroup_id: u64, roots: &[u32], path: &[u8]) -> Option<KnownBinary> {
        let (f, key) = open_exe(self.root(cgroup_id), roots, path)?;
        if let Some(p) = self.prints.get(&key) {
            return *p;
        }
        let mut bytes = Vec::with_capacity(key.2.min(FINGERPRINT_LIMIT) as usize);
        if f.take(FINGERPRINT_LIMIT).read_to_end(&mut bytes).is_err() {
            return None;
        }
        let known = fingerprint(&bytes);
        if self.prints.len() >= CACHE_MAX {
            self.prints.clear();
        }
        self.prints.insert(key, known);
        known
    }
}
