//! Finding delivery end to end, against real HTTP servers on 127.0.0.1 started by the tests:
//! webhook outages and agent restarts (graceful, dropped, killed), batches, token files, file
//! rotation, the Security Command Center client's requests and spool overflow.

use shrike_tests::{common, http};
use std::{
    collections::{BTreeSet, HashMap},
    io::Write,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use common::{files_in, spooled_files, LogBuf, TempDir};
use http::{finding_id, free_port, Req, Server};
use serde_json::{json, Value};
use shrike::sink::{Delivery, GoogleCredentials, SinkStats, SinksConfig, WebhookConfig};

const WAIT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Helpers.

fn id(tag: u32, i: u32) -> String {
    format!("{tag:08x}{:024x}", i)
}

/// A finding envelope like shrike writes, `pad` extra bytes in its description.
fn finding(id: &str, pad: usize) -> Arc<str> {
    let v = json!({
        "finding": {
            "name": format!("organizations/1/sources/2/locations/global/findings/{id}"),
            "parent": "organizations/1/sources/2/locations/global",
            "resourceName": "//container.googleapis.com/projects/p/locations/europe-west1/clusters/prod",
            "state": "ACTIVE",
            "category": "Execution: Reverse Shell",
            "sourceProperties": {"Finding_Id": id, "Container_Name": "web"},
            "eventTime": "2026-01-02T03:04:05.123456789Z",
            "severity": "CRITICAL",
            "findingClass": "THREAT",
            "mitreAttack": {"primaryTactic": "EXECUTION", "primaryTechniques": ["UNIX_SHELL"], "version": "15.1"},
            "processes": [{"name": "sh", "binary": {"path": "/bin/sh"}, "pid": "42", "userId": "0"}],
            "description": format!("A shell's stdin is a socket.{}", "x".repeat(pad)),
        },
        "resource": {"name": "//container.googleapis.com/projects/p/locations/europe-west1/clusters/prod", "displayName": "prod", "type": "google.container.Cluster"},
    });
    serde_json::to_string(&v).unwrap().into()
}

async fn wait_for(what: &str, cond: impl FnMut() -> bool) {
    wait_for_or(what, cond, || String::new()).await
}

/// Poll `cond` until it holds; on timeout, fail with `state()`.
async fn wait_for_or(what: &str, mut cond: impl FnMut() -> bool, state: impl Fn() -> String) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {}", state());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn stats(d: &Delivery, name: &str) -> SinkStats {
    d.stats().into_iter().find(|s| s.name == name).unwrap()
}

fn webhook_config(tmp: &Path, port: u16) -> SinksConfig {
    let mut cfg = SinksConfig { spool_dir: tmp.join("spool"), ..SinksConfig::default() };
    cfg.stdout.enabled = false;
    cfg.webhook.push(WebhookConfig {
        name: "hook".into(),
        url: format!("http://127.0.0.1:{port}/ingest"),
        backoff_initial_ms: 20,
        backoff_max_ms: 200,
        timeout_ms: 5000,
        ..WebhookConfig::default()
    });
    cfg
}

// ---------------------------------------------------------------------------------------------
// Webhook.

