//! Where the node runs in Google Cloud, asked of the Compute Engine metadata server the way
//! Google's own agents do: project, zone, instance and, on GKE nodes, cluster name and location.
//!
//! The server is only asked when the node is a Compute Engine VM (its DMI product name says
//! Google), when `GCE_METADATA_HOST` names one, or when the configuration gives its URL; every
//! request is bounded in time, and a node whose server does not answer names its findings by
//! its configuration alone.

use std::time::Duration;

use crate::finding::origin::GcpPlace;

/// Address of the metadata server on Compute Engine.
pub const METADATA_SERVER: &str = "http://169.254.169.254";

/// Where the DMI product name is on Linux.
const DMI_PRODUCT_NAME: &str = "/sys/class/dmi/id/product_name";

/// The metadata server to ask, from the `[node] metadata_server` setting: `auto` (ask on a
/// Compute Engine VM, or where `GCE_METADATA_HOST` points), `off`, or a URL.
pub fn metadata_endpoint(setting: &str) -> Option<String> {
    match setting.trim() {
        "off" | "" => None,
        "auto" => {
            if let Some(host) = std::env::var("GCE_METADATA_HOST").ok().filter(|h| !h.trim().is_empty()) {
                let host = host.trim();
                return Some(if host.contains("://") { host.to_string() } else { format!("http://{host}") });
            }
            let product = std::fs::read_to_string(DMI_PRODUCT_NAME).unwrap_or_default();
            product.contains("Google").then(|| METADATA_SERVER.to_string())
        }
        url => Some(url.trim_end_matches('/').to_string()),
    }
}

/// A metadata server that could not be asked.
#[derive(Debug, thiserror::Error)]
#[error("metadata server {endpoint}: {reason}")]
pub struct MetadataError {
    endpoint: String,
    reason: String,
}

/// Ask the metadata server at `endpoint` where this node is. Each request has `timeout`.
pub async fn discover(endpoint: &str, timeout: Duration) -> Result<GcpPlace, MetadataError> {
    let err = |reason: String| MetadataError { endpoint: endpoint.to_string(), reason };
    // reqwest's TLS stack needs a crypto provider even for http://; this is the agent's (ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .no_proxy()
        .build()
        .map_err(|e| err(e.to_string()))?;
    let get = |path: &'static str| {
        let client = client.clone();
        let url = format!("{endpoint}/computeMetadata/v1/{path}");
        async move {
            let r = client.get(&url).header("Metadata-Flavor", "Google").send().await.map_err(|e| format!("{path}: {e}"))?;
            let status = r.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Ok(String::new());
            }
            if !status.is_success() {
                return Err(format!("{path}: HTTP {status}"));
            }
            // The server marks its answers; anything else on that address is not it.
            if r.headers().get("metadata-flavor").and_then(|v| v.to_str().ok()) != Some("Google") {
                return Err(format!("{path}: the answer lacks `Metadata-Flavor: Google`"));
            }
            let text = r.text().await.map_err(|e| format!("{path}: {e}"))?;
            Ok(text.trim().chars().take(256).collect::<String>())
        }
    };
    let project_id = get("project/project-id").await.map_err(err)?;
    if project_id.is_empty() {
        return Err(err("no project/project-id".into()));
    }
    let project_number = get("project/numeric-project-id").await.map_err(err)?;
    // `projects/{number}/zones/{zone}`.
    let zone = get("instance/zone").await.map_err(err)?.rsplit('/').next().unwrap_or_default().to_string();
    let instance = get("instance/name").await.map_err(err)?;
    let cluster = get("instance/attributes/cluster-name").await.map_err(err)?;
    let cluster_location = get("instance/attributes/cluster-location").await.map_err(err)?;
    Ok(GcpPlace { project_id, project_number, zone, instance, cluster, cluster_location })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        assert_eq!(metadata_endpoint("off"), None);
        assert_eq!(metadata_endpoint("http://127.0.0.1:8/"), Some("http://127.0.0.1:8".to_string()));
    }
}
