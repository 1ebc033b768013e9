//! Loading the corpora: benign Python installed on this machine, payload files of the malicious
//! PyPI registry (read from the archives in memory only), and the samples under
//! training/python/. Every list is sorted so that a run is reproducible.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Files larger than this are skipped (counted in the report).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Python installed on this machine.
    Installed,
    /// Hard benign samples, training/python/benign/.
    BenignSample,
    /// Payload members of the malicious PyPI registry.
    Malregistry,
    /// Defanged samples, training/python/malicious/.
    Defanged,
    /// Generated benign setup.py files (synth.rs), training only.
    SyntheticSetup,
    /// Scripts of pinned Debian packages and PyPI source distributions (sources.rs).
    Scripts,
    /// Renamed variants of training hard benign samples (augment.rs), training only.
    BenignVariant,
    /// Renamed variants of training defanged samples (augment.rs), training only.
    DefangedVariant,
    /// Installed files and pinned scripts with their entry point run at import time
    /// (`augment::unguarded`), training only.
    Unguarded,
}

impl Source {
    /// The source of a training-only variant made of a document of this source: a renamed or
    /// unguarded copy of a hand-written sample weighs like the sample's renamed variants.
    pub fn variant(self) -> Source {
        match self {
            Source::Defanged | Source::DefangedVariant => Source::DefangedVariant,
            Source::BenignSample | Source::BenignVariant => Source::BenignVariant,
            _ => Source::Unguarded,
        }
    }

    pub fn malicious(self) -> bool {
        matches!(self, Source::Malregistry | Source::Defanged | Source::DefangedVariant)
    }
    pub fn label(self) -> &'static str {
        match self {
            Source::Installed => "installed Python (benign)",
            Source::BenignSample => "hard benign samples",
            Source::Malregistry => "malregistry payload files",
            Source::Defanged => "defanged samples",
            Source::SyntheticSetup => "synthetic benign setup.py (training only)",
            Source::Scripts => "scripts of Debian packages and PyPI sdists (benign)",
            Source::BenignVariant => "renamed variants of hard benign samples (training only)",
            Source::DefangedVariant => "renamed variants of defanged samples (training only)",
            Source::Unguarded => "installed files and scripts with the entry point run at import time (training only)",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "validation",
            Split::Test => "test",
        }
    }
}

/// One document (a unique file content).
pub struct RawDoc {
    pub source: Source,
    /// Display name: first path (installed), repo-relative path (samples), `archive!member`.
    pub name: String,
    /// Split group: package/top directory, template_cluster, or sample family.
    pub group: String,
    /// How many installed paths carry this exact content.
    pub paths: usize,
    /// Malregistry: every template_cluster in which this exact content occurs.
    pub all_groups: Vec<String>,
    /// Malregistry payload file without any capability indicator (see [`has_indicator`]): not
    /// trained on and not in file-level metrics, only scored for package-level recall.
    pub weak: bool,
    pub bytes: Vec<u8>,
}

impl RawDoc {
    /// A training-only variant of this document: `name~suffix`, same group, its own bytes.
    pub fn variant(&self, suffix: &str, bytes: Vec<u8>) -> RawDoc {
        RawDoc {
            source: self.source.variant(),
            name: format!("{}~{suffix}", self.name),
            group: self.group.clone(),
            paths: 1,
            all_groups: Vec::new(),
            weak: false,
            bytes,
        }
    }
}

pub struct InstalledStats {
    pub roots: Vec<String>,
    pub paths: usize,
    pub too_big: usize,
    pub unreadable: usize,
    pub unique: usize,
    pub shebang_scripts: usize,
}

fn fnv(bytes: &[u8]) -> u64 {
    python_model::fnv1a64(bytes)
}

/// Content key for de-duplication: FNV-1a 64 of the bytes plus the length.
pub fn content_key(bytes: &[u8]) -> (u64, usize) {
    (fnv(bytes), bytes.len())
}

/// A module that only imports and binds constants (`from .main import *`, `__all__ = [...]`):
/// it does nothing itself, whatever the modules it imports do.
pub fn only_imports(bytes: &[u8]) -> bool {
    python_model::behaviour::behaviours(bytes).iter().any(|f| f == "imports_only")
}

