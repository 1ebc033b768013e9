//! Fileless execution in a container, two SCC categories from one fact the sensor reports at
//! exec (where the file that ran lives, read from the kernel's own reference to it):
//! - `Execution: Fileless Execution in /memfd:`: the program has no name in any directory — a
//!   memfd (`memfd_create` + `execveat`/`fexecve`) or a file deleted after it was opened;
//! - `Privilege Escalation: Fileless Execution in /dev/shm`: the program is a file on tmpfs
//!   (`/dev/shm`, a tmpfs mount): it leaves nothing on disk.
//!
//! A program the image ships, started normally, is neither. Programs such a program starts
//! from memory in turn join the incident of the outermost one.

use super::{
    rules::Severity,
    spec::{no_incident_properties, put, Mitre, Props, Render, Scope, Spec},
    Ctx, Detection, DetectionId, Detector, Evidence,
};
use crate::event::{EventBody, ExeStorage};

/// A program with no name on disk.
pub static MEMFD: Spec = Spec {
    category: "Execution: Fileless Execution in /memfd:",
    module: "FILELESS_EXECUTION_DETECTION_MEMFD",
    severity: Severity::High,
    mitre: Mitre {
        tactic: "EXECUTION",
        techniques: &["NATIVE_API"],
        additional_tactics: &["DEFENSE_EVASION"],
        additional_techniques: &["OBFUSCATED_FILES_OR_INFO", "INDICATOR_REMOVAL_FILE_DELETION"],
    },
    description: "A program was executed in a container from memory (a memfd) or from a file deleted after it was opened: nothing on disk shows what ran. Attackers load payloads this way to evade file scanning.",
    next_steps: "Take the binary's hash from the finding and look it up; find the process that created and executed it in the ancestry; isolate the pod if it is not a known runtime behaviour.",
    scope: Scope::ContainerOnly,
    // Raised by the same detector as its /dev/shm sibling.
    detector: None,
    render_incident: no_incident_properties,
};

/// A program run from tmpfs.
pub static SHM: Spec = Spec {
    category: "Privilege Escalation: Fileless Execution in /dev/shm",
    module: "FILELESS_EXECUTION_DETECTION_SHM",
    severity: Severity::High,
    mitre: Mitre {
        tactic: "PRIVILEGE_ESCALATION",
        techniques: &["EXPLOITATION_FOR_PRIVILEGE_ESCALATION"],
        additional_tactics: &["DEFENSE_EVASION"],
        additional_techniques: &["OBFUSCATED_FILES_OR_INFO"],
    },
    description: "A program was executed in a container from /dev/shm or another tmpfs mount: it lives only in memory and leaves nothing on disk. Exploits drop and run their payloads there.",
    next_steps: "Find what wrote the file (the process ancestry) and take the binary's hash from the finding; if the workload does not run programs from memory, isolate the pod.",
    scope: Scope::ContainerOnly,
    detector: Some(|| Box::new(Fileless)),
    render_incident: no_incident_properties,
};

/// Where the program lived.
#[derive(Clone, Debug, PartialEq)]
pub struct FilelessEvidence {
    /// `memfd`, `deleted file` or `tmpfs`.
    pub storage: &'static str,
}

impl Render for FilelessEvidence {
    fn render(&self, props: &mut Props) {
        put(props, "Executable_Storage", self.storage);
    }
}

/// The category and storage of an exec from `exe` stored as `s`, if it is fileless.
fn classify(exe: &[u8], s: ExeStorage) -> Option<(DetectionId, &'static str)> {
    let memfd = exe.strip_prefix(b"/").unwrap_or(exe).starts_with(b"memfd:");
    match (s.unlinked, s.in_memory_fs) {
        (true, _) if memfd => Some((DetectionId::FilelessExecutionMemfd, "memfd")),
        (true, _) => Some((DetectionId::FilelessExecutionMemfd, "deleted file")),
        (false, true) => Some((DetectionId::FilelessExecutionShm, "tmpfs")),
        (false, false) => None,
    }
}

/// The detector of both.
pub struct Fileless;

impl Detector for Fileless {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        let EventBody::Exec(x) = &ctx.event.body else { return };
        let Some((id, storage)) = classify(x.exe.as_bytes(), x.exe_storage) else { return };
        if !ctx.in_scope(id) {
            return;
        }
        let p = ctx.process;
        let mut root = p.key;
        for a in ctx.ancestors() {
            if a.exe_storage.fileless() {
                root = a.key;
            }
        }
        let mut d = ctx.detection(id, root, format!("{} runs from {storage}", p.exe));
        d.evidence = Evidence::Fileless(FilelessEvidence { storage });
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_a_program_lives_decides_the_category() {
        let s = |in_memory_fs, unlinked| ExeStorage { in_memory_fs, unlinked };
        assert_eq!(classify(b"/memfd:kworker", s(true, true)), Some((DetectionId::FilelessExecutionMemfd, "memfd")));
        assert_eq!(classify(b"/tmp/x", s(false, true)), Some((DetectionId::FilelessExecutionMemfd, "deleted file")));
        assert_eq!(classify(b"/dev/shm/x", s(true, false)), Some((DetectionId::FilelessExecutionShm, "tmpfs")));
        assert_eq!(classify(b"/dev/shm/x", s(true, true)), Some((DetectionId::FilelessExecutionMemfd, "deleted file")));
        // A file merely named like a memfd, on disk, is not one.
        assert_eq!(classify(b"/memfd:kworker", s(false, false)), None);
        assert_eq!(classify(b"/usr/bin/id", s(false, false)), None);
    }
}
