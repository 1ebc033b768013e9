//! The metrics and health listener over real TCP on 127.0.0.1 (no root needed): status codes,
//! readiness, and a parsed `/metrics` exposition that follows published snapshots.

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    sync::Arc,
    time::Duration,
};

use shrike::metrics::{serve, serve_with, ServeOptions, Shared, SinkSnapshot, Snapshot};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::timeout,
};

const LOCAL: &str = "127.0.0.1:0";
const LIMIT: Duration = Duration::from_secs(10);

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

/// Sends raw request bytes on a fresh connection and reads the reply until the server closes.
async fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    timeout(LIMIT, stream.read_to_end(&mut buf))
        .await
        .expect("reply in time")
        .unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete HTTP reply");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

async fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
    let req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    raw(addr, req.as_bytes()).await
}

async fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path).await
}

/// One sample: metric name and sorted labels.
type Series = (String, Vec<(String, String)>);

/// A small OpenMetrics text parser: checks the structure and returns every sample's value.
/// Each family opens with `# HELP` then `# TYPE` (and optionally `# UNIT`) before its samples,
/// each sample is `name{labels} value` (labels optional) with a float value and a name that
/// belongs to the current family, no series repeats, and the text ends with `# EOF`.
fn parse(text: &str) -> BTreeMap<Series, f64> {
    let mut samples = BTreeMap::new();
    let mut families = std::collections::HashSet::new();
    let mut family: Option<(String, String)> = None; // (name, type)
    let mut help_for: Option<String> = None;
    let mut saw_eof = false;
    for line in text.lines() {
        assert!(!saw_eof, "text after # EOF: {line:?}");
        if line == "# EOF" {
            saw_eof = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a name and text");
            assert!(!help.trim().is_empty(), "empty HELP for {name}");
            assert!(
                families.insert(name.to_string()),
                "family {name} described twice"
            );
            help_for = Some(name.to_string());
            family = None;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a name and type");
            assert_eq!(
                help_for.as_deref(),
                Some(name),
                "TYPE {name} not right after its HELP"
            );
            assert!(["counter", "gauge", "info", "histogram", "unknown"].contains(&kind));
            family = Some((name.to_string(), kind.to_string()));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# UNIT ") {
            let (name, unit) = rest.split_once(' ').unwrap();
            let (fam, _) = family.as_ref().expect("UNIT after TYPE");
            assert_eq!(fam, name);
            assert!(
                name.ends_with(&format!("_{unit}")),
                "{name} does not end with its unit"
            );
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line:?}");
        let (fam, kind) = family
            .as_ref()
            .unwrap_or_else(|| panic!("sample before TYPE: {line:?}"));
        let (series, value) = parse_sample(line);
        let suffix = series.0.strip_prefix(fam.as_str()).unwrap_or_else(|| {
            panic!("sample {} outside its family {fam}", series.0);
        });
        let allowed: &[&str] = match kind.as_str() {
            "counter" => &["_total", "_created"],
            "info" => &["_info"],
            "histogram" => &["_bucket", "_sum", "_count", "_created"],
            _ => &[""],
        };
        assert!(
            allowed.contains(&suffix),
            "sample {} in {kind} family {fam}",
            series.0
        );
        assert!(value.is_finite(), "{line:?}");
        assert!(
            samples.insert(series.clone(), value).is_none(),
            "duplicate series {series:?}"
        );
    }
    assert!(saw_eof, "exposition does not end with # EOF");
    samples
}

/// Parses `name{k="v",...} value`.
fn parse_sample(line: &str) -> (Series, f64) {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value: {line:?}"));
    let name = &line[..name_end];
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !name.starts_with(|c: char| c.is_ascii_digit()),
        "bad metric name {name:?}"
    );
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '}' if key.is_empty() => {
                    end = Some(i);
                    break;
                }
                ',' if key.is_empty() => {}
                '=' => {
                    assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line:?}");
                    let mut value = String::new();
                    loop {
                        match chars.next().map(|(_, c)| c) {
                            Some('"') => break,
                            Some('\\') => match chars.next().map(|(_, c)| c) {
                                Some('n') => value.push('\n'),
                                Some(c @ ('\\' | '"')) => value.push(c),
                                other => panic!("bad escape {other:?} in {line:?}"),
                            },
                            Some(c) => value.push(c),
                            None => panic!("unterminated label value in {line:?}"),
                        }
                    }
                    labels.push((std::mem::take(&mut key), value));
                }
                c if c.is_ascii_alphanumeric() || c == '_' => key.push(c),
                _ => panic!("bad label syntax at {c:?} in {line:?}"),
            }
        }
        let end = end.unwrap_or_else(|| panic!("unterminated labels in {line:?}"));
        rest = &inner[end + 1..];
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("no space before value: {line:?}"));
    assert!(
        !value.contains(' '),
        "extra fields (timestamps are not expected): {line:?}"
    );
    let value: f64 = value
        .parse()
        .unwrap_or_else(|_| panic!("value not a float: {line:?}"));
    labels.sort();
    ((name.to_string(), labels), value)
}

