//! Delivering findings: to stdout, a rotated file, HTTP webhooks, Security Command Center and
//! Pub/Sub, several at once, without losing any.
//!
//! stdout and the file are written when a finding is submitted. A network sink (webhook, SCC)
//! first writes each finding to its on-disk spool (see [`spool`](self)): `submit` returns once
//! the finding is there, so a slow or down receiver, a full memory queue, a crash or a restart
//! loses nothing. A task per network sink delivers the oldest spooled findings, deletes them
//! once the receiver has them and retries failures with exponential backoff and jitter, for
//! ever: findings are lost only when a spool reaches its size limit, and then the oldest go,
//! with a warning in the log and a count in [`SinkStats::dropped`]. Delivery is at least once:
//! the receiver deduplicates by the delivery key (`Idempotency-Key`, SCC's finding id): the
//! finding id for an incident's first finding, `{id}-{revision}` for its updates
//! ([`delivery_key`]), so that deduplication never swallows an update.

pub mod config;
mod file;
mod google;
mod pubsub;
mod scc;
mod spool;
mod webhook;
mod worker;

use std::{
    fs::File,
    io::{self, Write},
    path::PathBuf,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use serde::Serialize;
use tokio::{
    sync::{watch, Notify},
    task::JoinHandle,
};

/// The key a finding is delivered under: its id for an incident's first finding (revision 1),
/// `{id}-{revision}` for an update of it. Finding ids are letters and digits only.
pub fn delivery_key(id: &str, revision: u64) -> String {
    if revision > 1 {
        format!("{id}-{revision}")
    } else {
        id.to_string()
    }
}

/// The finding id and revision of a delivery key (see [`delivery_key`]).
pub fn split_key(key: &str) -> (&str, u64) {
    match key.rsplit_once('-') {
        Some((id, rev)) => match rev.parse::<u64>() {
            Ok(r) if r > 1 => (id, r),
            _ => (key, 1),
        },
        None => (key, 1),
    }
}

pub use config::{FileConfig, GoogleCredentials, PubSubSinkConfig, SccSinkConfig, SinkFlags, SinksConfig, StdoutConfig, WebhookConfig};

/// A sink that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// A configuration value is wrong.
    #[error("{option}: {reason}")]
    Config {
        /// The option, e.g. `sinks.webhook[0].url`.
        option: String,
        /// What is wrong.
        reason: String,
    },
    /// A file or directory the configuration names cannot be used.
    #[error("{option}: {}: {what}: {source}", path.display())]
    Io {
        /// The option naming it.
        option: String,
        /// The file or directory.
        path: PathBuf,
        /// What was tried.
        what: String,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// A client could not be made.
    #[error("{option}: {reason}")]
    Client {
        /// The sink's option table.
        option: String,
        /// Why.
        reason: String,
    },
}

/// What a sink has done since the agent started (spool figures: now).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SinkStats {
    /// `stdout`, `file`, `scc`, `pubsub` or the webhook's name.
    pub name: String,
    /// `stdout`, `file`, `webhook`, `scc` or `pubsub`.
    pub kind: &'static str,
    /// Undelivered findings also held in memory.
    pub queue_depth: usize,
    /// Bytes of undelivered findings in the spool.
    pub spool_bytes: u64,
    /// Undelivered findings in the spool (all undelivered findings).
    pub spool_findings: usize,
    /// Findings delivered (or written).
    pub delivered: u64,
    /// Failed attempts (a batch counts once) or writes.
    pub failures: u64,
    /// Findings lost: dropped from a full spool, or that could not be written.
    pub dropped: u64,
    /// Findings the receiver refused for good (kept in the spool's `rejected/`).
    pub rejected: u64,
    /// The last failure.
    pub last_error: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Default)]
struct Counters {
    delivered: u64,
    failures: u64,
    dropped: u64,
    last_error: Option<String>,
}

/// A finding's fate in one attempt.
#[derive(Debug)]
enum Done {
    Delivered,
    /// Refused for good, with the reason.
    Rejected(String),
    /// Not settled: stays spooled for the next attempt (a request beside a failed one).
    Pending,
}

/// Why an attempt stopped.
#[derive(Debug)]
struct Failure {
    error: String,
    /// The batch was refused as a whole: send its findings one at a time.
    split: bool,
}

/// The outcome of one attempt: the first `done.len()` items are settled, the rest are not.
#[derive(Debug, Default)]
struct Report {
    done: Vec<Done>,
    failure: Option<Failure>,
}

