//! Installing what a fresh Debian machine lacks. Only as root; otherwise say what to run.

use std::{path::Path, process::Command};

use anyhow::{bail, Context, Result};

use crate::ebpf_toolchain::{self, BPF_LINKER_INSTALL, DEBIAN_PACKAGES};

/// Debian packages the privileged tests and the benchmark use.
pub const TEST_PACKAGES: &[&str] = &[
    "containerd",
    "runc",
    "containernetworking-plugins",
    "protobuf-compiler",
    "netcat-traditional",
    "netcat-openbsd",
    "ncat",
    "socat",
    "busybox-static",
    "perl",
    "python3",
    "gcc",
    "bpftool",
    "util-linux",
];

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

/// Make sure the privileged tests' tools are installed.
pub fn test_deps() -> Result<()> {
    apt_install(&missing_packages(TEST_PACKAGES))
}
