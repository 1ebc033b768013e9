//! Pure (no root, no kernel): every detection on recorded event streams of real attacks and
//! benign look-alikes (tests/fixtures/attacks/*.jsonl, recorded by the privileged attack test
//! with SHRIKE_WRITE_FIXTURES=1), replayed through the same pipeline as live events. Each must
//! raise exactly the categories in its `.expected` file.

use shrike_tests::scc_model;
use std::{collections::BTreeSet, path::Path, process::Command};

use serde_json::Value;

#[test]
fn recorded_attacks_and_look_alikes_replay_to_their_categories() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/attacks");
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).expect("fixtures directory").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "jsonl")) {
        let expected_file = path.with_extension("expected");
        let want: BTreeSet<String> =
            std::fs::read_to_string(&expected_file).expect("expected file").lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
        let out = Command::new(shrike_tests::shrike()).arg("replay").arg(path).output().unwrap();
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        let got: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["finding"]["category"].as_str().unwrap().to_string())
            .collect();
        if got != want {
            failures.push(format!("{}: expected {want:?}, got {got:?}", path.display()));
        }
        cases += 1;
    }
    assert!(cases >= 16, "all recorded cases are present ({cases})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A stand-in for the Compute Engine metadata server of a GKE node (the real one cannot exist
/// here): answers only requests that carry `Metadata-Flavor: Google`, as the real one does.
fn metadata_stand_in() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = answered.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut conn = conn;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let path = line.split_whitespace().nth(1).unwrap_or_default().to_string();
                let mut flavor = false;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    flavor |= h.to_ascii_lowercase().trim() == "metadata-flavor: google";
                }
                let body = match path.strip_prefix("/computeMetadata/v1/").unwrap_or_default() {
                    "project/project-id" => Some("my-proj"),
                    "project/numeric-project-id" => Some("987654321098"),
                    "instance/zone" => Some("projects/987654321098/zones/us-central1-a"),
                    "instance/name" => Some("gke-prod-default-pool-1a2b3c4d-x9yz"),
                    "instance/attributes/cluster-name" => Some("prod"),
                    "instance/attributes/cluster-location" => Some("us-central1"),
                    _ => None,
                };
                let reply = match (flavor, body) {
                    (false, _) => "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_string(),
                    (true, None) => "HTTP/1.1 404 Not Found\r\nMetadata-Flavor: Google\r\nContent-Length: 0\r\n\r\n".to_string(),
                    (true, Some(b)) => {
                        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        format!("HTTP/1.1 200 OK\r\nMetadata-Flavor: Google\r\nContent-Type: application/text\r\nContent-Length: {}\r\n\r\n{b}", b.len())
                    }
                };
                if conn.write_all(reply.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    (port, answered)
}

/// Categories whose findings always name a network peer in these recordings.
const PEER_CATEGORIES: &[&str] = &[
    "Execution: Netcat Remote Code Execution In Container",
    "Execution: Socat Reverse Shell Detected",
    "Reverse Shell",
];

fn replay_findings(path: &Path, config: Option<&Path>) -> Vec<Value> {
    let mut cmd = Command::new(shrike_tests::shrike());
    cmd.arg("replay").arg(path);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).collect()
}

fn fixtures() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/attacks");
    let mut v: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "jsonl")).collect();
    v.sort();
    v
}