/// Deterministic number in [0, 100) for a split group.
pub fn bucket100(salt: &str, group: &str) -> u64 {
    let mut h = fnv(format!("{salt}\0{group}").as_bytes());
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h % 100
}

// ------------------------------------------------------------------------------------------------
// installed Python

/// Where installed Python lives on a Debian machine (and under pyenv). Walked without following
/// symbolic links. /work (the repositories and shared data) is never walked.
pub const INSTALLED_ROOTS: &[&str] = &["/usr", "/opt", "/etc", "/root", "/home", "/srv"];

fn is_python_path(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("py") | Some("pyw"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, scripts: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    let in_bin = matches!(dir.file_name().and_then(|n| n.to_str()), Some("bin") | Some("sbin"));
    for e in entries {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() {
            // never the repositories, shared data, build output or virtual file systems
            // (nor Rust crates' sources, whose Python files are test fixtures of parsers)
            if p.starts_with("/work")
                || p.file_name().is_some_and(|n| n == "target" && p.join("CACHEDIR.TAG").exists())
                || p.ends_with(".cargo/registry")
            {
                continue;
            }
            walk(&p, out, scripts);
        } else if ft.is_file() {
            if is_python_path(&p) {
                out.push(p);
            } else if in_bin {
                scripts.push(p);
            }
        }
    }
}

fn python_shebang(p: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(p) else { return false };
    let mut head = [0u8; 128];
    let n = f.read(&mut head).unwrap_or(0);
    let head = &head[..n];
    if !head.starts_with(b"#!") {
        return false;
    }
    let line = head.split(|&c| c == b'\n').next().unwrap_or(b"");
    line.windows(6).any(|w| w == b"python")
}

/// Split group of an installed file: the top-level package or module (version-independent, so
/// the same library under several Python versions or vendored copies stays in one split); the
/// standard test suite is split by test module; anything else by its first directories.
pub fn installed_group(path: &str) -> String {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let mut anchor = None;
    for (i, c) in comps.iter().enumerate() {
        let is_stdlib = i > 0 && comps[i - 1] == "lib" && (c.starts_with("python3") || c.starts_with("python2"));
        if matches!(*c, "site-packages" | "dist-packages" | "third_party" | "_vendor" | "vendor" | "vendored")
            || is_stdlib
        {
            anchor = Some(i);
        }
    }
    let norm = |s: &str| {
        let s = s.strip_suffix(".py").unwrap_or(s);
        s.to_ascii_lowercase().replace('-', "_")
    };
    if let Some(i) = anchor {
        if i + 1 < comps.len() {
            let top = comps[i + 1];
            if i + 2 < comps.len() && matches!(top, "test" | "tests") {
                return format!("pkg:{}/{}", norm(top), norm(comps[i + 2]));
            }
            return format!("pkg:{}", norm(top));
        }
    }
    let dirs = &comps[..comps.len().saturating_sub(1)];
    format!("dir:{}", dirs[..dirs.len().min(6)].join("/"))
}

pub fn load_installed() -> Result<(Vec<RawDoc>, InstalledStats)> {
    let mut files = Vec::new();
    let mut scripts = Vec::new();
    let mut roots = Vec::new();
    for r in INSTALLED_ROOTS {
        let p = Path::new(r);
        if p.is_dir() {
            roots.push(r.to_string());
            walk(p, &mut files, &mut scripts);
        }
    }
    let scripts: Vec<PathBuf> = scripts.into_iter().filter(|p| python_shebang(p)).collect();
    let shebang_scripts = scripts.len();
    files.extend(scripts);
    files.sort();
    files.dedup();

    let mut stats = InstalledStats { roots, paths: files.len(), too_big: 0, unreadable: 0, unique: 0, shebang_scripts };
    let mut seen: HashMap<(u64, usize), usize> = HashMap::new();
    let mut docs: Vec<RawDoc> = Vec::new();
    for p in files {
        let Ok(md) = std::fs::metadata(&p) else {
            stats.unreadable += 1;
            continue;
        };
        if md.len() > MAX_FILE_BYTES {
            stats.too_big += 1;
            continue;
        }
        let Ok(bytes) = std::fs::read(&p) else {
            stats.unreadable += 1;
            continue;
        };
        let key = content_key(&bytes);
        if let Some(&i) = seen.get(&key) {
            docs[i].paths += 1;
            continue;
        }
        let name = p.to_string_lossy().into_owned();
        seen.insert(key, docs.len());
        docs.push(RawDoc {
            source: Source::Installed,
            group: installed_group(&name),
            name,
            paths: 1,
            all_groups: Vec::new(),
            weak: false,
            bytes,
        });
    }
    stats.unique = docs.len();
    Ok((docs, stats))
}

// ------------------------------------------------------------------------------------------------
// malregistry

/// A malregistry package and the content keys of its non-empty payload members.
pub struct MalPackage {
    pub cluster: String,
    pub archive: String,
    pub members: Vec<(u64, usize)>,
    /// The package's other non-empty `*.py` files (not labelled; scored for the package view
    /// only, never trained on), by member name. Emptied once scored.
    pub others: Vec<(String, Vec<u8>)>,
    /// Held-out packages: the highest score among `others` and that file's `archive!member`.
    pub best_other: Option<(f32, String)>,
}

pub struct MalStats {
    pub packages: usize,
    pub clusters: usize,
    pub members_listed: usize,
    pub members_found: usize,
    pub empty: usize,
    pub too_big: usize,
    pub duplicates: usize,
    pub unreadable_archives: usize,
    pub xz_archives: usize,
    pub packages_with_payload: usize,
}

struct ManifestRow {
    archive: String,
    members: Vec<String>,
    cluster: String,
}

/// Parses a JSON list of strings (the manifest's `payload_members`).
fn json_string_list(s: &str) -> Result<Vec<String>> {
    let s = s.trim();
    let inner = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).context("payload_members is not a JSON list")?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some('"') => {}
            Some(c) => bail!("unexpected {c:?} in payload_members"),
        }
        let mut cur = String::new();
        loop {
            match chars.next() {
                None => bail!("unterminated string in payload_members"),
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('u') => {
                        let hex: String = chars.by_ref().take(4).collect();
                        let mut cp = u32::from_str_radix(&hex, 16).context("bad \\u escape")?;
                        if (0xd800..0xdc00).contains(&cp) {
                            // surrogate pair
                            if chars.next() == Some('\\') && chars.next() == Some('u') {
                                let lo: String = chars.by_ref().take(4).collect();
                                let lo = u32::from_str_radix(&lo, 16).context("bad \\u escape")?;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo.wrapping_sub(0xdc00) & 0x3ff);
                            }
                        }
                        cur.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                    }
                    Some('n') => cur.push('\n'),
                    Some('t') => cur.push('\t'),
                    Some('r') => cur.push('\r'),
                    Some('b') => cur.push('\u{8}'),
                    Some('f') => cur.push('\u{c}'),
                    Some(c) => cur.push(c),
                    None => bail!("bad escape in payload_members"),
                },
                Some(c) => cur.push(c),
            }
        }
        out.push(cur);
    }
    Ok(out)
}

