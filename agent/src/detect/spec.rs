//! What a detection is, as data its own file declares: the SCC category and module it reports
//! under, its default severity, its MITRE ATT&CK mapping, what a responder reads about it, where
//! it applies, and how its incidents render beyond each detection's own evidence. The finding
//! builder reads nothing else about a detection.

use std::collections::BTreeMap;

use super::{Detection, Detector};
use crate::detect::rules::Severity;

/// `sourceProperties` of a finding, as the builder collects them.
pub type Props = BTreeMap<String, serde_json::Value>;

/// Where a detection applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Only processes inside containers.
    ContainerOnly,
    /// Containers, and host processes when `scope.host` is on in the rules.
    HostToo,
}

/// MITRE ATT&CK mapping (SCC's v2 enum names).
#[derive(Clone, Copy, Debug)]
pub struct Mitre {
    /// Primary tactic.
    pub tactic: &'static str,
    /// Primary techniques.
    pub techniques: &'static [&'static str],
    /// Additional tactics.
    pub additional_tactics: &'static [&'static str],
    /// Additional techniques.
    pub additional_techniques: &'static [&'static str],
}

/// One detection's definition.
pub struct Spec {
    /// SCC category, exactly as SCC spells it.
    pub category: &'static str,
    /// SCC module name.
    pub module: &'static str,
    /// Severity when the rules do not change it (`rules/default.toml` says the same; a test
    /// keeps them equal).
    pub severity: Severity,
    /// MITRE ATT&CK.
    pub mitre: Mitre,
    /// What happened, for a responder.
    pub description: &'static str,
    /// What to do.
    pub next_steps: &'static str,
    /// Where it applies.
    pub scope: Scope,
    /// Its detector; `None` when the engine runs it itself (the Python judge, which needs the
    /// model and reads scripts off the event loop).
    pub detector: Option<fn() -> Box<dyn Detector + Send>>,
    /// Properties of an incident as a whole (the first detection and those merged into it),
    /// beyond each detection's evidence: the commands a remote execution ran, for one.
    pub render_incident: fn(first: &Detection, more: &[Detection], props: &mut Props),
}

/// For detections whose incidents add nothing beyond their detections' evidence.
pub fn no_incident_properties(_: &Detection, _: &[Detection], _: &mut Props) {}

/// Typed facts a detection carries into `sourceProperties`.
pub trait Render {
    /// Add this evidence's properties.
    fn render(&self, props: &mut Props);
}

/// Put one property.
pub fn put(props: &mut Props, key: &str, value: impl Into<serde_json::Value>) {
    props.insert(key.to_string(), value.into());
}
