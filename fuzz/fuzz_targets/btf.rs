//! The kernel BTF reader: any bytes where `/sys/kernel/btf/vmlinux` should be, then every
//! offset lookup the agent does at start, lookups of names taken from the input, and the small
//! BTF of tracepoint typedefs made for aya, which both readers must take and which must give
//! each tracepoint the id the input gave it.
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
    // The tracepoints the input names (btf_trace_<name> typedefs), with the agent's own.
    let mut tracepoints: Vec<&str> = names.iter().filter_map(|n| n.strip_prefix("btf_trace_")).collect();
    tracepoints.extend(["sched_process_exec", "sock_recv_length"]);
    let blob = btf.attach_btf(&tracepoints);
    let small = Btf::parse(&blob).expect("the attach BTF parses");
    aya::Btf::parse(&blob, aya::Endianness::default()).expect("aya parses the attach BTF");
    for tp in tracepoints {
        assert_eq!(small.tracepoint_type_id(tp), btf.tracepoint_type_id(tp), "{tp}");
    }
});
