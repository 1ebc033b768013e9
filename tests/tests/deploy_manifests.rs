//! The Kubernetes manifests under `deploy/kubernetes`, checked offline.
//!
//! Every kustomization (the base and each overlay) is rendered with `kubectl kustomize` and
//! validated strictly (unknown fields are errors) with `kubernetes-validate` against the bundled
//! JSON schemas of the oldest and the newest Kubernetes version the manifests support. The
//! rendered objects are then checked for what the agent needs: host PID namespace, the CRI socket
//! directories of [`shrike::container::cri::RUNTIME_SOCKETS`], probes on the metrics port, a memory limit
//! and no CPU limit, the node name from the downward API, tolerations of every taint, the exact
//! capability list of the least-privileged overlay, a ConfigMap whose hashed name the DaemonSet
//! references (so a config change rolls the pods), and a configuration and rules file that the
//! agent itself accepts.
//!
//! kubernetes-validate has no schema for custom resources: it warns and passes them. The one
//! custom resource shipped (GKE's `PodMonitoring`) is therefore checked by hand against the
//! fields its CRD (monitoring.googleapis.com/v1) requires and allows.
//!
//! Tools: `kubectl` (kustomize is built in), `kubernetes-validate` (PyPI, version
//! [`KUBERNETES_VALIDATE_VERSION`]) and `python3` with PyYAML (a dependency of
//! kubernetes-validate), which turns the rendered YAML into JSON. When one is missing the tests
//! print `skipping test - <reason>`; with CI=true they fail instead.

