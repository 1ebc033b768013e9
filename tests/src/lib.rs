//! shrike's end-to-end tests and their shared fixtures.
//!
//! The tests (`tests/*.rs`) run the real `shrike` binary: on the real kernel, against a private
//! containerd running CRI pods, real HTTP and Pub/Sub receivers, the rendered Kubernetes
//! manifests and the Debian package. Most need root; with `CI=true` a privileged test that
//! cannot run fails instead of skipping ([`common::privileged`]).
//!
//! The binary under test is the workspace's `target/<profile>/shrike`, built by
//! `cargo test --workspace` (the agent crate's own CLI test needs it) or `cargo xtask test`.
//! Tests reach it through [`shrike`], which refuses a binary that is missing or older than the
//! agent's sources; tests that do not run it (the sensor's, through the library) do not care.
//!
//! Fixtures: `fixtures/attacks/` holds the recorded attack streams replayed by
//! `tests/replay_fixtures.rs` (rewritten by `tests/attacks.rs` with `SHRIKE_WRITE_FIXTURES=1`);
//! the other files there build the pods' images.

pub mod agent;
pub mod common;
pub mod containerd;
pub mod http;
pub mod manifests;
pub mod scc_model;

/// `target/<profile>/shrike` of this build.
const SHRIKE: &str = env!("SHRIKE_BIN");

/// The `shrike` binary under test, checked first (see [`check_binary`]).
pub fn shrike() -> &'static str {
    check_binary();
    SHRIKE
}

/// Sources whose change makes the binary stale.
const AGENT_SOURCES: &[&str] = &["agent/src", "agent-common/src", "agent-ebpf/src", "rules"];

/// Panic with what to do when the binary under test is missing or older than a file of the
/// agent's sources (a test run against a stale agent would test old code).
fn check_binary() {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        let built = match std::fs::metadata(SHRIKE).and_then(|m| m.modified()) {
            Ok(t) => t,
            Err(e) => panic!("{SHRIKE}: {e}; build it first: cargo build --release -p shrike (or run cargo test --workspace --release, or cargo xtask test)"),
        };
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root");
        for dir in AGENT_SOURCES {
            if let Some(newer) = newer_than(&root.join(dir), built) {
                panic!("{SHRIKE} is older than {}: rebuild it (cargo build --release -p shrike), or run cargo test --workspace --release", newer.display());
            }
        }
    });
}

/// A file under `dir` modified after `t`.
fn newer_than(dir: &std::path::Path, t: std::time::SystemTime) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            if let Some(p) = newer_than(&path, t) {
                return Some(p);
            }
        } else if meta.modified().is_ok_and(|m| m > t) {
            return Some(path);
        }
    }
    None
}
