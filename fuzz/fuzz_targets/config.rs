//! The configuration file (TOML) with its checks, on any UTF-8 text.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use shrike::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Config::parse(text, Path::new("fuzz.toml")) {
        Ok(c) => {
            let _ = (c.scc_parent(), c.node_name(), c.container.endpoint(), c.container.enrichment_wait(), c.node.gcp_place());
        }
        Err(e) => {
            // The message points into the text: rendering it must work for any offset.
            let _ = e.to_string();
        }
    }
});
