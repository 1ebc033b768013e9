//! Detection rules as data: which detections run, their severity, the name lists they use and
//! the exceptions users write. Defaults are `rules/default.toml`, embedded in the binary; a
//! user file overrides them. A bad file is refused whole, with its file, line and reason.

use std::{
    collections::BTreeMap,
    path::Path,
};

use serde::{Deserialize, Serialize};
use toml::Spanned;

pub use super::DetectionId;
use super::tools::ToolLists;
use crate::toml_file::{parse_toml, FileError};

/// The embedded default rules.
pub const DEFAULT_RULES: &str = include_str!("../../../rules/default.toml");
/// Rules schema this agent reads.
pub const SCHEMA: u32 = 1;

/// A rules file that cannot be used.
pub type RulesError = FileError;

/// Finding severity (SCC's enum names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// Minimal access.
    Low,
    /// Operational impact.
    Medium,
    /// Can create resources.
    High,
    /// Can access data or run code.
    Critical,
}

/// Per-detection settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionRule {
    /// Run it.
    pub enabled: bool,
    /// Severity of its findings.
    pub severity: Severity,
}

/// Where an exception applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionScope {
    /// Host and containers.
    #[default]
    Any,
    /// Host processes only.
    Host,
    /// Container processes only.
    Container,
}

/// Something users expect and do not want findings for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// Why it exists.
    #[serde(default)]
    pub description: String,
    /// Detections it silences (all when empty).
    #[serde(default)]
    pub detections: Vec<DetectionId>,
    /// Host, container or both.
    #[serde(default)]
    pub scope: ExceptionScope,
    /// Kubernetes namespaces.
    #[serde(default)]
    pub namespace: Vec<String>,
    /// Pod labels, `key=value` (value may use wildcards).
    #[serde(default)]
    pub pod_label: Vec<Spanned<String>>,
    /// Images (as in the pod spec, or the digest).
    #[serde(default)]
    pub image: Vec<String>,
    /// Container names.
    #[serde(default)]
    pub container_name: Vec<String>,
    /// Executable paths of the offending process.
    #[serde(default)]
    pub exe: Vec<String>,
    /// Executable paths of its parent.
    #[serde(default)]
    pub parent_exe: Vec<String>,
    /// Any one argument of the offending process.
    #[serde(default)]
    pub argv: Vec<String>,
}

/// What an exception is matched against.
#[derive(Debug, Default)]
pub struct Subject<'a> {
    /// The detection.
    pub detection: Option<DetectionId>,
    /// A host process.
    pub host: bool,
    /// Pod namespace.
    pub namespace: Option<&'a str>,
    /// Pod labels.
    pub pod_labels: Option<&'a BTreeMap<String, String>>,
    /// Image reference and digest.
    pub images: [Option<&'a str>; 2],
    /// Container name.
    pub container_name: Option<&'a str>,
    /// Executable path.
    pub exe: Option<&'a str>,
    /// Parent's executable path.
    pub parent_exe: Option<&'a str>,
    /// Arguments.
    pub argv: &'a [String],
}

fn any_glob(patterns: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| patterns.iter().any(|p| wildmatch::WildMatch::new(p).matches(v)))
}

impl Exception {
    /// True when every field given matches.
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        if let Some(d) = s.detection {
            if !self.detections.is_empty() && !self.detections.contains(&d) {
                return false;
            }
        }
        match self.scope {
            ExceptionScope::Host if !s.host => return false,
            ExceptionScope::Container if s.host => return false,
            _ => {}
        }
        (self.namespace.is_empty() || any_glob(&self.namespace, s.namespace))
            && (self.pod_label.is_empty()
                || self.pod_label.iter().any(|kv| {
                    let Some((k, v)) = kv.get_ref().split_once('=') else { return false };
                    s.pod_labels.and_then(|l| l.get(k)).is_some_and(|actual| wildmatch::WildMatch::new(v).matches(actual))
                }))
            && (self.image.is_empty() || s.images.iter().any(|i| any_glob(&self.image, *i)))
            && (self.container_name.is_empty() || any_glob(&self.container_name, s.container_name))
            && (self.exe.is_empty() || any_glob(&self.exe, s.exe))
            && (self.parent_exe.is_empty() || any_glob(&self.parent_exe, s.parent_exe))
            && (self.argv.is_empty() || s.argv.iter().any(|a| any_glob(&self.argv, Some(a))))
    }
}

/// Host or containers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Extend socat, remote command execution and reverse shell detections to host processes.
    pub host: bool,
}

