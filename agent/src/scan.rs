//! `shrike scan PATH...`: the malicious-Python verdict on files, offline, exactly as the agent
//! reaches it on a script a container runs — same model, same reading bound, same windows — with
//! the features that drove each score. For CI gates, incident triage and checking a model
//! before it ships.
//!
//! A file named on the command line is always scanned. A directory is walked (symbolic links
//! are not followed) for Python files: `*.py`, `*.pyw`, and files without an extension whose
//! first line is a Python `#!`. Only regular files on data file systems are read, never
//! blocking: a FIFO, a device or a file on procfs is an error for that file, not a hang.
//!
//! Exit status: 0 when every file was scanned and none is malicious, 1 when any is malicious,
//! 2 when none is malicious but some file could not be scanned.

use std::{
    io::Write,
    os::unix::ffi::OsStrExt,
    path::{Path, PathBuf},
    process::ExitCode,
};

use python_model::Model;
use serde::Serialize;

use crate::{
    detect::python::{self, Contribution},
    process::rootfs,
};

/// How to scan and report.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// JSON Lines: one object per file scanned, clean ones included.
    pub json: bool,
    /// Text output lists clean files too (by default only malicious ones and errors).
    pub all: bool,
    /// Contributing features listed per file.
    pub top: usize,
}

/// The verdict on one file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// The path as given or found (non-UTF-8 bytes shown as U+FFFD).
    pub path: String,
    /// `malicious`, `clean` or `error`.
    pub verdict: &'static str,
    /// The model's score, in [0, 1] (none when the file could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// The score from which a file is malicious.
    pub threshold: f32,
    /// The model's version.
    pub model_version: String,
    /// File size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Hex SHA-256 of the bytes read (the whole file up to the agent's scan bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Bytes neither read nor judged (beyond the scan bound, before the last window).
    #[serde(skip_serializing_if = "is_zero")]
    pub unscanned_bytes: u64,
    /// The features behind the score of the window that scored highest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Contribution>,
    /// Why the file could not be scanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Totals of a scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Files read and judged.
    pub scanned: u64,
    /// Of those, judged malicious.
    pub malicious: u64,
    /// Files that could not be scanned.
    pub errors: u64,
}

impl Totals {
    /// The exit status the totals call for (see the module docs).
    pub fn exit_code(&self) -> ExitCode {
        if self.malicious > 0 {
            ExitCode::from(1)
        } else if self.errors > 0 {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        }
    }
}

impl FileReport {
    fn new(model: &Model, path: &Path) -> FileReport {
        FileReport {
            path: path.to_string_lossy().into_owned(),
            verdict: "error",
            score: None,
            threshold: model.threshold(),
            model_version: model.version().to_string(),
            size: None,
            sha256: None,
            unscanned_bytes: 0,
            evidence: Vec::new(),
            error: None,
        }
    }
}

/// The verdict on one file, read and judged as the agent reads and judges a script.
pub fn scan_file(model: &Model, path: &Path, top: usize) -> FileReport {
    let mut report = FileReport::new(model, path);
    let judged = rootfs::open_data_file(path.as_os_str().as_bytes()).and_then(|mut f| python::judge_file(model, &mut f, top, true));
    match judged {
        Ok(j) => {
            report.verdict = if model.is_malicious(j.score) { "malicious" } else { "clean" };
            report.score = Some(j.score);
            report.size = Some(j.size);
            report.sha256 = Some(j.sha256);
            report.unscanned_bytes = j.unscanned;
            report.evidence = j.evidence;
        }
        Err(e) => report.error = Some(e.to_string()),
    }
    report
}

/// Whether a file found in a directory is Python: by extension, else by its `#!` line.
fn is_python_file(path: &Path) -> bool {
    match path.extension() {
        Some(ext) => ext == "py" || ext == "pyw",
        None => rootfs::open_data_file(path.as_os_str().as_bytes()).is_ok_and(|f| {
            use std::io::Read;
            let mut head = [0u8; 128];
            let n = (&f).take(head.len() as u64).read(&mut head).unwrap_or(0);
            let line = head[..n].split(|&b| b == b'\n').next().unwrap_or_default();
            line.starts_with(b"#!") && line.windows(6).any(|w| w == b"python")
        }),
    }
}

/// Scan `paths` (files and directories), writing a report per file to `out` as it goes.
pub fn scan(model: &Model, paths: &[PathBuf], options: &ScanOptions, out: &mut dyn Write) -> std::io::Result<Totals> {
    let mut totals = Totals::default();
    let report = |r: FileReport, totals: &mut Totals, out: &mut dyn Write| -> std::io::Result<()> {
        totals.scanned += u64::from(r.error.is_none());
        totals.malicious += u64::from(r.verdict == "malicious");
        totals.errors += u64::from(r.error.is_some());
        if options.json {
            serde_json::to_writer(&mut *out, &r)?;
            writeln!(out)
        } else {
            write_text(&r, options.all, out)
        }
    };
    for path in paths {
        let is_dir = std::fs::metadata(path).is_ok_and(|m| m.is_dir());
        if !is_dir {
            report(scan_file(model, path, options.top), &mut totals, out)?;
            continue;
        }
        for entry in walkdir::WalkDir::new(path).follow_links(false).sort_by_file_name() {
            match entry {
                Ok(e) if e.file_type().is_file() && is_python_file(e.path()) => {
                    report(scan_file(model, e.path(), options.top), &mut totals, out)?;
                }
                Ok(_) => {}
                Err(e) => {
                    let mut r = FileReport::new(model, e.path().unwrap_or(path));
                    r.error = Some(e.to_string());
                    report(r, &mut totals, out)?;
                }
            }
        }
    }
    Ok(totals)
}

