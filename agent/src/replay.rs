//! Recordings: JSON lines written by `shrike record`, read by `shrike replay`. Most lines are
//! typed [`Event`]s (with the container they ran in, for readers); `container_info` lines carry
//! what the container resolver learned, so a replay knows the same containers and pods; a
//! `clock` line first says how the recording machine's kernel time maps to wall time, so
//! findings of a replay carry the event times of the recording.

use std::{
    io::{BufRead, Read, Write},
    path::{Path, PathBuf},
};

use serde::Serialize;

use crate::{
    container::{ContainerInfo, ContainerRecord},
    event::Event,
};

/// Longest line a recording may have, newline excluded. The longest real line is an exec
/// event with a full argv (a few KiB as JSON; at most ~25 KiB with every byte escaped); a
/// longer line is not a recording, and reading stops there instead of growing without bound.
pub const MAX_LINE_BYTES: usize = 1 << 20;

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
    /// A line is longer than [`MAX_LINE_BYTES`].
    #[error("{path}:{line}: line longer than {max} bytes: not a recording", max = MAX_LINE_BYTES)]
    LineTooLong {
        /// File.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The path is a device, a directory or a socket: something that never ends or is no
    /// stream of lines (`/dev/zero`, `/dev/urandom`, a tty).
    #[error("{path}: a {kind}, not a recording (give a file, a FIFO, or `-` for standard input)")]
    NotAFile {
        /// File.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
}

/// Events of a recording whose kernel timestamp is earlier than one before them.
///
/// Recordings are written in the order the kernel produced events, so a timestamp going
/// backwards means the file was edited, sorted or pasted together (or, by at most microseconds,
/// that two CPUs raced for the ring buffer). Such events are still replayed in file order, but
/// time windows (incident settling, deduplication, exit grace) then see time go backwards, so
/// the findings may differ from those of the live run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutOfOrder {
    /// How many events went backwards.
    pub count: usize,
    /// 1-based line of the first one.
    pub first_line: usize,
    /// Largest step back, nanoseconds.
    pub max_back_ns: u64,
}

/// What reading a recording found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadSummary {
    /// Lines read (blank lines not counted).
    pub lines: usize,
    /// Events whose timestamp went backwards, if any.
    pub out_of_order: Option<OutOfOrder>,
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
///
/// `-` is standard input. Besides regular files, pipes and FIFOs are read as streams; a device,
/// directory or socket is refused at once ([`ReplayError::NotAFile`]), so `/dev/zero` is an
/// error, not an endless read. Lines are at most [`MAX_LINE_BYTES`], so memory stays bounded
/// whatever the input. Events going back in time are replayed in file order and reported
/// (once, with their count and the first line) by a warning and in the summary.
pub fn read_recording(path: &Path, f: impl FnMut(Line)) -> Result<ReadSummary, ReplayError> {
    let io = |source| ReplayError::Io { path: path.to_path_buf(), source };
    let file = if path == Path::new("-") {
        use std::os::fd::AsFd;
        std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned().map_err(io)?)
    } else {
        std::fs::File::open(path).map_err(io)?
    };
    check_input(path, &file.metadata().map_err(io)?)?;
    let summary = read_lines(std::io::BufReader::new(file), path, f)?;
    if let Some(o) = &summary.out_of_order {
        tracing::warn!(
            file = %path.display(),
            events = o.count,
            first_line = o.first_line,
            max_back_ms = o.max_back_ns as f64 / 1e6,
            "events go back in time: replayed in file order, so findings may differ from the live run"
        );
    }
    Ok(summary)
}

/// Only what can be read to its end as lines: a regular file, a pipe or a FIFO.
fn check_input(path: &Path, meta: &std::fs::Metadata) -> Result<(), ReplayError> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let kind = if t.is_file() || t.is_fifo() {
        return Ok(());
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_dir() {
        "directory"
    } else if t.is_socket() {
        "socket"
    } else {
        "special file"
    };
    Err(ReplayError::NotAFile { path: path.to_path_buf(), kind })
}