#[tokio::test]
async fn webhook_outage_and_restarts_lose_nothing() {
    let tmp = TempDir::new("delivery-outage");
    let port = free_port();
    let token = tmp.0.join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let mut cfg = webhook_config(&tmp.0, port);
    cfg.webhook[0].token_file = token.display().to_string();
    let spool = tmp.0.join("spool/hook");
    let all: Vec<String> = (0..30).map(|i| id(1, i)).collect();

    // The receiver is down: findings are spooled, attempts fail and are counted.
    let d = Delivery::start(&cfg).await.unwrap();
    for (i, f) in all[..10].iter().enumerate() {
        d.submit(f, finding(f, i * 37));
    }
    wait_for("failed attempts", || stats(&d, "hook").failures >= 2).await;
    let s = stats(&d, "hook");
    assert_eq!((s.spool_findings, s.delivered), (10, 0), "{s:?}");
    assert!(s.last_error.as_deref().unwrap_or("").contains("127.0.0.1"), "{s:?}");
    d.shutdown(Duration::from_millis(100)).await;
    assert_eq!(spooled_files(&spool).len(), 10, "kept for the next start");

    // Restart: the spool is picked up; then the agent dies without a shutdown.
    let d = Delivery::start(&cfg).await.unwrap();
    assert_eq!(stats(&d, "hook").spool_findings, 10);
    for f in &all[10..20] {
        d.submit(f, finding(f, 0));
    }
    drop(d);
    assert_eq!(spooled_files(&spool).len(), 20);

    // The receiver comes back and the agent starts again: everything arrives.
    let server = Server::ok(port);
    let d = Delivery::start(&cfg).await.unwrap();
    for f in &all[20..] {
        d.submit(f, finding(f, 5));
    }
    wait_for("all findings delivered", || {
        let got: BTreeSet<String> = server.ids().into_iter().collect();
        got.len() == all.len() && stats(&d, "hook").spool_findings == 0
    })
    .await;
    let got: BTreeSet<String> = server.ids().into_iter().collect();
    assert_eq!(got, all.iter().cloned().collect::<BTreeSet<_>>());
    for r in server.requests() {
        assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", "/ingest"));
        assert_eq!(r.header("authorization"), Some("Bearer s3cret"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        // A duplicate is allowed (at least once) only under the same id.
        assert_eq!(r.header("idempotency-key"), Some(finding_id(&r.json()).as_str()));
    }

    // The token file is read again for each attempt.
    std::fs::write(&token, "rotated").unwrap();
    let last = id(1, 99);
    d.submit(&last, finding(&last, 0));
    wait_for("the finding after the token change", || server.ids().contains(&last) && stats(&d, "hook").spool_findings == 0).await;
    let r = server.requests().into_iter().find(|r| r.header("idempotency-key") == Some(last.as_str())).unwrap();
    assert_eq!(r.header("authorization"), Some("Bearer rotated"));

    let s = stats(&d, "hook");
    assert_eq!((s.spool_findings, s.spool_bytes, s.dropped, s.rejected), (0, 0, 0, 0), "{s:?}");
    assert!(s.delivered >= 21, "{s:?}");
    d.shutdown(Duration::from_secs(1)).await;
    assert!(spooled_files(&spool).is_empty(), "spool emptied: {:?}", spooled_files(&spool));
}

/// A receiver that takes 300 ms per request does not cap delivery at one finding per round
/// trip: up to `max_in_flight` requests go at once. Timed against `max_in_flight = 1`.
#[tokio::test]
async fn a_slow_webhook_receiver_does_not_cap_throughput() {
    let mut took = Vec::new();
    for in_flight in [1usize, 8] {
        let tmp = TempDir::new(&format!("delivery-slow-{in_flight}"));
        let port = free_port();
        let mut cfg = webhook_config(&tmp.0, port);
        cfg.webhook[0].max_in_flight = in_flight;
        let (server, peak) = Server::slow(port, Duration::from_millis(300));
        let d = Delivery::start(&cfg).await.unwrap();
        let all: Vec<String> = (0..16).map(|i| id(7, i)).collect();
        let start = std::time::Instant::now();
        for f in &all {
            d.submit(f, finding(f, 0));
        }
        wait_for("all findings delivered", || stats(&d, "hook").delivered == all.len() as u64).await;
        let elapsed = start.elapsed();
        let got: BTreeSet<String> = server.ids().into_iter().collect();
        assert_eq!(got, all.iter().cloned().collect::<BTreeSet<_>>());
        let peak = peak.load(std::sync::atomic::Ordering::SeqCst);
        assert!(peak <= in_flight, "{peak} requests at once, more than {in_flight}");
        println!("max_in_flight {in_flight}: 16 findings in {elapsed:?}, at most {peak} at once");
        took.push((elapsed, peak));
        d.shutdown(Duration::from_secs(1)).await;
    }
    let ((one, _), (eight, peak)) = (took[0], took[1]);
    assert!(one >= Duration::from_millis(16 * 300), "one at a time: {one:?}");
    assert!(peak >= 4, "requests overlapped: at most {peak} at once");
    assert!(eight * 3 < one, "8 in flight: {eight:?}, one at a time: {one:?}");
}

#[tokio::test]
async fn webhook_batches_are_arrays_and_a_refused_finding_is_set_aside() {
    let tmp = TempDir::new("delivery-batch");
    let port = free_port();
    let mut cfg = webhook_config(&tmp.0, port);
    cfg.webhook[0].batch = true;
    cfg.webhook[0].batch_max = 5;
    cfg.webhook[0].headers.insert("X-Tenant".into(), "blue".into());
    let all: Vec<String> = (0..12).map(|i| id(2, i)).collect();
    let poison = all[7].clone();

    let d = Delivery::start(&cfg).await.unwrap();
    for f in &all {
        d.submit(f, finding(f, 0));
    }
    // Up now; it refuses any request that carries the poison finding.
    let p = poison.clone();
    let server = Server::start(port, Arc::new(move |r: &Req| if r.body.contains(&p) { (422, "{\"error\":\"bad\"}".into()) } else { (200, "{}".into()) }));
    wait_for("delivery", || {
        let s = stats(&d, "hook");
        s.spool_findings == 0 && s.rejected == 1
    })
    .await;
    let delivered: Vec<Req> = server.requests().into_iter().filter(|r| !r.body.contains(&poison)).collect();
    let mut got = BTreeSet::new();
    let mut biggest = 0;
    for r in &delivered {
        let Value::Array(a) = r.json() else { panic!("batch mode sends arrays: {}", r.body) };
        assert!(!a.is_empty() && a.len() <= 5, "{}", a.len());
        biggest = biggest.max(a.len());
        let ids: Vec<String> = a.iter().map(finding_id).collect();
        assert_eq!(r.header("idempotency-key"), Some(ids.join(",").as_str()));
        assert_eq!(r.header("x-tenant"), Some("blue"));
        got.extend(ids);
    }
    assert!(biggest > 1, "findings were batched");
    let want: BTreeSet<String> = all.iter().filter(|i| **i != poison).cloned().collect();
    assert_eq!(got, want);
    let rejected = spooled_files(&tmp.0.join("spool/hook/rejected"));
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].contains(&poison));
    d.shutdown(Duration::from_secs(1)).await;
}

