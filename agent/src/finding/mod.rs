//! From detections to findings: detections are grouped into incidents (one category once per
//! process tree), and an incident becomes an SCC-shaped finding with its container, pod, node,
//! processes and socket evidence.

pub mod flood;
pub mod origin;
pub mod scc;

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::{
    container::{ContainerInfo, Enrichment},
    detect::{
        rules::{DetectionId, Rules, Severity, Subject},
        spec::Render,
        Detection, Peer, ProcessSnapshot,
    },
    event::{ProcessKey, SocketProto},
};

pub use origin::{GcpPlace, Origin, DEFAULT_SCC_PARENT};

/// CLOCK_BOOTTIME now, in nanoseconds (the clock of kernel event timestamps).
pub fn boot_now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Unix time now, in nanoseconds.
pub fn unix_now_ns() -> i128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or(0)
}

/// Unix time minus CLOCK_BOOTTIME, in nanoseconds.
pub fn boot_to_unix_ns() -> i128 {
    unix_now_ns() - i128::from(boot_now_ns())
}

/// One attack as one category sees it: the first detection and what the same incident did after.
/// An incident goes out as soon as it opens (revision 1) and again, under the same id, when it
/// learns more (revision 2, 3, ...: more commands, the shell a relay started).
#[derive(Clone, Debug)]
pub struct Incident {
    /// Finding id: 32 hex characters, stable for the incident (the delivery idempotency key).
    pub id: String,
    /// Category.
    pub detection: DetectionId,
    /// Root of the incident's process tree.
    pub root: ProcessKey,
    /// The first detection.
    pub first: Detection,
    /// Later detections of the same incident (commands run, the shell socat started, ...).
    pub more: Vec<Detection>,
    /// Detections merged beyond what is kept.
    pub dropped: u64,
    /// 1 for the first finding of the incident, then one more for each update.
    pub revision: u32,
    /// Kernel time of the latest detection this revision holds.
    pub last_ts_boot_ns: u64,
    /// Kernel time this revision left the incident stage, on a live run (0 in replays): where
    /// its wait for pod metadata starts.
    pub out_ns: u64,
    /// What flood control counted into this finding.
    pub flood: flood::Counts,
}

/// Most detections kept per incident beyond the first.
const MAX_MORE: usize = 32;

/// Counters of incidents.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct IncidentStats {
    /// Incidents opened.
    pub opened: u64,
    /// Detections merged into an open incident.
    pub merged: u64,
    /// Updates of incidents that had gone out (revision 2 and later).
    pub updates: u64,
    /// Detections merged beyond what an incident lists (counted in it).
    pub not_listed: u64,
}

struct Open {
    incident: Incident,
    /// Something is new since the last revision went out (or none went out yet).
    changed: bool,
    /// Kernel time the last revision went out.
    emitted_ns: Option<u64>,
}

/// Groups detections into incidents. Time is kernel time (CLOCK_BOOTTIME ns) of the events, so
/// a replay groups exactly as the live run did.
///
/// An incident's first finding goes out at once. Later detections of the same category and
/// process-tree root join it while it is open — until `dedupe_ns` after its latest detection —
/// and go out as updates under the same id, at most one per `settle_ns`, so a responder sees
/// the first command at once and the next ones as they come without a finding per command.
pub struct Incidents {
    open: HashMap<(DetectionId, ProcessKey), Open>,
    settle_ns: u64,
    dedupe_ns: u64,
    stats: IncidentStats,
}

impl Incidents {
    /// Incidents whose updates go out at most once per `settle_ns` and that stay open for
    /// `dedupe_ns` after their latest detection.
    pub fn new(settle_ns: u64, dedupe_ns: u64) -> Self {
        Self { open: HashMap::new(), settle_ns, dedupe_ns, stats: IncidentStats::default() }
    }

    /// Counters.
    pub fn stats(&self) -> IncidentStats {
        self.stats
    }

