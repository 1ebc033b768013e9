//! Where findings come from and what they are named: the node, its place in Google Cloud (when it
//! is there), the SCC source, the clock.
//!
//! Naming, the same for every finding of a node:
//! - `name` is `{parent}/findings/{id}` with `parent` the SCC source's
//!   `organizations/{org}/sources/{source}/locations/{location}`: the configured one, else
//!   [`DEFAULT_SCC_PARENT`]; `canonicalName` uses `projects/{project}` instead of the
//!   organization when the project is known.
//! - On a GKE node (project, location and cluster known) the resource is the cluster,
//!   `//container.googleapis.com/projects/{project}/locations/{location}/clusters/{cluster}`, with
//!   the `resource` envelope of SCC's v2 export; the node is named by its VM's full resource name.
//! - On a Compute Engine VM that is not a GKE node, the resource is the VM.
//! - Anywhere else the resource is the node, `//shrike/nodes/{node}` (type `shrike.Node`), and
//!   the node is named by its node name.

use super::scc;

/// SCC parent of findings when no source is configured (`[scc] source` or `[sinks.scc]`).
pub const DEFAULT_SCC_PARENT: &str = "organizations/0/sources/shrike/locations/global";

/// Where a node runs in Google Cloud, as far as it is known (every field may be empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcpPlace {
    /// Project id (`my-project`).
    pub project_id: String,
    /// Project number (`123456789012`).
    pub project_number: String,
    /// The VM's zone (`us-central1-a`).
    pub zone: String,
    /// The VM's instance name.
    pub instance: String,
    /// GKE cluster name.
    pub cluster: String,
    /// GKE cluster location (region or zone).
    pub cluster_location: String,
}

impl GcpPlace {
    /// Take each field from `over` when it is set there (configuration over discovery).
    pub fn overridden_by(mut self, over: &GcpPlace) -> GcpPlace {
        for (mine, theirs) in [
            (&mut self.project_id, &over.project_id),
            (&mut self.project_number, &over.project_number),
            (&mut self.zone, &over.zone),
            (&mut self.instance, &over.instance),
            (&mut self.cluster, &over.cluster),
            (&mut self.cluster_location, &over.cluster_location),
        ] {
            if !theirs.is_empty() {
                mine.clone_from(theirs);
            }
        }
        self
    }

    /// The project as resource names use it: the number when known, else the id.
    fn project(&self) -> &str {
        if self.project_number.is_empty() {
            &self.project_id
        } else {
            &self.project_number
        }
    }

    /// A GKE node: project, cluster and its location are known.
    pub fn is_gke(&self) -> bool {
        !self.project().is_empty() && !self.cluster.is_empty() && !self.cluster_location.is_empty()
    }

    /// A Compute Engine VM: project, zone and instance are known.
    pub fn is_gce(&self) -> bool {
        !self.project_id.is_empty() && !self.zone.is_empty() && !self.instance.is_empty()
    }

    fn gcp_metadata(&self) -> scc::GcpMetadata {
        let project = format!("//cloudresourcemanager.googleapis.com/projects/{}", self.project());
        scc::GcpMetadata {
            project: project.clone(),
            project_display_name: self.project_id.clone(),
            parent: project,
            parent_display_name: self.project_id.clone(),
        }
    }
}

/// Where findings come from: node, cloud place, SCC source, clock.
#[derive(Clone, Debug)]
pub struct Origin {
    /// Node name.
    pub node: String,
    /// Place in Google Cloud (empty off Google Cloud).
    pub gcp: GcpPlace,
    /// SCC parent of the findings, `organizations/{org}/sources/{source}/locations/{location}`.
    pub scc_parent: String,
    /// This boot's id (makes finding ids unique across reboots).
    pub boot_id: String,
    /// Unix time minus CLOCK_BOOTTIME, nanoseconds (turns kernel timestamps into wall time).
    pub boot_to_unix_ns: i128,
}

impl Default for Origin {
    fn default() -> Self {
        Origin { node: String::new(), gcp: GcpPlace::default(), scc_parent: DEFAULT_SCC_PARENT.into(), boot_id: String::new(), boot_to_unix_ns: 0 }
    }
}