/// A test CA and a certificate it signed for IP 127.0.0.1 (valid 2020-2120), with its key:
/// only for the HTTPS server of this test.
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBZzCCAQygAwIBAgICEAAwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOc2hyaWtl\nIHRlc3QgQ0EwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBkxFzAV\nBgNVBAMMDnNocmlrZSB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\nKhghsI/fuS4sVkaZ/jscTovG/94FWq/IHB+5X+1YQiU8dL08LgeoZn7CZDYulxMf\nBDf6e9DAIRUWEhstaHSkR6NCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8E\nBAMCAQYwHQYDVR0OBBYEFDS77FqML9qQUjpfZHYmRH1fyxX+MAoGCCqGSM49BAMC\nA0kAMEYCIQCsMxbQAkx0XjqlfHV/cutd71n3ocqlhTjsL0AgwQaqlgIhAPswROhV\nBLc9cH5c+A3IA20aBbj0+X86aX0BhByXqjCW\n-----END CERTIFICATE-----\n";
const TEST_LEAF: &str = "-----BEGIN CERTIFICATE-----\nMIIBpzCCAU2gAwIBAgICEAEwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOc2hyaWtl\nIHRlc3QgQ0EwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBQxEjAQ\nBgNVBAMMCTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKdxqMcJ\nCJoKKf5txXehD/tfBbg34ZYShQnq0E56gflaKvKyqx3YMZR5Ntm+KwlvDZOyVrUP\nx5ke5LF5vwiJZD6jgYcwgYQwDwYDVR0RBAgwBocEfwAAATAMBgNVHRMBAf8EAjAA\nMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAfBgNVHSMEGDAW\ngBQ0u+xajC/akFI6X2R2JkR9X8sV/jAdBgNVHQ4EFgQUxOMN4bqb/rf+/zvGZECU\n7L6XyfkwCgYIKoZIzj0EAwIDSAAwRQIhALwHjuuBhdjfEGf9lUJJF9G9pjItkiwf\nY1ehaxeWDBKEAiBX9hYT0CwBQIjEmdKaLowQ12rTWAAwQire+JpDS9gRWA==\n-----END CERTIFICATE-----\n";
const TEST_LEAF_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVomFICpChE0F/fo9\n6h5WNOJB/ETEzxSeHRyD8u0mx6ChRANCAASncajHCQiaCin+bcV3oQ/7XwW4N+GW\nEoUJ6tBOeoH5Wirysqsd2DGUeTbZvisJbw2Tsla1D8eZHuSxeb8IiWQ+\n-----END PRIVATE KEY-----\n";

fn tls_server_config() -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(TEST_LEAF.as_bytes()).collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(TEST_LEAF_KEY.as_bytes()).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    Arc::new(cfg)
}

