//! `shrike doctor`: can this host run the agent? Each check has a plain verdict and, when it is
//! not fine, what to do about it.

use std::{fmt, path::Path};

use crate::{config::Config, container::cri::CriClient, privileges, process::procfs, sensor};

/// Outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Fine.
    Ok,
    /// The agent runs, with less.
    Warn,
    /// The agent cannot run.
    Fail,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        })
    }
}

/// One check's result.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Verdict.
    pub verdict: Verdict,
    /// What was found.
    pub detail: String,
    /// What to do, when not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self { name, verdict: Verdict::Ok, detail: detail.into(), advice: None }
    }
    fn bad(name: &'static str, verdict: Verdict, detail: impl Into<String>, advice: impl Into<String>) -> Self {
        Self { name, verdict, detail: detail.into(), advice: Some(advice.into()) }
    }
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}

fn kernel_check() -> Check {
    let release = kernel_release();
    let mut nums = release.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse::<u32>().ok());
    let (major, minor) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
    if (major, minor) >= (5, 8) {
        Check::ok("kernel", format!("Linux {release}"))
    } else {
        Check::bad("kernel", Verdict::Fail, format!("Linux {release}"), "shrike needs Linux 5.8 or newer (BPF ring buffer, BTF tracepoints)")
    }
}

fn privileges_check() -> Check {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let eff = match privileges::effective() {
        Ok(e) => e,
        Err(e) => return Check::bad("privileges", Verdict::Fail, e, "run as root"),
    };
    let mut names: Vec<String> = eff.iter().map(|c| c.to_string()).collect();
    names.sort();
    let held = if names.len() >= 38 { "all capabilities".to_string() } else { names.join(" ") };
    let missing = privileges::missing_from(&eff);
    if missing.is_empty() {
        Check::ok("privileges", format!("euid {euid}, {held}"))
    } else {
        Check::bad("privileges", Verdict::Fail, format!("euid {euid}, {held}"), privileges::Missing(missing).to_string())
    }
}

/// Whether this process has another cgroup namespace than PID 1 (the host's init with hostPID).
fn private_cgroup_ns() -> bool {
    procfs::ns_inode(Path::new("/proc/self/ns/cgroup")) != procfs::ns_inode(Path::new("/proc/1/ns/cgroup"))
}

/// Whether this process runs in a container (as opposed to a host service): another PID
/// namespace than the kernel's first, another cgroup namespace than PID 1's, a cgroup path of a
/// container, or a runtime's marker file.
pub fn in_container() -> bool {
    let own_cgroup = std::fs::read_to_string("/proc/self/cgroup").ok();
    sensor::node_pid_namespace().is_ok_and(|ns| ns.is_some())
        || private_cgroup_ns()
        || own_cgroup.as_deref().and_then(crate::container::cgroup_path::unified_path).and_then(crate::container::parse_cgroup_path).is_some()
        || Path::new("/.dockerenv").exists()
        || Path::new("/run/.containerenv").exists()
}

fn pid_namespace_check() -> Check {
    let name = "pid-namespace";
    let own = match sensor::node_pid_namespace() {
        Err(e) => return Check::bad(name, Verdict::Warn, format!("cannot read /proc/self/ns/pid: {e}"), "mount procfs at /proc"),
        Ok(None) => return Check::ok(name, "the kernel's initial PID namespace (the host's; hostPID in a pod)"),
        Ok(Some(own)) => own,
    };
    let init = std::fs::read_to_string("/proc/1/comm").map(|s| s.trim().to_string()).unwrap_or_default();
    if init == "shrike" || init == "pause" || std::process::id() == 1 {
        return Check::bad(
            name,
            Verdict::Fail,
            format!("a PID namespace of its own (pid 1 is {init:?}): the agent's /proc shows only its pod"),
            "run the pod with hostPID: true (the DaemonSet does), or the service in the host's PID namespace",
        );
    }
    Check::ok(
        name,
        format!("a nested node's PID namespace (pid:[{own}], pid 1 is {init:?}, as on kind): only processes of this node are reported, with this node's pids"),
    )
}

