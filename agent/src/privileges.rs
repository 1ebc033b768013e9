//! The capabilities `shrike run` needs, checked before anything is loaded, so that a container or
//! unit that lacks one stops at once and says which one and what it is for, instead of loading
//! and then failing obscurely (BPF, PERFMON) or running half blind (SYS_PTRACE, DAC_READ_SEARCH:
//! no executable hashes, no Python scripts read from other containers).

use std::fmt;

use caps::{CapSet, Capability, CapsHashSet};

/// A capability the agent needs and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Need {
    /// The capability.
    pub cap: Capability,
    /// What it is for.
    pub why: &'static str,
    /// Whether CAP_SYS_ADMIN also grants it (the kernel accepts CAP_SYS_ADMIN in place of CAP_BPF
    /// and CAP_PERFMON, for programs written before 5.8 split them out).
    pub sys_admin_grants: bool,
}

/// Every capability `shrike run` needs. `deploy/systemd/shrike.service` and the
/// least-privileged Kubernetes overlay grant exactly these.
pub const NEEDED: &[Need] = &[
    Need { cap: Capability::CAP_BPF, why: "create the BPF maps and load the eBPF programs", sys_admin_grants: true },
    Need {
        cap: Capability::CAP_PERFMON,
        why: "load tracing programs that read kernel memory and attach them to tracepoints",
        sys_admin_grants: true,
    },
    Need {
        cap: Capability::CAP_SYS_PTRACE,
        why: "read /proc/<pid>/exe, /proc/<pid>/root and /proc/<pid>/fd of other containers' processes (executable hashes, scripts)",
        sys_admin_grants: false,
    },
    Need {
        cap: Capability::CAP_DAC_READ_SEARCH,
        why: "read other containers' executables and scripts whatever their file permissions",
        sys_admin_grants: false,
    },
];

/// What an effective capability set lacks of [`NEEDED`].
pub fn missing_from(effective: &CapsHashSet) -> Vec<Need> {
    let admin = effective.contains(&Capability::CAP_SYS_ADMIN);
    NEEDED.iter().filter(|n| !effective.contains(&n.cap) && !(admin && n.sys_admin_grants)).copied().collect()
}

/// This process's effective capabilities.
pub fn effective() -> Result<CapsHashSet, String> {
    caps::read(None, CapSet::Effective).map_err(|e| format!("reading this process's capabilities: {e}"))
}

/// Capabilities are missing.
#[derive(Debug)]
pub struct Missing(pub Vec<Need>);

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "missing capabilities: ")?;
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{} (to {})", n.cap, n.why)?;
        }
        write!(
            f,
            ". Grant them (Kubernetes: securityContext.capabilities.add; systemd: CapabilityBoundingSet=), or run as root / privileged; `shrike doctor` checks every condition"
        )
    }
}

impl std::error::Error for Missing {}

/// Fail unless every needed capability is effective.
pub fn require() -> Result<(), Missing> {
    let eff = match effective() {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read capabilities; the kernel will say what is missing");
            return Ok(());
        }
    };
    let missing = missing_from(&eff);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Missing(missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(caps: &[Capability]) -> CapsHashSet {
        caps.iter().copied().collect()
    }

    #[test]
    fn sys_admin_stands_in_for_bpf_and_perfmon_only() {
        let all = set(&[Capability::CAP_BPF, Capability::CAP_PERFMON, Capability::CAP_SYS_PTRACE, Capability::CAP_DAC_READ_SEARCH]);
        assert!(missing_from(&all).is_empty());
        let admin = set(&[Capability::CAP_SYS_ADMIN, Capability::CAP_SYS_PTRACE, Capability::CAP_DAC_READ_SEARCH]);
        assert!(missing_from(&admin).is_empty());
        let admin_only = set(&[Capability::CAP_SYS_ADMIN]);
        let m: Vec<_> = missing_from(&admin_only).iter().map(|n| n.cap).collect();
        assert_eq!(m, vec![Capability::CAP_SYS_PTRACE, Capability::CAP_DAC_READ_SEARCH]);
        for n in NEEDED {
            let mut s = all.clone();
            s.remove(&n.cap);
            let m = missing_from(&s);
            assert_eq!(m.len(), 1);
            assert!(Missing(m).to_string().contains(&n.cap.to_string()), "the message names {}", n.cap);
        }
    }
}
