//! Installing what a fresh Debian machine lacks. Only as root; otherwise say what to run.

use std::{path::Path, process::Command};

use anyhow::{bail, Context, Result};

use ebpf_toolchain::{BPF_LINKER_INSTALL, DEBIAN_PACKAGES};

/// Debian packages the privileged tests and the benchmark use.
pub const TEST_PACKAGES: &[&str] = &[
    "containerd",
    "runc",
    "containernetworking-plugins",
    "netcat-traditional",
    "netcat-openbsd",
    "ncat",
    "socat",
    "busybox-static",
    "perl",
    "python3",
    // Relay attack cases in pods: `curl telnet://`, `openssl s_client` (and its s_server
    // listener), node `child_process`, `script`, ruby `IO.popen`, gawk `/inet` coprocesses,
    // lua `io.popen` over LuaSocket, telnet, expect.
    "curl",
    "openssl",
    "nodejs",
    "bsdutils",
    "ruby",
    "gawk",
    "lua5.4",
    "lua-socket",
    "telnet",
    "expect",
    "gcc",
    "bpftool",
    "util-linux",
    "strace",
    "dpkg-dev",
    "ca-certificates",
];

/// Debian packages only the benchmark uses: bpftrace stands in for a syscall-hooking peer.
pub const BENCH_PACKAGES: &[&str] = &["bpftrace"];

/// Install what the benchmark needs besides the test packages.
pub fn bench_deps() -> Result<()> {
    apt_install(&missing_packages(BENCH_PACKAGES))
}

/// Python packages (PyPI, pinned) the tests use: `kubernetes-validate` validates the Kubernetes
/// manifests against the API schemas offline (and brings PyYAML).
pub const PIP_PACKAGES: &[(&str, &str)] = &[("kubernetes-validate==1.37.0", "kubernetes_validate")];

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

fn missing_packages(pkgs: &[&str]) -> Vec<String> {
    pkgs.iter()
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
                .unwrap_or(false)
        })
        .map(|p| p.to_string())
        .collect()
}

fn apt_install(pkgs: &[String]) -> Result<()> {
    if pkgs.is_empty() {
        return Ok(());
    }
    if !is_root() || !Path::new("/usr/bin/apt-get").exists() {
        bail!("missing packages: {}; run as root: apt-get update && apt-get install -y {}", pkgs.join(" "), pkgs.join(" "));
    }
    eprintln!("installing: {}", pkgs.join(" "));
    let status = Command::new("apt-get").arg("update").arg("-q").status().context("apt-get update")?;
    if !status.success() {
        bail!("apt-get update failed");
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(pkgs)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("apt-get install")?;
    if !status.success() {
        bail!("apt-get install {} failed", pkgs.join(" "));
    }
    Ok(())
}

/// Make sure the eBPF programs can be built: a toolchain route and bpf-linker.
pub fn build_deps() -> Result<()> {
    if ebpf_toolchain::detect().is_err() {
        if Path::new("/usr/bin/apt-get").exists() {
            let pkgs: Vec<&str> = DEBIAN_PACKAGES.to_vec();
            apt_install(&missing_packages(&pkgs))?;
        }
        if let Err(e) = ebpf_toolchain::detect() {
            bail!("{e}");
        }
    }
    if ebpf_toolchain::find_bpf_linker().is_none() {
        eprintln!("installing bpf-linker: {BPF_LINKER_INSTALL}");
        let status = Command::new("sh").arg("-c").arg(BPF_LINKER_INSTALL).status().context("installing bpf-linker")?;
        if !status.success() {
            bail!("bpf-linker install failed; run: {BPF_LINKER_INSTALL}");
        }
    }
    Ok(())
}

/// Make sure the privileged tests' tools, and cargo-fuzz for the fuzz targets, are installed.
pub fn test_deps() -> Result<()> {
    apt_install(&missing_packages(TEST_PACKAGES))?;
    crate::fuzz::install()?;
    for (requirement, module) in PIP_PACKAGES {
        let present = Command::new("python3").args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success());
        if present {
            continue;
        }
        eprintln!("installing: {requirement} (PyPI)");
        let status = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", requirement])
            .status()
            .context("python3 -m pip")?;
        if !status.success() {
            bail!("python3 -m pip install {requirement} failed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::{path::Path, process::Command};

    /// The build compiles its protobuf definitions (the CRI API) with a Rust crate, so `cargo
    /// xtask run` needs no `protoc` and none is in its install list: building the CRI bindings
    /// in a fresh target directory, with `protoc` made unreachable, must work.
    #[test]
    fn building_needs_no_protoc() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let target = root.join("target/check-no-protoc");
        // Nothing on PATH that holds a protoc; PROTOC points nowhere (prost-build would use it).
        let path: Vec<String> = std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .filter(|d| !d.is_empty() && !Path::new(d).join("protoc").exists())
            .map(str::to_string)
            .collect();
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args(["build", "--quiet", "--offline", "--locked", "--package", "cri-api", "--target-dir"])
            .arg(&target)
            .env("PATH", path.join(":"))
            .env("PROTOC", "/nonexistent/protoc")
            .env_remove("RUSTC_WRAPPER")
            .output()
            .expect("run cargo");
        let _ = std::fs::remove_dir_all(&target);
        assert!(out.status.success(), "the CRI bindings did not build without protoc:\n{}", String::from_utf8_lossy(&out.stderr));
        for list in [super::TEST_PACKAGES, ebpf_toolchain::DEBIAN_PACKAGES] {
            assert!(!list.contains(&"protobuf-compiler"), "nothing needs protoc any more: {list:?}");
        }
    }
}
