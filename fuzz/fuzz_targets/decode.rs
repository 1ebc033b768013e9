//! The ring-buffer decoder: any bytes the kernel side could hand over.
//!
//! Each input is decoded twice: as it is (so short records, foreign versions and unknown kinds
//! are covered), and with its header made valid (so the fuzzer reaches the bodies: argv, paths,
//! stdio, redirects). A decoded event must round-trip
//! exactly through a recording line, as `record`/`replay` rely on.
#![no_main]

use std::{mem::size_of, path::Path};

use agent_common::{
    EventHeader, EventKind, ExecHead, ExecRecord, ExitRecord, ForkRecord, RedirectRecord, ARGV_MAX, EXEC_TAIL, EXE_BUF, NAME_READ_MAX,
    SCHEMA_VERSION,
};
use libfuzzer_sys::fuzz_target;
use shrike::{
    replay::{self, Line},
    sensor::decode::decode,
};

const KINDS: [(EventKind, usize); 4] = [
    (EventKind::Exec, size_of::<ExecRecord>()),
    (EventKind::Fork, size_of::<ForkRecord>()),
    (EventKind::Exit, size_of::<ExitRecord>()),
    (EventKind::StdioRedirect, size_of::<RedirectRecord>()),
];

fn round_trip(ev: &shrike::event::Event) {
    let mut line = Vec::new();
    replay::write_event(&mut line, ev, None).expect("writing to memory");
    let mut back = Vec::new();
    replay::read_lines(line.as_slice(), Path::new("fuzz"), |l| back.push(l)).expect("a written event reads back");
    assert_eq!(back, vec![Line::Event(ev.clone())], "recording line {}", String::from_utf8_lossy(&line));
}

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = decode(data) {
        round_trip(&ev);
    }
    // The same bytes with a valid header: the kind field's own value when it names a kind,
    // else one picked by it; the version and size that kind needs (for an exec, the head and as
    // much tail as the input has room for, split into executable path, filename and argv by the
    // input's own length fields, as the kernel sends it); zeros past the input.
    let kind_at = std::mem::offset_of!(EventHeader, kind);
    let version_at = std::mem::offset_of!(EventHeader, version);
    let size_at = std::mem::offset_of!(EventHeader, size);
    let raw_kind = data.get(kind_at..kind_at + 2).map_or(0, |b| u16::from_ne_bytes([b[0], b[1]]));
    let (kind, size) = KINDS
        .into_iter()
        .find(|(k, _)| *k as u16 == raw_kind)
        .unwrap_or(KINDS[usize::from(raw_kind) % KINDS.len()]);
    let read_u16 = |at: usize| data.get(at..at + 2).map_or(0, |b| usize::from(u16::from_ne_bytes([b[0], b[1]])));
    let filename_at = std::mem::offset_of!(ExecHead, filename_len);
    let exe_at = std::mem::offset_of!(ExecHead, exe_len);
    let argv_at = std::mem::offset_of!(ExecHead, argv_len);
    let mut lens = None;
    let size = match kind {
        EventKind::Exec => {
            let tail = data.len().saturating_sub(size_of::<ExecHead>()).min(EXEC_TAIL);
            let exe = read_u16(exe_at) % (tail.min(EXE_BUF) + 1);
            let filename = read_u16(filename_at) % ((tail - exe).min(NAME_READ_MAX) + 1);
            let argv = (tail - exe - filename).min(ARGV_MAX);
            lens = Some([filename, exe, argv]);
            ExecRecord::sent_size(exe + filename + argv)
        }
        _ => size,
    };
    let mut rec = vec![0u8; size];
    let n = data.len().min(size);
    rec[..n].copy_from_slice(&data[..n]);
    if let Some(lens) = lens {
        for (at, len) in [filename_at, exe_at, argv_at].into_iter().zip(lens) {
            rec[at..at + 2].copy_from_slice(&(len as u16).to_ne_bytes());
        }
    }
    rec[kind_at..kind_at + 2].copy_from_slice(&(kind as u16).to_ne_bytes());
    rec[version_at..version_at + 2].copy_from_slice(&SCHEMA_VERSION.to_ne_bytes());
    rec[size_at..size_at + 4].copy_from_slice(&(size as u32).to_ne_bytes());
    if let Ok(ev) = decode(&rec) {
        round_trip(&ev);
    }
});