fn read_manifest(dir: &Path) -> Result<Vec<ManifestRow>> {
    let path = dir.join("manifest.tsv");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().context("empty manifest")?.split('\t').collect();
    let col =
        |name: &str| header.iter().position(|h| *h == name).with_context(|| format!("manifest lacks column {name}"));
    let (c_arch, c_mem, c_clu) = (col("archive_file")?, col("payload_members")?, col("template_cluster")?);
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let get = |c: usize| f.get(c).copied().with_context(|| format!("manifest line {} is short", n + 2));
        rows.push(ManifestRow {
            archive: get(c_arch)?.to_string(),
            members: json_string_list(get(c_mem)?).with_context(|| format!("manifest line {}", n + 2))?,
            cluster: get(c_clu)?.to_string(),
        });
    }
    rows.sort_by(|a, b| a.archive.cmp(&b.archive));
    Ok(rows)
}

/// One Python file of a registry archive: a payload member the manifest lists, or another `.py` file.
struct ArchiveFile {
    name: String,
    listed: bool,
    /// `None` when over [`MAX_FILE_BYTES`].
    bytes: Option<Vec<u8>>,
}

/// The manifest's payload members of an archive and its other `*.py` files, read in memory.
/// The format is sniffed from the bytes (some `.tar.gz` files of the data set are zip files).
fn archive_members(data: &[u8], wanted: &[String]) -> Result<Vec<ArchiveFile>> {
    let mut out = Vec::new();
    let mut take = |name: String, size: u64, r: &mut dyn Read| -> Result<()> {
        let listed = wanted.contains(&name);
        if !listed && !name.ends_with(".py") {
            return Ok(());
        }
        if size > MAX_FILE_BYTES {
            out.push(ArchiveFile { name, listed, bytes: None });
            return Ok(());
        }
        let mut buf = Vec::with_capacity(size as usize);
        r.take(MAX_FILE_BYTES + 1).read_to_end(&mut buf)?;
        out.push(ArchiveFile { name, listed, bytes: Some(buf) });
        Ok(())
    };
    if data.starts_with(b"PK\x03\x04") {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(data))?;
        for i in 0..z.len() {
            let mut f = z.by_index(i)?;
            if f.is_dir() {
                continue;
            }
            let (n, size) = (f.name().to_string(), f.size());
            take(n, size, &mut f)?;
        }
    } else {
        let reader: Box<dyn Read> =
            if data.starts_with(&[0x1f, 0x8b]) { Box::new(flate2::read::GzDecoder::new(data)) } else { Box::new(data) };
        let mut ar = tar::Archive::new(reader);
        for e in ar.entries()? {
            let mut e = e?;
            if !e.header().entry_type().is_file() {
                continue;
            }
            let (n, size) = (e.path()?.to_string_lossy().into_owned(), e.size());
            take(n, size, &mut e)?;
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The non-empty payload members (`setup.py` / `__init__.py` listed in the manifest) of every
/// package, read from the archives in memory. Nothing is written to disk or executed.
pub fn load_malregistry(dir: &Path) -> Result<(Vec<RawDoc>, Vec<MalPackage>, MalStats)> {
    let rows = read_manifest(dir)?;
    let mut clusters: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *clusters.entry(&r.cluster).or_default() += 1;
    }
    let mut st = MalStats {
        packages: rows.len(),
        clusters: clusters.len(),
        members_listed: rows.iter().map(|r| r.members.len()).sum(),
        members_found: 0,
        empty: 0,
        too_big: 0,
        duplicates: 0,
        unreadable_archives: 0,
        xz_archives: 0,
        packages_with_payload: 0,
    };
    let mut seen: HashMap<(u64, usize), usize> = HashMap::new();
    let mut docs: Vec<RawDoc> = Vec::new();
    let mut packages = Vec::new();
    for r in &rows {
        let path = dir.join("archives").join(&r.archive);
        let data = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            st.xz_archives += 1; // an xz tarball named .tar.gz; no xz decoder is linked
            continue;
        }
        let members = match archive_members(&data, &r.members) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("train-python-model: skipping unreadable archive {}: {e}", r.archive);
                st.unreadable_archives += 1;
                continue;
            }
        };
        let mut pkg = MalPackage {
            cluster: r.cluster.clone(),
            archive: r.archive.clone(),
            members: Vec::new(),
            others: Vec::new(),
            best_other: None,
        };
        for ArchiveFile { name: member, listed, bytes } in members {
            if !listed {
                if let Some(b) = bytes.filter(|b| !blank(b)) {
                    pkg.others.push((member, b));
                }
                continue;
            }
            st.members_found += 1;
            let Some(bytes) = bytes else {
                st.too_big += 1;
                continue;
            };
            if blank(&bytes) {
                st.empty += 1;
                continue;
            }
            let key = content_key(&bytes);
            pkg.members.push(key);
            if let Some(&i) = seen.get(&key) {
                st.duplicates += 1;
                if !docs[i].all_groups.contains(&r.cluster) {
                    docs[i].all_groups.push(r.cluster.clone());
                }
                continue;
            }
            seen.insert(key, docs.len());
            docs.push(RawDoc {
                source: Source::Malregistry,
                name: format!("{}!{}", r.archive, member),
                group: r.cluster.clone(),
                paths: 1,
                all_groups: vec![r.cluster.clone()],
                weak: !has_indicator(&bytes),
                bytes,
            });
        }
        st.packages_with_payload += !pkg.members.is_empty() as usize;
        packages.push(pkg);
    }
    Ok((docs, packages, st))
}