#[tokio::test]
async fn webhook_over_tls_trusts_the_configured_ca_only() {
    let tmp = TempDir::new("delivery-tls");
    let port = free_port();
    let ca = tmp.0.join("ca.pem");
    std::fs::write(&ca, TEST_CA).unwrap();
    let server = Server::start_with(port, Arc::new(|_| (200, "{}".into())), Some(tls_server_config()));
    let mut cfg = webhook_config(&tmp.0, port);
    cfg.webhook[0].url = format!("https://127.0.0.1:{port}/ingest");
    cfg.webhook[0].ca_file = ca.display().to_string();
    // The same server, without the CA: the handshake must fail and nothing be sent.
    cfg.webhook.push(WebhookConfig { name: "untrusted".into(), ..cfg.webhook[0].clone() });
    cfg.webhook[1].ca_file = String::new();
    let d = Delivery::start(&cfg).await.unwrap();
    let all: Vec<String> = (0..3).map(|i| id(7, i)).collect();
    for f in &all {
        d.submit(f, finding(f, 0));
    }
    wait_for_or(
        "HTTPS delivery",
        || stats(&d, "hook").spool_findings == 0 && stats(&d, "untrusted").failures >= 2,
        || format!("{:?}", d.stats()),
    )
    .await;
    let bad = stats(&d, "untrusted");
    assert_eq!((bad.delivered, bad.spool_findings), (0, 3), "{bad:?}");
    assert!(bad.last_error.as_deref().unwrap_or("").to_lowercase().contains("certificate"), "{bad:?}");
    assert_eq!(server.ids(), all, "only the sink that trusts the CA got through");
    d.shutdown(Duration::ZERO).await;
}

#[test]
fn bad_configuration_is_refused_naming_the_option() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let tmp = TempDir::new("delivery-badcfg");
    let start = |cfg: SinksConfig| rt.block_on(Delivery::start(&cfg)).map(|_| ()).unwrap_err().to_string();
    let mut cfg = webhook_config(&tmp.0, 9);
    cfg.webhook[0].url = "ftp://x/".into();
    assert!(start(cfg).contains("sinks.webhook[0].url"));
    let mut cfg = webhook_config(&tmp.0, 9);
    cfg.webhook[0].token_file = tmp.0.join("missing").display().to_string();
    assert!(start(cfg).contains("sinks.webhook[0].token_file"));
    let mut cfg = webhook_config(&tmp.0, 9);
    cfg.webhook[0].ca_file = tmp.0.join("missing.pem").display().to_string();
    assert!(start(cfg).contains("sinks.webhook[0].ca_file"));
    let blocker = tmp.0.join("file");
    std::fs::write(&blocker, "").unwrap();
    let mut cfg = webhook_config(&tmp.0, 9);
    cfg.spool_dir = blocker.join("spool");
    assert!(start(cfg).contains("sinks.spool_dir"));
    let mut cfg = webhook_config(&tmp.0, 9);
    cfg.file.path = tmp.0.join("no/such/dir/f.jsonl").display().to_string();
    assert!(start(cfg).contains("sinks.file.path"));
}

// ---------------------------------------------------------------------------------------------
// File.

#[tokio::test]
async fn file_rotation_keeps_n_files_and_never_splits_a_line() {
    let tmp = TempDir::new("delivery-file");
    let path = tmp.0.join("findings.jsonl");
    let mut cfg = SinksConfig { spool_dir: tmp.0.join("spool"), ..SinksConfig::default() };
    cfg.stdout.enabled = false;
    cfg.file.path = path.display().to_string();
    cfg.file.max_bytes = 8192;
    cfg.file.keep = 3;
    let d = Delivery::start(&cfg).await.unwrap();
    let n = 400u32;
    for i in 0..n {
        let f = id(3, i);
        d.submit(&f, finding(&f, (i as usize * 131) % 1500));
    }
    assert_eq!(stats(&d, "file").delivered, u64::from(n));
    d.shutdown(Duration::ZERO).await;

    let names = files_in(&tmp.0, |n| n.starts_with("findings"));
    assert_eq!(names, ["findings.jsonl", "findings.jsonl.1", "findings.jsonl.2", "findings.jsonl.3"], "exactly keep + 1 files");
    let mut ids = Vec::new();
    for name in ["findings.jsonl.3", "findings.jsonl.2", "findings.jsonl.1", "findings.jsonl"] {
        let text = std::fs::read_to_string(tmp.0.join(name)).unwrap();
        assert!(text.len() <= 8192, "{name}: {} bytes", text.len());
        assert!(text.ends_with('\n'), "{name} ends with a whole line");
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: not one JSON object per line: {e}"));
            ids.push(finding_id(&v));
        }
    }
    // What is kept is the newest findings, oldest first, none missing in between.
    let first = n as usize - ids.len();
    let want: Vec<String> = (first as u32..n).map(|i| id(3, i)).collect();
    assert_eq!(ids, want);
    assert!(ids.len() > 10);
}

