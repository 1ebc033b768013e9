//! Recordings: JSON lines written by `shrike record`, read by `shrike replay`. Most lines are
//! typed [`Event`]s (with the container they ran in, for readers); `container_info` lines carry
//! what the container resolver learned, so a replay knows the same containers and pods; a
//! `clock` line first says how the recording machine's kernel time maps to wall time, so
//! findings of a replay carry the event times of the recording.

use std::{
    io::{BufRead, Write},
    path::{Path, PathBuf},
};

use serde::Serialize;

use crate::{
    container::{ContainerInfo, ContainerRecord},
    event::Event,
};

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
    /// A line is not a recording line.
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

/// One line of a recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// An event.
    Event(Event),
    /// What the resolver learned about a cgroup.
    Container(ContainerRecord),
    /// The recording machine's clock.
    Clock(Clock),
}

/// How kernel timestamps (CLOCK_BOOTTIME) of a recording map to wall time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Clock {
    /// Unix time minus CLOCK_BOOTTIME, nanoseconds, when recording started.
    pub boot_to_unix_ns: i128,
    /// The recording machine's boot id.
    #[serde(default)]
    pub boot_id: String,
}

const CONTAINER_PREFIX: &str = "{\"type\":\"container_info\",";
const CLOCK_PREFIX: &str = "{\"type\":\"clock\",";

/// Write the clock line (first line of a recording).
pub fn write_clock(out: &mut impl Write, clock: &Clock) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct ClockLine<'a> {
        r#type: &'static str,
        #[serde(flatten)]
        clock: &'a Clock,
    }
    serde_json::to_writer(&mut *out, &ClockLine { r#type: "clock", clock })?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct EventLine<'a> {
    #[serde(flatten)]
    event: &'a Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a ContainerInfo>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    host: bool,
}

#[derive(Serialize)]
struct ContainerLine<'a> {
    r#type: &'static str,
    #[serde(flatten)]
    record: &'a ContainerRecord,
}

/// Write one event as a JSON line, with its container (`None`: a host process).
pub fn write_event(out: &mut impl Write, ev: &Event, container: Option<&ContainerInfo>) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &EventLine { event: ev, container, host: container.is_none() })?;
    out.write_all(b"\n")
}

/// Write what the resolver learned about a cgroup.
pub fn write_container(out: &mut impl Write, record: &ContainerRecord) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &ContainerLine { r#type: "container_info", record })?;
    out.write_all(b"\n")
}

/// Read a recording, calling `f` for every line in order. Blank lines are skipped; a line that
/// is neither an event nor a container record stops the replay with its line number.
pub fn read_recording(path: &Path, mut f: impl FnMut(Line)) -> Result<usize, ReplayError> {
    let io = |source| ReplayError::Io { path: path.to_path_buf(), source };
    let reader = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let mut n = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let parse_err = |source| ReplayError::Parse { path: path.to_path_buf(), line: i + 1, source };
        if line.starts_with(CLOCK_PREFIX) {
            f(Line::Clock(serde_json::from_str(&line).map_err(parse_err)?));
        } else if line.starts_with(CONTAINER_PREFIX) {
            f(Line::Container(serde_json::from_str(&line).map_err(parse_err)?));
        } else {
            f(Line::Event(serde_json::from_str(&line).map_err(parse_err)?));
        }
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        container::{Enrichment, Runtime},
        event::{EventBody, Exit, ProcessKey},
    };

    #[test]
    fn lines_round_trip() {
        let ev = Event {
            ts_boot_ns: 1,
            process: ProcessKey { pid: 5, start: 6 },
            tid: 5,
            cgroup_id: 9,
            body: EventBody::Exit(Exit { code: 0 }),
        };
        let info = ContainerInfo {
            runtime: Runtime::Containerd,
            id: "a".repeat(64),
            meta: Default::default(),
            enrichment: Enrichment::Incomplete,
            enrichment_error: Some("runtime down".into()),
        };
        let rec = ContainerRecord { cgroup_id: 9, container: Some(info.clone()) };
        let mut buf = Vec::new();
        write_container(&mut buf, &rec).unwrap();
        write_event(&mut buf, &ev, Some(&info)).unwrap();
        write_event(&mut buf, &ev, None).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.lines().nth(1).unwrap().contains("\"enrichment\":\"incomplete\""));
        assert!(text.lines().nth(2).unwrap().contains("\"host\":true"));
        let dir = std::env::temp_dir().join(format!("shrike-replay-test-{}", std::process::id()));
        std::fs::write(&dir, &text).unwrap();
        let mut lines = Vec::new();
        read_recording(&dir, |l| lines.push(l)).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(lines, vec![Line::Container(rec), Line::Event(ev.clone()), Line::Event(ev)]);
    }
}
