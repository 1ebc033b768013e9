//! The agent's counters for the metrics endpoint and its last log line, taken once a second
//! (never per event) and at shutdown.

use std::sync::atomic::Ordering;

use super::{EventSource, Work};
use crate::{
    metrics::{ProgramSnapshot, SinkSnapshot, Snapshot},
    sink::SinkStats,
};

impl From<SinkStats> for SinkSnapshot {
    fn from(k: SinkStats) -> Self {
        SinkSnapshot {
            name: k.name,
            queue_depth: k.queue_depth as u64,
            spool_bytes: k.spool_bytes,
            delivered: k.delivered,
            failures: k.failures,
            dropped: k.dropped,
        }
    }
}

/// Counters of the source, the tracker and, when judging, the pipeline and the sinks.
pub(super) fn take(source: &impl EventSource, work: &Work) -> Snapshot {
    let k = source.counters();
    let t = work.tracker();
    let e = t.resolver().stats();
    let mut s = Snapshot {
        events_by_kind: t.counts().by_kind(),
        ringbuf_submitted: k.kernel.submitted,
        ringbuf_drops: k.kernel.ringbuf_full,
        kernel_read_errors: k.kernel.read_errors,
        other_node_dropped: k.kernel.other_node_dropped,
        decode_errors: k.decode_errors,
        process_table_size: t.table().len() as u64,
        containers_known: t.resolver().container_count() as u64,
        enrichment_lookups: e.lookups.load(Ordering::Relaxed),
        enrichment_failures: e.failures.load(Ordering::Relaxed),
        enrichment_latency_seconds_sum: e.latency_us_sum.load(Ordering::Relaxed) as f64 / 1e6,
        enrichment_incomplete: e.incomplete_outputs.load(Ordering::Relaxed),
        bpf_programs: source
            .program_stats()
            .into_iter()
            .map(|p| ProgramSnapshot { program: p.program, runs: p.runs, run_time_ns: p.run_time_ns })
            .collect(),
        ..Snapshot::default()
    };
    if let Work::Detect(d) = work {
        let (p, stats) = (d.pipeline(), d.pipeline().stats());
        s.detections = stats.detections;
        s.findings_by_category = p.findings_by_category().iter().map(|(k, v)| (k.to_string(), *v)).collect();
        s.findings_excepted = stats.excepted;
        s.findings_suppressed = stats.suppressed;
        s.finding_updates = stats.updates;
        s.finding_latency = p.latency().clone();
        s.sinks = d.delivery().stats().into_iter().map(SinkSnapshot::from).collect();
    }
    s
}

/// The last log line of a live run, from its final counters.
pub(super) fn log_stopped(s: &Snapshot, decoded: u64) {
    tracing::info!(
        submitted = s.ringbuf_submitted,
        ringbuf_full = s.ringbuf_drops,
        read_errors = s.kernel_read_errors,
        other_node_dropped = s.other_node_dropped,
        decoded,
        decode_errors = s.decode_errors,
        cri_lookups = s.enrichment_lookups,
        cri_failures = s.enrichment_failures,
        enrichment_incomplete = s.enrichment_incomplete,
        detections = s.detections,
        findings = s.findings_by_category.iter().map(|(_, n)| n).sum::<u64>(),
        excepted = s.findings_excepted,
        finding_updates = s.finding_updates,
        findings_timed = s.finding_latency.count(),
        finding_latency_p50_us = micros(s.finding_latency.quantile(0.5)),
        finding_latency_p99_us = micros(s.finding_latency.quantile(0.99)),
        "shrike stopped"
    );
}

/// Seconds as whole microseconds for a log field (0 for none).
fn micros(seconds: Option<f64>) -> u64 {
    seconds.map_or(0, |s| (s * 1e6).round() as u64)
}