// ---------------------------------------------------------------------------------------------
// Security Command Center.

/// A query parameter of a request target (the ids here need no percent-decoding).
fn query_param(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query.split('&').find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')).map(str::to_string)
}

#[tokio::test]
async fn scc_sink_sends_create_finding_through_the_official_client() {
    let tmp = TempDir::new("delivery-scc");
    let port = free_port();
    let (created, exists, flaky, invalid) = (id(4, 1), id(4, 2), id(4, 3), id(4, 4));
    let seen = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let (e, f, bad, seen2) = (exists.clone(), flaky.clone(), invalid.clone(), seen.clone());
    let server = Server::start(
        port,
        Arc::new(move |r: &Req| {
            let fid = query_param(&r.target, "findingId").unwrap_or_default();
            let n = {
                let mut s = seen2.lock().unwrap();
                let n = s.entry(fid.clone()).or_default();
                *n += 1;
                *n
            };
            let err = |code: u16, status: &str| (code, format!("{{\"error\":{{\"code\":{code},\"message\":\"m\",\"status\":\"{status}\"}}}}"));
            if fid == e {
                err(409, "ALREADY_EXISTS")
            } else if fid == f && n == 1 {
                err(503, "UNAVAILABLE")
            } else if fid == bad {
                err(400, "INVALID_ARGUMENT")
            } else {
                (200, r.body.clone())
            }
        }),
    );
    let mut cfg = SinksConfig { spool_dir: tmp.0.join("spool"), ..SinksConfig::default() };
    cfg.stdout.enabled = false;
    cfg.scc.source = "organizations/123/sources/456".into();
    cfg.scc.endpoint = format!("http://127.0.0.1:{port}");
    cfg.scc.credentials = GoogleCredentials::Anonymous;
    cfg.scc.backoff_initial_ms = 20;
    cfg.scc.backoff_max_ms = 200;
    let d = Delivery::start(&cfg).await.unwrap();
    for f in [&created, &exists, &flaky, &invalid] {
        d.submit(f, finding(f, 0));
    }
    // An update of the created finding (its second revision).
    d.submit(&format!("{created}-2"), finding(&created, 0));
    wait_for_or(
        "SCC delivery",
        || {
            let s = stats(&d, "scc");
            s.spool_findings == 0 && s.delivered == 4 && s.rejected == 1
        },
        || format!("{:?}\n{:?}", stats(&d, "scc"), server.requests()),
    )
    .await;
    let s = stats(&d, "scc");
    assert!(s.failures >= 1, "the 503 was retried: {s:?}");
    let reqs = server.requests();
    let r = reqs.iter().find(|r| query_param(&r.target, "findingId").as_deref() == Some(created.as_str())).expect("CreateFinding request");
    assert_eq!(r.method, "POST");
    let (path, query) = r.target.split_once('?').unwrap();
    assert_eq!(path, "/v2/organizations/123/sources/456/locations/global/findings");
    assert!(query.split('&').any(|kv| kv == format!("findingId={created}")), "{query}");
    let body = r.json();
    assert_eq!(body["category"], "Execution: Reverse Shell");
    assert_eq!(body["resourceName"], "//container.googleapis.com/projects/p/locations/europe-west1/clusters/prod");
    assert_eq!(body["sourceProperties"]["Finding_Id"], created.as_str());
    assert_eq!(body["parent"], "organizations/123/sources/456/locations/global");
    assert_eq!(body["name"], format!("organizations/123/sources/456/locations/global/findings/{created}"));
    assert_eq!(body["processes"][0]["binary"]["path"], "/bin/sh");
    assert!(body.get("eventTime").is_some() && body.get("finding").is_none(), "the finding itself, not the envelope: {body}");
    assert!(r.header("authorization").is_none(), "anonymous credentials");
    assert_eq!(seen.lock().unwrap()[&flaky], 2, "retried once after UNAVAILABLE");
    assert_eq!(seen.lock().unwrap()[&exists], 1, "ALREADY_EXISTS counts as delivered");
    let update = reqs.iter().find(|r| r.method == "PATCH").expect("UpdateFinding request for the update");
    assert_eq!(update.target.split_once('?').map_or(update.target.as_str(), |(p, _)| p), format!("/v2/organizations/123/sources/456/locations/global/findings/{created}"));
    assert_eq!(update.json()["name"], format!("organizations/123/sources/456/locations/global/findings/{created}"));
    assert_eq!(reqs.iter().filter(|r| r.method == "PATCH").count(), 1, "only the update is an UpdateFinding");
    d.shutdown(Duration::from_secs(1)).await;
}