/// Whitespace only (an empty payload member).
fn blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|c| c.is_ascii_whitespace())
}

/// Label cleaning for the registry: several percent of the non-empty `setup.py`/`__init__.py` payload
/// members are plain boilerplate (`from .x import y`, a bare `setup(name=…)`) next to the file
/// that really carries the payload. A member is labelled malicious only when it shows at least
/// one word of a capability that malware needs or of host/credential discovery
/// ([`CAPABILITY_WORDS`] or [`BROAD_WORDS`], case-insensitive substrings, or runs of `\x`
/// escapes / `chr(` calls).
pub fn has_indicator(bytes: &[u8]) -> bool {
    let lower = bytes.to_ascii_lowercase();
    !capabilities_in(&lower).is_empty() || !words_in(&lower, BROAD_WORDS).is_empty()
}

/// Capabilities a payload needs, as case-insensitive substrings: running or decoding code,
/// starting processes, talking to the network or a chat/paste service, dropping or persisting,
/// reading a named secret store; or runs of `\x` escapes / `chr(` calls (obfuscation).
pub const CAPABILITY_WORDS: &[&str] = &[
    // run or decode code
    "exec(", "exec (", "exec \"", "exec '", "execv", "execl", "eval(", "eval (", "__import__", "marshal.loads",
    "zlib.decompress", "lzma.decompress", "bz2.decompress", "b64decode", "b32decode", "b85decode", "a85decode",
    "fromhex", "unhexlify", "codecs.decode",
    // processes
    "subprocess", "os.system", "popen", "os.spawn", "pty.spawn", "import pty", "dup2", "startfile",
    // network
    "socket", "urlopen", "urlretrieve", "urllib.request", "urllib2", "requests.get", "requests.post", "requests.put",
    "requests.request", "requests.session", "http.client", "httplib", "httpx", "aiohttp", "webhook", "discord",
    "telegram", "ngrok", "pastebin", ".onion", "smtp", "ftplib", "paramiko",
    // droppers, persistence
    "powershell", "cmd.exe", "curl", "wget", "chmod", "crontab", ".bashrc", "winreg", "currentversion\\run", "schtasks",
    // secret stores, spying
    "login data", "local state", "leveldb", "id_rsa", ".aws/credentials", "/etc/shadow", "keylog", "pynput",
    "imagegrab", "screenshot", "clipboard",
];

