//! `shrike doctor`: can this host run the agent? Each check has a plain verdict and, when it is
//! not fine, what to do about it.

use std::{fmt, path::Path};

use aya::{maps::MapType, programs::ProgramType};

use crate::{config::Config, container::cri::CriClient, process::procfs, sensor};

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

/// Container runtime sockets looked for, in order.
pub const RUNTIME_SOCKETS: &[&str] =
    &["/run/containerd/containerd.sock", "/run/crio/crio.sock", "/var/run/crio/crio.sock", "/run/k3s/containerd/containerd.sock"];

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
    let caps = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("CapEff:").map(|v| v.trim().to_string())))
        .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
        .unwrap_or(0);
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    const CAP_PERFMON: u64 = 1 << 38;
    const CAP_BPF: u64 = 1 << 39;
    let has = |c| caps & c != 0;
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)) {
        Check::ok("privileges", format!("euid {euid}, CapEff {caps:#x}"))
    } else {
        Check::bad(
            "privileges",
            Verdict::Fail,
            format!("euid {euid}, CapEff {caps:#x}"),
            "run as root, or grant CAP_BPF + CAP_PERFMON + CAP_SYS_RESOURCE (+ CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH to read /proc of other processes)",
        )
    }
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

fn tracefs_check() -> Check {
    let mounted = sensor::TRACEFS_PATHS.iter().find(|p| Path::new(p).join("events").is_dir());
    match mounted {
        Some(p) => Check::ok("tracefs", format!("mounted at {p}")),
        None => Check::bad(
            "tracefs",
            Verdict::Warn,
            "not mounted",
            "shrike mounts it at /sys/kernel/tracing on start; in a container, mount the host's /sys/kernel/tracing or run privileged",
        ),
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
    let socket = config.container.socket_path();
    if !socket.exists() {
        return Check::bad(
            "container-runtime",
            Verdict::Warn,
            format!("{} not found (also looked for {})", socket.display(), RUNTIME_SOCKETS.join(", ")),
            "on a Kubernetes node mount the runtime socket into the agent and set container.runtime_endpoint; on a plain host this is expected: events flow without pod metadata",
        );
    }
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
        tracefs_check(),
        feature_check("ring-buffer", aya::sys::is_map_supported(MapType::RingBuf).map_err(|e| e.to_string()), "BPF ring buffer"),
        feature_check("tracepoints", aya::sys::is_program_supported(ProgramType::TracePoint).map_err(|e| e.to_string()), "tracepoint programs"),
        cgroup_check(),
        runtime_check(config),
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
