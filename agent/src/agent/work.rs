//! What the agent does with events: judge them and hand the findings to the sinks
//! ([`Detection`]), or write them to a recording without judging them ([`Recording`]).

use std::{io::Write, path::Path, sync::Arc, time::Duration};

use anyhow::Context;

use crate::{
    container::EnrichmentQueue,
    event::Event,
    finding::{boot_now_ns, Origin},
    pipeline::{Pipeline, Tracker},
    process::Process,
    replay::{self, Line},
    sink::{self, Delivery},
};

/// How often the bounded waits at shutdown look again.
const SHUTDOWN_TICK: Duration = Duration::from_millis(20);

/// How long the network sinks get at shutdown to deliver what they hold.
const DELIVERY_GRACE: Duration = Duration::from_secs(5);

/// Events judged by the [`Pipeline`], findings handed to the sinks. Live runs and replays
/// both deliver through it.
pub struct Detection {
    pipeline: Pipeline,
    delivery: Delivery,
}

impl Detection {
    /// Judge with `pipeline`, deliver to `delivery`.
    pub fn new(pipeline: Pipeline, delivery: Delivery) -> Self {
        Self { pipeline, delivery }
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The sinks.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// Judge one event.
    pub fn handle(&mut self, ev: &Event) {
        self.pipeline.handle(ev);
    }

    /// Upkeep at kernel time `now_ns` (everything out with `flush`), then hand what is ready
    /// to the sinks.
    pub fn poll(&mut self, now_ns: u64, flush: bool) -> anyhow::Result<()> {
        self.pipeline.poll(now_ns, flush);
        self.deliver()
    }

    /// Take one line of a recording: events are judged as they come, in kernel time of the
    /// recording.
    pub fn replay_line(&mut self, line: Line) -> anyhow::Result<()> {
        match line {
            Line::Event(ev) => {
                self.pipeline.handle(&ev);
                self.poll(ev.ts_boot_ns, false)
            }
            Line::Container(rec) => {
                self.pipeline.resolver_mut().apply_record(rec);
                Ok(())
            }
            Line::Clock(c) => {
                self.pipeline.set_clock(c.boot_to_unix_ns, c.boot_id);
                Ok(())
            }
        }
    }

    /// Hand findings to the sinks (stdout, file, webhooks, SCC).
    fn deliver(&mut self) -> anyhow::Result<()> {
        for f in self.pipeline.take_findings() {
            let props = &f.finding.source_properties;
            let id = props.get("Finding_Id").and_then(|v| v.as_str()).unwrap_or_default();
            let key = sink::delivery_key(id, props.get("Finding_Revision").and_then(|v| v.as_u64()).unwrap_or(1));
            let json: Arc<str> = serde_json::to_string(&f)?.into();
            self.delivery.submit(&key, json);
        }
        Ok(())
    }

    /// Give findings still collecting or waiting for pod metadata their bounded wait (`wait`
    /// plus the incidents' settle time), then put everything out.
    async fn drain(&mut self, wait: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + wait + self.pipeline.settle();
        while self.pipeline.has_pending() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(SHUTDOWN_TICK).await;
            self.poll(boot_now_ns(), false)?;
        }
        self.poll(boot_now_ns(), true)
    }

    /// Stop the sinks: stdout and the file flushed, network sinks given a grace to deliver.
    pub async fn close(self) {
        self.delivery.shutdown(DELIVERY_GRACE).await;
    }
}

/// Where `record` writes: the clock first, then events (with what is known of their
/// containers) held until their container's metadata is known.
pub struct Recorder {
    out: Box<dyn Write + Send>,
    queue: EnrichmentQueue<Event>,
}

impl Recorder {
    /// Create `path` (`-`: stdout) and write the clock of `origin` to it. Events wait at most
    /// `wait` for their container's metadata.
    pub fn open(path: &Path, wait: Duration, origin: &Origin) -> anyhow::Result<Recorder> {
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(std::io::BufWriter::new(std::io::stdout()))
        } else {
            Box::new(std::io::BufWriter::new(
                std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
            ))
        };
        Self::new(out, wait, origin).with_context(|| format!("writing {}", path.display()))
    }

    /// A recording written to `out`; see [`Recorder::open`].
    pub fn new(mut out: Box<dyn Write + Send>, wait: Duration, origin: &Origin) -> std::io::Result<Recorder> {
        let clock = replay::Clock { boot_to_unix_ns: origin.boot_to_unix_ns, boot_id: origin.boot_id.clone() };
        replay::write_clock(&mut out, &clock)?;
        Ok(Recorder { out, queue: EnrichmentQueue::new(wait, 100_000) })
    }
}

