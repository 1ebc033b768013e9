//! Host preparation the loader needs: the memlock limit raised where allowed; and which pid
//! namespace the agent's node is. (The programs are BTF tracepoints: they attach by BTF id and
//! need no tracefs.)

use std::{os::unix::fs::MetadataExt, path::Path};

/// Inode number of the initial pid namespace (PROC_PID_INIT_INO): every process of the kernel
/// has a pid there.
pub const INIT_PID_NS_INODE: u64 = agent_common::HOST_PID_NS_INUM as u64;

/// The pid namespace link of the agent itself.
const SELF_PID_NS: &str = "/proc/self/ns/pid";

/// The pid namespace the agent's node is, for node scoping: `None` when the agent runs in the
/// initial pid namespace (a normal node: every process of the kernel is on it and nothing is
/// scoped), otherwise the inode of the agent's own pid namespace (e.g. a kind node, which is a
/// container sharing the kernel with other nodes).
pub fn node_pid_namespace() -> std::io::Result<Option<u32>> {
    node_pid_namespace_of(Path::new(SELF_PID_NS))
}

/// [`node_pid_namespace`] for a given `ns/pid` link.
pub fn node_pid_namespace_of(link: &Path) -> std::io::Result<Option<u32>> {
    let ino = std::fs::metadata(link)?.ino();
    if ino == INIT_PID_NS_INODE {
        return Ok(None);
    }
    u32::try_from(ino)
        .map(Some)
        .map_err(|_| std::io::Error::other(format!("{}: inode {ino} does not fit 32 bits", link.display())))
}

/// Raise RLIMIT_MEMLOCK to infinity (needed for BPF maps on kernels before 5.11).
pub fn raise_memlock_rlimit() -> std::io::Result<()> {
    let limit = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
    // SAFETY: valid pointer to an initialized rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_pid_namespace() {
        let Ok(link) = std::fs::read_link(SELF_PID_NS) else {
            return println!("skipping test - {SELF_PID_NS} cannot be read");
        };
        let link = link.to_string_lossy().into_owned();
        let ino: u64 = link.strip_prefix("pid:[").and_then(|s| s.strip_suffix(']')).unwrap().parse().unwrap();
        let got = node_pid_namespace().unwrap();
        if ino == INIT_PID_NS_INODE {
            assert_eq!(got, None, "the initial namespace is no node to scope to");
        } else {
            assert_eq!(got.map(u64::from), Some(ino));
        }
        assert!(node_pid_namespace_of(Path::new("/nonexistent/ns/pid")).is_err());
    }
}
