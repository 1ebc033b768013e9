//! The kernel BTF reader: any bytes where `/sys/kernel/btf/vmlinux` should be, then every
//! offset lookup the agent does at start, and lookups of names taken from the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shrike::sensor::btf::{resolve_kernel_offsets, Btf};

fuzz_target!(|data: &[u8]| {
    let Ok(btf) = Btf::parse(data) else { return };
    let _ = btf.type_count();
    let _ = resolve_kernel_offsets(&btf);
    // Names from the input's string section (wherever NUL-separated text is), as struct and
    // member names: a path of up to three members.
    let names: Vec<&str> =
        data.split(|&b| b == 0).filter_map(|s| std::str::from_utf8(s).ok()).filter(|s| !s.is_empty()).take(16).collect();
    for w in names.windows(2) {
        let _ = btf.struct_size(w[0]);
        let _ = btf.member_offset(w[0], &w[1..]);
    }
    for w in names.windows(4) {
        let _ = btf.member_offset(w[0], &w[1..]);
    }
});
