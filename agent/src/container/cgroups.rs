//! cgroup id → cgroup v2 path, without a `/proc` read per event.
//!
//! `bpf_get_current_cgroup_id()` returns the kernfs node id of the task's cgroup2 directory,
//! which is also the inode number of that directory on the cgroup2 mount. [`CgroupPaths`] walks
//! the cgroup2 tree once, remembers inode → path, and on a miss walks it again (rate limited),
//! so a container created after the agent started is found on its first event.

use std::{
    collections::HashMap,
    ffi::OsString,
    fs,
    hash::{BuildHasherDefault, Hasher},
    io,
    os::unix::{ffi::OsStringExt, fs::MetadataExt},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde::Serialize;

/// Default minimum time between two rescans triggered by misses.
pub const DEFAULT_MIN_RESCAN_INTERVAL: Duration = Duration::from_secs(1);
/// Deepest directory recorded by a scan (the mount itself is depth 0).
pub const MAX_DEPTH: usize = 32;
/// Most directories recorded by a scan; the walk stops there.
pub const MAX_ENTRIES: usize = 1 << 18;

/// Counters of a [`CgroupPaths`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CgroupPathStats {
    /// Calls of [`CgroupPaths::path_of`].
    pub lookups: u64,
    /// Lookups whose id was not in the map at first (whether or not a rescan then found it).
    pub misses: u64,
    /// Rescans triggered by misses (explicit [`CgroupPaths::scan`] calls are not counted).
    pub rescans: u64,
    /// Ids currently known.
    pub entries: usize,
}

/// One known cgroup.
#[derive(Debug)]
struct Entry {
    /// Path relative to the cgroup2 mount, starting with `/`.
    path: Box<str>,
    /// Added with [`CgroupPaths::insert`]: kept across rescans until forgotten.
    pinned: bool,
}

/// Hasher for kernel-assigned `u64` ids (not attacker-chosen): a splitmix64 finalizer, cheaper
/// than the default `SipHash` on the per-event lookup.
#[derive(Debug, Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

type IdMap = HashMap<u64, Entry, BuildHasherDefault<IdHasher>>;

/// cgroup id (inode of the cgroup2 directory) → path relative to the cgroup2 mount.
#[derive(Debug)]
pub struct CgroupPaths {
    mount: PathBuf,
    map: IdMap,
    min_rescan_interval: Duration,
    last_scan: Option<Instant>,
    lookups: u64,
    misses: u64,
    rescans: u64,
}

impl CgroupPaths {
    /// An empty map over the cgroup2 tree mounted at `cgroup2_mount` (nothing is read until
    /// [`scan`](Self::scan) or the first miss of [`path_of`](Self::path_of)).
    #[must_use]
    pub fn new(cgroup2_mount: PathBuf) -> Self {
        Self {
            mount: cgroup2_mount,
            map: IdMap::default(),
            min_rescan_interval: DEFAULT_MIN_RESCAN_INTERVAL,
            last_scan: None,
            lookups: 0,
            misses: 0,
            rescans: 0,
        }
    }

    /// The cgroup2 mount point this map walks.
    #[must_use]
    pub fn mount(&self) -> &Path {
        &self.mount
    }

    /// Minimum time between two rescans triggered by misses.
    #[must_use]
    pub fn min_rescan_interval(&self) -> Duration {
        self.min_rescan_interval
    }

    /// Sets the minimum time between two rescans triggered by misses (zero: rescan on every
    /// miss).
    pub fn set_min_rescan_interval(&mut self, interval: Duration) {
        self.min_rescan_interval = interval;
    }

    /// Walks the whole cgroup2 tree and replaces the map with what it finds (ids of removed
    /// cgroups are dropped; entries added with [`insert`](Self::insert) are kept). Returns the
    /// number of directories found, the mount itself included.
    ///
    /// The walk is iterative, records directories down to [`MAX_DEPTH`] and at most
    /// [`MAX_ENTRIES`], stays on the mount's filesystem, and skips directories that cannot be
    /// read. Fails only when the mount itself cannot be read; the map is then unchanged.
    /// Non-UTF-8 names are converted lossily.
    ///
    /// # Errors
    ///
    /// The mount cannot be read or is not a directory.
    pub fn scan(&mut self) -> io::Result<usize> {
        self.last_scan = Some(Instant::now());
        let found = walk(&self.mount)?;
        let dirs = found.len();
        let mut map = IdMap::with_capacity_and_hasher(dirs, BuildHasherDefault::default());
        for (id, path) in found {
            map.insert(
                id,
                Entry {
                    path: path.into_boxed_str(),
                    pinned: false,
                },
            );
        }
        for (id, old) in self.map.drain() {
            if old.pinned {
                // The tree's path wins if the scan found the id; it stays pinned either way.
                map.entry(id).or_insert(old).pinned = true;
            }
        }
        self.map = map;
        Ok(dirs)
    }

