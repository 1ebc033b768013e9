//! socat's command line (options, addresses, dual addresses, address options) and the reverse
//! shell judgement over it, on any argv a container can exec (NUL-separated, as the kernel side
//! copies it; the program's own arguments, argv[1..]).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shrike::{detect::socat, event::split_argv};

fuzz_target!(|data: &[u8]| {
    let (argv, _) = split_argv(data, false);
    let cmd = socat::parse(&argv);
    for a in &cmd.addresses {
        let _ = a.peer();
    }
    if let Some((exec, net)) = socat::reverse_shell(&cmd) {
        let _ = (exec.peer(), net.peer());
    }
    serde_json::to_string(&cmd).expect("a parsed command serializes");
});
