//! The agent's TOML files (configuration, rules): read with bounds, parsed with errors that
//! name file, line and column. Used by the configuration and the detectors' rules alike.

use std::path::{Path, PathBuf};

/// A TOML file of the agent (configuration or rules) that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid for its schema.
    #[error("{path}:{line}:{column}: {reason}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
}

/// The largest configuration or rules file read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

impl FileError {
    /// `reason`, placed at byte `offset` of `text` (line and column in the message).
    pub(crate) fn at(text: &str, path: &Path, offset: usize, reason: impl Into<String>) -> FileError {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        FileError::Invalid { path: path.to_path_buf(), line, column, reason: reason.into() }
    }

    /// Read a file as text: a regular file (symlinks followed, as in a ConfigMap volume) of at
    /// most [`MAX_FILE_BYTES`]. A FIFO, device or directory is refused without being read (the
    /// open does not wait for a FIFO's writer).
    pub(crate) fn read(path: &Path) -> Result<String, FileError> {
        use std::{io::Read, os::unix::fs::OpenOptionsExt};
        let io = |source: std::io::Error| FileError::Io { path: path.to_path_buf(), source };
        let refuse = |what: String| io(std::io::Error::new(std::io::ErrorKind::InvalidInput, what));
        let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(refuse(format!("not a regular file ({:?})", meta.file_type())));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(refuse(format!("{} bytes, more than the {MAX_FILE_BYTES} a configuration or rules file may have", meta.len())));
        }
        let mut text = String::new();
        file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text).map_err(io)?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(refuse(format!("more than {MAX_FILE_BYTES} bytes")));
        }
        Ok(text)
    }
}

/// Deserialize TOML text; a syntax, type or unknown-key error names its place.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, path: &Path) -> Result<T, FileError> {
    toml::from_str(text).map_err(|e| FileError::at(text, path, e.span().map(|s| s.start).unwrap_or(0), e.message()))
}