/// What every finding must carry for SIEMs, whatever the node: SCC names, times, the official
/// model, peers in `connections` and `indicator`.
fn check_common(f: &Value, names: &mut std::collections::BTreeMap<String, u64>, file: &Path) {
    scc_model::assert_valid_finding(f);
    let finding = &f["finding"];
    let id = finding["sourceProperties"]["Finding_Id"].as_str().unwrap();
    let name = finding["name"].as_str().unwrap();
    assert_eq!(name, format!("organizations/0/sources/shrike/locations/global/findings/{id}"), "{}", file.display());
    assert_eq!(finding["parent"], "organizations/0/sources/shrike/locations/global");
    // One name per incident: its first finding is revision 1, each update the next revision.
    let revision = finding["sourceProperties"]["Finding_Revision"].as_u64().expect("Finding_Revision");
    match names.insert(name.to_string(), revision) {
        None => assert_eq!(revision, 1, "{}: {name}: an incident's first finding is revision 1", file.display()),
        Some(before) => assert_eq!(revision, before + 1, "{}: {name}: an update follows the revision before it", file.display()),
    }
    let create = finding["createTime"].as_str().expect("createTime");
    assert!(create.ends_with('Z') && create.len() == 24 && create.as_bytes()[10] == b'T', "createTime {create}");
    assert!(create >= finding["eventTime"].as_str().unwrap(), "created after the event");
    let category = finding["category"].as_str().unwrap();
    let ips: Vec<&str> = finding["indicator"]["ipAddresses"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let conns = finding["connections"].as_array().cloned().unwrap_or_default();
    for c in &conns {
        if let Some(ip) = c["destinationIp"].as_str() {
            assert!(ips.contains(&ip), "{}: {category}: peer {ip} not in indicator.ipAddresses", file.display());
        }
        assert!(matches!(c["protocol"].as_str(), Some("TCP" | "UDP")), "{c}");
    }
    if PEER_CATEGORIES.contains(&category) {
        let peer = conns.iter().find(|c| c["destinationIp"].is_string() && c["destinationPort"].is_number());
        assert!(peer.is_some(), "{}: {category} names no peer in connections: {}", file.display(), finding["connections"]);
        assert!(ips.contains(&"127.0.0.1"), "{}: {category}: indicator.ipAddresses {ips:?}", file.display());
    }
}

#[test]
fn findings_carry_scc_names_times_and_peers_and_name_the_gke_cluster() {
    let tmp = std::env::temp_dir().join(format!("shrike-replay-gke-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let (port, answered) = metadata_stand_in();
    let config = tmp.join("shrike.toml");
    std::fs::write(&config, format!("[node]\nname = \"gke-prod-default-pool-1a2b3c4d-x9yz\"\nmetadata_server = \"http://127.0.0.1:{port}\"\n")).unwrap();
    let cluster = "//container.googleapis.com/projects/987654321098/locations/us-central1/clusters/prod";
    let vm = "//compute.googleapis.com/projects/my-proj/zones/us-central1-a/instances/gke-prod-default-pool-1a2b3c4d-x9yz";
    let mut names = std::collections::BTreeMap::new();
    let mut categories = BTreeSet::new();
    for path in fixtures() {
        for f in replay_findings(&path, Some(&config)) {
            check_common(&f, &mut names, &path);
            let finding = &f["finding"];
            categories.insert(finding["category"].as_str().unwrap().to_string());
            let id = finding["sourceProperties"]["Finding_Id"].as_str().unwrap();
            assert_eq!(finding["canonicalName"], format!("projects/987654321098/sources/shrike/locations/global/findings/{id}"));
            assert_eq!(finding["resourceName"], cluster);
            assert_eq!(finding["kubernetes"]["nodes"][0]["name"], vm);
            assert_eq!(finding["sourceProperties"]["VM_Instance_Name"], "gke-prod-default-pool-1a2b3c4d-x9yz");
            let r = &f["resource"];
            assert_eq!(r["name"], cluster);
            assert_eq!(r["displayName"], "prod");
            assert_eq!(r["type"], "google.container.Cluster");
            assert_eq!(r["cloudProvider"], "GOOGLE_CLOUD_PLATFORM");
            assert_eq!(r["service"], "container.googleapis.com");
            assert_eq!(r["location"], "us-central1");
            assert_eq!(r["gcpMetadata"]["project"], "//cloudresourcemanager.googleapis.com/projects/987654321098");
            assert_eq!(r["gcpMetadata"]["projectDisplayName"], "my-proj");
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(answered.load(std::sync::atomic::Ordering::Relaxed) >= 6, "the agent asked the metadata server");
    // Every category the fixtures hold was checked.
    for c in PEER_CATEGORIES.iter().chain(&["Execution: Possible Remote Command Execution Detected", "Defense Evasion: Launch Code Compiler Tool In Container", "Execution: Malicious Python executed"]) {
        assert!(categories.contains(*c), "no {c} finding among the fixtures: {categories:?}");
    }
}

#[test]
fn off_google_cloud_findings_name_the_node() {
    let mut names = std::collections::BTreeMap::new();
    let mut n = 0;
    for path in fixtures() {
        for f in replay_findings(&path, None) {
            check_common(&f, &mut names, &path);
            let node = f["finding"]["sourceProperties"]["VM_Instance_Name"].as_str().unwrap().to_string();
            assert_eq!(f["finding"]["resourceName"], format!("//shrike/nodes/{node}"));
            assert_eq!(f["finding"]["canonicalName"], f["finding"]["name"]);
            assert_eq!(f["finding"]["kubernetes"]["nodes"][0]["name"], node.as_str());
            assert_eq!(f["resource"]["type"], "shrike.Node");
            assert!(f["resource"].get("cloudProvider").is_none());
            n += 1;
        }
    }
    assert!(n >= 16, "{n} findings");
}

#[test]
fn logs_are_json_lines_for_log_pipelines_and_stdout_stays_findings_only() {
    let file = fixtures().into_iter().find(|p| p.ends_with("nc-e.jsonl")).unwrap();
    for (args, env) in [(vec!["--log-format", "json"], None), (vec![], Some("json"))] {
        let mut cmd = Command::new(shrike_tests::shrike());
        cmd.args(&args).arg("replay").arg(&file);
        match env {
            Some(v) => cmd.env("SHRIKE_LOG_FORMAT", v),
            None => cmd.env_remove("SHRIKE_LOG_FORMAT"),
        };
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        let logs: Vec<Value> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}")))
            .collect();
        let done = logs.iter().find(|l| l["message"] == "replay done").expect("the replay's summary line");
        assert_eq!(done["severity"], "INFO");
        assert!(done["findings"].as_u64().unwrap() > 0 && done["time"].as_str().unwrap().ends_with('Z'));
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            let v: Value = serde_json::from_str(l).unwrap();
            assert!(v["finding"]["category"].is_string(), "stdout carries findings only: {l}");
        }
    }
    // A bad format is refused.
    let out = Command::new(shrike_tests::shrike()).args(["--log-format", "xml", "replay"]).arg(&file).output().unwrap();
    assert!(!out.status.success());
}
