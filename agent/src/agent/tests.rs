//! The agent's loop and outputs driven by events in memory: a recorded attack's events through
//! a live loop, through a replay, and into a recording.

use std::{
    collections::{BTreeSet, VecDeque},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use tokio::sync::Notify;

use super::{Agent, Detection, EventSource, Recorder, Recording, SourceCounters, Work};
use crate::{
    container::{ContainerRecord, ContainerResolver},
    detect::{python, rules::Rules},
    event::Event,
    finding::Origin,
    metrics,
    pipeline::{Pipeline, Tracker},
    replay::{self, Line},
    sink::{Delivery, SinksConfig},
};

/// Batches of events, then nothing: `drained` is told when the last batch has gone.
struct Batches {
    batches: VecDeque<Vec<Event>>,
    drained: Arc<Notify>,
}

impl EventSource for Batches {
    async fn next_batch(&mut self, batch: &mut Vec<Event>) -> anyhow::Result<()> {
        match self.batches.pop_front() {
            Some(b) => batch.extend(b),
            None => {
                self.drained.notify_one();
                std::future::pending::<()>().await;
            }
        }
        Ok(())
    }

    fn counters(&self) -> SourceCounters {
        SourceCounters::default()
    }
}

/// A recorded attack: its container records and its events.
struct Fixture {
    path: PathBuf,
    containers: Vec<ContainerRecord>,
    events: Vec<Event>,
}

fn fixture(name: &str) -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/attacks").join(name);
    let (mut containers, mut events) = (Vec::new(), Vec::new());
    replay::read_recording(&path, |line| match line {
        Line::Event(e) => events.push(e),
        Line::Container(c) => containers.push(c),
        Line::Clock(_) => {}
    })
    .unwrap();
    Fixture { path, containers, events }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shrike-agent-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Findings to `file` only, as `shrike run --no-stdout --output-file` would.
async fn file_delivery(file: &Path) -> Delivery {
    let mut sinks = SinksConfig::default();
    sinks.stdout.enabled = false;
    sinks.file.path = file.display().to_string();
    Delivery::start(&sinks).await.unwrap()
}

fn pipeline(containers: &[ContainerRecord]) -> Pipeline {
    let rules = Rules::defaults();
    let model = python::load_model(&rules).unwrap();
    let mut resolver = ContainerResolver::replay();
    for c in containers {
        resolver.apply_record(c.clone());
    }
    Pipeline::new(Vec::new(), resolver, Arc::new(rules), Origin::default(), Duration::ZERO, false, model)
}

fn categories(file: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["finding"]["category"].as_str().unwrap().to_string())
        .collect()
}

fn expected(f: &Fixture) -> BTreeSet<String> {
    std::fs::read_to_string(f.path.with_extension("expected")).unwrap().lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Run `work` over the fixture's events (in batches of 5) until they are all read and a publish
/// tick (one a second) has seen them.
async fn run_over(f: &Fixture, work: Work) -> Arc<metrics::Shared> {
    let drained = Arc::new(Notify::new());
    let source = Batches { batches: f.events.chunks(5).map(<[Event]>::to_vec).collect(), drained: drained.clone() };
    let shared = metrics::Shared::new();
    let agent = Agent::new(source, work, shared.clone(), Duration::ZERO);
    tokio::time::timeout(Duration::from_secs(60), agent.run(async move {
        drained.notified().await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }))
        .await
        .expect("the agent stops once told")
        .unwrap();
    shared
}

#[tokio::test]
async fn the_loop_delivers_what_a_replay_delivers() {
    let f = fixture("nc-e.jsonl");
    let dir = scratch("loop");
    let live = dir.join("live.jsonl");
    let work = Work::Detect(Detection::new(pipeline(&f.containers), file_delivery(&live).await));
    let shared = run_over(&f, work).await;
    assert_eq!(categories(&live), expected(&f));
    assert!(shared.health().loop_running);

    // The same events replayed (in the recording's time) leave by the same delivery.
    let replayed = dir.join("replayed.jsonl");
    let mut d = Detection::new(pipeline(&[]), file_delivery(&replayed).await);
    replay::read_recording(&f.path, |line| d.replay_line(line).unwrap()).unwrap();
    d.poll(0, true).unwrap();
    assert_eq!(d.pipeline().tracker().counts().events, f.events.len() as u64);
    d.close().await;
    assert_eq!(categories(&replayed), categories(&live));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_recording_keeps_every_event_and_judges_none() {
    let f = fixture("nc-e.jsonl");
    let dir = scratch("record");
    let file = dir.join("events.jsonl");
    let out = Box::new(std::fs::File::create(&file).unwrap());
    let mut resolver = ContainerResolver::replay();
    for c in &f.containers {
        resolver.apply_record(c.clone());
    }
    resolver.record_updates(true);
    let recorder = Recorder::new(out, Duration::ZERO, &Origin::default()).unwrap();
    let shared = run_over(&f, Work::Record(Recording::new(Tracker::new(Vec::new(), resolver), recorder))).await;

    let mut events = Vec::new();
    let mut clocks = 0;
    replay::read_recording(&file, |line| match line {
        Line::Event(e) => events.push(e),
        Line::Clock(_) => clocks += 1,
        Line::Container(_) => {}
    })
    .unwrap();
    assert_eq!(clocks, 1);
    assert_eq!(serde_json::to_string(&events).unwrap(), serde_json::to_string(&f.events).unwrap(), "every event, in order");
    let published = shared.snapshot();
    assert_eq!(published.events_by_kind.iter().map(|(_, n)| n).sum::<u64>(), f.events.len() as u64);
    assert_eq!((published.detections, published.sinks.len()), (0, 0), "nothing judged, no sink");
    std::fs::remove_dir_all(&dir).unwrap();
}
