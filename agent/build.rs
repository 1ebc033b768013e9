//! Builds the eBPF programs (agent-ebpf) and leaves the object in OUT_DIR for embedding.
//! `SHRIKE_EBPF_OBJECT=/path/to/object` skips the build and embeds a prebuilt object.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=SHRIKE_EBPF_OBJECT");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("agent/ has a parent").to_path_buf();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("shrike.bpf.o");
    // A change to the ebpf-toolchain crate (a build-dependency) rebuilds and reruns this script.
    for p in ["agent-ebpf/src", "agent-ebpf/Cargo.toml", "agent-ebpf/Cargo.lock", "agent-common/src", "agent-common/Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    let object = match std::env::var_os("SHRIKE_EBPF_OBJECT") {
        Some(p) => PathBuf::from(p),
        None => {
            let route = ebpf_toolchain::detect().unwrap_or_else(|e| fail(&e));
            ebpf_toolchain::build(&route, &root.join("agent-ebpf"), &root.join("target/bpf")).unwrap_or_else(|e| fail(&e))
        }
    };
    if let Err(e) = std::fs::copy(&object, &out) {
        fail(&format!("copying {} to {}: {e}", object.display(), out.display()));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}
