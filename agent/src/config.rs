//! The agent's configuration file (TOML). Every key has a default; an unknown key, a wrong type
//! or a bad value is refused at start with the file, line, column and reason.

use std::{path::Path, time::Duration};

use serde::{Deserialize, Serialize};

pub use crate::toml_file::{FileError, MAX_FILE_BYTES};
use crate::toml_file::parse_toml;

/// A configuration that cannot be used.
pub type ConfigError = FileError;

/// Where the node is, for findings (`nodes`, `resourceName`, `resource`, `VM_Instance_Name`).
/// On Google Cloud the metadata server tells project, zone, instance and GKE cluster; a key set
/// here overrides what it tells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Node name; empty = `$NODE_NAME` (Kubernetes downward API), else the host name.
    pub name: String,
    /// Kubernetes cluster name.
    pub cluster: String,
    /// Google Cloud project id.
    pub project: String,
    /// Google Cloud project number.
    pub project_number: String,
    /// Cluster location (region or zone).
    pub location: String,
    /// The VM's zone.
    pub zone: String,
    /// The VM's instance name.
    pub instance: String,
    /// Compute Engine metadata server: `auto` (asked on a Compute Engine VM, or where
    /// `GCE_METADATA_HOST` points), `off`, or its URL.
    pub metadata_server: String,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            cluster: String::new(),
            project: String::new(),
            project_number: String::new(),
            location: String::new(),
            zone: String::new(),
            instance: String::new(),
            metadata_server: "auto".into(),
        }
    }
}

impl NodeConfig {
    /// What the configuration says of the node's place in Google Cloud.
    pub fn gcp_place(&self) -> crate::finding::GcpPlace {
        crate::finding::GcpPlace {
            project_id: self.project.trim().to_string(),
            project_number: self.project_number.trim().to_string(),
            zone: self.zone.trim().to_string(),
            instance: self.instance.trim().to_string(),
            cluster: self.cluster.trim().to_string(),
            cluster_location: self.location.trim().to_string(),
        }
    }
}

/// Container runtime (CRI) access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContainerConfig {
    /// CRI endpoint: a unix socket path or `unix://` URL. Empty = the first of the usual sockets
    /// that exists (containerd, then CRI-O).
    pub runtime_endpoint: String,
    /// How long output that needs a container's pod metadata waits for it before going out
    /// marked as incomplete, in milliseconds.
    pub enrichment_wait_ms: u64,
    /// Deadline of one CRI call, in milliseconds.
    pub cri_timeout_ms: u64,
}

impl Default for ContainerConfig {
    fn default() -> Self {
        Self { runtime_endpoint: String::new(), enrichment_wait_ms: 2000, cri_timeout_ms: 2000 }
    }
}

impl ContainerConfig {
    /// Where the CRI socket is: the configured one, or discovered among the usual ones.
    pub fn endpoint(&self) -> crate::container::cri::RuntimeEndpoint {
        crate::container::cri::RuntimeEndpoint::from_setting(&self.runtime_endpoint)
    }
    /// [`Self::enrichment_wait_ms`] as a duration.
    pub fn enrichment_wait(&self) -> Duration {
        Duration::from_millis(self.enrichment_wait_ms)
    }
}

/// Kernel sensor settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensorSettings {
    /// Ring buffer size in bytes: a power of two, at least 64 KiB.
    pub ring_buffer_bytes: u32,
    /// Have the kernel count each program's runs and run time (the `shrike_bpf_program_*`
    /// metrics); off by default, as counting costs two clock reads per program run.
    pub program_stats: bool,
}

impl Default for SensorSettings {
    fn default() -> Self {
        Self { ring_buffer_bytes: crate::sensor::DEFAULT_RING_BUFFER_BYTES, program_stats: false }
    }
}

/// Security Command Center naming of findings (delivery is `[sinks.scc]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SccConfig {
    /// SCC source findings belong to, `organizations/{org}/sources/{source}`, for findings
    /// shipped to SCC by other means; empty: the `[sinks.scc]` source if that sink is on, else
    /// findings carry no `name`/`parent`.
    pub source: String,
}

