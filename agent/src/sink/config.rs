//! `[sinks]`: where findings go. Every key has a default; a sink that is not configured is off,
//! except stdout, which is on unless disabled.
//!
//! ```toml
//! [sinks]
//! spool_dir = "/var/lib/shrike/spool"
//!
//! [sinks.stdout]
//! enabled = true
//!
//! [sinks.file]
//! path = "/var/log/shrike/findings.jsonl"
//! max_bytes = 104857600
//! keep = 5
//!
//! [[sinks.webhook]]
//! name = "siem"
//! url = "https://siem.example/ingest"
//! token_file = "/etc/shrike/webhook-token"
//!
//! [sinks.scc]
//! source = "organizations/123/sources/456"
//!
//! [sinks.pubsub]
//! topic = "projects/my-project/topics/scc-findings"
//! ```

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

use super::SinkError;

/// All sinks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinksConfig {
    /// Directory of the network sinks' spools: each keeps the findings it has not delivered yet
    /// in `<spool_dir>/<sink name>/`, created if missing.
    pub spool_dir: PathBuf,
    /// See [`StdoutConfig`].
    pub stdout: StdoutConfig,
    /// See [`FileConfig`].
    pub file: FileConfig,
    /// HTTP webhooks (`[[sinks.webhook]]`, any number). See [`WebhookConfig`].
    pub webhook: Vec<WebhookConfig>,
    /// See [`SccSinkConfig`].
    pub scc: SccSinkConfig,
    /// See [`PubSubSinkConfig`].
    pub pubsub: PubSubSinkConfig,
}

impl Default for SinksConfig {
    fn default() -> Self {
        Self {
            spool_dir: PathBuf::from("/var/lib/shrike/spool"),
            stdout: StdoutConfig::default(),
            file: FileConfig::default(),
            webhook: Vec::new(),
            scc: SccSinkConfig::default(),
            pubsub: PubSubSinkConfig::default(),
        }
    }
}

/// Sinks chosen on the command line (`shrike run --webhook URL --output-file PATH --no-stdout
/// --spool-dir DIR`), applied over the configuration file's `[sinks]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkFlags {
    /// Turn the stdout sink off.
    pub no_stdout: bool,
    /// File sink path (replaces `[sinks.file] path`).
    pub file: Option<PathBuf>,
    /// Webhook URLs, added after the configured ones as `cli-1`, `cli-2`, ... (their spool
    /// directory names), with the webhook defaults.
    pub webhooks: Vec<String>,
    /// Spool directory (replaces `[sinks] spool_dir`).
    pub spool_dir: Option<PathBuf>,
}

impl SinksConfig {
    /// Apply command-line choices; `validate` afterwards.
    pub fn apply_flags(&mut self, f: &SinkFlags) {
        if f.no_stdout {
            self.stdout.enabled = false;
        }
        if let Some(p) = &f.file {
            self.file.path = p.display().to_string();
        }
        for (i, url) in f.webhooks.iter().enumerate() {
            self.webhook.push(WebhookConfig { name: format!("cli-{}", i + 1), url: url.clone(), ..WebhookConfig::default() });
        }
        if let Some(d) = &f.spool_dir {
            self.spool_dir = d.clone();
        }
    }
}

/// Findings on standard output, one JSON object per line, flushed after each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StdoutConfig {
    /// Write findings to stdout.
    pub enabled: bool,
}

impl Default for StdoutConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// Findings appended to a file as JSON lines, rotated by size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// The file; empty = no file sink. Its directory must exist.
    pub path: String,
    /// Rotate before a line would make the file larger than this many bytes (a line is never
    /// split; a single line larger than this gets a file of its own).
    pub max_bytes: u64,
    /// Rotated files kept: `path.1` (newest) .. `path.<keep>` (oldest); 0 = none, the file is
    /// started anew. At most `keep + 1` files exist.
    pub keep: u32,
}

impl Default for FileConfig {
    fn default() -> Self {
        Self { path: String::new(), max_bytes: 100 * 1024 * 1024, keep: 5 }
    }
}

