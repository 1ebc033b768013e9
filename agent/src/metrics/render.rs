//! Rendering a [`Snapshot`] as OpenMetrics text with `prometheus-client`'s encoder.
//!
//! The snapshot is already aggregated by the event loop, so instead of live metric objects a
//! [`Collector`] encodes it as constant counters and gauges on each scrape.

use std::{collections::BTreeMap, sync::Arc, time::SystemTime};

use prometheus_client::{
    collector::Collector,
    encoding::{text, DescriptorEncoder, EncodeMetric},
    metrics::{counter::ConstCounter, gauge::ConstGauge, MetricType},
    registry::{Registry, Unit},
};

use super::{Health, Published, Snapshot};

/// The `Content-Type` of [`render`]'s output (OpenMetrics text 1.0.0).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prefix of every metric name.
const PREFIX: &str = "shrike";

/// Renders `snapshot` as a complete OpenMetrics text exposition (ending in `# EOF`).
///
/// Families (counters carry the `_total` suffix on their samples, per OpenMetrics):
/// - `shrike_build_info{version}`: always 1;
/// - `shrike_events_total{kind}`: events handled, kind = exec|fork|exit|stdio_redirect;
/// - `shrike_ringbuf_submitted_total`, `shrike_ringbuf_dropped_total`,
///   `shrike_kernel_read_errors_total`, `shrike_decode_errors_total`,
///   `shrike_other_node_dropped_total` (kind: processes of other nodes on the same kernel);
/// - `shrike_process_table_size`, `shrike_containers_known` (gauges);
/// - `shrike_enrichment_lookups_total`, `shrike_enrichment_failures_total`,
///   `shrike_enrichment_latency_seconds_total` (time spent in lookups; divide its rate by the
///   lookups' rate for the mean latency), `shrike_enrichment_incomplete_total`;
/// - `shrike_detections_total`, `shrike_findings_total{category}`,
///   `shrike_findings_excepted_total`, `shrike_findings_suppressed_total`,
///   `shrike_finding_updates_total`;
/// - `shrike_finding_latency_seconds` (histogram): kernel event to the hand-off of an incident's
///   first finding to the sinks, less any wait for pod metadata;
/// - per sink: `shrike_sink_queue_depth{sink}`, `shrike_sink_spool_bytes{sink}` (gauges),
///   `shrike_sink_delivered_total{sink}`, `shrike_sink_failures_total{sink}`,
///   `shrike_sink_dropped_total{sink}`;
/// - per attached kernel program: `shrike_bpf_program_runs_total{program}` and
///   `shrike_bpf_program_run_time_seconds_total{program}`, as the kernel counts them while BPF
///   statistics are on (`[sensor] program_stats`, or `kernel.bpf_stats_enabled`); divide the
///   run time's rate by the runs' rate for the cost of one run.
///
/// Repeated label values (two entries of one category or sink) are summed into one series, so
/// the output never holds duplicate series.
pub fn render(snapshot: &Snapshot) -> String {
    encode(SnapshotCollector {
        snapshot: Arc::new(snapshot.clone()),
        status: None,
    })
}

/// Renders what `/metrics` serves: [`render`]'s families plus the agent's status
/// (`shrike_start_time_seconds`, `shrike_ready`, `shrike_programs_attached`,
/// `shrike_last_snapshot_timestamp_seconds`).
pub(crate) fn render_scrape(published: Published, health: Health) -> String {
    encode(SnapshotCollector {
        snapshot: published.snapshot,
        status: Some(Status {
            health,
            published_at: published.at,
        }),
    })
}

