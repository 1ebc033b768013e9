//! `cargo xtask image`: the agent's container image, written as an image archive without a
//! registry or a container engine.
//!
//! The image has one layer: the `shrike` binary, the shared libraries it links (found with
//! `ldd`, the dynamic loader at the path the binary names), and the CA certificates for the
//! network sinks. No shell, no package manager. The archive is in the `docker save` format
//! (`manifest.json`, the config, `<digest>/layer.tar`), which `ctr images import`,
//! `podman load`, `docker load`, `kind load image-archive` and `skopeo copy docker-archive:`
//! all read. Files are written in a fixed order with fixed times, so the same inputs give the
//! same image id.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// CA certificates, where Debian keeps them.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Every file's modification time in the image (SOURCE_DATE_EPOCH overrides it).
const EPOCH: u64 = 1_700_000_000;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The shared objects `binary` loads, as `ldd` resolves them: (path in the image, file to copy).
pub fn linked_libraries(binary: &Path) -> Result<Vec<(String, PathBuf)>> {
    let out = Command::new("ldd").arg(binary).output().context("running ldd")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // A static binary: "not a dynamic executable".
        if String::from_utf8_lossy(&out.stderr).contains("not a dynamic executable") || text.contains("statically linked") {
            return Ok(Vec::new());
        }
        bail!("ldd {}: {}", binary.display(), String::from_utf8_lossy(&out.stderr));
    }
    let mut libs = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)", "/lib64/ld-linux-x86-64.so.2 (0x…)",
        // "linux-vdso.so.1 (0x…)" (in the kernel, no file).
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next().unwrap_or_default(),
            None => line.split_whitespace().next().unwrap_or_default(),
        };
        if path.starts_with('/') {
            let real = fs::canonicalize(path).with_context(|| format!("resolving {path}"))?;
            libs.push((path.to_string(), real));
        } else if line.contains("not found") {
            bail!("ldd {}: {line}", binary.display());
        }
    }
    Ok(libs)
}

fn add_file(tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8], mode: u32, mtime: u64) -> Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, path.trim_start_matches('/'), data)?;
    Ok(())
}

fn add_dir(tar: &mut tar::Builder<Vec<u8>>, path: &str, mtime: u64) -> Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(0o755);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Directory);
    tar.append_data(&mut h, format!("{}/", path.trim_start_matches('/').trim_end_matches('/')), std::io::empty())?;
    Ok(())
}

/// What the image is made of: path in the image → (file on this machine, mode).
pub fn contents(binary: &Path) -> Result<BTreeMap<String, (PathBuf, u32)>> {
    let mut files = BTreeMap::new();
    files.insert("/usr/bin/shrike".to_string(), (binary.to_path_buf(), 0o755));
    for (path, real) in linked_libraries(binary)? {
        files.insert(path, (real, 0o755));
    }
    if !Path::new(CA_BUNDLE).exists() {
        bail!("{CA_BUNDLE} is missing (apt-get install ca-certificates)");
    }
    files.insert(CA_BUNDLE.to_string(), (PathBuf::from(CA_BUNDLE), 0o644));
    Ok(files)
}

