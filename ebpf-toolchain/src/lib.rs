//! Finding a toolchain that can build the eBPF programs, and building them. Used by the
//! agent's build script (a build-dependency) and by xtask; std only.
//!
//! Two routes are known to work:
//! - Debian's `rustc-web` (1.96, LLVM 22) with its prebuilt `core` for `bpfel-unknown-none`
//!   (`libstd-rust-web-dev-bpf`), used with `RUSTC_BOOTSTRAP=1`;
//! - rustup nightly with the `rust-src` component and `-Z build-std=core`.
//!
//! Both need `bpf-linker` built against the same LLVM as the compiler.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// How the eBPF object will be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Debian's rustc-web with a prebuilt BPF core.
    Debian { rustc: PathBuf, cargo: PathBuf },
    /// rustup nightly with rust-src.
    RustupNightly,
}

/// Debian's compiler, cargo and BPF core library locations.
pub const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
/// Debian's cargo.
pub const DEBIAN_CARGO: &str = "/usr/bin/cargo";
/// Directory holding Debian's prebuilt `libcore` for the BPF target.
pub const DEBIAN_BPF_CORE_DIR: &str = "/usr/lib/rustlib/bpfel-unknown-none/lib";
/// Debian packages of the Debian route.
pub const DEBIAN_PACKAGES: &[&str] =
    &["rustc-web", "cargo-web", "libstd-rust-web-dev-bpf", "llvm-22-dev"];
/// The command that installs bpf-linker for the Debian route.
pub const BPF_LINKER_INSTALL: &str = "LLVM_PREFIX=/usr/lib/llvm-22 PATH=/usr/lib/llvm-22/bin:$PATH cargo install bpf-linker --locked --version 0.13.0 --no-default-features --features llvm-22";

fn debian_core_present() -> bool {
    std::fs::read_dir(DEBIAN_BPF_CORE_DIR)
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libcore-")))
        .unwrap_or(false)
}

fn nightly_with_rust_src() -> bool {
    let out = Command::new("rustup").args(["component", "list", "--toolchain", "nightly", "--installed"]).output();
    matches!(out, Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).lines().any(|l| l.starts_with("rust-src")))
}

/// Where bpf-linker is, looking in PATH and in cargo's bin directory.
pub fn find_bpf_linker() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join("bpf-linker")).find(|p| p.is_file())
}

/// Pick a route, or explain exactly what is missing.
pub fn detect() -> Result<Route, String> {
    if Path::new(DEBIAN_RUSTC).is_file() && Path::new(DEBIAN_CARGO).is_file() && debian_core_present() {
        return Ok(Route::Debian { rustc: DEBIAN_RUSTC.into(), cargo: DEBIAN_CARGO.into() });
    }
    if nightly_with_rust_src() {
        return Ok(Route::RustupNightly);
    }
    Err(format!(
        "no toolchain can build the eBPF programs. Either run `cargo xtask setup` (as root on Debian 12+: \
         installs {}), or `apt-get install -y {}`, or on another distro `rustup toolchain install nightly \
         --component rust-src`; then `{}`",
        DEBIAN_PACKAGES.join(" "),
        DEBIAN_PACKAGES.join(" "),
        BPF_LINKER_INSTALL
    ))
}

/// Build the eBPF crate in `ebpf_dir` into `target_dir`; returns the object's path.
pub fn build(route: &Route, ebpf_dir: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    let linker = find_bpf_linker().ok_or_else(|| format!("bpf-linker not found; install it with `{BPF_LINKER_INSTALL}`"))?;
    let mut cmd = match route {
        Route::Debian { rustc, cargo } => {
            let mut c = Command::new(cargo);
            c.env("RUSTC", rustc).env("RUSTC_BOOTSTRAP", "1");
            c.args(["build", "--release", "--target", "bpfel-unknown-none"]);
            c
        }
        Route::RustupNightly => {
            let mut c = Command::new("rustup");
            c.args(["run", "nightly", "cargo", "build", "--release", "--target", "bpfel-unknown-none", "-Z", "build-std=core"]);
            c
        }
    };
    // A clean environment: nothing of the outer build (flags, wrappers, target dir) leaks in.
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        let outer = (k.starts_with("CARGO") && k != "CARGO_HOME") || k.starts_with("RUSTC") || k.starts_with("RUSTDOC") || k.contains("RUSTFLAGS");
        // The Debian route's own RUSTC and RUSTC_BOOTSTRAP, set above, stay.
        let kept = matches!(route, Route::Debian { .. }) && (k == "RUSTC" || k == "RUSTC_BOOTSTRAP");
        if outer && !kept {
            cmd.env_remove(&key);
        }
    }
    if let Some(dir) = linker.parent() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs: Vec<PathBuf> = vec![dir.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(dirs) {
            cmd.env("PATH", joined);
        }
    }
    cmd.env("CARGO_TARGET_BPFEL_UNKNOWN_NONE_LINKER", &linker);
    cmd.arg("--target-dir").arg(target_dir).current_dir(ebpf_dir);
    let status = cmd.status().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if !status.success() {
        return Err(format!("eBPF build failed ({status}): {cmd:?}"));
    }
    let object = target_dir.join("bpfel-unknown-none/release/shrike");
    if object.is_file() {
        Ok(object)
    } else {
        Err(format!("eBPF build produced no object at {}", object.display()))
    }
}
