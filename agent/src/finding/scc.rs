//! The Security Command Center v2 `Finding` in its proto3 JSON form (camelCase keys, int64 as
//! strings, enums by name, empty fields left out), inside a `NotificationMessage`-like envelope
//! `{"finding": ..., "resource": ...}`. Only fields the real API has: a test parses every finding
//! the suite produces into the official `google-cloud-securitycenter-v2` model.

use std::collections::BTreeMap;

use serde::Serialize;

fn is_false(b: &bool) -> bool {
    !*b
}

/// int64 fields are JSON strings in proto3 JSON.
pub fn int64<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

fn opt_int64<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&v.to_string()),
        None => s.serialize_none(),
    }
}

/// `NotificationMessage` without `notificationConfigName` (the Pub/Sub sink adds it).
#[derive(Clone, Debug, Serialize)]
pub struct Envelope {
    /// The finding.
    pub finding: Finding,
    /// The resource it is about.
    pub resource: Resource,
}

/// `google.cloud.securitycenter.v2.Finding` (the fields a runtime threat finding uses).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// `organizations/{org}/sources/{source}/locations/{location}/findings/{id}`.
    pub name: String,
    /// `projects/{project}/sources/{source}/locations/{location}/findings/{id}` when the
    /// project is known, else the same as `name`.
    pub canonical_name: String,
    /// `organizations/{org}/sources/{source}/locations/{location}`.
    pub parent: String,
    /// Full resource name of the cluster (or node).
    pub resource_name: String,
    /// `ACTIVE`.
    pub state: &'static str,
    /// Display name of the category.
    pub category: &'static str,
    /// Detector-specific facts.
    pub source_properties: BTreeMap<String, serde_json::Value>,
    /// When the event happened (RFC 3339 UTC).
    pub event_time: String,
    /// When the finding was made (RFC 3339 UTC).
    pub create_time: String,
    /// `CRITICAL` .. `LOW`.
    pub severity: &'static str,
    /// `THREAT`.
    pub finding_class: &'static str,
    /// Peer addresses.
    #[serde(skip_serializing_if = "Indicator::is_empty")]
    pub indicator: Indicator,
    /// MITRE ATT&CK.
    pub mitre_attack: MitreAttack,
    /// Socket evidence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<Connection>,
    /// The offending process first, then its parent and what else ran in the incident.
    pub processes: Vec<Process>,
    /// What was seen.
    pub description: String,
    /// What to do.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub next_steps: String,
    /// The container.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    /// Pod and node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<Kubernetes>,
}

/// `Indicator`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Indicator {
    /// Remote addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<String>,
    /// Remote host names (as given on a command line; never resolved).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
}

impl Indicator {
    fn is_empty(&self) -> bool {
        self.ip_addresses.is_empty() && self.domains.is_empty()
    }
}

/// `MitreAttack` (v2 enums).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MitreAttack {
    /// Tactic.
    pub primary_tactic: &'static str,
    /// Techniques, most specific first.
    pub primary_techniques: Vec<&'static str>,
    /// More tactics.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_tactics: Vec<&'static str>,
    /// More techniques.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_techniques: Vec<&'static str>,
    /// ATT&CK version.
    pub version: &'static str,
}

/// `Connection`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Remote address.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub destination_ip: String,
    /// Remote port (int32: a JSON number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_port: Option<i32>,
    /// Local address (left out when unknown).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source_ip: String,
    /// Local port (left out when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_port: Option<i32>,
    /// `TCP`, `UDP`, ...
    pub protocol: &'static str,
}

/// `File`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    /// Absolute path.
    pub path: String,
    /// Size in bytes.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_int64")]
    pub size: Option<i64>,
    /// Hex SHA-256 of the first `hashedSize` bytes.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    /// Bytes hashed.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_int64")]
    pub hashed_size: Option<i64>,
    /// Only a prefix was hashed.
    #[serde(skip_serializing_if = "is_false")]
    pub partially_hashed: bool,
    /// Prefix of the contents.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub contents: String,
}

/// `Process`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    /// Command name.
    pub name: String,
    /// The executable (the interpreter, for scripts).
    pub binary: File,
    /// The script given to an interpreter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<File>,
    /// Arguments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Arguments were cut.
    #[serde(skip_serializing_if = "is_false")]
    pub arguments_truncated: bool,
    /// pid.
    #[serde(serialize_with = "int64")]
    pub pid: i64,
    /// Parent pid.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_int64")]
    pub parent_pid: Option<i64>,
    /// Real uid.
    #[serde(serialize_with = "int64")]
    pub user_id: i64,
}

/// `Label`.
#[derive(Clone, Debug, Serialize)]
pub struct Label {
    /// Key.
    pub name: String,
    /// Value.
    pub value: String,
}

/// `Container`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image as configured.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uri: String,
    /// Image digest.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_id: String,
    /// Labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
}

/// `Kubernetes`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Kubernetes {
    /// The pod.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<Pod>,
    /// The node.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<Node>,
}

/// `Kubernetes.Pod`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Pod {
    /// Namespace.
    pub ns: String,
    /// Name.
    pub name: String,
    /// Labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    /// Containers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
}

/// `Kubernetes.Node`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Node {
    /// The node's VM by its full resource name
    /// (`//compute.googleapis.com/projects/{project}/zones/{zone}/instances/{name}`) on Google
    /// Cloud, else the node name.
    pub name: String,
}

/// `Resource` (v2).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Full resource name.
    pub name: String,
    /// Short name.
    pub display_name: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `GOOGLE_CLOUD_PLATFORM` when on GCP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_provider: Option<&'static str>,
    /// Service.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service: String,
    /// Location.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub location: String,
    /// Project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcp_metadata: Option<GcpMetadata>,
}

/// `GcpMetadata`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcpMetadata {
    /// `//cloudresourcemanager.googleapis.com/projects/{number or id}`.
    pub project: String,
    /// Project id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub project_display_name: String,
    /// The project's parent in the resource hierarchy as far as the node knows it: the project.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub parent: String,
    /// Its display name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub parent_display_name: String,
}
