//! The file sink: JSON lines appended to a file, rotated by size (`path` → `path.1` → ... →
//! `path.<keep>`, the oldest deleted). A line is written with one `write` on an `O_APPEND`
//! file and never split across files; a failed write is cut back off the file.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    path::PathBuf,
};

use super::{config::FileConfig, SinkError};

/// See the module doc.
#[derive(Debug)]
pub(crate) struct FileSink {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: Option<File>,
    size: u64,
}

fn open(path: &PathBuf) -> io::Result<(File, u64)> {
    let f = OpenOptions::new().create(true).append(true).open(path)?;
    let size = f.metadata()?.len();
    Ok((f, size))
}

impl FileSink {
    /// Open (creating) the file for appending.
    pub fn open(cfg: &FileConfig) -> Result<FileSink, SinkError> {
        let path = PathBuf::from(cfg.path.trim());
        let (file, size) = open(&path).map_err(|source| SinkError::Io {
            option: "sinks.file.path".into(),
            path: path.clone(),
            what: "cannot open for appending".into(),
            source,
        })?;
        Ok(FileSink { path, max_bytes: cfg.max_bytes, keep: cfg.keep, file: Some(file), size })
    }

    fn rotated(&self, n: u32) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        let ignore_missing = |r: io::Result<()>| match r {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        if self.keep == 0 {
            ignore_missing(fs::remove_file(&self.path))?;
        } else {
            ignore_missing(fs::remove_file(self.rotated(self.keep)))?;
            for i in (1..self.keep).rev() {
                ignore_missing(fs::rename(self.rotated(i), self.rotated(i + 1)))?;
            }
            ignore_missing(fs::rename(&self.path, self.rotated(1)))?;
        }
        let (f, size) = open(&self.path)?;
        self.file = Some(f);
        self.size = size;
        Ok(())
    }

    /// Append one line (ending in `\n`), rotating first if it would not fit.
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate()?;
        }
        if self.file.is_none() {
            let (f, size) = open(&self.path)?;
            self.file = Some(f);
            self.size = size;
        }
        let Some(f) = self.file.as_mut() else { return Err(io::Error::other("file sink not open")) };
        if let Err(e) = f.write_all(line) {
            // Cut a partial line back off, so the next one starts on a line of its own.
            let _ = f.set_len(self.size);
            return Err(e);
        }
        self.size += len;
        Ok(())
    }

    /// Flush to disk.
    pub fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.sync_data(),
            None => Ok(()),
        }
    }
}