/// Incident grouping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentSettings {
    /// How long a finding collects its incident after the first detection, milliseconds.
    pub settle_ms: u64,
    /// How long the same category for the same incident root stays quiet, seconds.
    pub dedupe_window_s: u64,
    /// Window in which repeats of the same attack are merged into one finding with a count.
    #[serde(default = "default_merge_window")]
    pub merge_window_s: u64,
    /// LOW and MEDIUM findings per container (or the host) and category per minute before the
    /// rest are counted, not written.
    #[serde(default = "default_rate")]
    pub max_findings_per_container_per_minute: u32,
}

fn default_merge_window() -> u64 {
    60
}

fn default_rate() -> u32 {
    30
}

/// What to do when the Python model cannot be loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnModelError {
    /// Refuse to start.
    #[default]
    Fail,
    /// Run without the malicious-Python detection, with a warning.
    Disable,
}

/// The Python classifier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PythonSettings {
    /// Model file; empty: the embedded model.
    pub model_file: String,
    /// What a missing or corrupt model does.
    pub on_model_error: OnModelError,
}

/// The complete rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Schema version.
    pub schema: u32,
    /// Host or containers.
    pub scope: Scope,
    /// Incident grouping.
    pub incidents: IncidentSettings,
    /// Name lists.
    pub lists: ToolLists,
    /// Per detection.
    pub detections: BTreeMap<DetectionId, DetectionRule>,
    /// Exceptions.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// The Python classifier.
    #[serde(default)]
    pub python: PythonSettings,
}

/// A user file: everything optional, merged over the defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    schema: Option<Spanned<u32>>,
    scope: Option<Scope>,
    incidents: Option<IncidentsOverride>,
    lists: Option<ListsOverride>,
    #[serde(default)]
    detections: BTreeMap<DetectionId, DetectionOverride>,
    #[serde(default)]
    exceptions: Vec<Spanned<Exception>>,
    #[serde(default)]
    replace_default_exceptions: bool,
    python: Option<PythonSettings>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListsOverride {
    shells: Option<Vec<String>>,
    interpreters: Option<Vec<String>>,
    netcat: Option<Vec<String>>,
    socat: Option<Vec<String>>,
    compilers: Option<Vec<String>>,
    common_commands: Option<Vec<String>>,
}

/// `[incidents]` in a user file: each key overrides its default on its own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentsOverride {
    settle_ms: Option<u64>,
    dedupe_window_s: Option<u64>,
    merge_window_s: Option<u64>,
    max_findings_per_container_per_minute: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectionOverride {
    enabled: Option<bool>,
    severity: Option<Severity>,
}

/// True when a list of patterns constrains nothing: empty, or one of them only wildcards.
fn matches_anything<'a>(patterns: impl IntoIterator<Item = &'a str>) -> bool {
    let mut any = false;
    for p in patterns {
        if p.chars().all(|c| c == '*') {
            return true;
        }
        any = true;
    }
    !any
}

impl Exception {
    /// True when no match field narrows it: it would silence every finding in its scope.
    pub fn matches_everything(&self) -> bool {
        matches_anything(self.namespace.iter().map(String::as_str))
            && self.pod_label.iter().all(|kv| kv.get_ref().split_once('=').is_some_and(|(k, _)| k.chars().all(|c| c == '*')))
            && matches_anything(self.image.iter().map(String::as_str))
            && matches_anything(self.container_name.iter().map(String::as_str))
            && matches_anything(self.exe.iter().map(String::as_str))
            && matches_anything(self.parent_exe.iter().map(String::as_str))
            && matches_anything(self.argv.iter().map(String::as_str))
    }
}

fn check_exceptions<'a>(exceptions: impl IntoIterator<Item = (&'a Exception, usize)>, text: &str, path: &Path) -> Result<(), RulesError> {
    for (e, at) in exceptions {
        for kv in &e.pod_label {
            if !kv.get_ref().contains('=') {
                return Err(FileError::at(text, path, kv.span().start, format!("pod_label {:?} is not key=value", kv.get_ref())));
            }
        }
        if e.matches_everything() {
            return Err(FileError::at(
                text,
                path,
                at,
                format!(
                    "exception {:?} matches everything (no namespace, pod_label, image, container_name, exe, parent_exe or argv narrows it): it would silence every finding{}; to turn a detection off set `enabled = false` under [detections.<name>]",
                    e.description,
                    if e.detections.is_empty() { String::new() } else { format!(" of {:?}", e.detections) }
                ),
            ));
        }
    }
    Ok(())
}

impl Rules {
    /// The embedded defaults.
    pub fn defaults() -> Rules {
        // The embedded file is checked by a unit test; a failure here is a build defect.
        match Self::parse_full(DEFAULT_RULES, Path::new("rules/default.toml")) {
            Ok(r) => r,
            Err(e) => panic!("embedded default rules are invalid: {e}"),
        }
    }