    /// Number of incidents with something that has not gone out yet.
    pub fn pending_count(&self) -> usize {
        self.open.values().filter(|o| o.changed).count()
    }

    /// Add a detection: opens an incident or joins the open one of its category and root.
    pub fn add(&mut self, d: Detection, origin: &Origin) {
        let key = (d.id, d.root);
        let now = d.ts_boot_ns;
        if let Some(o) = self.open.get_mut(&key) {
            if now < o.incident.last_ts_boot_ns.saturating_add(self.dedupe_ns) {
                self.stats.merged += 1;
                let i = &mut o.incident;
                i.last_ts_boot_ns = i.last_ts_boot_ns.max(now);
                if i.more.len() < MAX_MORE {
                    i.more.push(d);
                } else {
                    i.dropped += 1;
                    self.stats.not_listed += 1;
                }
                o.changed = true;
                return;
            }
            // Closed long ago but not swept yet: this is a new incident.
            self.open.remove(&key);
        }
        self.stats.opened += 1;
        let id = finding_id(origin, d.id, d.root, now);
        let incident = Incident {
            id,
            detection: d.id,
            root: d.root,
            first: d,
            more: Vec::new(),
            dropped: 0,
            revision: 0,
            last_ts_boot_ns: now,
            out_ns: 0,
            flood: flood::Counts::default(),
        };
        self.open.insert(key, Open { incident, changed: true, emitted_ns: None });
    }

    /// What goes out at kernel time `now_ns`: incidents not out yet, and updates of incidents
    /// that learned more at least `settle_ns` after their last revision went out (every update
    /// still waiting with `flush`). Incidents quiet for `dedupe_ns` are closed.
    pub fn due(&mut self, now_ns: u64, flush: bool) -> Vec<Incident> {
        let (settle, dedupe) = (self.settle_ns, self.dedupe_ns);
        let mut out = Vec::new();
        let stats = &mut self.stats;
        self.open.retain(|_, o| {
            let closing = now_ns >= o.incident.last_ts_boot_ns.saturating_add(dedupe);
            let ready = match o.emitted_ns {
                None => true,
                Some(at) => flush || closing || now_ns >= at.saturating_add(settle),
            };
            if o.changed && ready {
                o.incident.revision += 1;
                if o.incident.revision > 1 {
                    stats.updates += 1;
                }
                o.changed = false;
                o.emitted_ns = Some(now_ns);
                out.push(o.incident.clone());
            }
            !closing
        });
        out.sort_by_key(|i| (i.first.ts_boot_ns, i.revision));
        out
    }
}

/// A 32-hex finding id for (node, boot, category, incident root, first event time): stable for
/// the incident (a replay gives the same ids), different for every incident, also for a new
/// incident of the same category and root after the quiet window.
pub fn finding_id(origin: &Origin, id: DetectionId, root: ProcessKey, first_ts_boot_ns: u64) -> String {
    let mut h = Sha256::new();
    h.update(origin.node.as_bytes());
    h.update(b"\0");
    h.update(origin.boot_id.as_bytes());
    h.update(b"\0");
    h.update(id.module().as_bytes());
    h.update(root.pid.to_le_bytes());
    h.update(root.start.to_le_bytes());
    h.update(first_ts_boot_ns.to_le_bytes());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
    }
}

/// MITRE ATT&CK (v2 enum names) of a detection, from its spec.
pub fn mitre(id: DetectionId) -> scc::MitreAttack {
    let m = id.spec().mitre;
    scc::MitreAttack {
        primary_tactic: m.tactic,
        primary_techniques: m.techniques.to_vec(),
        additional_tactics: m.additional_tactics.to_vec(),
        additional_techniques: m.additional_techniques.to_vec(),
        version: "16",
    }
}