/// How a network sink queues, spools and retries. The same keys exist on every network sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueParams {
    /// Findings kept in memory besides the spool.
    pub queue_capacity: usize,
    /// Spool size limit in bytes; past it the oldest findings are dropped (and counted).
    pub spool_max_bytes: u64,
    /// fsync spooled findings.
    pub fsync: bool,
    /// First retry delay.
    pub backoff_initial: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Deadline of one delivery attempt.
    pub timeout: Duration,
}

/// A webhook: each finding is POSTed as its JSON object, up to `max_in_flight` requests at a
/// time (so a slow receiver does not cap throughput at one finding per round trip), or with
/// `batch = true` up to `batch_max` findings at a time as a JSON array.
///
/// Headers: `Content-Type: application/json`; `Idempotency-Key`: the finding id (`{id}-{n}` for
/// revision n of an updated finding), or for a batch those keys in array order separated by commas (each element also carries its
/// id in `finding.sourceProperties.Finding_Id`); the token (if any) as `<auth_header>:
/// <auth_scheme> <token>`.
///
/// 2xx = delivered. 400, 413 and 422 reject the finding (a batch is retried one finding at a
/// time first); a rejected finding is moved to `<spool>/rejected/`, logged and counted. Every
/// other answer or error is retried with exponential backoff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// Name in stats and logs, and the spool directory's name: letters, digits, `-`, `_`;
    /// unique among sinks.
    pub name: String,
    /// `http://` or `https://` URL.
    pub url: String,
    /// Send findings in batches (JSON arrays).
    pub batch: bool,
    /// Most findings in one batch.
    pub batch_max: usize,
    /// Most requests in flight at once when not batching (1..=64).
    pub max_in_flight: usize,
    /// PEM file of the CA certificates to trust instead of the system's; empty = the system's.
    pub ca_file: String,
    /// File holding the token (surrounding whitespace ignored), read again for every attempt,
    /// so it can be rotated in place; empty = no token.
    pub token_file: String,
    /// Header that carries the token.
    pub auth_header: String,
    /// Put before the token and a space; empty = the token alone.
    pub auth_scheme: String,
    /// More headers sent with every request.
    pub headers: BTreeMap<String, String>,
    /// Findings kept in memory besides the spool.
    pub queue_capacity: usize,
    /// Spool size limit in bytes; past it the oldest findings are dropped, counted and logged.
    pub spool_max_bytes: u64,
    /// fsync spooled findings, so that a crash of the machine, not only of the agent, loses
    /// none. A finding is on disk (page cache) when `submit` returns; the fsync follows off the
    /// event loop within moments, before the finding's first delivery attempt.
    pub fsync: bool,
    /// First retry delay in milliseconds (doubled per failure, with jitter).
    pub backoff_initial_ms: u64,
    /// Longest retry delay in milliseconds.
    pub backoff_max_ms: u64,
    /// Deadline of one request in milliseconds.
    pub timeout_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            name: "webhook".into(),
            url: String::new(),
            batch: false,
            batch_max: 100,
            max_in_flight: 8,
            ca_file: String::new(),
            token_file: String::new(),
            auth_header: "Authorization".into(),
            auth_scheme: "Bearer".into(),
            headers: BTreeMap::new(),
            queue_capacity: 1024,
            spool_max_bytes: DEFAULT_SPOOL_MAX,
            fsync: true,
            backoff_initial_ms: 1000,
            backoff_max_ms: 60_000,
            timeout_ms: 10_000,
        }
    }
}

/// Credentials of the Google Cloud sinks (Security Command Center, Pub/Sub).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoogleCredentials {
    /// Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's, or the
    /// metadata server's service account / Workload Identity).
    #[default]
    Adc,
    /// No credentials: only for emulators and tests.
    Anonymous,
}