fn cgroup_tree_check() -> Check {
    let name = "cgroup-tree";
    let Some(mount) = procfs::cgroup2_mount(Path::new("/proc")) else {
        return Check::bad(name, Verdict::Warn, "no cgroup2 mount", "see cgroup-v2");
    };
    let ns = if private_cgroup_ns() { "; this process has a private cgroup namespace, container ids come from the tree by cgroup id" } else { "" };
    // Only a hierarchy's root cgroup has no cgroup.type.
    if mount.join("cgroup.type").exists() {
        return Check::bad(
            name,
            Verdict::Warn,
            format!("{} is a sub-tree of the cgroup hierarchy (the container's own){ns}", mount.display()),
            "mount the host's /sys/fs/cgroup over the container's (the DaemonSet does); without the whole tree other containers' processes are not mapped to their containers",
        );
    }
    Check::ok(name, format!("{} is the root of the host's cgroup2 hierarchy{ns}", mount.display()))
}

fn spool_check(config: &Config) -> Check {
    let name = "spool";
    let s = &config.sinks;
    let network = !s.webhook.is_empty() || s.scc.enabled() || s.pubsub.enabled();
    let dir = &s.spool_dir;
    let mut existing = dir.as_path();
    while !existing.exists() {
        match existing.parent() {
            Some(p) => existing = p,
            None => break,
        }
    }
    let Ok(c) = std::ffi::CString::new(existing.as_os_str().as_encoded_bytes()) else {
        return Check::bad(name, Verdict::Warn, format!("{} is not a usable path", dir.display()), "set [sinks] spool_dir");
    };
    // SAFETY: a valid NUL-terminated path and a zeroed statfs buffer.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    let fs_type = if unsafe { libc::statfs(c.as_ptr(), &mut st) } == 0 { st.f_type as i64 } else { 0 };
    // SAFETY: a valid NUL-terminated path.
    let writable = unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0;
    const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;
    let verdict = if network { Verdict::Fail } else { Verdict::Warn };
    if !writable {
        return Check::bad(
            name,
            verdict,
            format!("{} is not writable ({} is read-only or not ours)", dir.display(), existing.display()),
            "make [sinks] spool_dir writable: in a pod mount a hostPath there (the DaemonSet mounts /var/lib/shrike)",
        );
    }
    if fs_type == OVERLAYFS_SUPER_MAGIC && in_container() {
        return Check::bad(
            name,
            Verdict::Warn,
            format!("{} is on the container's own writable layer: findings waiting there are lost with the container", dir.display()),
            "mount a hostPath at the spool directory (the DaemonSet mounts /var/lib/shrike)",
        );
    }
    Check::ok(name, format!("{} writable{}", dir.display(), if network { "" } else { " (used by network sinks; none configured)" }))
}

fn node_name_check(config: &Config) -> Check {
    let name = "node-name";
    let node = config.node_name();
    if !config.node.name.is_empty() {
        return Check::ok(name, format!("{node} ([node] name)"));
    }
    if std::env::var("NODE_NAME").is_ok_and(|n| !n.is_empty()) {
        return Check::ok(name, format!("{node} ($NODE_NAME)"));
    }
    if in_container() {
        return Check::bad(
            name,
            Verdict::Warn,
            format!("{node} (this container's hostname)"),
            "set NODE_NAME from the downward API (fieldRef spec.nodeName; the DaemonSet does) or [node] name",
        );
    }
    Check::ok(name, format!("{node} (the host name)"))
}

fn btf_check() -> Check {
    let path = "/sys/kernel/btf/vmlinux";
    match sensor::btf::Btf::from_sys().and_then(|b| sensor::btf::resolve_kernel_offsets(&b)) {
        Ok(_) => Check::ok("btf", format!("{path} present; all kernel struct offsets resolved")),
        Err(e) if !Path::new(path).exists() => Check::bad(
            "btf",
            Verdict::Fail,
            format!("{path} missing ({e})"),
            "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (all major distributions and GKE COS since 5.x have it)",
        ),
        Err(e) => Check::bad("btf", Verdict::Fail, e.to_string(), "this kernel's layout is not understood; please report it with `uname -r`"),
    }
}