/// Metrics and health listener.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address of the `/metrics`, `/healthz` and `/readyz` listener; empty turns it off. Use
    /// `0.0.0.0:9477` in a DaemonSet scraped from outside the node.
    pub listen: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { listen: "127.0.0.1:9477".into() }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// See [`NodeConfig`].
    pub node: NodeConfig,
    /// See [`ContainerConfig`].
    pub container: ContainerConfig,
    /// See [`SensorSettings`].
    pub sensor: SensorSettings,
    /// See [`SccConfig`].
    pub scc: SccConfig,
    /// See [`MetricsConfig`].
    pub metrics: MetricsConfig,
    /// Where findings go (`[sinks]`): stdout, file, webhooks, SCC.
    pub sinks: crate::sink::config::SinksConfig,
    /// A rules file over the embedded defaults (empty: the defaults).
    pub rules: String,
}

impl Config {
    /// Parse configuration text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |offset: usize, reason: String| FileError::at(text, path, offset, reason);
        let cfg: Config = parse_toml(text, path)?;
        let r = cfg.sensor.ring_buffer_bytes;
        if !cfg.metrics.listen.is_empty() && cfg.metrics.listen.parse::<std::net::SocketAddr>().is_err() {
            let offset = text.find("listen").unwrap_or(0);
            return Err(invalid(offset, format!("metrics.listen {:?} is not an address:port", cfg.metrics.listen)));
        }
        let m = cfg.node.metadata_server.trim();
        if !matches!(m, "auto" | "off") && !(m.starts_with("http://") || m.starts_with("https://")) {
            let offset = text.find("metadata_server").unwrap_or(0);
            return Err(invalid(offset, format!("node.metadata_server {m:?}: use \"auto\", \"off\" or an http:// URL")));
        }
        if !r.is_power_of_two() || r < 65536 {
            let offset = text.find("ring_buffer_bytes").unwrap_or(0);
            return Err(invalid(offset, format!("ring_buffer_bytes must be a power of two >= 65536, not {r}")));
        }
        let (named, delivered) = (cfg.scc.source.trim().trim_end_matches('/'), cfg.sinks.scc.source.trim().trim_end_matches('/'));
        if !named.is_empty() && !delivered.is_empty() && named != delivered {
            let offset = text.find("[sinks.scc]").unwrap_or(0);
            return Err(invalid(
                offset,
                format!("sinks.scc.source {delivered:?} differs from scc.source {named:?}: findings would be named in one source and created in another (set one of them)"),
            ));
        }
        if let Err(e) = cfg.sinks.validate() {
            // Point at the offending key: the option's last part (`sinks.webhook[1].url` → `url`)
            // at its first place after the start of the `[sinks` tables.
            let start = text.find("[sinks").unwrap_or(0);
            let key = match &e {
                crate::sink::SinkError::Config { option, .. } => option.rsplit('.').next().unwrap_or_default().split('[').next().unwrap_or_default().to_string(),
                _ => String::new(),
            };
            let offset = if key.is_empty() { None } else { text[start..].find(&format!("\n{key}")).map(|o| start + o + 1) };
            return Err(invalid(offset.unwrap_or(start), e.to_string()));
        }
        Ok(cfg)
    }

    /// Read and parse a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::parse(&FileError::read(path)?, path)
    }

    /// The SCC parent findings are named under: the SCC sink's
    /// `organizations/{org}/sources/{source}/locations/{location}` when that sink is on, else
    /// `[scc] source` in location `global`, else empty (findings are named under
    /// [`crate::finding::DEFAULT_SCC_PARENT`]).
    pub fn scc_parent(&self) -> String {
        if self.sinks.scc.enabled() {
            // Checked in `parse`; an unchecked config falls back to naming nothing.
            return self.sinks.scc.parent().unwrap_or_default();
        }
        let s = self.scc.source.trim().trim_end_matches('/');
        if s.is_empty() {
            String::new()
        } else {
            format!("{s}/locations/global")
        }
    }

    /// The node name: configured, else `$NODE_NAME`, else the host name.
    pub fn node_name(&self) -> String {
        if !self.node.name.is_empty() {
            return self.node.name.clone();
        }
        if let Ok(n) = std::env::var("NODE_NAME") {
            if !n.is_empty() {
                return n;
            }
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::cri::RuntimeEndpoint;
    use std::path::PathBuf;

    #[test]
    fn fifos_devices_and_huge_files_are_refused_at_once() {
        let start = std::time::Instant::now();
        let e = Config::load(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.starts_with("/dev/zero: not a regular file"), "{e}");
        let dir = std::env::temp_dir().join(format!("shrike-config-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("shrike.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = Config::load(&fifo).unwrap_err().to_string();
        assert!(e.contains("shrike.toml: not a regular file"), "{e}");
        let big = dir.join("big.toml");
        std::fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(Config::load(&big).unwrap_err().to_string().contains("more than"));
        assert!(start.elapsed() < Duration::from_secs(2));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn defaults_and_full_file() {
        let c = Config::parse("", Path::new("x.toml")).unwrap();
        assert_eq!(format!("{c:?}"), format!("{:?}", Config::default()));
        let c = Config::parse(
            "[node]\nname = \"n1\"\ncluster = \"prod\"\nproject = \"p\"\nlocation = \"europe-west1\"\n[container]\nruntime_endpoint = \"unix:///run/crio/crio.sock\"\nenrichment_wait_ms = 500\n",
            Path::new("x.toml"),
        )
        .unwrap();
        assert_eq!(c.node_name(), "n1");
        assert_eq!(c.container.endpoint(), RuntimeEndpoint::Socket(PathBuf::from("/run/crio/crio.sock")));
        assert_eq!(Config::default().container.endpoint(), RuntimeEndpoint::Discover);
        assert_eq!(c.container.enrichment_wait(), Duration::from_millis(500));
    }

    #[test]
    fn findings_are_named_in_the_source_they_are_delivered_to() {
        let c = Config::parse("", Path::new("c.toml")).unwrap();
        assert_eq!(c.scc_parent(), "");
        let c = Config::parse("[scc]\nsource = \"organizations/1/sources/2\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.scc_parent(), "organizations/1/sources/2/locations/global");
        assert!(!c.sinks.scc.enabled(), "naming alone does not turn delivery on");
        let c = Config::parse("[sinks.scc]\nsource = \"organizations/1/sources/2\"\nlocation = \"eu\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.scc_parent(), "organizations/1/sources/2/locations/eu");
        let both = "[scc]\nsource = \"organizations/1/sources/2\"\n[sinks.scc]\nsource = \"organizations/1/sources/2/\"\n";
        assert_eq!(Config::parse(both, Path::new("c.toml")).unwrap().scc_parent(), "organizations/1/sources/2/locations/global");
        let e = Config::parse("[scc]\nsource = \"organizations/1/sources/2\"\n\n[sinks.scc]\nsource = \"organizations/1/sources/3\"\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml:4:") && e.to_string().contains("differs"), "{e}");
    }

    #[test]
    fn bad_sinks_are_refused_at_the_key() {
        let e = Config::parse("[metrics]\nlisten = \"\"\n[[sinks.webhook]]\nname = \"a\"\nurl = \"ftp://x/\"\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml:5:") && e.to_string().contains("sinks.webhook[0].url"), "{e}");
        let e = Config::parse("[sinks.scc]\nsource = \"projects/p/sources/2\"\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml:2:") && e.to_string().contains("sinks.scc.source"), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_file_and_line() {
        let e = Config::parse("[node]\nname = \"a\"\nclustr = \"typo\"\n", Path::new("/etc/shrike.toml")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("/etc/shrike.toml:3:"), "{msg}");
        assert!(msg.contains("clustr"), "{msg}");
        let e = Config::parse("[container]\nenrichment_wait_ms = \"soon\"\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml:2:"), "{e}");
        let e = Config::parse("[sensor]\n\nring_buffer_bytes = 1000\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml:3:"), "{e}");
        let e = Config::parse("[node\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml:1:"), "{e}");
    }

    #[test]
    fn node_name_from_environment() {
        // The env var is process-wide: only this test touches NODE_NAME.
        std::env::set_var("NODE_NAME", "gke-node-7");
        assert_eq!(Config::default().node_name(), "gke-node-7");
        std::env::remove_var("NODE_NAME");
        assert!(!Config::default().node_name().is_empty(), "falls back to the host name");
    }
}
