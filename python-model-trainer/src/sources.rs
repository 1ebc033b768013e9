//! Benign scripts of the kind that run in containers, from pinned artifacts
//! (training/python/benign-sources.tsv, written by training/python/pin_benign_sources.py):
//! the Python programs of Debian packages (operations tools, agents, backup and CI programs)
//! and the `scripts/`, `bin/`, `tools/`, `examples/`, `demos/`, `contrib/` files and `setup.py`
//! of PyPI source distributions.
//!
//! Each artifact is downloaded once into a cache directory (`apt-get download` for a Debian
//! package, `curl` for a PyPI sdist), checked against its pinned SHA-256 — a mismatch is an
//! error, never a silent change of the training data — and read in memory: nothing is unpacked,
//! installed, imported or run.
//!
//! Besides the script files, every text file of an artifact (shell scripts, Makefiles, CI and
//! tox configuration, Dockerfiles, documents, argument lists in Python) is searched for code
//! passed to `python -c`: the one-liners that run in containers' entrypoints, health checks and
//! build steps.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::corpus::{content_key, RawDoc, Source};

/// Files larger than this are skipped (data, not scripts).
const MAX_FILE: usize = 1 << 20;
/// At most this many files of one project: large projects (ansible, awscli) must not drown the
/// small ones.
pub const PER_PROJECT: usize = 300;
/// At most this many `python -c` bodies of one project (a test suite can hold a hundred).
pub const PER_PROJECT_ONE_LINERS: usize = 30;

/// Directories of a source distribution whose Python files are scripts, not the library.
const SCRIPT_DIRS: &[&str] = &["scripts", "script", "bin", "tools", "tool", "examples", "example", "demos", "demo", "contrib", "utils", "samples", "sample"];

/// One pinned artifact.
#[derive(Clone, Debug)]
pub struct Pin {
    pub kind: String,
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub source: String,
}

/// What was read.
#[derive(Default)]
pub struct SourcesStats {
    pub artifacts: usize,
    pub debian: usize,
    pub pypi: usize,
    pub files: usize,
    /// `python -c` bodies found in the artifacts' files ([`python_c_code`]).
    pub one_liners: usize,
    pub capped: usize,
    pub duplicates: usize,
}

pub fn read_pins(path: &Path) -> Result<Vec<Pin>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut pins = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 5 || !matches!(f[0], "deb" | "pypi") || f[3].len() != 64 {
            bail!("{}:{}: expected `deb|pypi NAME VERSION SHA256 SOURCE` separated by tabs", path.display(), n + 1);
        }
        pins.push(Pin { kind: f[0].into(), name: f[1].into(), version: f[2].into(), sha256: f[3].to_ascii_lowercase(), source: f[4].into() });
    }
    Ok(pins)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The artifact's bytes: from the cache, else downloaded into it; checked against the pin.
fn fetch(pin: &Pin, cache: &Path) -> Result<Vec<u8>> {
    let file = cache.join(pin.source.rsplit('/').next().unwrap_or(&pin.name));
    if !file.is_file() {
        std::fs::create_dir_all(cache)?;
        let partial = file.with_extension("partial");
        let status = match pin.kind.as_str() {
            "deb" => {
                let dir = cache.join(format!("apt-{}", pin.name));
                std::fs::create_dir_all(&dir)?;
                let st = Command::new("apt-get")
                    .current_dir(&dir)
                    .arg("download")
                    .arg(format!("{}={}", pin.name, pin.version))
                    .status()
                    .context("running apt-get download")?;
                if st.success() {
                    let got = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.extension().is_some_and(|e| e == "deb"));
                    match got {
                        Some(p) => std::fs::rename(&p, &partial)?,
                        None => bail!("apt-get download {} left no .deb", pin.name),
                    }
                    let _ = std::fs::remove_dir_all(&dir);
                }
                st
            }
            _ => Command::new("curl")
                .args(["-fsSL", "--retry", "2", "--max-time", "600", "-o"])
                .arg(&partial)
                .arg(&pin.source)
                .status()
                .context("running curl")?,
        };
        if !status.success() {
            bail!("downloading {} {} failed: {status}", pin.name, pin.version);
        }
        std::fs::rename(&partial, &file)?;
    }
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let got = sha256_hex(&bytes);
    if got != pin.sha256 {
        bail!("{} {}: {} has SHA-256 {got}, the pin says {} (delete it to download again, or re-pin)", pin.name, pin.version, file.display(), pin.sha256);
    }
    Ok(bytes)
}

fn python_shebang(bytes: &[u8]) -> bool {
    let line = bytes.split(|&c| c == b'\n').next().unwrap_or_default();
    line.starts_with(b"#!") && line.windows(6).any(|w| w == b"python")
}

fn is_py(path: &str) -> bool {
    path.ends_with(".py") || path.ends_with(".pyw")
}