/// A network sink.
#[derive(Debug)]
enum NetSink {
    Webhook(webhook::WebhookSink),
    Scc(Box<scc::SccSink>),
    PubSub(Box<pubsub::PubSubSink>),
}

impl NetSink {
    fn batch_max(&self) -> usize {
        match self {
            NetSink::Webhook(w) => w.batch_max(),
            NetSink::Scc(_) => 16,
            NetSink::PubSub(p) => p.batch_max(),
        }
    }

    async fn deliver(&mut self, items: &[spool::Item]) -> Report {
        match self {
            NetSink::Webhook(w) => w.deliver(items).await,
            NetSink::Scc(s) => s.deliver(items).await,
            NetSink::PubSub(p) => p.deliver(items).await,
        }
    }
}

/// State shared by `submit` and a network sink's task.
#[derive(Debug)]
struct Shared {
    name: String,
    kind: &'static str,
    spool: Mutex<spool::Spool>,
    notify: Notify,
    counters: Mutex<Counters>,
}

#[derive(Debug)]
enum LocalWriter {
    Stdout,
    File(file::FileSink),
}

#[derive(Debug)]
struct Local {
    name: &'static str,
    writer: LocalWriter,
    counters: Counters,
}

impl Local {
    fn write(&mut self, line: &[u8]) {
        let r = match &mut self.writer {
            LocalWriter::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(line).and_then(|()| out.flush())
            }
            LocalWriter::File(f) => f.write_line(line),
        };
        match r {
            Ok(()) => self.counters.delivered += 1,
            Err(e) => {
                if self.counters.last_error.is_none() || self.counters.failures % 100 == 0 {
                    tracing::warn!(sink = self.name, error = %e, "cannot write a finding");
                }
                self.counters.failures += 1;
                self.counters.dropped += 1;
                self.counters.last_error = Some(e.to_string());
            }
        }
    }
}

/// All configured sinks. See the module doc.
#[derive(Debug)]
pub struct Delivery {
    local: Mutex<Vec<Local>>,
    net: Vec<Arc<Shared>>,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<Option<Instant>>,
    /// Spool directory locks, held while this `Delivery` lives.
    _locks: Vec<File>,
}

impl Delivery {
    /// Check the configuration, open the file sink and the spools (picking up what a previous
    /// run left) and start one task per network sink. Must run inside a tokio runtime.
    pub async fn start(cfg: &SinksConfig) -> Result<Delivery, SinkError> {
        cfg.validate()?;
        // The TLS stack (webhooks, SCC) uses ring; installing fails harmlessly if a provider
        // is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut local = Vec::new();
        if cfg.stdout.enabled {
            local.push(Local { name: "stdout", writer: LocalWriter::Stdout, counters: Counters::default() });
        }
        if cfg.file.enabled() {
            local.push(Local { name: "file", writer: LocalWriter::File(file::FileSink::open(&cfg.file)?), counters: Counters::default() });
        }
        let mut sinks = Vec::new();
        for (i, w) in cfg.webhook.iter().enumerate() {
            let option = format!("sinks.webhook[{i}]");
            let q = w.queue(&option)?;
            let sink = webhook::WebhookSink::new(w, &option, q.timeout)?;
            sinks.push((w.name.clone(), "webhook", NetSink::Webhook(sink), q));
        }
        if cfg.scc.enabled() {
            let q = cfg.scc.queue()?;
            let sink = scc::SccSink::new(&cfg.scc, q.timeout)?;
            sinks.push(("scc".to_string(), "scc", NetSink::Scc(Box::new(sink)), q));
        }
        if cfg.pubsub.enabled() {
            let q = cfg.pubsub.queue()?;
            let sink = pubsub::PubSubSink::new(&cfg.pubsub, q.timeout)?;
            sinks.push(("pubsub".to_string(), "pubsub", NetSink::PubSub(Box::new(sink)), q));
        }
        let (stop, _) = watch::channel(None);
        let mut net = Vec::new();
        let mut tasks = Vec::new();
        let mut locks = Vec::new();
        for (name, kind, sink, q) in sinks {
            let dir = cfg.spool_dir.join(&name);
            let (spool, lock_file) = spool::Spool::open(&name, &dir, q.spool_max_bytes, q.queue_capacity, q.fsync)?;
            locks.push(lock_file);
            let shared = Arc::new(Shared { name, kind, spool: Mutex::new(spool), notify: Notify::new(), counters: Mutex::default() });
            tasks.push(tokio::spawn(worker::run(shared.clone(), sink, q, stop.subscribe())));
            net.push(shared);
        }
        let names: Vec<&str> = local.iter().map(|l| l.name).chain(net.iter().map(|s| s.name.as_str())).collect();
        tracing::info!(sinks = ?names, "finding delivery started");
        Ok(Delivery { local: Mutex::new(local), net, tasks, stop, _locks: locks })
    }