/// Words of discovery and context that [`has_indicator`] accepts too, although ordinary library
/// code is full of them (a `#!/usr/bin/env` line, `os.environ`, `token`, an `import urllib3`).
pub const BROAD_WORDS: &[&str] = &[
    "compile(", "marshal", "zlib", "lzma", "bz2", "base64", "codecs", "urllib", "requests", "/bin/", "getenv",
    "environ", "getpass", "gethostname", "getuser", "getlogin", "platform.", "uname", "cmdclass", "fernet", "ctypes",
    "webbrowser", "sqlite3", "cookies", "appdata", "startup", "ssh", ".exe", "pyinstaller", "win32", "registry",
    "wallet", "token", "password", "passwd", "shadow", "pty.",
];

/// The [`CAPABILITY_WORDS`] found in a file (`\\x*4` / `chr*5` for escape or `chr(` runs).
pub fn capabilities(bytes: &[u8]) -> Vec<&'static str> {
    capabilities_in(&bytes.to_ascii_lowercase())
}

/// [`capabilities`] of lower-cased bytes.
fn capabilities_in(lower: &[u8]) -> Vec<&'static str> {
    let mut v = words_in(lower, CAPABILITY_WORDS);
    let count = |n: &[u8]| lower.windows(n.len()).filter(|w| *w == n).count();
    if count(b"\\x") >= 4 {
        v.push("\\x*4");
    }
    if count(b"chr(") >= 5 {
        v.push("chr*5");
    }
    v
}

