//! Flood control: an attack repeated in a loop (a shell opened every second) is one finding with
//! a count, not a stream; and a rate limit per container and category bounds what any one
//! container can make the agent write. Severity wins: HIGH and CRITICAL findings (a reverse
//! shell, remote command execution, malicious Python) are never rate-limited, and a flood of one
//! category never holds back another, so 32 quick compiler runs cannot bury the reverse shell
//! that follows. What is held back is counted, and the counts ride on the next finding of that
//! container and category that goes out (and in metrics), never silently lost.

use std::{collections::HashMap, sync::Arc};

use super::Incident;
use crate::container::ContainerInfo;
use crate::detect::{
    rules::{DetectionId, Severity},
    spec::{put, Props, Render},
};

/// What flood control counted into a finding that goes out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Findings of its container and category held back by the rate limit since the last one.
    pub rate_limited_since_last: u64,
    /// Repeats merged into it, and the merge window in seconds.
    pub repeats: Option<(u64, u64)>,
}

impl Render for Counts {
    fn render(&self, props: &mut Props) {
        if self.rate_limited_since_last > 0 {
            put(props, "Rate_Limited_Findings_Since_Last", self.rate_limited_since_last);
        }
        if let Some((count, window_s)) = self.repeats {
            put(props, "Repeat_Count", count);
            put(props, "Repeat_Window_Seconds", window_s);
        }
    }
}

/// What to do with an incident.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Write it, with these counts.
    Emit(Counts),
    /// A repeat within the merge window: counted into the next finding of its kind.
    Merged,
    /// Over the container's rate for its category: counted into its next finding.
    RateLimited,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct FloodStats {
    /// Repeats merged into a count.
    pub merged: u64,
    /// Findings held back by the per-container rate limit.
    pub rate_limited: u64,
}

struct Repeat {
    window_end_ns: u64,
    count: u64,
    /// The latest repeat, with what was known of its container when it came: the pod may be
    /// gone (and forgotten by the resolver) when the window ends.
    last: Option<(Incident, Option<Arc<ContainerInfo>>)>,
}

/// A finding to write for a merge window that ended: the latest repeat (its `flood` counts
/// filled in) and its container.
pub type Expired = (Incident, Option<Arc<ContainerInfo>>);

struct Bucket {
    tokens: f64,
    at_ns: u64,
    suppressed: u64,
}

/// The repeat-merging and rate-limiting stage.
pub struct FloodControl {
    window_ns: u64,
    per_minute: f64,
    burst: f64,
    repeats: HashMap<(DetectionId, String, String), Repeat>,
    buckets: HashMap<(String, DetectionId), Bucket>,
    stats: FloodStats,
}

/// What makes two incidents "the same attack again": category, container (or host), and the
/// offending program with its arguments.
fn repeat_key(i: &Incident) -> (DetectionId, String, String) {
    let scope = i.first.container.as_ref().map(|c| c.id.clone()).unwrap_or_else(|| "host".into());
    let what = i.first.processes.first().map(|p| format!("{}\0{}", p.exe, p.argv.join("\0"))).unwrap_or_default();
    (i.detection, scope, what)
}