/// Every regular file of a Debian package's data archive, up to [`MAX_FILE`] bytes each.
fn deb_files(deb: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let out = Command::new("dpkg-deb").arg("--fsys-tarfile").arg(deb).output().context("running dpkg-deb")?;
    if !out.status.success() {
        bail!("dpkg-deb --fsys-tarfile {}: {}", deb.display(), String::from_utf8_lossy(&out.stderr));
    }
    tar_files(out.stdout.as_slice(), |p| p.trim_start_matches("./").to_string())
}

fn tar_files(reader: impl Read, name: impl Fn(&str) -> String) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut ar = tar::Archive::new(reader);
    for e in ar.entries()? {
        let mut e = e?;
        if !e.header().entry_type().is_file() || e.size() as usize > MAX_FILE {
            continue;
        }
        let path = name(&e.path()?.to_string_lossy());
        let mut bytes = Vec::with_capacity(e.size() as usize);
        e.read_to_end(&mut bytes)?;
        files.push((path, bytes));
    }
    Ok(files)
}

/// Every regular file of a source distribution (`.tar.gz` or `.zip`), up to [`MAX_FILE`] bytes.
fn sdist_files(name: &str, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    if !name.ends_with(".zip") {
        return tar_files(flate2::read::GzDecoder::new(bytes), |p| p.to_string());
    }
    let mut files = Vec::new();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    for i in 0..z.len() {
        let mut f = z.by_index(i)?;
        if !f.is_file() || f.size() as usize > MAX_FILE {
            continue;
        }
        let path = f.name().to_string();
        let mut b = Vec::new();
        f.read_to_end(&mut b)?;
        files.push((path, b));
    }
    Ok(files)
}

/// A Python program or module of a Debian package.
fn deb_script(path: &str, bytes: &[u8]) -> bool {
    let in_bin = ["usr/bin/", "usr/sbin/", "usr/share/", "usr/lib/"].iter().any(|d| path.starts_with(d));
    is_py(path) || in_bin && python_shebang(bytes)
}

/// A script of a source distribution: `setup.py` and its helpers (`setupext.py`,
/// `setupbase.py`), or a Python file under a script directory (`scripts/x.py`,
/// `docs/examples/x.py`).
fn sdist_script(path: &str, bytes: &[u8]) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let wanted = parts.len() == 2 && parts[1].starts_with("setup") && parts[1].ends_with(".py")
        || parts.len() > 2 && parts[1..parts.len() - 1].iter().any(|d| SCRIPT_DIRS.contains(d));
    wanted && (is_py(path) || python_shebang(bytes))
}