    fn parse_full(text: &str, path: &Path) -> Result<Rules, RulesError> {
        let rules: Rules = parse_toml(text, path)?;
        if rules.schema != SCHEMA {
            return Err(FileError::at(text, path, text.find("schema").unwrap_or(0), format!("schema {} is not {SCHEMA}", rules.schema)));
        }
        for &id in DetectionId::ALL {
            if !rules.detections.contains_key(&id) {
                return Err(FileError::at(text, path, 0, format!("detection {id:?} has no settings")));
            }
        }
        check_exceptions(rules.exceptions.iter().map(|e| (e, 0)), text, path)?;
        Ok(rules)
    }

    /// Defaults with a user file's settings over them (`path` only names the file in errors).
    pub fn with_override(text: &str, path: &Path) -> Result<Rules, RulesError> {
        let o: Override = parse_toml(text, path)?;
        if let Some(s) = &o.schema {
            if *s.get_ref() != SCHEMA {
                return Err(FileError::at(text, path, s.span().start, format!("schema {} is not {SCHEMA}", s.get_ref())));
            }
        }
        check_exceptions(o.exceptions.iter().map(|e| (e.get_ref(), e.span().start)), text, path)?;
        let mut r = Self::defaults();
        if let Some(s) = o.scope {
            r.scope = s;
        }
        if let Some(i) = o.incidents {
            let d = &mut r.incidents;
            d.settle_ms = i.settle_ms.unwrap_or(d.settle_ms);
            d.dedupe_window_s = i.dedupe_window_s.unwrap_or(d.dedupe_window_s);
            d.merge_window_s = i.merge_window_s.unwrap_or(d.merge_window_s);
            d.max_findings_per_container_per_minute = i.max_findings_per_container_per_minute.unwrap_or(d.max_findings_per_container_per_minute);
        }
        if let Some(l) = o.lists {
            let set = |dst: &mut Vec<String>, src: Option<Vec<String>>| {
                if let Some(v) = src {
                    *dst = v;
                }
            };
            set(&mut r.lists.shells, l.shells);
            set(&mut r.lists.interpreters, l.interpreters);
            set(&mut r.lists.netcat, l.netcat);
            set(&mut r.lists.socat, l.socat);
            set(&mut r.lists.compilers, l.compilers);
            set(&mut r.lists.common_commands, l.common_commands);
        }
        for (id, d) in o.detections {
            let entry = r.detections.entry(id).or_insert(DetectionRule { enabled: true, severity: Severity::Critical });
            if let Some(e) = d.enabled {
                entry.enabled = e;
            }
            if let Some(s) = d.severity {
                entry.severity = s;
            }
        }
        if let Some(p) = o.python {
            r.python = p;
        }
        if o.replace_default_exceptions {
            r.exceptions.clear();
        }
        r.exceptions.extend(o.exceptions.into_iter().map(Spanned::into_inner));
        Ok(r)
    }