fn encode(collector: SnapshotCollector) -> String {
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register_collector(Box::new(collector));
    let mut out = String::with_capacity(4096);
    // Writing to a String cannot fail and the collector returns no error of its own; should
    // that ever change, the scrape still gets a well-formed (if partial) exposition.
    if text::encode_registry(&mut out, &registry).is_err() {
        tracing::warn!("encoding metrics failed; serving a partial exposition");
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Agent status shown next to the snapshot on `/metrics`.
#[derive(Debug)]
struct Status {
    health: Health,
    published_at: Option<SystemTime>,
}

#[derive(Debug)]
struct SnapshotCollector {
    snapshot: Arc<Snapshot>,
    status: Option<Status>,
}

type Fmt = Result<(), std::fmt::Error>;

fn counter(enc: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> Fmt {
    ConstCounter::new(value).encode(enc.encode_descriptor(name, help, None, MetricType::Counter)?)
}

fn gauge(enc: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> Fmt {
    ConstGauge::new(value).encode(enc.encode_descriptor(name, help, None, MetricType::Gauge)?)
}

fn gauge_f64(enc: &mut DescriptorEncoder, name: &str, help: &str, unit: Unit, value: f64) -> Fmt {
    let metric = enc.encode_descriptor(name, help, Some(&unit), MetricType::Gauge)?;
    ConstGauge::new(value).encode(metric)
}

/// One family with one label, one series per distinct label value.
fn labelled(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric_type: MetricType,
    label: &str,
    series: &BTreeMap<&str, u64>,
) -> Fmt {
    let mut family = enc.encode_descriptor(name, help, None, metric_type)?;
    for (value, n) in series {
        let labels = [(label, *value)];
        let metric = family.encode_family(&labels)?;
        match metric_type {
            MetricType::Counter => ConstCounter::new(*n).encode(metric)?,
            _ => ConstGauge::new(*n).encode(metric)?,
        }
    }
    Ok(())
}

/// Sums values per label value; an empty label value becomes `unknown`.
fn aggregate<'a>(items: impl IntoIterator<Item = (&'a str, u64)>) -> BTreeMap<&'a str, u64> {
    let mut map = BTreeMap::new();
    for (key, n) in items {
        let key = if key.is_empty() { "unknown" } else { key };
        let slot: &mut u64 = map.entry(key).or_default();
        *slot = slot.saturating_add(n);
    }
    map
}

fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Fmt {
        let s = &*self.snapshot;
        let e = &mut enc;

        let version = [("version", env!("CARGO_PKG_VERSION"))];
        e.encode_descriptor(
            "build",
            "Build information of the shrike agent.",
            None,
            MetricType::Info,
        )?
        .encode_info(&version)?;

        if let Some(status) = &self.status {
            let h = &status.health;
            gauge_f64(
                e,
                "start_time",
                "Start time of the agent since the Unix epoch.",
                Unit::Seconds,
                unix_seconds(h.started),
            )?;
            gauge(
                e,
                "ready",
                "1 when /readyz answers 200, else 0.",
                u64::from(h.is_ready()),
            )?;
            gauge(
                e,
                "programs_attached",
                "1 once the eBPF programs are attached, else 0.",
                u64::from(h.programs_attached),
            )?;
            gauge_f64(
                e,
                "last_snapshot_timestamp",
                "When the event loop last published its counters, since the Unix epoch \
                 (0 before the first publish); a stale value means a stuck loop.",
                Unit::Seconds,
                status.published_at.map(unix_seconds).unwrap_or(0.0),
            )?;
        }

        labelled(
            e,
            "events",
            "Events handled by the pipeline, by kind.",
            MetricType::Counter,
            "kind",
            &aggregate(s.events_by_kind.iter().copied()),
        )?;
        counter(
            e,
            "ringbuf_submitted",
            "Records the kernel probes submitted to the ring buffer.",
            s.ringbuf_submitted,
        )?;
        counter(
            e,
            "ringbuf_dropped",
            "Records the kernel probes dropped because the ring buffer was full.",
            s.ringbuf_drops,
        )?;
        counter(
            e,
            "kernel_read_errors",
            "Errors reading the ring buffer or kernel maps.",
            s.kernel_read_errors,
        )?;
        counter(
            e,
            "decode_errors",
            "Kernel records that could not be decoded.",
            s.decode_errors,
        )?;
        counter(
            e,
            "other_node_dropped",
            "Records about processes of other nodes sharing the kernel (kind), dropped by the \
             kernel probes; 0 when the agent runs in the host pid namespace.",
            s.other_node_dropped,
        )?;
        gauge(
            e,
            "process_table_size",
            "Processes in the process table.",
            s.process_table_size,
        )?;
        gauge(
            e,
            "containers_known",
            "Containers the resolver knows.",
            s.containers_known,
        )?;

        counter(
            e,
            "enrichment_lookups",
            "Container metadata lookups made.",
            s.enrichment_lookups,
        )?;
        counter(
            e,
            "enrichment_failures",
            "Container metadata lookups that failed.",
            s.enrichment_failures,
        )?;
        let latency = e.encode_descriptor(
            "enrichment_latency",
            "Time spent in container metadata lookups.",
            Some(&Unit::Seconds),
            MetricType::Counter,
        )?;
        ConstCounter::new(s.enrichment_latency_seconds_sum.max(0.0)).encode(latency)?;
        counter(
            e,
            "enrichment_incomplete",
            "Findings emitted with incomplete container metadata.",
            s.enrichment_incomplete,
        )?;

        counter(
            e,
            "detections",
            "Detections made by the detectors.",
            s.detections,
        )?;
        labelled(
            e,
            "findings",
            "Findings emitted, by category.",
            MetricType::Counter,
            "category",
            &aggregate(s.findings_by_category.iter().map(|(c, n)| (c.as_str(), *n))),
        )?;
        counter(
            e,
            "findings_excepted",
            "Incidents silenced by an exception rule.",
            s.findings_excepted,
        )?;
        counter(
            e,
            "findings_suppressed",
            "Incidents suppressed as duplicates or by rate limiting.",
            s.findings_suppressed,
        )?;
        counter(
            e,
            "finding_updates",
            "Updates of findings that had gone out (more of the same incident).",
            s.finding_updates,
        )?;
        let h = &s.finding_latency;
        e.encode_descriptor(
            "finding_latency",
            "Kernel event to the hand-off of an incident's first finding to the sinks, less any wait for pod metadata.",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?
        .encode_histogram::<prometheus_client::encoding::NoLabelSet>(h.sum_seconds(), h.count(), &h.buckets(), None)?;

        type Field = fn(&super::SinkSnapshot) -> u64;
        let sink_families: [(&str, &str, MetricType, Field); 5] = [
            (
                "sink_queue_depth",
                "Findings waiting in the sink's queue.",
                MetricType::Gauge,
                |k| k.queue_depth,
            ),
            (
                "sink_spool_bytes",
                "Bytes in the sink's on-disk spool.",
                MetricType::Gauge,
                |k| k.spool_bytes,
            ),
            (
                "sink_delivered",
                "Findings the sink delivered.",
                MetricType::Counter,
                |k| k.delivered,
            ),
            (
                "sink_failures",
                "Failed delivery attempts of the sink.",
                MetricType::Counter,
                |k| k.failures,
            ),
            (
                "sink_dropped",
                "Findings the sink gave up on.",
                MetricType::Counter,
                |k| k.dropped,
            ),
        ];
        for (name, help, metric_type, field) in sink_families {
            let series = aggregate(s.sinks.iter().map(|k| (k.name.as_str(), field(k))));
            labelled(e, name, help, metric_type, "sink", &series)?;
        }

        if !s.bpf_programs.is_empty() {
            let runs = aggregate(s.bpf_programs.iter().map(|p| (p.program, p.runs)));
            labelled(
                e,
                "bpf_program_runs",
                "Runs of each attached kernel program, counted while BPF statistics are on.",
                MetricType::Counter,
                "program",
                &runs,
            )?;
            let run_ns = aggregate(s.bpf_programs.iter().map(|p| (p.program, p.run_time_ns)));
            let mut family = e.encode_descriptor(
                "bpf_program_run_time",
                "Time spent running each attached kernel program, counted while BPF statistics are on.",
                Some(&Unit::Seconds),
                MetricType::Counter,
            )?;
            for (program, ns) in &run_ns {
                ConstCounter::new(*ns as f64 / 1e9).encode(family.encode_family(&[("program", *program)])?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::SinkSnapshot;

    fn sample() -> Snapshot {
        let mut s = Snapshot::default();
        s.events_by_kind[0].1 = 10;
        s.events_by_kind[3].1 = 2;
        s.ringbuf_drops = 3;
        s.other_node_dropped = 8;
        s.process_table_size = 42;
        s.enrichment_latency_seconds_sum = 0.25;
        s.findings_by_category = vec![
            ("EXECUTION".into(), 4),
            ("DEFENSE_EVASION".into(), 1),
            ("EXECUTION".into(), 2),
        ];
        s.sinks = vec![SinkSnapshot {
            name: "webhook".into(),
            queue_depth: 5,
            spool_bytes: 1024,
            delivered: 9,
            failures: 1,
            dropped: 0,
        }];
        s.bpf_programs = vec![
            crate::metrics::ProgramSnapshot { program: "sched_process_exec", runs: 4, run_time_ns: 12_000 },
            crate::metrics::ProgramSnapshot { program: "sched_process_exit", runs: 3, run_time_ns: 1_500_000_000 },
        ];
        s
    }

    #[test]
    fn renders_expected_lines() {
        let out = render(&sample());
        for line in [
            "# HELP shrike_events Events handled by the pipeline, by kind.",
            "# TYPE shrike_events counter",
            "shrike_events_total{kind=\"exec\"} 10",
            "shrike_events_total{kind=\"fork\"} 0",
            "shrike_events_total{kind=\"stdio_redirect\"} 2",
            "shrike_ringbuf_dropped_total 3",
            "# TYPE shrike_other_node_dropped counter",
            "shrike_other_node_dropped_total 8",
            "# TYPE shrike_process_table_size gauge",
            "shrike_process_table_size 42",
            "# UNIT shrike_enrichment_latency_seconds seconds",
            "shrike_enrichment_latency_seconds_total 0.25",
            "shrike_findings_total{category=\"DEFENSE_EVASION\"} 1",
            "shrike_findings_total{category=\"EXECUTION\"} 6",
            "shrike_sink_queue_depth{sink=\"webhook\"} 5",
            "shrike_sink_spool_bytes{sink=\"webhook\"} 1024",
            "shrike_sink_delivered_total{sink=\"webhook\"} 9",
            "# TYPE shrike_bpf_program_runs counter",
            "shrike_bpf_program_runs_total{program=\"sched_process_exec\"} 4",
            "shrike_bpf_program_runs_total{program=\"sched_process_exit\"} 3",
            "# TYPE shrike_bpf_program_run_time_seconds counter",
            "# UNIT shrike_bpf_program_run_time_seconds seconds",
            "shrike_bpf_program_run_time_seconds_total{program=\"sched_process_exec\"} 0.000012",
            "shrike_bpf_program_run_time_seconds_total{program=\"sched_process_exit\"} 1.5",
            "# TYPE shrike_build info",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
        }
        assert!(out.contains(&format!(
            "shrike_build_info{{version=\"{}\"}} 1\n",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(out.ends_with("# EOF\n"));
        assert_eq!(out.matches("# EOF").count(), 1);
        assert!(
            !out.contains("shrike_ready"),
            "status families only on scrapes"
        );
    }

    #[test]
    fn every_family_has_help_and_type_once() {
        let out = render(&sample());
        let helps: Vec<_> = out.lines().filter(|l| l.starts_with("# HELP ")).collect();
        let types: Vec<_> = out.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        assert_eq!(helps.len(), types.len());
        assert!(helps.len() >= 20, "{}", helps.len());
        let mut names: Vec<_> = types.iter().filter_map(|l| l.split(' ').nth(2)).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "a family appears twice");
    }

    #[test]
    fn label_values_are_escaped() {
        let s = Snapshot {
            findings_by_category: vec![("a\"b\\c\nd".into(), 1), (String::new(), 2)],
            ..Snapshot::default()
        };
        let out = render(&s);
        assert!(
            out.contains("shrike_findings_total{category=\"a\\\"b\\\\c\\nd\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("shrike_findings_total{category=\"unknown\"} 2\n"),
            "{out}"
        );
    }

    #[test]
    fn empty_snapshot_keeps_families() {
        let out = render(&Snapshot::default());
        assert!(out.contains("# TYPE shrike_findings counter\n"));
        assert!(out.contains("# TYPE shrike_sink_queue_depth gauge\n"));
        assert!(!out.contains("shrike_findings_total{"));
        assert!(out.contains("shrike_events_total{kind=\"exit\"} 0\n"));
    }

    #[test]
    fn scrape_adds_status() {
        let shared = crate::metrics::Shared::new();
        let out = render_scrape(shared.published(), shared.health());
        assert!(out.contains("shrike_ready 0\n"), "{out}");
        assert!(
            out.contains("shrike_last_snapshot_timestamp_seconds 0"),
            "{out}"
        );
        assert!(
            out.contains("# UNIT shrike_start_time_seconds seconds\n"),
            "{out}"
        );
        shared.set_attached();
        shared.set_loop_running();
        shared.publish(sample());
        let out = render_scrape(shared.published(), shared.health());
        assert!(out.contains("shrike_ready 1\n"), "{out}");
        assert!(out.contains("shrike_process_table_size 42\n"), "{out}");
    }
}