/// The words of `list` that occur in lower-cased bytes.
fn words_in(lower: &[u8], list: &[&'static str]) -> Vec<&'static str> {
    list.iter().copied().filter(|n| lower.windows(n.len()).any(|w| w == n.as_bytes())).collect()
}

/// Substantive source lines: trimmed, not comments, at least 8 bytes long (so `else:`, `)` or
/// `return x` say nothing about where a file comes from).
fn substantive_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|&c| c == b'\n').map(|l| l.trim_ascii()).filter(|l| l.len() >= 8 && !l.starts_with(b"#"))
}

/// Hash of a source line that ignores spacing and the choice of quote (`'` or `"`), so that a
/// copy reformatted by a linter still counts as the same line.
fn line_key(line: &[u8]) -> u64 {
    python_model::fnv1a64_of(
        line.iter().filter(|c| !c.is_ascii_whitespace()).map(|&c| if c == b'\'' { b'"' } else { c }),
    )
}

/// Every substantive line of the installed (benign) corpus, by hash: tells how much of a registry
/// payload member is verbatim library code (reported for the held-out misses).
pub struct LibraryLines(std::collections::HashSet<u64>);

impl LibraryLines {
    pub fn new<'a>(files: impl Iterator<Item = &'a [u8]>) -> LibraryLines {
        let mut set = std::collections::HashSet::new();
        for f in files {
            set.extend(substantive_lines(f).map(line_key));
        }
        LibraryLines(set)
    }

    /// (substantive lines, of which found in some installed file).
    pub fn overlap(&self, bytes: &[u8]) -> (usize, usize) {
        substantive_lines(bytes).fold((0, 0), |(n, k), l| (n + 1, k + self.0.contains(&line_key(l)) as usize))
    }

    /// The [`capabilities`] of the code lines that are *not* verbatim installed library code
    /// (comment lines skipped). Empty for a typosquat's unchanged copy of a real `setup.py`
    /// whose `exec(f.read(), about)` and `os.system("twine upload …")` are upstream's own.
    pub fn novel_capabilities(&self, bytes: &[u8]) -> Vec<&'static str> {
        let mut novel = Vec::new();
        for l in bytes.split(|&c| c == b'\n').map(|l| l.trim_ascii()) {
            if l.is_empty() || l.starts_with(b"#") || self.0.contains(&line_key(l)) {
                continue;
            }
            novel.extend(l.iter().map(u8::to_ascii_lowercase));
            novel.push(b'\n');
        }
        capabilities_in(&novel)
    }
}

// ------------------------------------------------------------------------------------------------
// samples written for training

