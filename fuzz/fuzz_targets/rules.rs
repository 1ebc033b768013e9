//! A user rules file over the embedded defaults (lists, detections, exceptions, incidents, the
//! Python classifier), on any UTF-8 text; then the rules in use: every exception matched
//! against a subject made of the input's own lines (so patterns meet values of any shape).
#![no_main]

use std::{collections::BTreeMap, path::Path};

use libfuzzer_sys::fuzz_target;
use shrike::detect::rules::{DetectionId, Rules, Subject};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let rules = match Rules::with_override(text, Path::new("fuzz-rules.toml")) {
        Ok(r) => r,
        Err(e) => {
            // The message quotes the offending line: rendering it must work for any offset.
            let _ = e.to_string();
            return;
        }
    };
    for &id in DetectionId::ALL {
        let _ = rules.detection(id);
    }
    let mut lines = text.lines().cycle().take(8);
    let mut next = || lines.next();
    let labels: BTreeMap<String, String> =
        text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let argv: Vec<String> = text.lines().map(str::to_string).collect();
    for (i, &id) in DetectionId::ALL.iter().enumerate() {
        let s = Subject {
            detection: Some(id),
            host: i % 2 == 0,
            namespace: next(),
            pod_labels: Some(&labels),
            images: [next(), next()],
            container_name: next(),
            exe: next(),
            parent_exe: next(),
            argv: &argv,
        };
        let _ = rules.exception_for(&s);
    }
    for e in &rules.exceptions {
        let _ = e.matches_everything();
    }
});
