//! Rendering the Kubernetes manifests under `deploy/kubernetes` (`kubectl kustomize`, then YAML
//! to JSON with python3's PyYAML) and reading the DaemonSet, its pod and its ConfigMap.
#![allow(dead_code)]

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use serde_json::Value;

/// Where the ConfigMap is mounted.
pub const CONFIG_DIR: &str = "/etc/shrike";

/// `python3` program turning a YAML stream on stdin into a JSON array of its documents.
pub const YAML_TO_JSON: &str = "import sys, json, yaml\njson.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)";

/// `deploy/kubernetes` of this repository.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("deploy").join("kubernetes")
}

/// `kubectl kustomize DIR`.
pub fn kustomize(dir: &Path) -> String {
    let out = Command::new("kubectl").arg("kustomize").arg(dir).stdin(Stdio::null()).output().expect("run kubectl kustomize");
    assert!(out.status.success(), "kubectl kustomize {} failed:\n{}", dir.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("kubectl kustomize output is UTF-8")
}

/// The documents of a YAML stream, as JSON.
pub fn yaml_to_json(yaml: &str) -> Vec<Value> {
    let mut child = Command::new("python3")
        .args(["-c", YAML_TO_JSON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut stdin = child.stdin.take().expect("python3 stdin");
    let input = yaml.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("python3 output");
    writer.join().expect("writer thread").expect("write YAML to python3");
    assert!(out.status.success(), "YAML to JSON failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python3 printed a JSON array")
}

/// One rendered kustomization.
pub struct Rendered {
    pub name: String,
    pub yaml: String,
    pub docs: Vec<Value>,
}

pub fn render(dir: &Path, name: &str) -> Rendered {
    let yaml = kustomize(dir);
    let docs = yaml_to_json(&yaml);
    Rendered { name: name.to_string(), yaml, docs }
}

pub fn kind_of(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

pub fn name_of(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or_default()
}

impl Rendered {
    pub fn all(&self, kind: &str) -> Vec<&Value> {
        self.docs.iter().filter(|d| kind_of(d) == kind).collect()
    }

    pub fn one(&self, kind: &str) -> &Value {
        let all = self.all(kind);
        assert_eq!(all.len(), 1, "{}: expected exactly one {kind}, found {}", self.name, all.len());
        all[0]
    }

    pub fn pod(&self) -> &Value {
        &self.one("DaemonSet")["spec"]["template"]["spec"]
    }

    pub fn pod_annotations(&self) -> &Value {
        &self.one("DaemonSet")["spec"]["template"]["metadata"]["annotations"]
    }

    pub fn container(&self) -> &Value {
        let containers = self.pod()["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 1, "{}: one container", self.name);
        assert_eq!(containers[0]["name"], "shrike", "{}", self.name);
        &containers[0]
    }

    pub fn config_map(&self) -> &Value {
        self.one("ConfigMap")
    }

    pub fn config_file(&self, key: &str) -> &str {
        self.config_map()["data"][key].as_str().unwrap_or_else(|| panic!("{}: ConfigMap has no key {key}", self.name))
    }

    /// The agent's configuration as the agent parses it, as JSON.
    pub fn config(&self) -> Value {
        let path = Path::new(CONFIG_DIR).join("shrike.toml");
        let cfg = shrike::config::Config::parse(self.config_file("shrike.toml"), &path)
            .unwrap_or_else(|e| panic!("{}: the agent refuses its config: {e}", self.name));
        serde_json::to_value(&cfg).expect("config serializes")
    }

    /// The mount at `path` and its volume.
    pub fn mount(&self, path: &str) -> (&Value, &Value) {
        let mounts = self.container()["volumeMounts"].as_array().expect("volumeMounts");
        let mount = mounts
            .iter()
            .find(|m| m["mountPath"] == path)
            .unwrap_or_else(|| panic!("{}: nothing mounted at {path}", self.name));
        let volumes = self.pod()["volumes"].as_array().expect("volumes");
        let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap_or_else(|| panic!("{}: no volume for {path}", self.name));
        (mount, volume)
    }

    /// The hostPath mount at `path`: its host path, whether read-only, and its hostPath type.
    pub fn host_mount(&self, path: &str) -> (String, bool, String) {
        let (mount, volume) = self.mount(path);
        let host = volume["hostPath"]["path"].as_str().unwrap_or_else(|| panic!("{}: {path} is not a hostPath volume", self.name));
        (host.to_string(), mount["readOnly"] == true, volume["hostPath"]["type"].as_str().unwrap_or_default().to_string())
    }
}