impl Origin {
    /// This host: its boot id and clock offset. An empty `scc_parent` means the default.
    pub fn this_host(node: String, gcp: GcpPlace, scc_parent: String) -> Origin {
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().replace('-', "")).unwrap_or_default();
        let scc_parent = if scc_parent.is_empty() { DEFAULT_SCC_PARENT.to_string() } else { scc_parent };
        Origin { node, gcp, scc_parent, boot_id, boot_to_unix_ns: super::boot_to_unix_ns() }
    }

    /// `name` and `canonicalName` of finding `id`.
    pub fn finding_names(&self, id: &str) -> (String, String) {
        let name = format!("{}/findings/{id}", self.scc_parent);
        let project = self.gcp.project();
        // organizations/{org}/sources/... → projects/{project}/sources/...
        let canonical = match self.scc_parent.split_once("/sources/") {
            Some((_, rest)) if !project.is_empty() => format!("projects/{project}/sources/{rest}/findings/{id}"),
            _ => name.clone(),
        };
        (name, canonical)
    }

    /// How `kubernetes.nodes[].name` names this node.
    pub fn node_resource_name(&self) -> String {
        if self.gcp.is_gce() {
            format!("//compute.googleapis.com/projects/{}/zones/{}/instances/{}", self.gcp.project_id, self.gcp.zone, self.gcp.instance)
        } else {
            self.node.clone()
        }
    }

    /// The finding's `resourceName` and the `resource` of its envelope.
    pub fn resource(&self) -> (String, scc::Resource) {
        let g = &self.gcp;
        let r = if g.is_gke() {
            scc::Resource {
                name: format!("//container.googleapis.com/projects/{}/locations/{}/clusters/{}", g.project(), g.cluster_location, g.cluster),
                display_name: g.cluster.clone(),
                kind: "google.container.Cluster".into(),
                cloud_provider: Some("GOOGLE_CLOUD_PLATFORM"),
                service: "container.googleapis.com".into(),
                location: g.cluster_location.clone(),
                gcp_metadata: Some(g.gcp_metadata()),
            }
        } else if g.is_gce() {
            scc::Resource {
                name: self.node_resource_name(),
                display_name: g.instance.clone(),
                kind: "google.compute.Instance".into(),
                cloud_provider: Some("GOOGLE_CLOUD_PLATFORM"),
                service: "compute.googleapis.com".into(),
                location: g.zone.clone(),
                gcp_metadata: Some(g.gcp_metadata()),
            }
        } else {
            scc::Resource {
                name: format!("//shrike/nodes/{}", self.node),
                display_name: self.node.clone(),
                kind: "shrike.Node".into(),
                ..Default::default()
            }
        };
        (r.name.clone(), r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gke() -> GcpPlace {
        GcpPlace {
            project_id: "my-proj".into(),
            project_number: "987654321098".into(),
            zone: "us-central1-a".into(),
            instance: "gke-prod-default-pool-1a2b-x9yz".into(),
            cluster: "prod".into(),
            cluster_location: "us-central1".into(),
        }
    }

    #[test]
    fn gke_nodes_name_the_cluster_and_the_vm() {
        let o = Origin { node: "gke-prod-default-pool-1a2b-x9yz".into(), gcp: gke(), ..Origin::default() };
        let (name, r) = o.resource();
        assert_eq!(name, "//container.googleapis.com/projects/987654321098/locations/us-central1/clusters/prod");
        assert_eq!((r.kind.as_str(), r.service.as_str(), r.location.as_str()), ("google.container.Cluster", "container.googleapis.com", "us-central1"));
        let m = r.gcp_metadata.unwrap();
        assert_eq!(m.project, "//cloudresourcemanager.googleapis.com/projects/987654321098");
        assert_eq!(m.project_display_name, "my-proj");
        assert_eq!(o.node_resource_name(), "//compute.googleapis.com/projects/my-proj/zones/us-central1-a/instances/gke-prod-default-pool-1a2b-x9yz");
        let (n, c) = o.finding_names("abc");
        assert_eq!(n, "organizations/0/sources/shrike/locations/global/findings/abc");
        assert_eq!(c, "projects/987654321098/sources/shrike/locations/global/findings/abc");
    }

    #[test]
    fn plain_vms_and_other_hosts() {
        let vm = GcpPlace { cluster: String::new(), cluster_location: String::new(), ..gke() };
        let o = Origin { node: "vm1".into(), gcp: vm, ..Origin::default() };
        let (name, r) = o.resource();
        assert_eq!(name, "//compute.googleapis.com/projects/my-proj/zones/us-central1-a/instances/gke-prod-default-pool-1a2b-x9yz");
        assert_eq!(r.kind, "google.compute.Instance");
        let o = Origin { node: "laptop".into(), scc_parent: "organizations/1/sources/2/locations/eu".into(), ..Origin::default() };
        let (name, r) = o.resource();
        assert_eq!((name.as_str(), r.kind.as_str(), r.cloud_provider), ("//shrike/nodes/laptop", "shrike.Node", None));
        assert_eq!(o.node_resource_name(), "laptop");
        let (n, c) = o.finding_names("f1");
        assert_eq!(n, "organizations/1/sources/2/locations/eu/findings/f1");
        assert_eq!(c, n);
    }

    #[test]
    fn configuration_overrides_discovery_field_by_field() {
        let over = GcpPlace { cluster: "other".into(), ..GcpPlace::default() };
        let p = gke().overridden_by(&over);
        assert_eq!(p.cluster, "other");
        assert_eq!(p.project_id, "my-proj");
    }
}