    /// Path of a cgroup id, relative to the mount and starting with `/`.
    ///
    /// On a hit this is one map lookup: no allocation, no system call. On a miss the tree is
    /// rescanned, at most once per [`min_rescan_interval`](Self::min_rescan_interval) (the
    /// first miss before any scan always scans), and the id is looked up again.
    pub fn path_of(&mut self, cgroup_id: u64) -> Option<&str> {
        self.lookups += 1;
        if !self.map.contains_key(&cgroup_id) {
            self.misses += 1;
            let due = self
                .last_scan
                .is_none_or(|at| at.elapsed() >= self.min_rescan_interval);
            if !due {
                return None;
            }
            self.rescans += 1;
            // A failed rescan leaves the map as it was; it is rate limited like a good one.
            if self.scan().is_err() {
                return None;
            }
        }
        self.map.get(&cgroup_id).map(|e| &*e.path)
    }

    /// Path of a cgroup id if already known: never rescans.
    pub fn peek(&self, cgroup_id: u64) -> Option<&str> {
        self.map.get(&cgroup_id).map(|e| &*e.path)
    }

    /// Records `id` → `path` learned from a process (`/proc/<pid>/cgroup`); unlike
    /// [`insert`](Self::insert) the next scan drops it when the directory is gone.
    pub fn learn(&mut self, id: u64, path: &str) {
        self.map.insert(id, Entry { path: path.into(), pinned: false });
    }

    /// Records `id` → `path` (for paths learned elsewhere, e.g. from `/proc` seeding). The entry
    /// survives rescans until [`forget`](Self::forget); a scan that finds the id replaces its
    /// path with the tree's.
    pub fn insert(&mut self, id: u64, path: &str) {
        self.map.insert(
            id,
            Entry {
                path: path.into(),
                pinned: true,
            },
        );
    }

    /// True when `id` is known (no rescan).
    pub fn contains(&self, id: u64) -> bool {
        self.map.contains_key(&id)
    }

    /// Drops what is known about `id` (a later scan may find it again if the cgroup still
    /// exists).
    pub fn forget(&mut self, id: u64) {
        self.map.remove(&id);
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> CgroupPathStats {
        CgroupPathStats {
            lookups: self.lookups,
            misses: self.misses,
            rescans: self.rescans,
            entries: self.map.len(),
        }
    }
}

/// Every directory of the tree at `mount` as (inode, path relative to `mount` starting with `/`).
fn walk(mount: &Path) -> io::Result<Vec<(u64, String)>> {
    let root = fs::metadata(mount)?;
    if !root.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a directory", mount.display()),
        ));
    }
    let dev = root.dev();

    let mut out = vec![(root.ino(), "/".to_owned())];
    // Directories still to read: (absolute path, relative path, depth); the mount is depth 0.
    let mut stack: Vec<(PathBuf, String, usize)> = vec![(mount.to_path_buf(), String::new(), 0)];
    while let Some((abs, rel, depth)) = stack.pop() {
        let dir = match fs::read_dir(&abs) {
            Ok(dir) => dir,
            // The mount itself must be readable; the map is then left alone.
            Err(e) if depth == 0 => return Err(e),
            // Removed meanwhile, or unreadable: skip it.
            Err(_) => continue,
        };
        for entry in dir.flatten() {
            // d_type from readdir; only falls back to lstat when the filesystem gives none.
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if !file_type.is_dir() {
                continue;
            }
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.dev() != dev {
                continue;
            }
            let name = OsString::into_vec(entry.file_name());
            let child = format!("{rel}/{}", String::from_utf8_lossy(&name));
            out.push((meta.ino(), child.clone()));
            if out.len() >= MAX_ENTRIES {
                return Ok(out);
            }
            if depth + 1 < MAX_DEPTH {
                stack.push((entry.path(), child, depth + 1));
            }
        }
    }
    Ok(out)
}