// ---------------------------------------------------------------------------------------------
// Spool limits and restarts.

#[tokio::test]
async fn spool_overflow_drops_the_oldest_counts_and_logs() {
    let logs = LogBuf::default();
    let l2 = logs.clone();
    let subscriber = tracing_subscriber::fmt().with_ansi(false).with_max_level(tracing::Level::WARN).with_writer(move || l2.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let tmp = TempDir::new("delivery-overflow");
    let port = free_port();
    let mut cfg = webhook_config(&tmp.0, port);
    cfg.webhook[0].spool_max_bytes = 16 * 1024;
    cfg.webhook[0].backoff_initial_ms = 5000;
    cfg.webhook[0].backoff_max_ms = 5000;
    let all: Vec<String> = (0..40).map(|i| id(5, i)).collect();
    let d = Delivery::start(&cfg).await.unwrap();
    for f in &all {
        d.submit(f, finding(f, 600));
    }
    let s = stats(&d, "hook");
    assert!(s.dropped > 0 && s.spool_bytes <= 16 * 1024, "{s:?}");
    assert_eq!(s.dropped as usize + s.spool_findings, all.len(), "{s:?}");
    let log = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("WARN") && log.contains("spool full") && log.contains(&all[0]), "{log}");
    let kept = &all[s.dropped as usize..];
    let files = spooled_files(&tmp.0.join("spool/hook"));
    assert_eq!(files.len(), kept.len());
    assert!(files.iter().zip(kept).all(|(f, k)| f.contains(k.as_str())), "the newest are kept: {files:?}");
    d.shutdown(Duration::ZERO).await;

    // What was kept is delivered after a restart; what was dropped is not.
    let server = Server::ok(port);
    let d = Delivery::start(&cfg).await.unwrap();
    wait_for("kept findings delivered", || stats(&d, "hook").spool_findings == 0).await;
    assert_eq!(server.ids(), kept);
    d.shutdown(Duration::from_secs(1)).await;
}

const CHILD_ENV: &str = "SHRIKE_DELIVERY_TEST_CHILD";

/// Run by `finding_accepted_by_submit_survives_a_killed_process` in a child process: submit
/// findings to stdout and a webhook that is down, then die by SIGKILL.
#[tokio::test]
#[ignore = "run as a child process by finding_accepted_by_submit_survives_a_killed_process"]
async fn child_submit_then_die() {
    let Ok(arg) = std::env::var(CHILD_ENV) else { return };
    let (dir, port) = arg.split_once(',').unwrap();
    let mut cfg = webhook_config(Path::new(dir), port.parse().unwrap());
    cfg.stdout.enabled = true;
    let d = Delivery::start(&cfg).await.unwrap();
    for i in 0..5 {
        let f = id(6, i);
        d.submit(&f, finding(&f, 0));
    }
    println!("SUBMITTED");
    std::io::stdout().flush().unwrap();
    // SAFETY: plain kill(2) of this process.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
}

#[tokio::test]
async fn finding_accepted_by_submit_survives_a_killed_process() {
    let tmp = TempDir::new("delivery-kill");
    let port = free_port();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["child_submit_then_die", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{},{port}", tmp.0.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("SUBMITTED"), "child: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGKILL), "the child was killed");
    let want: Vec<String> = (0..5).map(|i| id(6, i)).collect();
    // Its stdout sink wrote one JSON object per line (the harness's "test ... " may precede
    // the first on its line).
    let lines: Vec<String> =
        stdout.lines().filter_map(|l| l.find("{\"finding\"").map(|at| finding_id(&serde_json::from_str(&l[at..]).unwrap()))).collect();
    assert_eq!(lines, want);

    let server = Server::ok(port);
    let d = Delivery::start(&webhook_config(&tmp.0, port)).await.unwrap();
    wait_for("re-delivery after the kill", || stats(&d, "hook").spool_findings == 0).await;
    assert_eq!(server.ids(), want);
    d.shutdown(Duration::from_secs(1)).await;
    assert!(spooled_files(&tmp.0.join("spool/hook")).is_empty());
}