/// Events through the [`Tracker`] (process table, containers) into a [`Recorder`]; no
/// detector runs: findings come from replaying the recording.
pub struct Recording {
    tracker: Tracker,
    recorder: Recorder,
}

impl Recording {
    /// Track with `tracker` (its resolver should keep updates, see
    /// [`ContainerResolver::record_updates`](crate::container::ContainerResolver::record_updates)),
    /// write to `recorder`.
    pub fn new(tracker: Tracker, recorder: Recorder) -> Self {
        Self { tracker, recorder }
    }

    /// Take one event: it waits in the recorder for its container's metadata.
    pub fn handle(&mut self, ev: Event) {
        let container = self.tracker.observe(&ev);
        self.tracker.expire(ev.ts_boot_ns);
        self.recorder.queue.push(ev, container.as_deref().map(|c| c.id.as_str()));
    }

    /// Upkeep at kernel time `now_ns`, then write what the resolver learned and every event
    /// that may go (all with `flush`).
    pub fn poll(&mut self, now_ns: u64, flush: bool) -> anyhow::Result<()> {
        self.tracker.poll(now_ns);
        self.release(flush).context("writing the recording")
    }

    fn release(&mut self, flush: bool) -> std::io::Result<()> {
        let r = &mut self.recorder;
        for rec in self.tracker.resolver_mut().take_updates() {
            replay::write_container(&mut r.out, &rec)?;
        }
        let mut result = Ok(());
        let out = &mut r.out;
        r.queue.release(self.tracker.resolver(), flush, |ev, info| {
            if result.is_ok() {
                result = replay::write_event(out, &ev, info.as_deref());
            }
        });
        result?;
        r.out.flush()
    }

    /// Give events waiting for pod metadata their bounded wait, then write them all.
    async fn drain(&mut self, wait: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.recorder.queue.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(SHUTDOWN_TICK).await;
            self.poll(boot_now_ns(), false)?;
        }
        self.poll(boot_now_ns(), true)
    }
}

/// What an [`Agent`](super::Agent) does with its events.
// One per agent, made once: the size of the detection's state does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Work {
    /// Judge them; findings to the sinks.
    Detect(Detection),
    /// Record them.
    Record(Recording),
}

impl Work {
    /// Take a batch of events (emptied).
    pub fn handle(&mut self, batch: &mut Vec<Event>) {
        match self {
            Work::Detect(d) => batch.drain(..).for_each(|ev| d.handle(&ev)),
            Work::Record(r) => batch.drain(..).for_each(|ev| r.handle(ev)),
        }
    }

    /// Upkeep and output at kernel time `now_ns`.
    pub fn poll(&mut self, now_ns: u64) -> anyhow::Result<()> {
        match self {
            Work::Detect(d) => d.poll(now_ns, false),
            Work::Record(r) => r.poll(now_ns, false),
        }
    }

    /// True while output waits: findings collecting or waiting for metadata, events waiting
    /// for metadata.
    pub fn has_pending(&self) -> bool {
        match self {
            Work::Detect(d) => d.pipeline.has_pending(),
            Work::Record(r) => !r.recorder.queue.is_empty(),
        }
    }

    /// The process table and container resolver.
    pub fn tracker(&self) -> &Tracker {
        match self {
            Work::Detect(d) => d.pipeline.tracker(),
            Work::Record(r) => &r.tracker,
        }
    }

    /// The pipeline, when judging.
    pub fn pipeline(&self) -> Option<&Pipeline> {
        match self {
            Work::Detect(d) => Some(&d.pipeline),
            Work::Record(_) => None,
        }
    }

    /// After lost kernel records: bring the process table back in line with `/proc` (read
    /// into `alive` at kernel time `scan_ns`); a detection also judges what it missed. Returns
    /// (added, marked exited).
    pub fn recover(&mut self, alive: Vec<Process>, scan_ns: u64, lost: u64) -> (usize, usize) {
        match self {
            Work::Detect(d) => d.pipeline.recover_after_loss(alive, scan_ns, lost),
            Work::Record(r) => r.tracker.reconcile(alive, scan_ns),
        }
    }

    /// At shutdown: give output waiting for pod metadata (findings: or still collecting) its
    /// bounded wait, then put it all out.
    pub async fn drain(&mut self, wait: Duration) -> anyhow::Result<()> {
        match self {
            Work::Detect(d) => d.drain(wait).await,
            Work::Record(r) => r.drain(wait).await,
        }
    }

    /// Stop the sinks (a recording is complete after [`Work::drain`]).
    pub async fn close(self) {
        if let Work::Detect(d) = self {
            d.close().await;
        }
    }
}