fn value(samples: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut labels: Vec<_> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.sort();
    *samples
        .get(&(name.to_string(), labels.clone()))
        .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
}

fn snapshot(scale: u64) -> Snapshot {
    let mut s = Snapshot::default();
    for (i, (_, n)) in s.events_by_kind.iter_mut().enumerate() {
        *n = (i as u64 + 1) * 100 * scale;
    }
    s.ringbuf_submitted = 1000 * scale;
    s.ringbuf_drops = scale;
    s.decode_errors = 2 * scale;
    s.process_table_size = 50 + scale;
    s.containers_known = 3;
    s.enrichment_lookups = 10 * scale;
    s.enrichment_failures = scale;
    s.enrichment_latency_seconds_sum = 0.5 * scale as f64;
    s.detections = 7 * scale;
    s.findings_by_category = vec![
        ("EXECUTION".into(), 5 * scale),
        ("PERSISTENCE".into(), scale),
    ];
    s.findings_excepted = scale;
    s.findings_suppressed = 2 * scale;
    s.sinks = vec![
        SinkSnapshot {
            name: "webhook".into(),
            queue_depth: 4,
            spool_bytes: 4096 * scale,
            delivered: 6 * scale,
            failures: scale,
            dropped: 0,
        },
        SinkSnapshot {
            name: "stdout".into(),
            delivered: 6 * scale,
            ..SinkSnapshot::default()
        },
    ];
    s
}

#[tokio::test]
async fn health_readiness_and_routing() {
    let shared = Shared::new();
    let (addr, server) = serve(LOCAL.parse().unwrap(), shared.clone()).await.unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    let r = get(addr, "/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
    assert!(r.headers["content-type"].starts_with("text/plain"));

    let r = get(addr, "/readyz").await;
    assert_eq!(r.status, 503);
    assert!(r.body.contains("not attached"), "{}", r.body);

    shared.set_attached();
    let r = get(addr, "/readyz").await;
    assert_eq!(r.status, 503);
    assert!(r.body.contains("event loop not running"), "{}", r.body);

    shared.set_loop_running();
    let r = get(addr, "/readyz").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ready\n"));

    for path in ["/", "/metricsx", "/metrics/", "/favicon.ico"] {
        assert_eq!(get(addr, path).await.status, 404, "{path}");
    }
    assert_eq!(
        get(addr, "/healthz?probe=1").await.status,
        200,
        "query strings are ignored"
    );

    let r = request(addr, "POST", "/metrics").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, HEAD");

    let r = request(addr, "HEAD", "/metrics").await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());

    server.abort();
}

#[tokio::test]
async fn metrics_follow_published_snapshots() {
    let shared = Shared::new();
    let (addr, server) = serve(LOCAL.parse().unwrap(), shared.clone()).await.unwrap();

    // Before any publish: all families present, counters zero, not ready.
    let r = get(addr, "/metrics").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], shrike::metrics::CONTENT_TYPE);
    let m = parse(&r.body);
    assert_eq!(value(&m, "shrike_events_total", &[("kind", "exec")]), 0.0);
    assert_eq!(value(&m, "shrike_ready", &[]), 0.0);
    assert_eq!(
        value(&m, "shrike_last_snapshot_timestamp_seconds", &[]),
        0.0
    );
    assert!(value(&m, "shrike_start_time_seconds", &[]) > 1.6e9);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(value(&m, "shrike_build_info", &[("version", version)]), 1.0);

    shared.set_attached();
    shared.set_loop_running();
    shared.publish(snapshot(1));
    let first = parse(&get(addr, "/metrics").await.body);
    type Check<'a> = (&'a str, &'a [(&'a str, &'a str)], f64);
    let checks: [Check; 18] = [
        ("shrike_events_total", &[("kind", "exec")], 100.0),
        ("shrike_events_total", &[("kind", "fork")], 200.0),
        ("shrike_events_total", &[("kind", "exit")], 300.0),
        ("shrike_events_total", &[("kind", "stdio_redirect")], 400.0),
        ("shrike_ringbuf_submitted_total", &[], 1000.0),
        ("shrike_ringbuf_dropped_total", &[], 1.0),
        ("shrike_decode_errors_total", &[], 2.0),
        ("shrike_process_table_size", &[], 51.0),
        ("shrike_containers_known", &[], 3.0),
        ("shrike_enrichment_latency_seconds_total", &[], 0.5),
        ("shrike_detections_total", &[], 7.0),
        ("shrike_findings_total", &[("category", "EXECUTION")], 5.0),
        ("shrike_findings_total", &[("category", "PERSISTENCE")], 1.0),
        ("shrike_findings_suppressed_total", &[], 2.0),
        ("shrike_sink_queue_depth", &[("sink", "webhook")], 4.0),
        ("shrike_sink_spool_bytes", &[("sink", "webhook")], 4096.0),
        ("shrike_sink_delivered_total", &[("sink", "stdout")], 6.0),
        ("shrike_ready", &[], 1.0),
    ];
    for (name, labels, want) in checks {
        assert_eq!(value(&first, name, labels), want, "{name}{labels:?}");
    }
    let published = value(&first, "shrike_last_snapshot_timestamp_seconds", &[]);
    assert!(published > 1.6e9);

    shared.publish(snapshot(3));
    let second = parse(&get(addr, "/metrics").await.body);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for ((name, labels), before) in &first {
        let after = second[&(name.clone(), labels.clone())];
        if name.ends_with("_total") {
            assert!(
                after >= *before,
                "counter {name}{labels:?} went back: {before} -> {after}"
            );
        }
    }
    assert_eq!(
        value(&second, "shrike_events_total", &[("kind", "exec")]),
        300.0
    );
    assert_eq!(
        value(
            &second,
            "shrike_findings_total",
            &[("category", "EXECUTION")]
        ),
        15.0
    );
    assert_eq!(
        value(
            &second,
            "shrike_sink_failures_total",
            &[("sink", "webhook")]
        ),
        3.0
    );
    assert_eq!(
        value(&second, "shrike_enrichment_latency_seconds_total", &[]),
        1.5
    );
    assert_eq!(value(&second, "shrike_process_table_size", &[]), 53.0);
    assert!(value(&second, "shrike_last_snapshot_timestamp_seconds", &[]) >= published);

    server.abort();
}