fn write_text(r: &FileReport, all: bool, out: &mut dyn Write) -> std::io::Result<()> {
    match (r.verdict, &r.error) {
        (_, Some(e)) => writeln!(out, "error      {}: {e}", r.path),
        ("clean", _) if !all => Ok(()),
        (verdict, _) => {
            let unscanned = if r.unscanned_bytes > 0 { format!(" ({} bytes unscanned)", r.unscanned_bytes) } else { String::new() };
            writeln!(out, "{verdict:<10} {:.3}  {}{unscanned}", r.score.unwrap_or(0.0), r.path)?;
            for c in &r.evidence {
                writeln!(out, "    {:+.3}  {}", c.contribution, c.feature)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        Model::from_bytes(python::EMBEDDED_MODEL).unwrap()
    }

    fn samples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../training/python")
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shrike-scan-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn options(json: bool) -> ScanOptions {
        ScanOptions { json, all: true, top: 5 }
    }

    fn reports(out: &[u8]) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn a_file_gets_the_agents_verdict_with_its_evidence() {
        let m = model();
        let evil = samples().join("malicious/revshell_pty_classic.py");
        let r = scan_file(&m, &evil, 5);
        assert_eq!(r.verdict, "malicious", "{r:?}");
        let code = std::fs::read(&evil).unwrap();
        assert_eq!(r.score, Some(python::score_windows(&m, &python::normalise(&code))), "the agent's score");
        assert_eq!(r.evidence.len(), 5);
        assert!(r.evidence[0].contribution.abs() >= r.evidence[4].contribution.abs(), "largest first: {:?}", r.evidence);
        assert!(r.evidence.iter().any(|c| c.contribution > 0.0 && !c.feature.is_empty()), "{:?}", r.evidence);
        assert_eq!(r.size, Some(code.len() as u64));

        let fine = scan_file(&m, &samples().join("benign/script_hello.py"), 5);
        assert_eq!(fine.verdict, "clean", "{fine:?}");
        assert!(!fine.evidence.is_empty(), "a clean verdict is explained too");
    }

    #[test]
    fn directories_are_searched_for_python_and_nothing_blocks() {
        let m = model();
        let dir = scratch("walk");
        std::fs::create_dir_all(dir.join("pkg/bin")).unwrap();
        std::fs::copy(samples().join("malicious/revshell_pty_classic.py"), dir.join("pkg/evil.py")).unwrap();
        std::fs::copy(samples().join("benign/script_hello.py"), dir.join("pkg/hello.py")).unwrap();
        // A script without extension is Python by its #! line; other files are not scanned.
        let tool = std::fs::read(samples().join("malicious/revshell_pty_classic.py")).unwrap();
        std::fs::write(dir.join("pkg/bin/tool"), [&b"#!/usr/bin/env python3\n"[..], &tool].concat()).unwrap();
        std::fs::write(dir.join("pkg/bin/run.sh"), b"#!/bin/sh\nexec python3 -m app\n").unwrap();
        std::fs::write(dir.join("pkg/README"), b"not code").unwrap();
        // A FIFO named like a script, and a symlink out of the tree: neither is read.
        let fifo = std::ffi::CString::new(dir.join("pkg/wait.py").to_str().unwrap()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        std::os::unix::fs::symlink(samples().join("malicious"), dir.join("pkg/outside")).unwrap();

        let started = std::time::Instant::now();
        let mut out = Vec::new();
        let totals = scan(&m, &[dir.clone()], &options(true), &mut out).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let rs = reports(&out);
        let by_name = |n: &str| rs.iter().find(|r| r["path"].as_str().unwrap().ends_with(n)).cloned();
        assert_eq!(by_name("pkg/evil.py").unwrap()["verdict"], "malicious");
        assert_eq!(by_name("pkg/hello.py").unwrap()["verdict"], "clean");
        assert_eq!(by_name("bin/tool").unwrap()["verdict"], "malicious");
        assert!(by_name("run.sh").is_none() && by_name("README").is_none(), "{rs:#?}");
        assert!(rs.iter().all(|r| !r["path"].as_str().unwrap().contains("outside")), "symlinks are not followed: {rs:#?}");
        // A FIFO in a directory is not a file: not opened, not listed.
        assert!(by_name("wait.py").is_none(), "{rs:#?}");
        assert_eq!(totals, Totals { scanned: 3, malicious: 2, errors: 0 });
        assert_eq!(totals.exit_code(), ExitCode::from(1));

        // Named explicitly, the FIFO is an error at once, not a hang.
        let mut out = Vec::new();
        let totals = scan(&m, &[dir.join("pkg/wait.py"), dir.join("pkg/hello.py")], &options(true), &mut out).unwrap();
        let rs = reports(&out);
        assert_eq!(rs[0]["verdict"], "error");
        assert!(rs[0]["error"].as_str().unwrap().contains("not a regular file"), "{rs:#?}");
        assert_eq!(totals, Totals { scanned: 1, malicious: 0, errors: 1 });
        assert_eq!(totals.exit_code(), ExitCode::from(2));
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn text_output_lists_what_needs_attention() {
        let m = model();
        let mut out = Vec::new();
        let files = [samples().join("malicious/revshell_pty_classic.py"), samples().join("benign/script_hello.py")];
        let totals = scan(&m, &files, &ScanOptions { json: false, all: false, top: 3 }, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(totals, Totals { scanned: 2, malicious: 1, errors: 0 });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "the malicious file and its 3 features only:\n{text}");
        assert!(lines[0].starts_with("malicious") && lines[0].ends_with("revshell_pty_classic.py"), "{text}");
        assert!(!text.contains("script_hello"), "{text}");
        assert_eq!(Totals::default().exit_code(), ExitCode::SUCCESS);
    }
}
