//! Which tool an exec is: the executable path and argv (busybox applets, the dynamic loader,
//! compilers with target prefixes and version suffixes), whether a compiler compiles, and the
//! byte fingerprint of renamed tools. Input: the executable path, a NUL, then argv
//! (NUL-separated); the whole input is also fingerprinted as file contents.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shrike::{
    detect::{
        netcat,
        rules::Rules,
        socat,
        tools::{self, KnownBinary, ToolKind, ToolLists},
    },
    event::{split_argv, RawStr},
};

fn lists() -> &'static ToolLists {
    static LISTS: OnceLock<ToolLists> = OnceLock::new();
    LISTS.get_or_init(|| Rules::defaults().lists)
}

const KNOWN: [KnownBinary; 5] =
    [KnownBinary::Busybox, KnownBinary::Ncat, KnownBinary::Socat, KnownBinary::NetcatOpenBsd, KnownBinary::NetcatTraditional];

fn check(id: &tools::Identity<'_>, argv: &[RawStr]) {
    // Documented: `&argv[args_from..]` is always in bounds.
    assert!(id.args_from <= argv.len(), "args_from {} past argv of {}", id.args_from, argv.len());
    let _ = tools::is_compiler_invocation(id, argv);
    let _ = tools::compiler_base(id.name);
    let args = &argv[id.args_from..];
    match id.kind {
        ToolKind::Netcat(flavor) => {
            let _ = netcat::parse(flavor, args).peer();
        }
        ToolKind::Socat => {
            let _ = socat::reverse_shell(&socat::parse(args));
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let (exe, rest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let exe = RawStr::from(exe);
    let (argv, _) = split_argv(rest, false);
    let lists = lists();
    let id = tools::identify(&exe, &argv, lists);
    check(&id, &argv);
    let _ = tools::program_path(&exe, &argv);
    for known in KNOWN {
        let id = tools::identify_fingerprinted(known, &exe, &argv, lists);
        check(&id, &argv);
    }
    let _ = tools::fingerprint(data);
    let mut elf = b"\x7fELF".to_vec();
    elf.extend_from_slice(data);
    let _ = tools::fingerprint(&elf);
});