impl FloodControl {
    /// Merge repeats over `window_s`; allow `per_minute` findings per container and category of
    /// LOW or MEDIUM severity (bursts up to the same number).
    pub fn new(window_s: u64, per_minute: u32) -> Self {
        Self {
            window_ns: window_s * 1_000_000_000,
            per_minute: f64::from(per_minute),
            burst: f64::from(per_minute.max(1)),
            repeats: HashMap::new(),
            buckets: HashMap::new(),
            stats: FloodStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> FloodStats {
        self.stats
    }

    /// Decide about an incident of `severity` in the container `info` going out at kernel time
    /// `now_ns`.
    pub fn admit(&mut self, i: &Incident, info: Option<&Arc<ContainerInfo>>, severity: Severity, now_ns: u64) -> Verdict {
        let key = repeat_key(i);
        let mut counts = Counts::default();
        if self.window_ns > 0 {
            match self.repeats.get_mut(&key) {
                Some(r) if now_ns < r.window_end_ns => {
                    r.count += 1;
                    r.last = Some((i.clone(), info.cloned()));
                    self.stats.merged += 1;
                    return Verdict::Merged;
                }
                _ => {
                    self.repeats.insert(key, Repeat { window_end_ns: now_ns + self.window_ns, count: 0, last: None });
                }
            }
        }
        if self.per_minute > 0.0 && severity < Severity::High {
            let scope = i.first.container.as_ref().map(|c| c.id.clone()).unwrap_or_else(|| "host".into());
            let b = self.buckets.entry((scope, i.detection)).or_insert(Bucket { tokens: self.burst, at_ns: now_ns, suppressed: 0 });
            let elapsed_min = now_ns.saturating_sub(b.at_ns) as f64 / 60e9;
            b.tokens = (b.tokens + elapsed_min * self.per_minute).min(self.burst);
            b.at_ns = now_ns;
            if b.tokens < 1.0 {
                b.suppressed += 1;
                self.stats.rate_limited += 1;
                return Verdict::RateLimited;
            }
            b.tokens -= 1.0;
            counts.rate_limited_since_last = std::mem::take(&mut b.suppressed);
        }
        Verdict::Emit(counts)
    }

    /// Merge windows that ended by `now_ns` (all with `flush`): one finding each for the
    /// repeats they merged, carrying the count.
    pub fn expired(&mut self, now_ns: u64, flush: bool) -> Vec<Expired> {
        let window_s = self.window_ns / 1_000_000_000;
        let mut out = Vec::new();
        self.repeats.retain(|_, r| {
            if !flush && now_ns < r.window_end_ns {
                return true;
            }
            if let Some((mut last, info)) = r.last.take() {
                last.flood.repeats = Some((r.count, window_s));
                out.push((last, info));
            }
            false
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        detect::{Detection, ProcessSnapshot},
        event::ProcessKey,
    };

    fn incident(root: u32, ts: u64) -> Incident {
        let key = ProcessKey { pid: root, start: 1 };
        let d = Detection {
            id: DetectionId::ReverseShell,
            ts_boot_ns: ts,
            process: key,
            root: key,
            cgroup_id: 1,
            container: None,
            connection: None,
            peer: None,
            summary: String::new(),
            evidence: crate::detect::Evidence::None,
            marks: Default::default(),
            processes: vec![ProcessSnapshot {
                key,
                parent_pid: None,
                name: "bash".into(),
                exe: "/usr/bin/bash".into(),
                argv: vec!["bash".into(), "-i".into()],
                argv_truncated: false,
                uid: 0,
                binary: None,
            }],
            ancestry: Vec::new(),
            script: None,
        };
        Incident { id: format!("{root:032x}"), detection: d.id, root: key, first: d, more: Vec::new(), dropped: 0, revision: 1, last_ts_boot_ns: ts, out_ns: 0, flood: Counts::default() }
    }

    #[test]
    fn a_loop_is_one_finding_then_one_with_a_count() {
        let mut f = FloodControl::new(60, 0);
        let s = 1_000_000_000;
        assert_eq!(f.admit(&incident(1, s), None, Severity::Critical, s), Verdict::Emit(Counts::default()));
        for n in 2..12 {
            assert_eq!(f.admit(&incident(n, n as u64 * s), None, Severity::Critical, n as u64 * s), Verdict::Merged);
        }
        assert!(f.expired(30 * s, false).is_empty(), "window still open");
        let merged = f.expired(62 * s, false);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].0.flood.repeats, Some((10, 60)));
        assert_eq!(merged[0].0.root.pid, 11, "the latest repeat is reported");
        assert_eq!(f.stats().merged, 10);
        // After the window a new occurrence is a new finding.
        assert_eq!(f.admit(&incident(50, 70 * s), None, Severity::Critical, 70 * s), Verdict::Emit(Counts::default()));
    }

    #[test]
    fn per_container_rate_limit_counts_into_the_next_finding() {
        let mut f = FloodControl::new(0, 3);
        let s = 1_000_000_000;
        let mut verdicts = Vec::new();
        for n in 0..5u32 {
            let mut i = incident(n, s);
            i.first.processes[0].argv.push(n.to_string()); // distinct: not repeats
            verdicts.push(f.admit(&i, None, Severity::Low, s));
        }
        assert_eq!(verdicts.iter().filter(|v| matches!(v, Verdict::Emit(_))).count(), 3);
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::RateLimited).count(), 2);
        // A minute later a token is back; the finding carries the two held back.
        let mut i = incident(9, 61 * s);
        i.first.processes[0].argv.push("x".into());
        assert_eq!(f.admit(&i, None, Severity::Low, 61 * s), Verdict::Emit(Counts { rate_limited_since_last: 2, repeats: None }));
    }

    #[test]
    fn a_flood_of_low_findings_cannot_bury_a_critical_one() {
        let mut f = FloodControl::new(0, 30);
        let s = 1_000_000_000;
        let mut compiler = incident(0, s);
        compiler.detection = DetectionId::CompilerInContainer;
        for n in 0..40u32 {
            let mut i = compiler.clone();
            i.first.processes[0].argv.push(n.to_string());
            let v = f.admit(&i, None, Severity::Low, s);
            assert_eq!(v == Verdict::RateLimited, n >= 30, "compiler run {n}: {v:?}");
        }
        // The same container's reverse shell right after: out at once, however many follow.
        for n in 0..40u32 {
            let mut i = incident(100 + n, s);
            i.first.processes[0].argv.push(n.to_string());
            assert_eq!(f.admit(&i, None, Severity::Critical, s), Verdict::Emit(Counts::default()), "critical {n}");
        }
        // Another LOW category has its own budget.
        let mut other = incident(500, s);
        other.detection = DetectionId::NetcatRemoteCodeExecution;
        assert_eq!(f.admit(&other, None, Severity::Low, s), Verdict::Emit(Counts::default()));
        assert_eq!(f.stats().rate_limited, 10);
    }

    #[test]
    fn a_repeat_keeps_the_container_it_came_from() {
        use crate::container::{cri::ContainerMeta, Enrichment, Runtime};
        let mut f = FloodControl::new(60, 0);
        let s = 1_000_000_000;
        let info = Arc::new(ContainerInfo {
            runtime: Runtime::Containerd,
            id: "c1".into(),
            meta: ContainerMeta { pod_name: Some("web".into()), ..Default::default() },
            enrichment: Enrichment::Complete,
            enrichment_error: None,
        });
        assert!(matches!(f.admit(&incident(1, s), Some(&info), Severity::Critical, s), Verdict::Emit(_)));
        assert_eq!(f.admit(&incident(2, 2 * s), Some(&info), Severity::Critical, 2 * s), Verdict::Merged);
        // The pod is gone by the time the window ends: the repeat still names it.
        let out = f.expired(62 * s, false);
        assert_eq!(out[0].1.as_ref().and_then(|c| c.meta.pod_name.as_deref()), Some("web"));
    }
}