/// Security Command Center: `CreateFinding` for each finding, in
/// `<source>/locations/<location>`, with finding id = the shrike finding id. A finding that
/// already exists (`ALREADY_EXISTS`) counts as delivered; `INVALID_ARGUMENT` rejects it (moved
/// to `<spool>/rejected/`, logged, counted); anything else is retried. The sink is called `scc`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SccSinkConfig {
    /// `organizations/{org}/sources/{source}`; empty = no SCC sink.
    pub source: String,
    /// Location of the findings.
    pub location: String,
    /// API endpoint; empty = `https://securitycenter.googleapis.com`.
    pub endpoint: String,
    /// `adc` or `anonymous`.
    pub credentials: GoogleCredentials,
    /// Findings kept in memory besides the spool.
    pub queue_capacity: usize,
    /// Spool size limit in bytes; past it the oldest findings are dropped, counted and logged.
    pub spool_max_bytes: u64,
    /// fsync spooled findings (see [`WebhookConfig::fsync`]).
    pub fsync: bool,
    /// First retry delay in milliseconds (doubled per failure, with jitter).
    pub backoff_initial_ms: u64,
    /// Longest retry delay in milliseconds.
    pub backoff_max_ms: u64,
    /// Deadline of one request in milliseconds.
    pub timeout_ms: u64,
}

impl Default for SccSinkConfig {
    fn default() -> Self {
        Self {
            source: String::new(),
            location: "global".into(),
            endpoint: String::new(),
            credentials: GoogleCredentials::Adc,
            queue_capacity: 1024,
            spool_max_bytes: DEFAULT_SPOOL_MAX,
            fsync: true,
            backoff_initial_ms: 1000,
            backoff_max_ms: 60_000,
            timeout_ms: 30_000,
        }
    }
}

/// Pub/Sub: each finding is published to `topic` as the `NotificationMessage` SCC's own
/// notification export publishes, `{"notificationConfigName": ..., "finding": ..., "resource":
/// ...}` (the finding and resource exactly as the other sinks write them), with attributes
/// subscribers can filter on: `findingId`, `category`, `severity`, `resourceName`, `eventTime`.
/// Up to `batch_max` findings go in one Publish call; every failure is retried with backoff
/// (`INVALID_ARGUMENT`, e.g. a message over Pub/Sub's size limit, rejects the finding: moved to
/// `<spool>/rejected/`, logged, counted). The sink is called `pubsub`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PubSubSinkConfig {
    /// `projects/{project}/topics/{topic}`; empty = no Pub/Sub sink.
    pub topic: String,
    /// `notificationConfigName` of the messages.
    pub notification_config_name: String,
    /// API endpoint; empty = `$PUBSUB_EMULATOR_HOST` when set (with no credentials), else
    /// `https://pubsub.googleapis.com`.
    pub endpoint: String,
    /// `adc` or `anonymous`.
    pub credentials: GoogleCredentials,
    /// Most findings in one Publish call.
    pub batch_max: usize,
    /// Findings kept in memory besides the spool.
    pub queue_capacity: usize,
    /// Spool size limit in bytes; past it the oldest findings are dropped, counted and logged.
    pub spool_max_bytes: u64,
    /// fsync spooled findings (see [`WebhookConfig::fsync`]).
    pub fsync: bool,
    /// First retry delay in milliseconds (doubled per failure, with jitter).
    pub backoff_initial_ms: u64,
    /// Longest retry delay in milliseconds.
    pub backoff_max_ms: u64,
    /// Deadline of one Publish call in milliseconds.
    pub timeout_ms: u64,
}

impl Default for PubSubSinkConfig {
    fn default() -> Self {
        Self {
            topic: String::new(),
            notification_config_name: "organizations/0/locations/global/notificationConfigs/shrike".into(),
            endpoint: String::new(),
            credentials: GoogleCredentials::Adc,
            batch_max: 100,
            queue_capacity: 1024,
            spool_max_bytes: DEFAULT_SPOOL_MAX,
            fsync: true,
            backoff_initial_ms: 1000,
            backoff_max_ms: 60_000,
            timeout_ms: 30_000,
        }
    }
}