/// Code passed to `python -c` in a text file: in a shell script, Makefile, CI or tox
/// configuration, Dockerfile or document (`python3 -c "import sys; print(sys.prefix)"`), or in
/// a Python argument list (`[sys.executable, "-c", "import os; ..."]`). Kept when it parses as
/// Python and imports or calls something.
pub fn python_c_code(text: &[u8]) -> Vec<String> {
    static PATTERNS: std::sync::OnceLock<[regex::bytes::Regex; 2]> = std::sync::OnceLock::new();
    let [shell, args] = PATTERNS.get_or_init(|| {
        [
            regex::bytes::Regex::new(r#"python[0-9.]*(?:\.exe)?[ \t]+(?:-[A-Za-z]+[ \t]+)*-c[ \t]+(?:"((?:[^"\\\n]|\\.)+)"|'([^'\n]+)')"#).unwrap(),
            regex::bytes::Regex::new(r#"["']-c["'][ \t]*,[ \t\n]*(?:"((?:[^"\\\n]|\\.)+)"|'((?:[^'\\\n]|\\.)+)')"#).unwrap(),
        ]
    });
    if text.iter().take(4096).any(|&c| c == 0) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (re, python_literal) in [(shell, false), (args, true)] {
        for c in re.captures_iter(text) {
            let (quoted, double) = match (c.get(1), c.get(2)) {
                (Some(m), _) => (m.as_bytes(), true),
                (None, Some(m)) => (m.as_bytes(), false),
                _ => continue,
            };
            if !(6..=800).contains(&quoted.len()) {
                continue;
            }
            let code = unescape(quoted, python_literal, double);
            let trimmed = code.trim();
            if trimmed.starts_with('-') || !(trimmed.contains("import") || trimmed.contains('(')) {
                continue;
            }
            if ruff_python_parser::parse_module(trimmed).is_ok() {
                out.push(trimmed.to_string());
            }
        }
    }
    out
}

/// The text of a quoted `-c` argument: shell double quotes drop the backslash before `"`, `\`,
/// `$` and a backquote (single quotes keep everything); a Python literal decodes `\n`, `\t` and
/// escaped quotes and backslashes.
fn unescape(quoted: &[u8], python_literal: bool, double: bool) -> String {
    let text = String::from_utf8_lossy(quoted);
    if !python_literal && !double {
        return text.into_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match (chars.next(), python_literal) {
            (Some(n @ ('"' | '\\' | '$' | '`')), false) => out.push(n),
            (Some(n @ ('"' | '\'' | '\\')), true) => out.push(n),
            (Some('n'), true) => out.push('\n'),
            (Some('t'), true) => out.push('\t'),
            (Some(n), _) => {
                out.push('\\');
                out.push(n);
            }
            (None, _) => out.push('\\'),
        }
    }
    out
}

/// The project's split group: the same naming as installed packages (`pkg:name`), so that a
/// project installed here and fetched as a source lands in one split.
pub fn group_of(name: &str) -> String {
    let n = name.strip_prefix("python3-").unwrap_or(name);
    format!("pkg:{}", n.to_ascii_lowercase().replace('-', "_"))
}

/// Every pinned artifact's scripts, de-duplicated against `known` contents (and each other),
/// at most [`PER_PROJECT`] per project (a deterministic pick).
pub fn load(pins_path: &Path, cache: &Path, known: &HashSet<(u64, usize)>) -> Result<(Vec<RawDoc>, SourcesStats)> {
    let pins = read_pins(pins_path)?;
    let mut stats = SourcesStats { artifacts: pins.len(), ..Default::default() };
    let mut seen: HashSet<(u64, usize)> = known.clone();
    let mut docs = Vec::new();
    for pin in &pins {
        let bytes = fetch(pin, cache)?;
        let file = cache.join(pin.source.rsplit('/').next().unwrap_or(&pin.name));
        let files = if pin.kind == "deb" {
            stats.debian += 1;
            deb_files(&file)?
        } else {
            stats.pypi += 1;
            sdist_files(&pin.source, &bytes)?
        };
        let mut scripts: Vec<RawDoc> = Vec::new();
        let mut one_liners: Vec<RawDoc> = Vec::new();
        let doc = |name: String, bytes: Vec<u8>| RawDoc {
            source: Source::Scripts,
            name,
            group: group_of(&pin.name),
            paths: 1,
            all_groups: Vec::new(),
            weak: false,
            bytes,
        };
        for (path, bytes) in files {
            for (n, code) in python_c_code(&bytes).into_iter().enumerate() {
                if seen.insert(content_key(code.as_bytes())) {
                    one_liners.push(doc(format!("{}:{}-{}!{path} -c#{}", pin.kind, pin.name, pin.version, n + 1), code.into_bytes()));
                }
            }
            let script = if pin.kind == "deb" { deb_script(&path, &bytes) } else { sdist_script(&path, &bytes) };
            if !script || bytes.trim_ascii().is_empty() {
                continue;
            }
            if !seen.insert(content_key(&bytes)) {
                stats.duplicates += 1;
                continue;
            }
            scripts.push(doc(format!("{}:{}-{}!{path}", pin.kind, pin.name, pin.version), bytes));
        }
        for (v, cap) in [(&mut scripts, PER_PROJECT), (&mut one_liners, PER_PROJECT_ONE_LINERS)] {
            if v.len() > cap {
                v.sort_by_key(|d| (crate::corpus::bucket100("pick", &d.name), d.name.clone()));
                stats.capped += v.len() - cap;
                v.truncate(cap);
            }
        }
        stats.files += scripts.len();
        stats.one_liners += one_liners.len();
        docs.extend(scripts);
        docs.extend(one_liners);
    }
    docs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((docs, stats))
}

/// Where downloaded artifacts are kept.
pub fn cache_dir(root: &Path) -> PathBuf {
    root.join("target/python-training/sources")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_python_c_code_in_shell_and_argument_lists() {
        let text = br#"
RUN python3 -c "import sys; print(\"py%s\" % sys.version_info[0])"
HEALTHCHECK CMD python -u -c 'import socket; s=socket.socket(); s.connect(("localhost", 8000))'
out = subprocess.check_output([sys.executable, "-c", "import json, sys\nprint(json.dumps(sys.path))"])
parser.add_argument("-c", "--config")
python -c "this is not python ("
"#;
        let got = python_c_code(text);
        assert_eq!(
            got,
            [
                r#"import sys; print("py%s" % sys.version_info[0])"#,
                r#"import socket; s=socket.socket(); s.connect(("localhost", 8000))"#,
                "import json, sys\nprint(json.dumps(sys.path))",
            ]
        );
    }

    #[test]
    fn binary_files_and_short_or_flag_arguments_are_not_code() {
        assert!(python_c_code(b"\0\0python -c \"import os\"").is_empty());
        assert!(python_c_code(b"python -c \"x\"").is_empty());
        assert!(python_c_code(b"[\"-c\", \"--verbose\"]").is_empty());
    }

    #[test]
    fn script_files_of_an_sdist() {
        assert!(sdist_script("p-1.0/setup.py", b""));
        assert!(sdist_script("p-1.0/setupext.py", b""));
        assert!(sdist_script("p-1.0/docs/examples/demo.py", b""));
        assert!(sdist_script("p-1.0/bin/tool", b"#!/usr/bin/env python3\n"));
        assert!(!sdist_script("p-1.0/p/core.py", b""));
        assert!(!sdist_script("p-1.0/bin/tool.sh", b"#!/bin/sh\n"));
    }
}