    /// Read a user rules file over the defaults.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        Self::with_override(&FileError::read(path)?, path)
    }

    /// Settings of a detection (disabled when absent).
    pub fn detection(&self, id: DetectionId) -> DetectionRule {
        self.detections.get(&id).cloned().unwrap_or(DetectionRule { enabled: false, severity: Severity::Critical })
    }


    /// The first exception that matches, if any.
    pub fn exception_for(&self, s: &Subject<'_>) -> Option<&Exception> {
        self.exceptions.iter().find(|e| e.matches(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_load() {
        let r = Rules::defaults();
        assert_eq!(r.detection(DetectionId::ReverseShell).severity, Severity::Critical);
        assert_eq!(r.detection(DetectionId::SocatReverseShell).severity, Severity::Medium);
        assert_eq!(r.detection(DetectionId::NetcatRemoteCodeExecution).severity, Severity::Low);
        assert!(!r.scope.host);
        assert!(r.lists.shells.iter().any(|s| s == "bash"));
        assert!(r.exceptions.len() >= 3);
    }

    #[test]
    fn overrides_merge() {
        let text = "[scope]\nhost = true\n[lists]\ncompilers = [\"gcc\"]\n[detections.compiler_in_container]\nenabled = false\n[[exceptions]]\nnamespace = [\"build-*\"]\ndetections = [\"compiler_in_container\"]\n";
        let r = Rules::with_override(text, Path::new("u.toml")).unwrap();
        assert!(r.scope.host);
        assert_eq!(r.lists.compilers, vec!["gcc".to_string()]);
        assert!(!r.detection(DetectionId::CompilerInContainer).enabled);
        assert_eq!(r.detection(DetectionId::CompilerInContainer).severity, Severity::Low, "unchanged fields keep defaults");
        assert_eq!(r.exceptions.len(), Rules::defaults().exceptions.len() + 1);
        let s = Subject { detection: Some(DetectionId::CompilerInContainer), namespace: Some("build-42"), ..Default::default() };
        assert!(r.exception_for(&s).is_some());
        let s = Subject { detection: Some(DetectionId::ReverseShell), namespace: Some("build-42"), ..Default::default() };
        assert!(r.exception_for(&s).is_none(), "an exception only silences its detections");
        let r = Rules::with_override("replace_default_exceptions = true\n", Path::new("u.toml")).unwrap();
        assert!(r.exceptions.is_empty());
    }

    #[test]
    fn bad_files_name_file_line_and_reason() {
        let cases = [
            ("[scope]\nhost = true\nhots = 1\n", 3, "hots"),
            ("[detections.reverse_shell]\nseverity = \"SEVERE\"\n", 2, "SEVERE"),
            ("[detections.reverse_shel]\nenabled = false\n", 1, "reverse_shel"),
            ("\n\n[[exceptions]]\npod_label = [\"app\"]\n", 4, "key=value"),
            ("[[exceptions]]\ndetections = [\"nope\"]\n", 2, "nope"),
            ("schema = 2\n", 1, "schema"),
            ("[lists\n", 1, ""),
        ];
        for (text, line, needle) in cases {
            let e = Rules::with_override(text, Path::new("/etc/shrike/rules.toml")).unwrap_err();
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("/etc/shrike/rules.toml:{line}:")), "{text:?} -> {msg}");
            assert!(msg.contains(needle), "{text:?} -> {msg}");
        }
    }

    #[test]
    fn exception_fields_all_must_match() {
        let r = Rules::defaults();
        let argv = vec!["/usr/sbin/sshd".to_string(), "-i".to_string()];
        let mut s = Subject {
            detection: Some(DetectionId::ReverseShell),
            host: true,
            exe: Some("/usr/sbin/sshd"),
            argv: &argv,
            ..Default::default()
        };
        assert!(r.exception_for(&s).is_some());
        s.host = false;
        assert!(r.exception_for(&s).is_none(), "the sshd exception is for the host only");
        let s = Subject { detection: Some(DetectionId::ReverseShell), parent_exe: Some("/usr/sbin/xinetd"), ..Default::default() };
        assert!(r.exception_for(&s).is_some());
        let s = Subject { detection: Some(DetectionId::ReverseShell), parent_exe: Some("/bin/bash"), ..Default::default() };
        assert!(r.exception_for(&s).is_none());
    }

    #[test]
    fn an_exception_that_matches_everything_is_refused_with_its_place() {
        let p = Path::new("user.toml");
        for text in [
            "[[exceptions]]\ndescription = \"quiet\"\n",
            "[[exceptions]]\ndescription = \"quiet\"\ndetections = [\"reverse_shell\"]\nexe = []\n",
            "[[exceptions]]\ndescription = \"quiet\"\nexe = [\"*\"]\nnamespace = [\"**\"]\n",
            "[[exceptions]]\ndescription = \"quiet\"\npod_label = [\"*=*\"]\n",
            "[[exceptions]]\ndescription = \"ok\"\nexe = [\"/bin/x\"]\n\n[[exceptions]]\ndescription = \"quiet\"\nscope = \"container\"\n",
        ] {
            let e = Rules::with_override(text, p).unwrap_err().to_string();
            assert!(e.contains("matches everything") && e.contains("\"quiet\""), "{text}: {e}");
            let line = text[..text.rfind("[[exceptions]]").unwrap()].matches('\n').count() + 1;
            // The entry's header line, or its first key's.
            assert!(e.starts_with(&format!("user.toml:{line}:")) || e.starts_with(&format!("user.toml:{}:", line + 1)), "{text}: {e}");
        }
        // One narrowing field is enough.
        for text in ["[[exceptions]]\nexe = [\"/usr/bin/*\"]\n", "[[exceptions]]\npod_label = [\"app=*\"]\n", "[[exceptions]]\nnamespace = [\"*\", \"kube-system\"]\nargv = [\"-i\"]\n"] {
            Rules::with_override(text, p).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }

    #[test]
    fn incidents_keys_override_one_by_one() {
        let d = Rules::defaults().incidents;
        let r = Rules::with_override("[incidents]\nsettle_ms = 100\n", Path::new("u.toml")).unwrap();
        assert_eq!(r.incidents.settle_ms, 100);
        assert_eq!(r.incidents.dedupe_window_s, d.dedupe_window_s);
        assert_eq!(r.incidents.max_findings_per_container_per_minute, d.max_findings_per_container_per_minute);
        assert!(Rules::with_override("[incidents]\nsettle = 1\n", Path::new("u.toml")).is_err(), "unknown keys still refused");
    }
}