impl PubSubSinkConfig {
    /// The Pub/Sub sink is configured.
    pub fn enabled(&self) -> bool {
        !self.topic.trim().is_empty()
    }

    /// Queue, spool and retry settings, checked.
    pub fn queue(&self) -> Result<QueueParams, SinkError> {
        let c = self;
        queue_params("sinks.pubsub", c.queue_capacity, c.spool_max_bytes, c.fsync, c.backoff_initial_ms, c.backoff_max_ms, c.timeout_ms)
    }

    /// The endpoint to use and whether it is an emulator named by `PUBSUB_EMULATOR_HOST`.
    pub fn resolved_endpoint(&self) -> (Option<String>, bool) {
        let e = self.endpoint.trim();
        if !e.is_empty() {
            return (Some(e.trim_end_matches('/').to_string()), false);
        }
        match std::env::var("PUBSUB_EMULATOR_HOST").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty()) {
            Some(h) if h.contains("://") => (Some(h), true),
            Some(h) => (Some(format!("http://{h}")), true),
            None => (None, false),
        }
    }

    fn validate(&self) -> Result<(), SinkError> {
        let t = self.topic.trim();
        let parts: Vec<&str> = t.split('/').collect();
        // Pub/Sub resource ids: 3-255 characters, starting with a letter.
        let id_ok = |s: &str| {
            (3..=255).contains(&s.len())
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~+%".contains(c))
                && !s.starts_with("goog")
        };
        if !(parts.len() == 4 && parts[0] == "projects" && parts[2] == "topics" && !parts[1].is_empty() && id_ok(parts[3])) {
            return Err(invalid("sinks.pubsub.topic", format!("{t:?} is not projects/{{project}}/topics/{{topic}}")));
        }
        if self.notification_config_name.trim().is_empty() {
            return Err(invalid("sinks.pubsub.notification_config_name", "must not be empty"));
        }
        if self.batch_max == 0 || self.batch_max > 1000 {
            return Err(invalid("sinks.pubsub.batch_max", "must be 1..=1000"));
        }
        let e = self.endpoint.trim();
        if !e.is_empty() {
            let url = reqwest::Url::parse(e).map_err(|err| invalid("sinks.pubsub.endpoint", format!("{e:?}: {err}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(invalid("sinks.pubsub.endpoint", format!("{e:?}: not an http:// or https:// URL")));
            }
        }
        self.queue()?;
        Ok(())
    }
}

/// Default spool size limit: 256 MiB.
pub const DEFAULT_SPOOL_MAX: u64 = 256 * 1024 * 1024;
/// Smallest accepted spool size limit.
pub const MIN_SPOOL_MAX: u64 = 16 * 1024;

fn invalid(option: impl Into<String>, reason: impl Into<String>) -> SinkError {
    SinkError::Config { option: option.into(), reason: reason.into() }
}

#[allow(clippy::too_many_arguments)]
fn queue_params(
    option: &str,
    queue_capacity: usize,
    spool_max_bytes: u64,
    fsync: bool,
    backoff_initial_ms: u64,
    backoff_max_ms: u64,
    timeout_ms: u64,
) -> Result<QueueParams, SinkError> {
    if queue_capacity == 0 {
        return Err(invalid(format!("{option}.queue_capacity"), "must be at least 1"));
    }
    if spool_max_bytes < MIN_SPOOL_MAX {
        return Err(invalid(format!("{option}.spool_max_bytes"), format!("must be at least {MIN_SPOOL_MAX}")));
    }
    if backoff_initial_ms == 0 || backoff_max_ms < backoff_initial_ms {
        return Err(invalid(format!("{option}.backoff_max_ms"), "backoff_initial_ms must be > 0 and <= backoff_max_ms"));
    }
    if timeout_ms == 0 {
        return Err(invalid(format!("{option}.timeout_ms"), "must be > 0"));
    }
    Ok(QueueParams {
        queue_capacity,
        spool_max_bytes,
        fsync,
        backoff_initial: Duration::from_millis(backoff_initial_ms),
        backoff_max: Duration::from_millis(backoff_max_ms),
        timeout: Duration::from_millis(timeout_ms),
    })
}

impl WebhookConfig {
    /// Queue, spool and retry settings, checked; `option` names the table in errors.
    pub fn queue(&self, option: &str) -> Result<QueueParams, SinkError> {
        let c = self;
        queue_params(option, c.queue_capacity, c.spool_max_bytes, c.fsync, c.backoff_initial_ms, c.backoff_max_ms, c.timeout_ms)
    }
}

impl SccSinkConfig {
    /// Queue, spool and retry settings, checked.
    pub fn queue(&self) -> Result<QueueParams, SinkError> {
        let c = self;
        queue_params("sinks.scc", c.queue_capacity, c.spool_max_bytes, c.fsync, c.backoff_initial_ms, c.backoff_max_ms, c.timeout_ms)
    }

    /// The SCC sink is configured.
    pub fn enabled(&self) -> bool {
        !self.source.trim().is_empty()
    }

    /// `organizations/{org}/sources/{source}/locations/{location}`, checked.
    pub fn parent(&self) -> Result<String, SinkError> {
        let s = self.source.trim().trim_end_matches('/');
        let parts: Vec<&str> = s.split('/').collect();
        let ok = parts.len() == 4
            && parts[0] == "organizations"
            && parts[2] == "sources"
            && [parts[1], parts[3]].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        if !ok {
            return Err(invalid("sinks.scc.source", format!("{s:?} is not organizations/{{org}}/sources/{{source}}")));
        }
        let l = self.location.trim();
        if l.is_empty() || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid("sinks.scc.location", format!("{l:?} is not a location name")));
        }
        Ok(format!("{s}/locations/{l}"))
    }
}

