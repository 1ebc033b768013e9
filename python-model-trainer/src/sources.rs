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

/// Members of a Debian package that are Python programs or modules.
fn deb_members(deb: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let out = Command::new("dpkg-deb").arg("--fsys-tarfile").arg(deb).output().context("running dpkg-deb")?;
    if !out.status.success() {
        bail!("dpkg-deb --fsys-tarfile {}: {}", deb.display(), String::from_utf8_lossy(&out.stderr));
    }
    let mut members = Vec::new();
    let mut ar = tar::Archive::new(out.stdout.as_slice());
    for e in ar.entries()? {
        let mut e = e?;
        if !e.header().entry_type().is_file() || e.size() as usize > MAX_FILE {
            continue;
        }
        let path = e.path()?.to_string_lossy().trim_start_matches("./").to_string();
        let in_bin = path.starts_with("usr/bin/") || path.starts_with("usr/sbin/") || path.starts_with("usr/share/") || path.starts_with("usr/lib/");
        if !is_py(&path) && !in_bin {
            continue;
        }
        let mut bytes = Vec::with_capacity(e.size() as usize);
        e.read_to_end(&mut bytes)?;
        if is_py(&path) || python_shebang(&bytes) {
            members.push((path, bytes));
        }
    }
    Ok(members)
}

/// Script members of a source distribution (`.tar.gz` or `.zip`).
fn sdist_members(name: &str, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let wanted = |path: &str| {
        let parts: Vec<&str> = path.split('/').collect();
        // project-1.0/setup.py, project-1.0/scripts/x.py, project-1.0/docs/examples/x.py
        parts.len() == 2 && parts[1] == "setup.py" || parts.len() > 2 && parts[1..parts.len() - 1].iter().any(|d| SCRIPT_DIRS.contains(d))
    };
    let mut members = Vec::new();
    if name.ends_with(".zip") {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
        for i in 0..z.len() {
            let mut f = z.by_index(i)?;
            let path = f.name().to_string();
            if !f.is_file() || f.size() as usize > MAX_FILE || !wanted(&path) {
                continue;
            }
            let mut b = Vec::new();
            f.read_to_end(&mut b)?;
            if is_py(&path) || python_shebang(&b) {
                members.push((path, b));
            }
        }
    } else {
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        for e in ar.entries()? {
            let mut e = e?;
            let path = e.path()?.to_string_lossy().to_string();
            if !e.header().entry_type().is_file() || e.size() as usize > MAX_FILE || !wanted(&path) {
                continue;
            }
            let mut b = Vec::new();
            e.read_to_end(&mut b)?;
            if is_py(&path) || python_shebang(&b) {
                members.push((path, b));
            }
        }
    }
    Ok(members)
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
        let members = if pin.kind == "deb" {
            stats.debian += 1;
            deb_members(&file)?
        } else {
            stats.pypi += 1;
            sdist_members(&pin.source, &bytes)?
        };
        let mut mine: Vec<RawDoc> = Vec::new();
        for (path, bytes) in members {
            if bytes.trim_ascii().is_empty() {
                continue;
            }
            let key = content_key(&bytes);
            if !seen.insert(key) {
                stats.duplicates += 1;
                continue;
            }
            mine.push(RawDoc {
                source: Source::Scripts,
                name: format!("{}:{}-{}!{path}", pin.kind, pin.name, pin.version),
                group: group_of(&pin.name),
                paths: 1,
                all_groups: Vec::new(),
                weak: false,
                bytes,
            });
        }
        if mine.len() > PER_PROJECT {
            mine.sort_by_key(|d| (crate::corpus::bucket100("pick", &d.name), d.name.clone()));
            stats.capped += mine.len() - PER_PROJECT;
            mine.truncate(PER_PROJECT);
        }
        stats.files += mine.len();
        docs.extend(mine);
    }
    docs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((docs, stats))
}

/// Where downloaded artifacts are kept.
pub fn cache_dir(root: &Path) -> PathBuf {
    root.join("target/python-training/sources")
}
