//! Recordings: typed events as JSON lines, written by `shrike record`, read by `shrike replay`.

use std::{
    io::{BufRead, Write},
    path::{Path, PathBuf},
};

use crate::event::Event;

/// A recording could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not an event.
    #[error("{path}:{line}: not an event: {source}")]
    Parse {
        /// File.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
}

/// Write one event as a JSON line.
pub fn write_event(out: &mut impl Write, ev: &Event) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, ev)?;
    out.write_all(b"\n")
}

/// Read a recording, calling `f` for every event in order. Blank lines are skipped; a line that
/// is not an event stops the replay with its line number.
pub fn read_events(path: &Path, mut f: impl FnMut(Event)) -> Result<usize, ReplayError> {
    let io = |source| ReplayError::Io { path: path.to_path_buf(), source };
    let reader = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let mut n = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let ev = serde_json::from_str(&line)
            .map_err(|source| ReplayError::Parse { path: path.to_path_buf(), line: i + 1, source })?;
        f(ev);
        n += 1;
    }
    Ok(n)
}