/// A sink name usable as a directory name.
pub(crate) fn check_name(option: &str, name: &str) -> Result<(), SinkError> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(invalid(format!("{option}.name"), format!("{name:?}: use 1-64 letters, digits, '-' or '_'")));
    }
    Ok(())
}

impl SinksConfig {
    /// Checks what can be checked without touching files or the network: names, URLs, limits.
    pub fn validate(&self) -> Result<(), SinkError> {
        if self.file.enabled() && self.file.max_bytes == 0 {
            return Err(invalid("sinks.file.max_bytes", "must be > 0"));
        }
        let mut names = Vec::new();
        for (i, w) in self.webhook.iter().enumerate() {
            let option = format!("sinks.webhook[{i}]");
            check_name(&option, &w.name)?;
            if names.contains(&w.name) || w.name == "scc" || w.name == "pubsub" {
                return Err(invalid(format!("{option}.name"), format!("{:?} is used by another sink", w.name)));
            }
            names.push(w.name.clone());
            let url = reqwest::Url::parse(w.url.trim()).map_err(|e| invalid(format!("{option}.url"), format!("{:?}: {e}", w.url)))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(invalid(format!("{option}.url"), format!("{:?}: not an http:// or https:// URL", w.url)));
            }
            if w.batch_max == 0 || w.batch_max > 10_000 {
                return Err(invalid(format!("{option}.batch_max"), "must be 1..=10000"));
            }
            if w.max_in_flight == 0 || w.max_in_flight > 64 {
                return Err(invalid(format!("{option}.max_in_flight"), "must be 1..=64"));
            }
            if !w.token_file.is_empty() && reqwest::header::HeaderName::from_bytes(w.auth_header.as_bytes()).is_err() {
                return Err(invalid(format!("{option}.auth_header"), format!("{:?} is not a header name", w.auth_header)));
            }
            for (k, v) in &w.headers {
                if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() || reqwest::header::HeaderValue::from_str(v).is_err() {
                    return Err(invalid(format!("{option}.headers"), format!("{k:?}: {v:?} is not a valid header")));
                }
            }
            w.queue(&option)?;
        }
        if self.scc.enabled() {
            self.scc.parent()?;
            self.scc.queue()?;
            let e = self.scc.endpoint.trim();
            if !e.is_empty() {
                let url = reqwest::Url::parse(e).map_err(|err| invalid("sinks.scc.endpoint", format!("{e:?}: {err}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(invalid("sinks.scc.endpoint", format!("{e:?}: not an http:// or https:// URL")));
                }
            }
        }
        if self.pubsub.enabled() {
            self.pubsub.validate()?;
        }
        Ok(())
    }
}

impl FileConfig {
    /// The file sink is configured.
    pub fn enabled(&self) -> bool {
        !self.path.trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_validate() {
        let c: SinksConfig = toml::from_str("").unwrap();
        assert_eq!(c, SinksConfig::default());
        c.validate().unwrap();
        let c: SinksConfig = toml::from_str(
            "[file]\npath = \"/tmp/x\"\n[[webhook]]\nurl = \"https://h.example/x\"\n[[webhook]]\nname = \"b\"\nurl = \"http://127.0.0.1:9/\"\nbatch = true\n[scc]\nsource = \"organizations/1/sources/2\"\n",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.scc.parent().unwrap(), "organizations/1/sources/2/locations/global");
    }

    #[test]
    fn command_line_sinks_add_to_the_configured_ones() {
        let mut c: SinksConfig = toml::from_str("[[webhook]]\nname = \"siem\"\nurl = \"https://h.example/x\"\n").unwrap();
        c.apply_flags(&SinkFlags {
            no_stdout: true,
            file: Some(PathBuf::from("/var/log/f.jsonl")),
            webhooks: vec!["http://127.0.0.1:9/a".into(), "http://127.0.0.1:9/b".into()],
            spool_dir: Some(PathBuf::from("/tmp/sp")),
        });
        c.validate().unwrap();
        assert!(!c.stdout.enabled);
        assert_eq!(c.file.path, "/var/log/f.jsonl");
        let hooks: Vec<(&str, &str)> = c.webhook.iter().map(|w| (w.name.as_str(), w.url.as_str())).collect();
        assert_eq!(hooks, [("siem", "https://h.example/x"), ("cli-1", "http://127.0.0.1:9/a"), ("cli-2", "http://127.0.0.1:9/b")]);
        assert_eq!(c.webhook[1].queue("x").unwrap(), WebhookConfig::default().queue("x").unwrap());
        assert_eq!(c.spool_dir, PathBuf::from("/tmp/sp"));
        let mut c = SinksConfig::default();
        c.apply_flags(&SinkFlags { webhooks: vec!["ftp://x/".into()], ..SinkFlags::default() });
        assert!(c.validate().unwrap_err().to_string().contains("sinks.webhook[0].url"));
        let mut c = SinksConfig::default();
        c.apply_flags(&SinkFlags::default());
        assert_eq!(c, SinksConfig::default());
    }

    #[test]
    fn bad_values_name_the_option() {
        let c: SinksConfig = toml::from_str("[[webhook]]\nurl = \"not a url\"\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("sinks.webhook[0].url"));
        let c: SinksConfig = toml::from_str("[[webhook]]\nurl = \"http://a/\"\n[[webhook]]\nurl = \"http://b/\"\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("sinks.webhook[1].name"));
        let c: SinksConfig = toml::from_str("[scc]\nsource = \"projects/1/sources/2\"\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("sinks.scc.source"));
        let c: SinksConfig = toml::from_str("[pubsub]\ntopic = \"projects/p/topics/t\"\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("sinks.pubsub.topic"), "a 1-character topic id");
        let c: SinksConfig = toml::from_str("[pubsub]\ntopic = \"projects/p/topics/findings\"\nbatch_max = 0\n").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("sinks.pubsub.batch_max"));
        let c: SinksConfig = toml::from_str("[pubsub]\ntopic = \"projects/p/topics/findings\"\n").unwrap();
        c.validate().unwrap();
        assert!(toml::from_str::<SinksConfig>("[webhook]\nurl = \"http://a/\"\n").is_err(), "webhook is an array of tables");
        assert!(toml::from_str::<SinksConfig>("[file]\npth = \"x\"\n").is_err());
    }
}