fn to_process(p: &ProcessSnapshot) -> scc::Process {
    scc::Process {
        name: p.name.clone(),
        binary: scc::File {
            path: p.exe.clone(),
            size: p.binary.as_ref().map(|b| b.size as i64),
            sha256: p.binary.as_ref().map(|b| b.sha256.clone()).unwrap_or_default(),
            hashed_size: p.binary.as_ref().map(|b| b.hashed_size as i64),
            partially_hashed: p.binary.as_ref().is_some_and(|b| b.partially_hashed),
            contents: String::new(),
        },
        script: None,
        args: p.argv.clone(),
        arguments_truncated: p.argv_truncated,
        pid: p.key.pid.into(),
        parent_pid: p.parent_pid.map(i64::from),
        user_id: p.uid.into(),
    }
}

/// RFC 3339 UTC with milliseconds (`2026-12-02T10:00:00.123Z`).
pub fn rfc3339(unix_ns: i128) -> String {
    let secs = unix_ns.div_euclid(1_000_000_000) as i64;
    let nanos = unix_ns.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", sod / 3600, sod % 3600 / 60, sod % 60, nanos / 1_000_000)
}

/// Whether an exception silences this incident.
pub fn excepted<'r>(rules: &'r Rules, i: &Incident, container: Option<&ContainerInfo>) -> Option<&'r crate::detect::rules::Exception> {
    let p = i.first.processes.first();
    let parent = i.first.processes.get(1);
    let argv = p.map(|p| p.argv.as_slice()).unwrap_or(&[]);
    let meta = container.map(|c| &c.meta);
    let subject = Subject {
        detection: Some(i.detection),
        host: i.first.container.is_none(),
        namespace: meta.and_then(|m| m.pod_namespace.as_deref()),
        pod_labels: meta.map(|m| &m.pod_labels),
        images: [meta.and_then(|m| m.image.as_deref()), meta.and_then(|m| m.image_digest.as_deref())],
        container_name: meta.and_then(|m| m.container_name.as_deref()),
        exe: p.map(|p| p.exe.as_str()),
        parent_exe: parent.map(|p| p.exe.as_str()),
        argv,
    };
    rules.exception_for(&subject)
}

