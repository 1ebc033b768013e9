//! cgroup paths (named by runtimes and, in nested cgroups, by containers themselves) and the
//! `/proc/<pid>/cgroup` text they are read from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shrike::container::cgroup_path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(r) = cgroup_path::parse(&text) {
        // A container id is one path component.
        assert!(!r.id.is_empty() && !r.id.contains('/'), "{r:?}");
        serde_json::to_string(&r).expect("a container ref serializes");
    }
    if let Some(p) = cgroup_path::unified_path(&text) {
        let _ = cgroup_path::parse(p);
    }
});