#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    /// A scratch directory tree removed on drop.
    struct TempTree(PathBuf);

    impl TempTree {
        fn new(tag: &str) -> Self {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let dir = std::env::temp_dir().join(format!(
                "shrike-cgroups-{}-{tag}-{nanos}",
                std::process::id()
            ));
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn mkdir(&self, rel: &str) -> u64 {
            let dir = self.0.join(rel);
            fs::create_dir_all(&dir).unwrap();
            self.ino(rel)
        }

        fn ino(&self, rel: &str) -> u64 {
            fs::metadata(self.0.join(rel)).unwrap().ino()
        }

        fn paths(&self) -> CgroupPaths {
            CgroupPaths::new(self.0.clone())
        }
    }

    impl Drop for TempTree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const HEX: &str = "4d5c2f1e0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";

    #[test]
    fn scan_records_every_directory() {
        let tree = TempTree::new("scan");
        let rels = [
            "system.slice".to_owned(),
            "system.slice/containerd.service".to_owned(),
            "kubepods".to_owned(),
            "kubepods/besteffort".to_owned(),
            "kubepods/besteffort/podabc".to_owned(),
            format!("kubepods/besteffort/podabc/{HEX}"),
            "with space".to_owned(),
        ];
        for rel in &rels {
            tree.mkdir(rel);
        }
        fs::write(tree.0.join("system.slice/cgroup.procs"), "1\n").unwrap();
        std::os::unix::fs::symlink(tree.0.join("kubepods"), tree.0.join("link")).unwrap();

        let mut paths = tree.paths();
        assert_eq!(paths.scan().unwrap(), rels.len() + 1);
        assert_eq!(paths.path_of(tree.ino("")), Some("/"));
        for rel in &rels {
            let want = format!("/{rel}");
            assert_eq!(paths.path_of(tree.ino(rel)), Some(want.as_str()), "{rel}");
        }
        let stats = paths.stats();
        assert_eq!(stats.lookups, rels.len() as u64 + 1);
        assert_eq!(
            (stats.misses, stats.rescans, stats.entries),
            (0, 0, rels.len() + 1)
        );
    }

    #[test]
    fn miss_rescans_and_finds_new_directory() {
        let tree = TempTree::new("rescan");
        tree.mkdir("a");
        let mut paths = tree.paths();
        paths.set_min_rescan_interval(Duration::ZERO);
        assert_eq!(paths.scan().unwrap(), 2);

        let new = tree.mkdir("a/b/c");
        assert_eq!(paths.path_of(new), Some("/a/b/c"));
        let stats = paths.stats();
        assert_eq!(
            (stats.lookups, stats.misses, stats.rescans, stats.entries),
            (1, 1, 1, 4)
        );

        // Now a hit: no further rescan.
        assert_eq!(paths.path_of(new), Some("/a/b/c"));
        assert_eq!(paths.stats().rescans, 1);

        // An id that does not exist: rescans (interval zero) and still misses.
        assert_eq!(paths.path_of(u64::MAX), None);
        assert_eq!((paths.stats().misses, paths.stats().rescans), (2, 2));
    }

    #[test]
    fn first_miss_scans_without_explicit_scan() {
        let tree = TempTree::new("lazy");
        let id = tree.mkdir("x/y");
        let mut paths = tree.paths();
        assert_eq!(paths.path_of(id), Some("/x/y"));
        assert_eq!(paths.stats().rescans, 1);
    }

    #[test]
    fn rescans_are_rate_limited() {
        let tree = TempTree::new("ratelimit");
        let mut paths = tree.paths();
        paths.set_min_rescan_interval(Duration::from_secs(3600));
        assert_eq!(paths.min_rescan_interval(), Duration::from_secs(3600));
        paths.scan().unwrap();

        let new = tree.mkdir("late");
        assert_eq!(paths.path_of(new), None);
        assert_eq!(paths.path_of(new), None);
        let stats = paths.stats();
        assert_eq!((stats.misses, stats.rescans), (2, 0));

        paths.set_min_rescan_interval(Duration::ZERO);
        assert_eq!(paths.path_of(new), Some("/late"));
        assert_eq!(paths.stats().rescans, 1);
    }

    #[test]
    fn rescan_drops_removed_directories() {
        let tree = TempTree::new("removed");
        let gone = tree.mkdir("gone");
        let mut paths = tree.paths();
        paths.scan().unwrap();
        assert_eq!(paths.path_of(gone), Some("/gone"));
        fs::remove_dir(tree.0.join("gone")).unwrap();
        assert_eq!(paths.scan().unwrap(), 1);
        paths.set_min_rescan_interval(Duration::from_secs(3600));
        assert_eq!(paths.path_of(gone), None);
        assert_eq!(paths.stats().entries, 1);
    }

    #[test]
    fn insert_survives_rescan_until_forgotten() {
        let tree = TempTree::new("insert");
        let real = tree.mkdir("real");
        let mut paths = tree.paths();
        paths.set_min_rescan_interval(Duration::from_secs(3600));
        let learned = u64::MAX - 7;
        paths.insert(learned, "/learned/elsewhere");
        // A pinned entry whose id the tree has: the tree's path wins.
        paths.insert(real, "/stale");
        paths.scan().unwrap();
        assert_eq!(paths.path_of(learned), Some("/learned/elsewhere"));
        assert_eq!(paths.path_of(real), Some("/real"));

        paths.forget(learned);
        assert_eq!(paths.path_of(learned), None);
        paths.forget(real);
        assert_eq!(paths.path_of(real), None, "rate limited: no rescan yet");
        paths.set_min_rescan_interval(Duration::ZERO);
        assert_eq!(
            paths.path_of(real),
            Some("/real"),
            "found again by the rescan"
        );
    }

    #[test]
    fn depth_is_bounded() {
        let tree = TempTree::new("depth");
        let deep = vec!["d"; 40].join("/");
        tree.mkdir(&deep);
        let mut paths = tree.paths();
        assert_eq!(paths.scan().unwrap(), MAX_DEPTH + 1);
        let at_limit = vec!["d"; MAX_DEPTH].join("/");
        paths.set_min_rescan_interval(Duration::from_secs(3600));
        let want = format!("/{at_limit}");
        assert_eq!(paths.path_of(tree.ino(&at_limit)), Some(want.as_str()));
        let below = vec!["d"; MAX_DEPTH + 1].join("/");
        assert_eq!(paths.path_of(tree.ino(&below)), None);
    }

    #[test]
    fn missing_mount_fails_cleanly() {
        let tree = TempTree::new("missing");
        let mut paths = CgroupPaths::new(tree.0.join("nope"));
        assert!(paths.scan().is_err());
        paths.set_min_rescan_interval(Duration::ZERO);
        assert_eq!(paths.path_of(1), None);
        assert_eq!(paths.stats().rescans, 1);
        assert_eq!(paths.mount(), tree.0.join("nope"));
    }

    /// The real cgroup2 tree of this machine: the inode of our own cgroup maps back to it.
    #[test]
    fn live_cgroup2_tree() {
        let Some(mount) = crate::process::procfs::cgroup2_mount(Path::new("/proc")) else {
            eprintln!("no cgroup2 mount: skipped");
            return;
        };
        let proc_cgroup = fs::read_to_string("/proc/self/cgroup").unwrap();
        let Some(own) = super::super::cgroup_path::unified_path(&proc_cgroup) else {
            eprintln!("no 0:: line in /proc/self/cgroup: skipped");
            return;
        };
        let dir = mount.join(own.trim_start_matches('/'));
        let ino = fs::metadata(&dir).unwrap().ino();

        let mut paths = CgroupPaths::new(mount.clone());
        let dirs = paths.scan().unwrap();
        assert!(dirs >= 1);
        paths.set_min_rescan_interval(Duration::from_secs(3600));
        assert_eq!(paths.path_of(ino), Some(own), "mount {}", mount.display());
        assert_eq!(paths.stats().misses, 0);
        eprintln!(
            "cgroup2 at {}: {dirs} dirs, own cgroup {own} = inode {ino}",
            mount.display()
        );
    }
}