#[tokio::test]
async fn keep_alive_serves_several_requests() {
    let shared = Shared::new();
    let (addr, server) = serve(LOCAL.parse().unwrap(), shared).await.unwrap();
    let two = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(two).await.unwrap();
    let mut buf = Vec::new();
    timeout(LIMIT, stream.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
    assert!(text.contains("# EOF\n"));
    server.abort();
}

/// 200 idle connections (far over the cap, as a host-network pod could open) do not starve the
/// probes: each new connection is served, the oldest idle ones give way.
#[tokio::test]
async fn idle_connections_over_the_cap_do_not_starve_probes() {
    let shared = Shared::new();
    let (addr, server) = serve_with(LOCAL.parse().unwrap(), shared, ServeOptions::default()).await.unwrap();
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let r = timeout(LIMIT, get(addr, "/healthz")).await.expect("the probe is answered while 200 idle connections are held");
        assert_eq!(r.status, 200);
        assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    server.abort();
}

#[tokio::test]
async fn slow_and_broken_clients_do_not_block() {
    let shared = Shared::new();
    let options = ServeOptions {
        header_read_timeout: Duration::from_millis(300),
        connection_lifetime: Duration::from_secs(2),
        max_connections: 8,
        ..ServeOptions::default()
    };
    let (addr, server) = serve_with(LOCAL.parse().unwrap(), shared, options)
        .await
        .unwrap();

    // A client that connects and sends half a request, and one that sends nothing.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /metr").await.unwrap();
    let mut silent = TcpStream::connect(addr).await.unwrap();

    // Others are served meanwhile.
    let r = timeout(LIMIT, get(addr, "/healthz"))
        .await
        .expect("not blocked by slow clients");
    assert_eq!(r.status, 200);

    // The slow ones are cut off by the header read timeout.
    for stream in [&mut slow, &mut silent] {
        let mut buf = Vec::new();
        let n = timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
        assert!(n.is_ok(), "server did not close a stalled connection");
    }

    // Oversized headers are refused, not buffered without bound.
    let big = format!(
        "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Junk: {}\r\n\r\n",
        "x".repeat(64 * 1024)
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(big.as_bytes()).await; // the server may close mid-write
    let mut buf = Vec::new();
    let _ = timeout(LIMIT, stream.read_to_end(&mut buf))
        .await
        .expect("closed in time");
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{text}"
    );

    // Garbage is answered with an error, and the server still works afterwards.
    let r = raw(addr, b"\x00\x01 not http\r\n\r\n").await;
    assert_eq!(r.status, 400);

    // More connections than allowed: the extra ones are closed, the server recovers.
    let mut held = Vec::new();
    for _ in 0..12 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        timeout(LIMIT, get(addr, "/healthz")).await.unwrap().status,
        200
    );

    server.abort();
}

#[tokio::test]
async fn aborting_the_server_closes_the_port() {
    let shared: Arc<Shared> = Shared::new();
    let (addr, server) = serve(LOCAL.parse().unwrap(), shared).await.unwrap();
    assert_eq!(get(addr, "/healthz").await.status, 200);
    server.abort();
    let _ = server.await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener still open after abort"
    );
}