fn feature_check(name: &'static str, supported: Result<bool, String>, what: &str) -> Check {
    match supported {
        Ok(true) => Check::ok(name, format!("{what} supported")),
        Ok(false) => Check::bad(name, Verdict::Fail, format!("{what} not supported"), "shrike needs Linux 5.8+ with BPF enabled (CONFIG_BPF_SYSCALL)"),
        Err(e) => Check::bad(name, Verdict::Fail, format!("could not probe {what}: {e}"), "run as root"),
    }
}

fn cgroup_check() -> Check {
    match procfs::cgroup2_mount(Path::new("/proc")) {
        Some(m) => Check::ok("cgroup-v2", format!("cgroup2 mounted at {}", m.display())),
        None => Check::bad(
            "cgroup-v2",
            Verdict::Warn,
            "no cgroup2 mount",
            "mount cgroup2 (e.g. `mount -t cgroup2 none /sys/fs/cgroup/unified`); without it processes cannot be mapped to containers",
        ),
    }
}

fn runtime_check(config: &Config) -> Check {
    let endpoint = config.container.endpoint();
    let Some(socket) = endpoint.current().filter(|s| s.exists()) else {
        return Check::bad(
            "container-runtime",
            Verdict::Warn,
            format!("no runtime socket: {endpoint}"),
            "on a Kubernetes node mount the directory of the runtime socket into the agent (a socket that appears later is picked up) or set container.runtime_endpoint; on a plain host this is expected: events flow without pod metadata",
        );
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return Check::bad("container-runtime", Verdict::Fail, format!("no async runtime: {e}"), "report this"),
    };
    let timeout = std::time::Duration::from_millis(config.container.cri_timeout_ms);
    let answer = rt.block_on(async {
        let mut c = CriClient::connect(socket.clone(), timeout).await?;
        c.version().await
    });
    match answer {
        Ok(v) => Check::ok("container-runtime", format!("{v} at {}", socket.display())),
        Err(e) => Check::bad(
            "container-runtime",
            Verdict::Warn,
            format!("{} does not answer CRI: {e}", socket.display()),
            "start the container runtime (and its CRI plugin); shrike retries with backoff and events flow meanwhile with container ids only",
        ),
    }
}

fn sensor_check() -> Check {
    let cfg = sensor::SensorConfig { ring_buffer_bytes: 1 << 20, ..Default::default() };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_io().build() {
        Ok(rt) => rt,
        Err(e) => return Check::bad("probes", Verdict::Fail, format!("no async runtime: {e}"), "report this"),
    };
    match rt.block_on(async { sensor::Sensor::start(&cfg).map(drop) }) {
        Ok(_) => Check::ok("probes", "every eBPF program loaded and attached (then detached)"),
        Err(e) => Check::bad("probes", Verdict::Fail, format!("{e}"), "see the error; `SHRIKE_LOG=debug shrike run` shows the verifier log"),
    }
}

/// Run every check.
pub fn run_checks(config: &Config) -> Vec<Check> {
    vec![
        kernel_check(),
        privileges_check(),
        btf_check(),
        feature_check("ring-buffer", sensor::ring_buffer_supported(), "BPF ring buffer"),
        cgroup_check(),
        cgroup_tree_check(),
        pid_namespace_check(),
        runtime_check(config),
        spool_check(config),
        node_name_check(config),
        sensor_check(),
    ]
}

/// Print checks as a table; returns true when none failed.
pub fn print(checks: &[Check], out: &mut impl std::io::Write) -> std::io::Result<bool> {
    for c in checks {
        writeln!(out, "{:<4} {:<18} {}", c.verdict, c.name, c.detail)?;
        if let Some(a) = &c.advice {
            writeln!(out, "     {:<18} -> {}", "", a)?;
        }
    }
    Ok(checks.iter().all(|c| c.verdict != Verdict::Fail))
}
