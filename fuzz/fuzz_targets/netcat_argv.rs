//! The netcat command-line grammars (traditional, OpenBSD, ncat, busybox, unknown), on any
//! argv a container can exec. The first byte picks the flavor; the rest is argv as the kernel
//! side copies it (NUL-separated, with its limits).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shrike::{
    detect::{netcat, tools::NetcatFlavor},
    event::split_argv,
};

const FLAVORS: [NetcatFlavor; 5] =
    [NetcatFlavor::Traditional, NetcatFlavor::OpenBsd, NetcatFlavor::Ncat, NetcatFlavor::Busybox, NetcatFlavor::Unknown];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let flavor = FLAVORS[usize::from(pick) % FLAVORS.len()];
    let (argv, _) = split_argv(rest, false);
    let cmd = netcat::parse(flavor, &argv);
    let _ = cmd.peer();
    // Evidence in a finding is this, as JSON.
    serde_json::to_string(&cmd).expect("a parsed command serializes");
});