use shrike_tests::manifests;
use std::{
    collections::BTreeSet,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use serde_json::{json, Value};

use manifests::{deploy_dir, kind_of, name_of, render, Rendered, CONFIG_DIR};

/// The kustomizations shipped, relative to `deploy/kubernetes`.
const KUSTOMIZATIONS: &[&str] = &["base", "overlays/least-privileged", "overlays/gke", "overlays/kind", "overlays/k3s"];

/// The oldest and newest Kubernetes versions the manifests support and are validated against.
/// 1.27 is the oldest: that is why the least-privileged overlay uses the AppArmor annotation
/// rather than the `appArmorProfile` field (Kubernetes 1.30+).
const KUBERNETES_VERSIONS: &[&str] = &["1.27.0", "1.37.0"];

/// The kubernetes-validate release the manifests were validated with (it bundles the schemas of
/// Kubernetes 1.25 to 1.37).
const KUBERNETES_VALIDATE_VERSION: &str = "1.37.0";

/// How CI installs the tool.
const PIP_INSTALL: &str = "pip install kubernetes-validate==1.37.0";

/// Custom resources kubernetes-validate has no schema for; each is checked by hand below.
const CUSTOM_KINDS: &[&str] = &["PodMonitoring"];

/// The capabilities the least-privileged overlay adds, exactly: the ones `shrike run` checks for
/// at start, without the `CAP_` prefix.
fn least_privileged_capabilities() -> BTreeSet<String> {
    shrike::privileges::NEEDED.iter().map(|n| n.cap.to_string().trim_start_matches("CAP_").to_string()).collect()
}

/// The image every kustomization renders.
const IMAGE: &str = "localhost/shrike:dev";

/// The agent's arguments.
const ARGS: &[&str] = &["run", "--config", "/etc/shrike/shrike.toml"];

/// The hostPath of the spool, the one writable mount.
const SPOOL_DIR: &str = "/var/lib/shrike";

/// The metrics and health port.
const METRICS_PORT: u16 = 9477;

fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// How to run kubernetes-validate: the console script, else the module through `python3`.
struct Tools {
    validate: Vec<String>,
}

/// Output of a command that exited 0, else `None` (also when it cannot be started).
fn output_of(argv: &[&str]) -> Option<String> {
    let out = Command::new(argv[0]).args(&argv[1..]).stdin(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn find_tools() -> Result<Tools, String> {
    output_of(&["kubectl", "version", "--client"])
        .ok_or("kubectl not found (it renders the kustomizations with `kubectl kustomize`)")?;
    output_of(&["python3", "-c", "import yaml"]).ok_or(format!("python3 with PyYAML not found ({PIP_INSTALL} brings PyYAML)"))?;
    let candidates: [&[&str]; 2] = [&["kubernetes-validate"], &["python3", "-m", "kubernetes_validate"]];
    for prefix in candidates {
        let argv: Vec<&str> = prefix.iter().copied().chain(["--version"]).collect();
        if let Some(version) = output_of(&argv) {
            let version = version.trim();
            if version != KUBERNETES_VALIDATE_VERSION {
                eprintln!("note: kubernetes-validate {version}, the manifests were validated with {KUBERNETES_VALIDATE_VERSION} ({PIP_INSTALL})");
            }
            return Ok(Tools { validate: prefix.iter().map(|s| s.to_string()).collect() });
        }
    }
    Err(format!("kubernetes-validate not found ({PIP_INSTALL})"))
}

/// The tools, or `None` after printing why the test is skipped (a panic under CI).
fn tools(test: &str) -> Option<Tools> {
    match find_tools() {
        Ok(t) => Some(t),
        Err(reason) if in_ci() => panic!("{test}: {reason}; CI=true, so a skip is a failure here"),
        Err(reason) => {
            println!("skipping test - {test}: {reason}");
            None
        }
    }
}

/// A temporary path unique to this process and `tag`.
fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("shrike-deploy-manifests-{}-{tag}", std::process::id()))
}

fn render_all() -> Vec<Rendered> {
    KUSTOMIZATIONS.iter().map(|k| render(&deploy_dir().join(k), k)).collect()
}

/// `major.minor` of a version, as kubernetes-validate reports it.
fn major_minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Run `kubernetes-validate --strict` on the rendered YAML for every supported version, and check
/// that every built-in object passed (not merely went without a schema).
fn validate(tools: &Tools, r: &Rendered) {
    let path = temp_path(&format!("{}.yaml", r.name.replace('/', "-")));
    std::fs::write(&path, &r.yaml).expect("write the rendered YAML");
    let mut cmd = Command::new(&tools.validate[0]);
    cmd.args(&tools.validate[1..]).arg("--strict");
    for v in KUBERNETES_VERSIONS {
        cmd.args(["-k", v]);
    }
    let out = cmd.arg(&path).stdin(Stdio::null()).output().expect("run kubernetes-validate");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{}: kubernetes-validate --strict failed:\n{report}", r.name);
    for doc in &r.docs {
        let kind = kind_of(doc);
        if CUSTOM_KINDS.contains(&kind) {
            assert!(report.contains(&format!("Couldn't find schema for kind {kind} ")), "{}: {kind} was validated?\n{report}", r.name);
            continue;
        }
        for v in KUBERNETES_VERSIONS {
            let passed = format!("passed for resource {}/{} against version {}", kind.to_lowercase(), name_of(doc), major_minor(v));
            assert!(
                stdout.lines().any(|l| l.starts_with("INFO ") && l.ends_with(&passed)),
                "{}: kubernetes-validate did not report `{passed}`:\n{report}",
                r.name
            );
        }
    }
    for line in stdout.lines().filter(|l| !l.starts_with("INFO ")) {
        assert!(
            CUSTOM_KINDS.iter().any(|k| line.contains(&format!("Couldn't find schema for kind {k} "))),
            "{}: unexpected kubernetes-validate output: {line}",
            r.name
        );
    }
}

#[test]
fn manifests_render_and_validate_strictly_offline() {
    let Some(tools) = tools("manifests_render_and_validate_strictly_offline") else { return };
    for r in render_all() {
        let kinds: BTreeSet<&str> = r.docs.iter().map(kind_of).collect();
        let mut expected: BTreeSet<&str> = ["Namespace", "ResourceQuota", "ServiceAccount", "ConfigMap", "Service", "DaemonSet"].into();
        if r.name == "overlays/gke" {
            expected.insert("PodMonitoring");
        }
        assert_eq!(kinds, expected, "{}: kinds rendered", r.name);
        assert_eq!(r.docs.len(), expected.len(), "{}: one object of each kind", r.name);
        validate(&tools, &r);
    }
}

/// Whether toleration `t` tolerates a taint with any key and the given effect (`None`: a taint of
/// an effect not known today), forever.
fn tolerates(t: &Value, effect: Option<&str>) -> bool {
    let any_key = t.get("key").map_or(true, |k| *k == "");
    let effect_ok = match t.get("effect").and_then(Value::as_str) {
        None | Some("") => true,
        Some(e) => Some(e) == effect,
    };
    t["operator"] == "Exists" && any_key && effect_ok && t.get("tolerationSeconds").is_none()
}

/// `httpGet` probe `probe` of the container asks `path` on the metrics port.
fn check_probe(r: &Rendered, probe: &str, path: &str) -> (u64, u64) {
    let p = &r.container()[probe];
    assert_eq!(p["httpGet"]["path"], path, "{}: {probe}", r.name);
    let port = &p["httpGet"]["port"];
    assert!(*port == "metrics" || *port == json!(METRICS_PORT), "{}: {probe} port {port}", r.name);
    // Kubernetes defaults: periodSeconds 10, failureThreshold 3.
    (p["periodSeconds"].as_u64().unwrap_or(10), p["failureThreshold"].as_u64().unwrap_or(3))
}

/// The other spelling of a path under /run (`/var/run/x` for `/run/x` and back): the same
/// directory on hosts, where /var/run links to /run.
fn run_alias(path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix("/var/run/") {
        Some(format!("/run/{rest}"))
    } else {
        path.strip_prefix("/run/").map(|rest| format!("/var/run/{rest}"))
    }
}

#[test]
fn daemonset_gives_the_agent_what_it_needs() {
    let Some(_tools) = tools("daemonset_gives_the_agent_what_it_needs") else { return };
    for r in render_all() {
        let n = r.name.as_str();
        let ds = r.one("DaemonSet");
        let pod = r.pod();

        // Namespace and the objects around the DaemonSet.
        let ns = r.one("Namespace");
        assert_eq!(name_of(ns), "shrike", "{n}");
        assert_eq!(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "privileged", "{n}");
        for doc in r.docs.iter().filter(|d| kind_of(d) != "Namespace") {
            assert_eq!(doc["metadata"]["namespace"], "shrike", "{n}: {} {}", kind_of(doc), name_of(doc));
        }
        assert_eq!(r.one("ServiceAccount")["automountServiceAccountToken"], false, "{n}");
        assert_eq!(pod["serviceAccountName"], name_of(r.one("ServiceAccount")), "{n}");
        assert_eq!(pod["automountServiceAccountToken"], false, "{n}: the agent needs no API token");

        // Host PID namespace, not the host network; critical priority and the quota GKE needs for it.
        assert_eq!(pod["hostPID"], true, "{n}");
        assert!(pod.get("hostNetwork").map_or(true, |v| *v == false), "{n}: no hostNetwork");
        assert_eq!(pod["priorityClassName"], "system-node-critical", "{n}");
        let quota_allows = r.all("ResourceQuota").iter().any(|q| {
            q["spec"]["scopeSelector"]["matchExpressions"].as_array().into_iter().flatten().any(|e| {
                e["scopeName"] == "PriorityClass"
                    && e["operator"] == "In"
                    && e["values"].as_array().is_some_and(|v| v.contains(&pod["priorityClassName"]))
            }) && q["spec"]["hard"]["pods"].is_string()
        });
        assert!(quota_allows, "{n}: a ResourceQuota must allow the priority class (GKE)");

        // Every taint is tolerated, whatever its effect.
        let tolerations = pod["tolerations"].as_array().expect("tolerations");
        for effect in [Some("NoSchedule"), Some("PreferNoSchedule"), Some("NoExecute"), None] {
            assert!(tolerations.iter().any(|t| tolerates(t, effect)), "{n}: no toleration of every {effect:?} taint: {tolerations:?}");
        }

        // Rolling update one node at a time, never two agents on one spool.
        let update = &ds["spec"]["updateStrategy"];
        assert_eq!(update["type"], "RollingUpdate", "{n}");
        let max_unavailable = &update["rollingUpdate"]["maxUnavailable"];
        assert!(*max_unavailable == json!(1) || max_unavailable.as_str().is_some_and(|s| s.ends_with('%')), "{n}: {max_unavailable}");
        let max_surge = &update["rollingUpdate"]["maxSurge"];
        assert!(max_surge.is_null() || *max_surge == json!(0) || *max_surge == "0%", "{n}: maxSurge {max_surge}");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30, "{n}");
        let labels = &ds["spec"]["template"]["metadata"]["labels"];
        for (k, v) in ds["spec"]["selector"]["matchLabels"].as_object().expect("selector") {
            assert_eq!(&labels[k], v, "{n}: selector {k}");
        }
        let annotations = r.pod_annotations();
        assert_eq!(annotations["prometheus.io/scrape"], "true", "{n}");
        assert_eq!(annotations["prometheus.io/port"], METRICS_PORT.to_string(), "{n}");
        assert_eq!(annotations["prometheus.io/path"], "/metrics", "{n}");

        // The container.
        let c = r.container();
        assert_eq!(c["image"], IMAGE, "{n}");
        assert_eq!(c["args"], json!(ARGS), "{n}");
        let env = c["env"].as_array().expect("env");
        let node = env.iter().find(|e| e["name"] == "NODE_NAME").unwrap_or_else(|| panic!("{n}: no NODE_NAME"));
        assert_eq!(node["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName", "{n}");
        let log_format = env.iter().find(|e| e["name"] == "SHRIKE_LOG_FORMAT").unwrap_or_else(|| panic!("{n}: no SHRIKE_LOG_FORMAT"));
        assert_eq!(log_format["value"], "json", "{n}: logs for the cluster's log pipeline");
        let ports = c["ports"].as_array().expect("ports");
        assert!(
            ports.iter().any(|p| p["name"] == "metrics" && p["containerPort"] == json!(METRICS_PORT)),
            "{n}: containerPort {METRICS_PORT} named metrics"
        );
        let (period, failures) = check_probe(&r, "startupProbe", "/readyz");
        assert!(period * failures >= 120, "{n}: startup budget {period} s x {failures} < 120 s (loading BPF takes a while)");
        check_probe(&r, "readinessProbe", "/readyz");
        check_probe(&r, "livenessProbe", "/healthz");
        let resources = &c["resources"];
        assert_eq!(resources["requests"]["cpu"], "100m", "{n}");
        assert_eq!(resources["requests"]["memory"], "128Mi", "{n}");
        assert!(resources["limits"]["memory"].is_string(), "{n}: a memory limit (BPF maps are charged to the pod)");
        assert!(resources["limits"].get("cpu").is_none(), "{n}: no CPU limit (throttling drops events)");
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true, "{n}");

        // Host mounts.
        assert_eq!(r.host_mount("/sys"), ("/sys".to_string(), true, "Directory".to_string()), "{n}");
        assert_eq!(r.host_mount("/sys/fs/cgroup"), ("/sys/fs/cgroup".to_string(), true, "Directory".to_string()), "{n}");
        assert_eq!(r.host_mount("/host/proc"), ("/proc".to_string(), true, "Directory".to_string()), "{n}");
        assert_eq!(r.host_mount(SPOOL_DIR), (SPOOL_DIR.to_string(), false, "DirectoryOrCreate".to_string()), "{n}");
        // The directory of every CRI socket the agent probes, from the same host path, so a
        // socket created after the pod started is seen. A socket under /run/x may be found at its
        // /var/run/x spelling when the agent probes that one too.
        let mounted: Vec<&str> = c["volumeMounts"].as_array().expect("volumeMounts").iter().filter_map(|m| m["mountPath"].as_str()).collect();
        for socket in shrike::container::cri::RUNTIME_SOCKETS {
            let dir = Path::new(socket).parent().expect("socket dir").to_str().expect("UTF-8").to_string();
            let alias = run_alias(&dir).filter(|a| {
                let probed = format!("{a}/{}", Path::new(socket).file_name().and_then(|f| f.to_str()).unwrap_or_default());
                shrike::container::cri::RUNTIME_SOCKETS.contains(&probed.as_str())
            });
            let at = [Some(dir.clone()), alias]
                .into_iter()
                .flatten()
                .find(|d| mounted.contains(&d.as_str()))
                .unwrap_or_else(|| panic!("{n}: the directory of {socket} is not mounted"));
            assert_eq!(r.host_mount(&at), (at.clone(), true, "DirectoryOrCreate".to_string()), "{n}: {at}");
        }
        // Only the spool is writable; every hostPath volume says what it expects.
        for m in c["volumeMounts"].as_array().expect("volumeMounts") {
            let path = m["mountPath"].as_str().unwrap_or_default();
            assert!(path == SPOOL_DIR || m["readOnly"] == true, "{n}: {path} is writable");
            assert!(m.get("subPath").is_none(), "{n}: {path} uses subPath (updates would not show)");
        }
        for v in pod["volumes"].as_array().expect("volumes") {
            if let Some(h) = v.get("hostPath") {
                assert!(h["type"].as_str().is_some_and(|t| !t.is_empty()), "{n}: hostPath {} has no type", h["path"]);
            }
        }

        // The ConfigMap: a hashed name the DaemonSet mounts at /etc/shrike.
        let cm_name = name_of(r.config_map());
        let suffix = cm_name.strip_prefix("shrike-config-").unwrap_or_else(|| panic!("{n}: ConfigMap {cm_name}"));
        assert!(suffix.len() == 10 && suffix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{n}: {cm_name} has no hash suffix");
        let (config_mount, config_volume) = r.mount(CONFIG_DIR);
        assert_eq!(config_volume["configMap"]["name"], cm_name, "{n}: the DaemonSet mounts the generated ConfigMap");
        assert_eq!(config_mount["readOnly"], true, "{n}");
        assert!(!r.yaml.contains("name: shrike-config\n"), "{n}: a reference to the unhashed ConfigMap name is left");

        // The configuration, as the agent reads it.
        let config_path = ARGS[2];
        let key = config_path.strip_prefix(&format!("{CONFIG_DIR}/")).expect("config under the ConfigMap mount");
        assert!(r.config_map()["data"][key].is_string(), "{n}: {config_path} is not in the ConfigMap");
        let cfg = r.config();
        let listen: SocketAddr = cfg["metrics"]["listen"].as_str().unwrap_or_default().parse().expect("metrics.listen");
        assert!(listen.ip().is_unspecified() && listen.port() == METRICS_PORT, "{n}: metrics on the pod IP, port {METRICS_PORT}: {listen}");
        let spool = cfg["sinks"]["spool_dir"].as_str().unwrap_or_default();
        assert!(Path::new(spool).starts_with(SPOOL_DIR), "{n}: spool {spool:?} is not on the {SPOOL_DIR} hostPath");
        assert_eq!(cfg["node"]["name"].as_str().unwrap_or_default(), "", "{n}: [node] name must stay empty so $NODE_NAME is used");
        let metadata = cfg["node"]["metadata_server"].as_str().unwrap_or("auto");
        assert_eq!(metadata, "auto", "{n}");
        let rules = cfg["rules"].as_str().unwrap_or_default();
        let rules_key = rules.strip_prefix(&format!("{CONFIG_DIR}/")).unwrap_or_else(|| panic!("{n}: rules {rules:?} not under {CONFIG_DIR}"));
        shrike::detect::rules::Rules::with_override(r.config_file(rules_key), Path::new(rules))
            .unwrap_or_else(|e| panic!("{n}: the agent refuses its rules file: {e}"));

        // The metrics Service, if any, is headless over the agents' metrics port.
        for svc in r.all("Service") {
            assert_eq!(svc["spec"]["clusterIP"], "None", "{n}");
            for (k, v) in svc["spec"]["selector"].as_object().expect("service selector") {
                assert_eq!(&labels[k], v, "{n}: service selector {k}");
            }
            assert!(svc["spec"]["ports"].as_array().expect("ports").iter().any(|p| p["targetPort"] == "metrics"), "{n}");
        }
    }
}

#[test]
fn least_privileged_overlay_has_exactly_the_needed_capabilities() {
    let Some(_tools) = tools("least_privileged_overlay_has_exactly_the_needed_capabilities") else { return };
    for r in render_all() {
        let n = r.name.as_str();
        let sc = &r.container()["securityContext"];
        if n != "overlays/least-privileged" {
            assert_eq!(sc["privileged"], true, "{n}");
            assert!(sc.get("capabilities").is_none(), "{n}: privileged has every capability");
            continue;
        }
        assert_eq!(sc["privileged"], false, "{n}");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{n}");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{n}");
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{n}");
        let add: Vec<&str> = sc["capabilities"]["add"].as_array().expect("capabilities.add").iter().filter_map(Value::as_str).collect();
        let set: BTreeSet<&str> = add.iter().copied().collect();
        assert_eq!(set.len(), add.len(), "{n}: duplicate capabilities {add:?}");
        assert_eq!(set, least_privileged_capabilities().iter().map(String::as_str).collect::<BTreeSet<_>>(), "{n}");
        assert!(!set.contains("SYS_ADMIN"), "{n}: SYS_ADMIN would stand in for BPF and PERFMON");
        assert!(!set.contains("SYS_RESOURCE"), "{n}: BPF memory is charged to the memcg since 5.11");
        assert_eq!(sc["seccompProfile"]["type"], "Unconfined", "{n}");
        let apparmor_annotation = &r.pod_annotations()["container.apparmor.security.beta.kubernetes.io/shrike"];
        assert!(*apparmor_annotation == "unconfined" || sc["appArmorProfile"]["type"] == "Unconfined", "{n}: AppArmor must be unconfined");
        // Nothing else of the base's pod changed.
        let base = render(&deploy_dir().join("base"), "base");
        let mut ours = r.one("DaemonSet").clone();
        let mut theirs = base.one("DaemonSet").clone();
        for ds in [&mut ours, &mut theirs] {
            ds["spec"]["template"]["spec"]["containers"][0]["securityContext"] = Value::Null;
            if let Some(a) = ds["spec"]["template"]["metadata"]["annotations"].as_object_mut() {
                a.remove("container.apparmor.security.beta.kubernetes.io/shrike");
            }
        }
        assert_eq!(ours, theirs, "{n}: only the security settings differ from the base");
    }
}