/// Build the SCC-shaped finding of an incident.
pub fn build(i: &Incident, rules: &Rules, origin: &Origin, container: Option<&ContainerInfo>) -> scc::Envelope {
    let d = &i.first;
    let spec = i.detection.spec();
    let mut props: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut processes: Vec<scc::Process> = d.processes.iter().map(to_process).collect();
    if let (Some(s), Some(first)) = (&d.script, processes.first_mut()) {
        first.script = Some(scc::File {
            path: s.path.clone(),
            size: Some(s.size as i64),
            sha256: s.sha256.clone(),
            hashed_size: Some(s.hashed_size as i64),
            partially_hashed: s.partially_hashed,
            contents: s.contents.clone(),
        });
    }
    for m in &i.more {
        if let Some(p) = m.processes.first() {
            if !processes.iter().any(|q| q.pid == i64::from(p.key.pid) && q.args == p.argv) {
                processes.push(to_process(p));
            }
        }
    }
    (spec.render_incident)(d, &i.more, &mut props);
    props.insert("Summary".into(), d.summary.clone().into());
    props.insert("Detector".into(), "shrike".into());
    props.insert("Detection_Module".into(), spec.module.into());
    props.insert("VM_Instance_Name".into(), origin.node.clone().into());
    if i.dropped > 0 {
        props.insert("Incident_Detections_Not_Listed".into(), i.dropped.into());
    }
    d.evidence.render(&mut props);
    d.marks.render(&mut props);
    i.flood.render(&mut props);
    if let Some(p) = d.processes.first() {
        props.insert("Process_Binary_Fullpath".into(), p.exe.clone().into());
    }
    let ancestry: Vec<serde_json::Value> = d
        .ancestry
        .iter()
        .map(|(pid, name, exe)| serde_json::json!({ "pid": pid, "name": name, "exe": exe }))
        .collect();
    props.insert("Process_Ancestry".into(), ancestry.into());

    let mut connections = Vec::new();
    let mut indicator = scc::Indicator::default();
    let conn = d.connection.or_else(|| i.more.iter().find_map(|m| m.connection));
    if let Some(c) = conn {
        let remote_known = !c.remote.ip().is_unspecified() || c.remote.port() != 0;
        connections.push(scc::Connection {
            destination_ip: if remote_known { c.remote.ip().to_string() } else { String::new() },
            destination_port: remote_known.then_some(i32::from(c.remote.port())),
            source_ip: c.local.ip().to_string(),
            source_port: Some(i32::from(c.local.port())),
            protocol: protocol_name(c.proto),
        });
        if remote_known {
            indicator.ip_addresses.push(c.remote.ip().to_string());
        }
    } else if let Some(p) = d.peer.as_ref().or_else(|| i.more.iter().find_map(|m| m.peer.as_ref())) {
        // No socket seen: the peer its command line names.
        connections.push(peer_connection(p, &mut indicator));
    }
    let mut containers = Vec::new();
    let mut kubernetes = None;
    if let Some(c) = container {
        let m = &c.meta;
        let labels: Vec<scc::Label> =
            m.pod_labels.iter().map(|(k, v)| scc::Label { name: k.clone(), value: v.clone() }).collect();
        let sc = scc::Container {
            name: m.container_name.clone().unwrap_or_else(|| c.id.clone()),
            uri: m.image.clone().unwrap_or_default(),
            image_id: m.image_digest.clone().unwrap_or_default(),
            labels: Vec::new(),
        };
        props.insert("Container_Id".into(), c.id.clone().into());
        props.insert("Container_Runtime".into(), c.runtime.as_str().into());
        props.insert("Container_Name".into(), sc.name.clone().into());
        props.insert("Container_Image_Uri".into(), sc.uri.clone().into());
        props.insert("Container_Image_Id".into(), sc.image_id.clone().into());
        props.insert("Enrichment".into(), serde_json::to_value(c.enrichment).unwrap_or_default());
        if let Some(e) = &c.enrichment_error {
            props.insert("Enrichment_Error".into(), e.clone().into());
        }
        if let (Some(ns), Some(name)) = (&m.pod_namespace, &m.pod_name) {
            props.insert("Pod_Namespace".into(), ns.clone().into());
            props.insert("Pod_Name".into(), name.clone().into());
            kubernetes = Some(scc::Kubernetes {
                pods: vec![scc::Pod { ns: ns.clone(), name: name.clone(), labels, containers: vec![sc.clone()] }],
                nodes: vec![scc::Node { name: origin.node_resource_name() }],
            });
        } else if c.enrichment != Enrichment::NotKubernetes {
            props.insert("Pod_Uid".into(), m.pod_uid.clone().unwrap_or_default().into());
        }
        containers.push(sc);
    }
    if kubernetes.is_none() {
        kubernetes = Some(scc::Kubernetes { pods: Vec::new(), nodes: vec![scc::Node { name: origin.node_resource_name() }] });
    }

    let now = unix_now_ns();
    let (resource_name, resource) = origin.resource();
    let (name, canonical_name) = origin.finding_names(&i.id);
    props.insert("Finding_Id".into(), i.id.clone().into());
    // 1 for the incident's first finding; an update (more of the same incident) carries the
    // same name and id with a higher revision and replaces what went before.
    props.insert("Finding_Revision".into(), i.revision.max(1).into());
    scc::Envelope {
        finding: scc::Finding {
            name,
            canonical_name,
            parent: origin.scc_parent.clone(),
            resource_name,
            state: "ACTIVE",
            category: spec.category,
            source_properties: props,
            // SCC refuses event times in the future: a clock stepped since the offset was taken
            // (or a recording without its clock) must not make one.
            // The latest event this revision holds (SCC: when the event or the update occurred).
            event_time: rfc3339((origin.boot_to_unix_ns + i128::from(i.last_ts_boot_ns.max(d.ts_boot_ns))).min(now)),
            create_time: rfc3339(now),
            severity: severity_name(rules.detection(i.detection).severity),
            finding_class: "THREAT",
            indicator,
            mitre_attack: mitre(i.detection),
            connections,
            processes,
            description: spec.description.into(),
            next_steps: spec.next_steps.into(),
            containers,
            kubernetes,
        },
        resource,
    }
}