/// Read recording lines from any reader, calling `f` for each in order; `path` only names the
/// input in errors. The checks of [`read_recording`] but the file type: bounded lines, line
/// numbers in errors, and events going back in time counted in the summary (not logged). A
/// `clock` line starts a new recording (one pasted after another), so timestamps are compared
/// only within the lines after the same clock line.
pub fn read_lines(mut reader: impl BufRead, path: &Path, mut f: impl FnMut(Line)) -> Result<ReadSummary, ReplayError> {
    let io = |source| ReplayError::Io { path: path.to_path_buf(), source };
    let mut summary = ReadSummary::default();
    let mut buf = Vec::new();
    let mut latest: Option<u64> = None;
    let mut line_no = 0;
    loop {
        line_no += 1;
        buf.clear();
        // One byte more than the limit tells a line at the limit from a longer one.
        let read = (&mut reader).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf).map_err(io)?;
        if read == 0 {
            break;
        }
        if read > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            return Err(ReplayError::LineTooLong { path: path.to_path_buf(), line: line_no });
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parse_err = |source| ReplayError::Parse { path: path.to_path_buf(), line: line_no, source };
        if line.starts_with(CLOCK_PREFIX.as_bytes()) {
            latest = None;
            f(Line::Clock(serde_json::from_slice(line).map_err(parse_err)?));
        } else if line.starts_with(CONTAINER_PREFIX.as_bytes()) {
            f(Line::Container(serde_json::from_slice(line).map_err(parse_err)?));
        } else {
            let ev: Event = serde_json::from_slice(line).map_err(parse_err)?;
            match latest {
                Some(t) if ev.ts_boot_ns < t => {
                    let o = summary.out_of_order.get_or_insert(OutOfOrder { first_line: line_no, ..Default::default() });
                    o.count += 1;
                    o.max_back_ns = o.max_back_ns.max(t - ev.ts_boot_ns);
                }
                _ => latest = Some(ev.ts_boot_ns),
            }
            f(Line::Event(ev));
        }
        summary.lines += 1;
    }
    Ok(summary)
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
        let summary = read_recording(&dir, |l| lines.push(l)).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(lines, vec![Line::Container(rec), Line::Event(ev.clone()), Line::Event(ev)]);
        assert_eq!(summary, ReadSummary { lines: 3, out_of_order: None });
    }

    fn exit_at(ts_boot_ns: u64) -> String {
        let ev = Event {
            ts_boot_ns,
            process: ProcessKey { pid: 5, start: 6 },
            tid: 5,
            cgroup_id: 9,
            body: EventBody::Exit(Exit { code: 0 }),
        };
        let mut buf = Vec::new();
        write_event(&mut buf, &ev, None).unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn read_text(text: &[u8]) -> Result<(ReadSummary, usize), ReplayError> {
        let mut n = 0;
        let s = read_lines(std::io::Cursor::new(text), Path::new("rec.jsonl"), |_| n += 1)?;
        Ok((s, n))
    }

    #[test]
    fn events_going_back_in_time_are_counted_once_with_the_first_line() {
        let clock = |t: i128| {
            let mut b = Vec::new();
            write_clock(&mut b, &Clock { boot_to_unix_ns: t, boot_id: "b".into() }).unwrap();
            String::from_utf8(b).unwrap()
        };
        // In order, equal timestamps included: nothing to report.
        let text = [clock(1), exit_at(10), exit_at(10), exit_at(20)].concat();
        assert_eq!(read_text(text.as_bytes()).unwrap().0, ReadSummary { lines: 4, out_of_order: None });
        // Back by 15 at line 4 and by 5 at line 6 (both compared with the latest time, 30).
        let text = [clock(1), exit_at(10), exit_at(30), exit_at(15), exit_at(40), exit_at(35)].concat();
        let (summary, n) = read_text(text.as_bytes()).unwrap();
        assert_eq!(n, 6, "events out of order are still replayed");
        assert_eq!(summary.out_of_order, Some(OutOfOrder { count: 2, first_line: 4, max_back_ns: 15 }));
        // A clock line starts another recording: its times are not compared with the first's.
        let text = [clock(1), exit_at(500), "\n".into(), clock(2), exit_at(7), exit_at(8)].concat();
        assert_eq!(read_text(text.as_bytes()).unwrap().0, ReadSummary { lines: 5, out_of_order: None });
    }

    #[test]
    fn lines_are_bounded() {
        // A line at the limit is read (and is not JSON); one byte more is refused with its line.
        let mut text = exit_at(1).into_bytes();
        text.extend(std::iter::repeat_n(b' ', MAX_LINE_BYTES));
        text.push(b'\n');
        let at_limit = format!("{{\"x\":\"{}\"}}\n", "a".repeat(MAX_LINE_BYTES - 8));
        text.extend_from_slice(at_limit.as_bytes());
        match read_text(&text) {
            Err(ReplayError::Parse { line: 3, .. }) => {}
            other => panic!("{other:?}"),
        }
        let mut long = exit_at(1).into_bytes();
        long.extend(std::iter::repeat_n(b'a', MAX_LINE_BYTES + 1));
        let err = read_text(&long).unwrap_err();
        assert!(matches!(err, ReplayError::LineTooLong { line: 2, .. }), "{err:?}");
        assert_eq!(err.to_string(), format!("rec.jsonl:2: line longer than {MAX_LINE_BYTES} bytes: not a recording"));
        // An endless stream without a newline ends at the limit.
        let err = read_lines(std::io::BufReader::new(std::io::repeat(0)), Path::new("-"), |_| {}).unwrap_err();
        assert!(matches!(err, ReplayError::LineTooLong { line: 1, .. }), "{err:?}");
    }

    #[test]
    fn bad_bytes_are_a_parse_error_with_the_line() {
        let text = [exit_at(1).as_bytes(), b"\xff\xfe{\n"].concat();
        assert!(matches!(read_text(&text), Err(ReplayError::Parse { line: 2, .. })));
        // A line of NULs (a pipe fed from /dev/zero, cut short) is not an event either.
        assert!(matches!(read_text(&[0u8; 64]), Err(ReplayError::Parse { line: 1, .. })));
        // CRLF line ends are accepted.
        let text = exit_at(1).replace('\n', "\r\n");
        assert_eq!(read_text(text.as_bytes()).unwrap().0.lines, 1);
    }

    #[test]
    fn devices_and_directories_are_refused_at_once() {
        for (path, kind) in [("/dev/zero", "character device"), ("/dev/null", "character device"), ("/", "directory")] {
            let err = read_recording(Path::new(path), |_| panic!("nothing is read from {path}")).unwrap_err();
            assert!(matches!(&err, ReplayError::NotAFile { kind: k, .. } if *k == kind), "{path}: {err:?}");
            assert!(err.to_string().contains(kind), "{err}");
        }
    }

    #[test]
    fn a_fifo_is_read_as_a_stream() {
        let dir = std::env::temp_dir().join(format!("shrike-replay-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("rec.fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "{}", std::io::Error::last_os_error());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(&fifo, [exit_at(1), exit_at(2)].concat()).unwrap())
        };
        let mut n = 0;
        let summary = read_recording(&fifo, |_| n += 1).unwrap();
        writer.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!((n, summary.lines), (2, 2));
    }
}