    /// Hand a finding (its JSON, one object) to every sink. stdout and the file are written
    /// now; network sinks get it in their spool before this returns. Does not wait for a
    /// network.
    pub fn submit(&self, id: &str, finding_json: Arc<str>) {
        // JSON lines: a raw newline can only be whitespace between tokens in valid JSON.
        let json: Arc<str> = if finding_json.contains(['\n', '\r']) { finding_json.replace(['\n', '\r'], " ").into() } else { finding_json };
        {
            let mut local = lock(&self.local);
            if !local.is_empty() {
                let mut line = Vec::with_capacity(json.len() + 1);
                line.extend_from_slice(json.as_bytes());
                line.push(b'\n');
                for l in local.iter_mut() {
                    l.write(&line);
                }
            }
        }
        for s in &self.net {
            if let Err(e) = lock(&s.spool).push(id, json.clone()) {
                let mut c = lock(&s.counters);
                c.dropped += 1;
                c.last_error = Some(format!("cannot spool a finding: {e}"));
                tracing::error!(sink = %s.name, id, error = %e, "cannot write a finding to the spool: finding lost for this sink");
                continue;
            }
            s.notify.notify_one();
        }
    }

    /// Per sink: what it has done and what waits.
    pub fn stats(&self) -> Vec<SinkStats> {
        let mut out: Vec<SinkStats> = lock(&self.local)
            .iter()
            .map(|l| SinkStats {
                name: l.name.to_string(),
                kind: l.name,
                delivered: l.counters.delivered,
                failures: l.counters.failures,
                dropped: l.counters.dropped,
                last_error: l.counters.last_error.clone(),
                ..SinkStats::default()
            })
            .collect();
        for s in &self.net {
            let (queue_depth, spool_bytes, spool_findings, dropped, rejected) = {
                let sp = lock(&s.spool);
                (sp.in_memory(), sp.bytes(), sp.len(), sp.dropped, sp.rejected)
            };
            let c = lock(&s.counters);
            out.push(SinkStats {
                name: s.name.clone(),
                kind: s.kind,
                queue_depth,
                spool_bytes,
                spool_findings,
                delivered: c.delivered,
                failures: c.failures,
                dropped: dropped + c.dropped,
                rejected,
                last_error: c.last_error.clone(),
            });
        }
        out
    }

    /// Flush stdout and the file, then give the network sinks `grace` to deliver what they
    /// have; what is left stays spooled for the next start.
    pub async fn shutdown(mut self, grace: Duration) {
        for l in lock(&self.local).iter_mut() {
            let r = match &mut l.writer {
                LocalWriter::Stdout => io::stdout().lock().flush(),
                LocalWriter::File(f) => f.flush(),
            };
            if let Err(e) = r {
                tracing::warn!(sink = l.name, error = %e, "flush failed");
            }
        }
        let deadline = Instant::now() + grace;
        let _ = self.stop.send(Some(deadline));
        for t in std::mem::take(&mut self.tasks) {
            let abort = t.abort_handle();
            // The tasks stop by themselves at the deadline; the margin covers a slow fsync.
            if tokio::time::timeout_at((deadline + Duration::from_secs(1)).into(), t).await.is_err() {
                abort.abort();
            }
        }
        for s in &self.net {
            worker::sync_spool(s).await;
            let sp = lock(&s.spool);
            if sp.len() > 0 {
                tracing::info!(sink = %s.name, findings = sp.len(), bytes = sp.bytes(), "undelivered findings stay spooled for the next start");
            }
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        // Without `shutdown`: stop at once, like a killed process (the spools keep everything).
        for t in &self.tasks {
            t.abort();
        }
    }
}

#[cfg(test)]
mod key_tests {
    use super::{delivery_key, split_key};

    #[test]
    fn updates_are_delivered_under_their_own_key() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(delivery_key(id, 1), id);
        assert_eq!(delivery_key(id, 0), id);
        assert_eq!(delivery_key(id, 3), format!("{id}-3"));
        assert_eq!(split_key(id), (id, 1));
        assert_eq!(split_key(&delivery_key(id, 3)), (id, 3));
        // Anything else is a plain id.
        assert_eq!(split_key("a-b"), ("a-b", 1));
        assert_eq!(split_key("a-1"), ("a-1", 1));
    }
}