/// `training/python/{malicious,benign}/<family>_<anything>.py`, one sample per file, and
/// `<family>_<anything>.lines`, one sample per line (`python -c` bodies; lines that are empty or
/// start with `#` are skipped). The family is the file name up to the first `_`.
pub fn load_samples(root: &Path, sub: &str, source: Source) -> Result<Vec<RawDoc>> {
    let dir = root.join("training/python").join(sub);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_python_path(p) || p.extension().is_some_and(|e| e == "lines"))
        .collect();
    paths.sort();
    let mut docs = Vec::new();
    for p in paths {
        let bytes = std::fs::read(&p)?;
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        let family = file.split(['_', '.']).next().unwrap_or(&file).to_string();
        let name = format!("training/python/{sub}/{file}");
        let doc = |name: String, bytes: Vec<u8>| RawDoc {
            source,
            name,
            group: family.clone(),
            paths: 1,
            all_groups: Vec::new(),
            weak: false,
            bytes,
        };
        if file.ends_with(".lines") {
            for (n, line) in bytes.split(|&c| c == b'\n').enumerate() {
                let t = line.trim_ascii();
                if t.is_empty() || t.starts_with(b"#") {
                    continue;
                }
                docs.push(doc(format!("{name}:{}", n + 1), t.to_vec()));
            }
        } else {
            docs.push(doc(name, bytes));
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups() {
        assert_eq!(installed_group("/root/.pyenv/versions/3.11.7/lib/python3.11/asyncio/events.py"), "pkg:asyncio");
        assert_eq!(installed_group("/usr/lib/python3.11/asyncio/events.py"), "pkg:asyncio");
        assert_eq!(installed_group("/usr/lib/python3.11/os.py"), "pkg:os");
        assert_eq!(installed_group("/usr/lib/python3.11/test/test_socket.py"), "pkg:test/test_socket");
        assert_eq!(installed_group("/usr/lib/python3/dist-packages/yaml/x.py"), "pkg:yaml");
        assert_eq!(installed_group("/usr/lib/google-cloud-sdk/lib/third_party/yaml/x.py"), "pkg:yaml");
        assert_eq!(installed_group("/usr/share/gdb/python/gdb/x.py"), "dir:usr/share/gdb/python/gdb");
        assert_eq!(installed_group("/x/lib/python3.9/site-packages/pip/_vendor/colorama/ansi.py"), "pkg:colorama");
    }

    #[test]
    fn indicators() {
        assert!(has_indicator(b"import os\nos.system('x')"));
        assert!(has_indicator(b"s = '\\x41\\x42\\x43\\x44'"));
        // words ordinary library code is full of count as indicators, not as capabilities
        let env = b"#!/usr/bin/env python\nimport os\nTOKEN = os.environ.get('TOKEN')\n";
        assert!(has_indicator(env));
        assert!(capabilities(env).is_empty());
        assert!(capabilities(b"import urllib3\nfrom requests.compat import urljoin\n").is_empty());
        assert_eq!(capabilities(b"import requests\nrequests.post(u, data=d)"), ["requests.post"]);
        assert!(!has_indicator(b"from .core import run\n__all__ = ['run']\n"));
        assert!(!has_indicator(
            b"from setuptools import setup\nsetup(name='x', version='1.0', url='https://example.invalid')\n"
        ));
    }

    #[test]
    fn library_overlap() {
        let lib = LibraryLines::new(
            [b"import warnings\nfrom urllib3.exceptions import SNIMissingWarning\n    x = 1\n".as_slice()].into_iter(),
        );
        // short lines and comments do not count; indentation does not matter
        let copy = b"import warnings\n# a comment that is long enough\n  from urllib3.exceptions import SNIMissingWarning\nx=1\n";
        assert_eq!(lib.overlap(copy), (2, 2));
        assert_eq!(lib.overlap(b"import warnings\nos.system('curl example.invalid | sh')\n"), (2, 1));
        assert_eq!(lib.overlap(b""), (0, 0));
        // capabilities count only outside verbatim library lines
        let lib = LibraryLines::new([b"    exec(f.read(), about)\nos.system('twine upload dist/*')\n".as_slice()].into_iter());
        assert!(lib.novel_capabilities(b"about = {}\nexec(f.read(), about)\nos.system('twine upload dist/*')\n").is_empty());
        // spacing and quote style do not make a line new
        assert!(lib.novel_capabilities(b"exec(f.read(),about)\nos.system(\"twine upload dist/*\")\n").is_empty());
        assert_eq!(lib.novel_capabilities(b"exec(f.read(), about)\n# os.system\nos.system('id')\n"), ["os.system"]);
        assert_eq!(lib.novel_capabilities(b"x = '\\x41\\x42'\ny = '\\x43\\x44'\n"), ["\\x*4"]);
    }

    #[test]
    fn json_list() {
        assert_eq!(
            json_string_list(r#"["a/setup.py", "b\u00e9/__init__.py"]"#).unwrap(),
            ["a/setup.py", "bé/__init__.py"]
        );
        assert!(json_string_list("[]").unwrap().is_empty());
    }
}