fn protocol_name(p: SocketProto) -> &'static str {
    match p {
        SocketProto::Tcp => "TCP",
        SocketProto::Udp => "UDP",
        _ => "PROTOCOL_UNSPECIFIED",
    }
}

/// A `Connection` for a peer named on a command line: the remote end (an IP goes to
/// `indicator.ipAddresses`, a name to `indicator.domains`), or for a listener its local end.
fn peer_connection(p: &Peer, indicator: &mut scc::Indicator) -> scc::Connection {
    let ip = p.host.parse::<std::net::IpAddr>().ok();
    let port = p.port.map(i32::from);
    let mut c = scc::Connection { destination_ip: String::new(), destination_port: None, source_ip: String::new(), source_port: None, protocol: protocol_name(p.proto) };
    if p.listen {
        c.source_ip = ip.filter(|a| !a.is_unspecified()).map(|a| a.to_string()).unwrap_or_default();
        c.source_port = port;
        return c;
    }
    match ip {
        Some(a) => {
            c.destination_ip = a.to_string();
            indicator.ip_addresses.push(a.to_string());
        }
        None if !p.host.is_empty() => indicator.domains.push(p.host.clone()),
        None => {}
    }
    c.destination_port = port;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(id: DetectionId, root: ProcessKey, ts: u64, summary: &str) -> Detection {
        Detection {
            id,
            ts_boot_ns: ts,
            process: root,
            root,
            cgroup_id: 0,
            container: None,
            connection: None,
            peer: None,
            summary: summary.into(),
            evidence: crate::detect::Evidence::None,
            marks: Default::default(),
            processes: Vec::new(),
            ancestry: Vec::new(),
            script: None,
        }
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn an_incident_goes_out_at_once_and_what_it_learns_later_as_updates_under_its_id() {
        let o = Origin { node: "n".into(), boot_id: "b".into(), ..Default::default() };
        let root = ProcessKey { pid: 9, start: 1 };
        let rce = DetectionId::RemoteCommandExecution;
        let mut inc = Incidents::new(1500 * MS, 600_000 * MS);
        inc.add(detection(rce, root, 1000 * MS, "id"), &o);
        let first = inc.due(1000 * MS, false);
        assert_eq!(first.len(), 1, "the first finding does not wait");
        assert_eq!((first[0].revision, first[0].more.len()), (1, 0));
        assert_eq!(inc.pending_count(), 0);
        assert!(inc.due(1001 * MS, false).is_empty(), "nothing new, nothing out");

        // Two more commands 100 ms and 200 ms later: one update, no sooner than the settle time.
        inc.add(detection(rce, root, 1100 * MS, "uname -a"), &o);
        inc.add(detection(rce, root, 1200 * MS, "cat /etc/passwd"), &o);
        assert_eq!(inc.pending_count(), 1);
        assert!(inc.due(2000 * MS, false).is_empty(), "updates are at most one per settle time");
        let update = inc.due(2500 * MS, false);
        assert_eq!(update.len(), 1);
        assert_eq!(update[0].id, first[0].id, "an update keeps the finding id");
        assert_eq!(update[0].revision, 2);
        assert_eq!(update[0].more.iter().map(|d| d.summary.as_str()).collect::<Vec<_>>(), ["uname -a", "cat /etc/passwd"]);
        assert_eq!(update[0].last_ts_boot_ns, 1200 * MS);
        assert!(inc.due(5000 * MS, false).is_empty());

        // Another category of the same tree is its own incident.
        inc.add(detection(DetectionId::ReverseShell, root, 5000 * MS, "sh"), &o);
        let other = inc.due(5000 * MS, false);
        assert_eq!(other.len(), 1);
        assert_ne!(other[0].id, first[0].id);

        // Within the dedupe window of the latest detection it is still the same incident ...
        inc.add(detection(rce, root, 500_000 * MS, "id"), &o);
        let later = inc.due(500_000 * MS, false);
        assert_eq!((later[0].id.as_str(), later[0].revision), (first[0].id.as_str(), 3));
        // ... and after it, a new one.
        inc.add(detection(rce, root, 1_200_000 * MS, "id"), &o);
        let new = inc.due(1_200_000 * MS, false);
        assert_eq!(new.len(), 1);
        assert_ne!(new[0].id, first[0].id);
        assert_eq!(new[0].revision, 1);
        let s = inc.stats();
        assert_eq!((s.opened, s.merged, s.updates), (3, 3, 2));
    }

    #[test]
    fn a_flush_sends_every_update_and_what_is_not_listed_is_counted() {
        let o = Origin { node: "n".into(), boot_id: "b".into(), ..Default::default() };
        let root = ProcessKey { pid: 9, start: 1 };
        let rce = DetectionId::RemoteCommandExecution;
        let mut inc = Incidents::new(1500 * MS, 600_000 * MS);
        inc.add(detection(rce, root, 1000 * MS, "c0"), &o);
        assert_eq!(inc.due(1000 * MS, false).len(), 1);
        for n in 1..=(MAX_MORE as u64 + 5) {
            inc.add(detection(rce, root, 1000 * MS + n, &format!("c{n}")), &o);
        }
        let out = inc.due(1001 * MS, true);
        assert_eq!(out.len(), 1, "a flush does not wait for the settle time");
        assert_eq!((out[0].revision, out[0].more.len(), out[0].dropped), (2, MAX_MORE, 5));
        assert_eq!(inc.stats().not_listed, 5);
        assert!(inc.due(1002 * MS, true).is_empty());
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_392_000_123_000_000), "2026-11-23T00:00:00.123Z");
        assert_eq!(rfc3339(951_782_400_000_000_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn finding_ids_are_32_hex_and_stable() {
        let o = Origin { node: "n".into(), boot_id: "b".into(), ..Default::default() };
        let k = ProcessKey { pid: 5, start: 7 };
        let a = finding_id(&o, DetectionId::ReverseShell, k, 100);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, finding_id(&o, DetectionId::ReverseShell, k, 100));
        assert_ne!(a, finding_id(&o, DetectionId::RemoteCommandExecution, k, 100));
        assert_ne!(a, finding_id(&o, DetectionId::ReverseShell, ProcessKey { pid: 5, start: 8 }, 100));
        // The same tree again after the quiet window is a new finding.
        assert_ne!(a, finding_id(&o, DetectionId::ReverseShell, k, 101));
    }

    #[test]
    fn many_findings_in_one_millisecond_have_unique_names() {
        let o = Origin { node: "n".into(), boot_id: "b".into(), ..Default::default() };
        let ids = [
            DetectionId::ReverseShell,
            DetectionId::RemoteCommandExecution,
            DetectionId::NetcatRemoteCodeExecution,
            DetectionId::SocatReverseShell,
            DetectionId::CompilerInContainer,
            DetectionId::MaliciousPython,
        ];
        let ms = 1_000_000_000_000u64;
        let mut names = std::collections::HashSet::new();
        for pid in 1..200u32 {
            for (n, id) in ids.iter().enumerate() {
                let ts = ms + u64::from(pid) * 1000 + n as u64;
                let (name, canonical) = o.finding_names(&finding_id(&o, *id, ProcessKey { pid, start: 7 }, ts));
                assert!(name.starts_with("organizations/0/sources/shrike/locations/global/findings/"));
                assert_eq!(name, canonical, "no project known: canonicalName is the name");
                assert!(names.insert(name), "two findings share a name");
            }
        }
        assert_eq!(names.len(), 199 * ids.len());
    }
}