/// Whether `s` is a Prometheus duration (`30s`, `1m30s`, `0`), as PodMonitoring's `interval`.
fn is_prometheus_duration(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let units = ["y", "w", "d", "h", "m", "s", "ms"];
    let mut rest = s;
    let mut last = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = if rest.starts_with("ms") {
            "ms"
        } else {
            match rest.get(..1) {
                Some(u) => u,
                None => return false,
            }
        };
        let Some(i) = units.iter().position(|u| *u == unit) else { return false };
        if last.is_some_and(|l| i <= l) {
            return false;
        }
        last = Some(i);
        rest = &rest[unit.len()..];
    }
    last.is_some()
}

/// Keys of a JSON object, all of which must be in `allowed`, and `required` among them.
fn check_keys(what: &str, v: &Value, allowed: &[&str], required: &[&str]) {
    let obj = v.as_object().unwrap_or_else(|| panic!("{what} is not an object: {v}"));
    for k in obj.keys() {
        assert!(allowed.contains(&k.as_str()), "{what}: unknown field {k} (allowed: {allowed:?})");
    }
    for k in required {
        assert!(obj.contains_key(*k), "{what}: required field {k} missing");
    }
}

#[test]
fn overlays_set_runtime_socket_image_and_scraping() {
    let Some(_tools) = tools("overlays_set_runtime_socket_image_and_scraping") else { return };
    let all = render_all();
    let get = |name: &str| all.iter().find(|r| r.name == name).expect("rendered");
    let base = get("base");
    let base_config = base.config();

    for r in &all {
        let n = r.name.as_str();
        let pull = if n == "overlays/kind" { "Never" } else { "IfNotPresent" };
        assert_eq!(r.container()["imagePullPolicy"], pull, "{n}");
        let endpoint = match n {
            "overlays/kind" => Some("unix:///run/containerd/containerd.sock"),
            "overlays/k3s" => Some("unix:///run/k3s/containerd/containerd.sock"),
            _ => None,
        };
        let mut cfg = r.config();
        match endpoint {
            Some(e) => {
                assert_eq!(cfg["container"]["runtime_endpoint"], e, "{n}");
                let socket = e.strip_prefix("unix://").expect("unix://");
                assert!(shrike::container::cri::RUNTIME_SOCKETS.contains(&socket), "{n}: {socket} is not a socket whose directory the base mounts");
                assert_ne!(name_of(r.config_map()), name_of(base.config_map()), "{n}: a different config must give a different ConfigMap name");
                // The overlay's shrike.toml is the base's with runtime_endpoint set, nothing else.
                let mut base_rest = base_config.clone();
                for c in [&mut cfg, &mut base_rest] {
                    c["container"].as_object_mut().expect("[container]").remove("runtime_endpoint");
                }
                assert_eq!(cfg, base_rest, "{n}: shrike.toml drifted from the base's");
                assert_eq!(r.config_file("rules.toml"), base.config_file("rules.toml"), "{n}");
            }
            None => {
                assert_eq!(cfg["container"]["runtime_endpoint"].as_str().unwrap_or_default(), "", "{n}: the agent probes the sockets");
                assert_eq!(r.config_map()["data"], base.config_map()["data"], "{n}: the base's config");
                assert_eq!(name_of(r.config_map()), name_of(base.config_map()), "{n}");
            }
        }
        if n != "overlays/gke" {
            assert!(r.all("PodMonitoring").is_empty(), "{n}: PodMonitoring only on GKE");
        }
    }

    // GKE: Managed Prometheus scrapes every agent's metrics port. kubernetes-validate has no
    // schema for this custom resource; these are the fields of its CRD (monitoring.googleapis.com
    // v1 PodMonitoring: spec requires endpoints and selector, an endpoint requires port and
    // interval, 1 to 10 endpoints).
    let gke = get("overlays/gke");
    let pm = gke.one("PodMonitoring");
    assert_eq!(pm["apiVersion"], "monitoring.googleapis.com/v1");
    assert_eq!(pm["metadata"]["namespace"], "shrike");
    check_keys("PodMonitoring", pm, &["apiVersion", "kind", "metadata", "spec"], &["apiVersion", "kind", "metadata", "spec"]);
    let spec = &pm["spec"];
    check_keys("PodMonitoring.spec", spec, &["endpoints", "filterRunning", "limits", "selector", "targetLabels"], &["endpoints", "selector"]);
    check_keys("PodMonitoring.spec.selector", &spec["selector"], &["matchExpressions", "matchLabels"], &["matchLabels"]);
    let pod_labels = &gke.one("DaemonSet")["spec"]["template"]["metadata"]["labels"];
    let selector = spec["selector"]["matchLabels"].as_object().expect("matchLabels");
    assert!(!selector.is_empty(), "PodMonitoring selects everything");
    for (k, v) in selector {
        assert_eq!(&pod_labels[k], v, "PodMonitoring selector {k} does not match the agent's pods");
    }
    let endpoints = spec["endpoints"].as_array().expect("endpoints");
    assert!((1..=10).contains(&endpoints.len()), "1 to 10 endpoints");
    let endpoint_fields = [
        "authorization", "basicAuth", "interval", "metricRelabeling", "oauth2", "params", "path", "port", "proxyUrl", "scheme", "timeout", "tls",
    ];
    for e in endpoints {
        check_keys("PodMonitoring endpoint", e, &endpoint_fields, &["interval", "port"]);
    }
    let e = &endpoints[0];
    assert_eq!(e["port"], "metrics");
    let ports = gke.container()["ports"].as_array().expect("ports");
    assert!(ports.iter().any(|p| p["name"] == e["port"]), "the scraped port is a named container port");
    assert_eq!(e["path"], "/metrics");
    let interval = e["interval"].as_str().expect("interval");
    assert!(is_prometheus_duration(interval), "interval {interval:?}");
    assert_eq!(interval, "30s");
}

/// Copy a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

#[test]
fn changing_config_or_rules_rolls_the_pods() {
    let Some(_tools) = tools("changing_config_or_rules_rolls_the_pods") else { return };
    let dir = temp_path("base");
    let _ = std::fs::remove_dir_all(&dir);
    copy_tree(&deploy_dir().join("base"), &dir);
    let config_map_of = |r: &Rendered| {
        let name = name_of(r.config_map()).to_string();
        assert_eq!(r.pod()["volumes"].as_array().expect("volumes").iter().find(|v| v["name"] == "config").expect("config volume")["configMap"]["name"], json!(name));
        name
    };
    let first = config_map_of(&render(&dir, "base copy"));
    let mut seen = vec![first];
    for file in ["config/rules.toml", "config/shrike.toml"] {
        let path = dir.join(file);
        let mut text = std::fs::read_to_string(&path).expect("read");
        text.push_str("\n# changed\n");
        std::fs::write(&path, text).expect("write");
        let name = config_map_of(&render(&dir, "base copy"));
        assert!(!seen.contains(&name), "editing {file} did not rename the ConfigMap ({name}), so the pods would not roll");
        seen.push(name);
    }
    std::fs::remove_dir_all(&dir).expect("remove the copy");
}