/// Write the image archive of `binary` to `output`, tagged with each of `tags`; returns the
/// image id (the config's sha256).
pub fn write_archive(binary: &Path, version: &str, tags: &[String], output: &Path) -> Result<String> {
    let mtime = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse().ok()).unwrap_or(EPOCH);
    let files = contents(binary)?;
    let mut layer = tar::Builder::new(Vec::new());
    let mut dirs = std::collections::BTreeSet::new();
    for path in files.keys().map(String::as_str).chain(["/tmp/", "/var/lib/shrike/", "/etc/shrike/"]) {
        let mut p = Path::new(path.trim_end_matches('/'));
        if path.ends_with('/') {
            dirs.insert(p.to_string_lossy().into_owned());
        }
        while let Some(parent) = p.parent().filter(|q| q != &Path::new("/")) {
            dirs.insert(parent.to_string_lossy().into_owned());
            p = parent;
        }
    }
    // Parents sort before their children.
    for d in &dirs {
        add_dir(&mut layer, d, mtime)?;
    }
    for (path, (source, mode)) in &files {
        let data = fs::read(source).with_context(|| format!("reading {}", source.display()))?;
        add_file(&mut layer, path, &data, *mode, mtime)?;
    }
    let layer = layer.into_inner()?;
    let layer_digest = hex(&Sha256::digest(&layer));
    let created = "2023-11-14T22:13:20Z";
    let config = serde_json::json!({
        "architecture": oci_arch(),
        "os": "linux",
        "created": created,
        "config": {
            "Entrypoint": ["/usr/bin/shrike"],
            "Cmd": ["run"],
            "Env": ["PATH=/usr/bin", format!("SSL_CERT_FILE={CA_BUNDLE}")],
            "WorkingDir": "/",
            "Labels": {
                "org.opencontainers.image.title": "shrike",
                "org.opencontainers.image.description": "Container runtime threat detector for Linux nodes",
                "org.opencontainers.image.version": version,
                "org.opencontainers.image.licenses": "MIT OR Apache-2.0",
            },
        },
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer_digest}")]},
        "history": [{"created": created, "created_by": "cargo xtask image"}],
    });
    let config = serde_json::to_vec(&config)?;
    let config_digest = hex(&Sha256::digest(&config));
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": format!("{config_digest}.json"),
        "RepoTags": tags,
        "Layers": [format!("{layer_digest}/layer.tar")],
    }]))?;
    let mut archive = tar::Builder::new(Vec::new());
    add_dir(&mut archive, &layer_digest, mtime)?;
    add_file(&mut archive, &format!("{layer_digest}/layer.tar"), &layer, 0o644, mtime)?;
    add_file(&mut archive, &format!("{config_digest}.json"), &config, 0o644, mtime)?;
    add_file(&mut archive, "manifest.json", &manifest, 0o644, mtime)?;
    let archive = archive.into_inner()?;
    if let Some(dir) = output.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(output, archive).with_context(|| format!("writing {}", output.display()))?;
    Ok(format!("sha256:{config_digest}"))
}

/// The OCI name of this machine's architecture.
fn oci_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_is_docker_save_format_and_reproducible() {
        let dir = std::env::temp_dir().join(format!("shrike-image-test-{}", std::process::id()));
        let bin = Path::new("/bin/true");
        let a = dir.join("a.tar");
        let b = dir.join("b.tar");
        let tags = vec!["localhost/shrike:test".to_string()];
        let id = write_archive(bin, "0.0.0", &tags, &a).unwrap();
        assert_eq!(write_archive(bin, "0.0.0", &tags, &b).unwrap(), id, "same inputs, same image");
        assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
        let mut names = Vec::new();
        let mut manifest = None;
        let mut layer = None;
        for e in tar::Archive::new(fs::File::open(&a).unwrap()).entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).unwrap();
            if name == "manifest.json" {
                manifest = Some(serde_json::from_slice::<serde_json::Value>(&data).unwrap());
            } else if name.ends_with("/layer.tar") {
                layer = Some(data);
            }
            names.push(name);
        }
        let manifest = manifest.expect("manifest.json");
        assert_eq!(manifest[0]["RepoTags"][0], "localhost/shrike:test");
        let layer = layer.expect("a layer");
        let mut in_layer = Vec::new();
        for e in tar::Archive::new(&layer[..]).entries().unwrap() {
            in_layer.push(e.unwrap().path().unwrap().to_string_lossy().into_owned());
        }
        assert!(in_layer.contains(&"usr/bin/shrike".to_string()), "{in_layer:?}");
        assert!(in_layer.iter().any(|p| p.contains("libc.so")), "linked libraries are in: {in_layer:?}");
        assert!(in_layer.contains(&"etc/ssl/certs/ca-certificates.crt".to_string()));
        assert!(!in_layer.iter().any(|p| p.ends_with("bin/sh")), "no shell");
        let _ = fs::remove_dir_all(&dir);
    }
}
