//! Test fixture: a private, real containerd (Debian's containerd 1.6 + runc) that runs
//! Kubernetes-style pods through the CRI gRPC API, for the privileged integration tests.
//!
//! ```ignore
//! let ctd = Containerd::start();                       // ~0.5 s (+ image build once per process)
//! let pod = ctd.run_pod(&PodSpec::new("web", &["/bin/sh", "-c", "sleep 30"])).await;
//! let (code, out, _err) = ctd.exec_sync(&pod.container_id, &["id", "-u"], 10).await;
//! ctd.remove_pod(&pod).await;
//! ctd.stop();                                          // also done on Drop
//! ```
//!
//! * Everything lives under a fresh temp dir (`dir`): root, state, socket, runc root, logs, the
//!   generated `config.toml` (`containerd config default` + `restrict_oom_score_adj = true`, sandbox
//!   image [`PAUSE_IMAGE`], cgroupfs driver, no CNI: pods use the host network). A system containerd
//!   is never touched; the only path outside `dir` is `/run/containerd/s/<hash>`, where containerd
//!   1.6 shims always put their sockets (removed again by the shims; empty dirs removed at stop).
//! * Runtime handler `"gke"` runs runc through `fixtures/runc-gke.py`, which rewrites the cgroupfs
//!   `cgroupsPath` `/kubepods/<qos>/pod<uid>/<id>` into the GKE systemd form
//!   `/kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope`
//!   (guaranteed: `/kubepods.slice/kubepods-pod<uid_>.slice/cri-containerd-<id>.scope`).
//! * Images (built once per process, cached across runs under `CARGO_TARGET_TMPDIR`, imported with
//!   `ctr -n k8s.io images import`): [`PAUSE_IMAGE`] (static `fixtures/pause.c`) and [`TOOLS_IMAGE`]
//!   (empty `usr/`; every container gets the host's `/usr` and `/etc/alternatives` bind-mounted ro,
//!   so the host's sh, bash, nc, ncat, socat, perl, /usr/bin/python3, gcc all run inside).
//! * Pod cgroup parent as kubelet's cgroupfs driver sets it: `/kubepods/<qos>/pod<uid>`
//!   (guaranteed: `/kubepods/pod<uid>`); the container's cgroup is `<parent>/<container id>`.
//! * Teardown (stop/Drop): CRI-removes every pod left, SIGTERMs containerd by pid (SIGKILL after
//!   5 s), SIGKILLs leftover shims (identified by this containerd's socket in their argv) and
//!   processes in this fixture's pod cgroups, unmounts what is left under `dir`, removes `dir` and
//!   the cgroup dirs this fixture created (only those: `kubepods*` parents that existed at start stay,
//!   unless another fixture's containerd was live then; the last fixture to stop removes them).
#![allow(dead_code)]

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fs,
    future::Future,
    io::Read,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex, OnceLock,
    },
    time::{Duration, Instant},
};

use cri_api::v1::{
    image_service_client::ImageServiceClient, runtime_service_client::RuntimeServiceClient, Capability, ContainerConfig, KeyValue,
    ContainerFilter, ContainerMetadata, ContainerState, ContainerStatusRequest, CreateContainerRequest, ExecSyncRequest, ImageSpec,
    LinuxContainerConfig, LinuxContainerResources, LinuxContainerSecurityContext, LinuxPodSandboxConfig, LinuxSandboxSecurityContext,
    ListContainersRequest, ListPodSandboxRequest, Mount, MountPropagation, NamespaceMode, NamespaceOption, PodSandboxConfig,
    PodSandboxMetadata, RemoveContainerRequest, RemovePodSandboxRequest, RunPodSandboxRequest,
    StartContainerRequest, StopContainerRequest, StopPodSandboxRequest, VersionRequest,
};
use tonic::transport::{Channel, Endpoint, Uri};

pub const PAUSE_IMAGE: &str = "localhost/shrike-pause:test";
pub const TOOLS_IMAGE: &str = "localhost/shrike-tools:test";
const PAUSE_C: &str = include_str!("../fixtures/pause.c");
const RUNC_GKE: &str = include_str!("../fixtures/runc-gke.py");
const BUILD_IMAGES: &str = include_str!("../fixtures/build-images.sh");
const CRI_NS: &str = "k8s.io";
/// Candidate shared cgroup parents (relative to each hierarchy), deepest first.
const SHARED_PARENTS: &[&str] = &[
    "kubepods/besteffort",
    "kubepods/burstable",
    "kubepods",
    "kubepods.slice/kubepods-besteffort.slice",
    "kubepods.slice/kubepods-burstable.slice",
    "kubepods.slice",
];

/// A private containerd with CRI; see the module docs.
pub struct Containerd {
    /// containerd's gRPC (CRI) socket.
    pub socket: PathBuf,
    /// The fixture's temp dir (root, state, config, logs); removed at stop.
    pub dir: PathBuf,
    child: Option<Child>,
    /// Shared cgroup parents (absolute) that existed before start: never removed.
    pre_existing: HashSet<PathBuf>,
    /// Pod cgroup dirs (relative to each hierarchy) of the pods this fixture ran.
    pod_cgroups: Mutex<Vec<String>>,
    run_containerd_existed: bool,
}

/// What to run: one pod with one container from [`TOOLS_IMAGE`], on the host network.
#[derive(Clone, Debug)]
pub struct PodSpec {
    pub name: String,
    pub namespace: String,
    /// Pod UID (uuid form); ends up in the cgroup path.
    pub uid: String,
    /// Pod labels (set on the sandbox, plus the io.kubernetes.pod.* ones).
    pub labels: BTreeMap<String, String>,
    pub container_name: String,
    /// The container's command (CRI `command`; no `args`).
    pub command: Vec<String>,
    /// "besteffort" | "burstable" | "guaranteed".
    pub qos: &'static str,
    /// Run with runtime handler "gke": GKE systemd-style cgroup paths.
    pub gke_cgroups: bool,
    /// (host path, container path, read-only), on top of /usr and /etc/alternatives.
    pub extra_mounts: Vec<(PathBuf, String, bool)>,
    /// PID namespace per pod (k8s shareProcessNamespace) instead of per container (default).
    pub share_process_namespace: bool,
    /// The image (default: [`TOOLS_IMAGE`], with the host's /usr and /etc/alternatives mounted).
    pub image: Option<String>,
    /// The node's PID namespace (k8s hostPID).
    pub host_pid: bool,
    /// A privileged container (and sandbox).
    pub privileged: bool,
    /// Drop every capability and add these (names without `CAP_`); `None`: the runtime's default.
    pub capabilities: Option<Vec<String>>,
    /// Environment.
    pub env: Vec<(String, String)>,
    /// The container's arguments (CRI `args`, after the image's entrypoint when `command` is empty).
    pub args: Vec<String>,
    /// Container paths of `extra_mounts` mounted with host-to-container propagation (rslave;
    /// Kubernetes `mountPropagation: HostToContainer`). The host side must be a shared or slave
    /// mount, as on a systemd host.
    pub host_to_container: Vec<String>,
    /// A read-only root file system.
    pub readonly_rootfs: bool,
    /// Memory limit in bytes (0: none).
    pub memory_limit: i64,
}

impl PodSpec {
    /// Namespace "shrike-test", a random uuid-like uid, container "main", besteffort, label app=<name>.
    pub fn new(name: &str, command: &[&str]) -> PodSpec {
        PodSpec {
            name: name.to_string(),
            namespace: "shrike-test".to_string(),
            uid: random_uid(),
            labels: BTreeMap::from([("app".to_string(), name.to_string())]),
            container_name: "main".to_string(),
            command: command.iter().map(|s| s.to_string()).collect(),
            qos: "besteffort",
            gke_cgroups: false,
            extra_mounts: Vec::new(),
            share_process_namespace: false,
            image: None,
            host_pid: false,
            privileged: false,
            capabilities: None,
            env: Vec::new(),
            args: Vec::new(),
            host_to_container: Vec::new(),
            readonly_rootfs: false,
            memory_limit: 0,
        }
    }

    /// The pod's cgroup dir relative to a hierarchy root, as runc creates it (no leading '/').
    pub fn pod_cgroup(&self) -> String {
        let uid_ = self.uid.replace('-', "_");
        match (self.gke_cgroups, self.qos) {
            (false, "guaranteed") => format!("kubepods/pod{}", self.uid),
            (false, q) => format!("kubepods/{q}/pod{}", self.uid),
            (true, "guaranteed") => format!("kubepods.slice/kubepods-pod{uid_}.slice"),
            (true, q) => format!("kubepods.slice/kubepods-{q}.slice/kubepods-{q}-pod{uid_}.slice"),
        }
    }

    /// The `0::` cgroup path a container with this id gets (leading '/').
    pub fn container_cgroup(&self, container_id: &str) -> String {
        match self.gke_cgroups {
            false => format!("/{}/{container_id}", self.pod_cgroup()),
            true => format!("/{}/cri-containerd-{container_id}.scope", self.pod_cgroup()),
        }
    }
}

/// A started pod: CRI ids and the container's main pid (host pid namespace).
#[derive(Clone, Debug)]
pub struct RunningPod {
    pub sandbox_id: String,
    pub container_id: String,
    pub pid: u32,
    pub spec: PodSpec,
}

impl Containerd {
    /// Start a private containerd and import the test images. Panics (with containerd's log tail) on failure.
    pub fn start() -> Containerd {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(unsafe { libc::geteuid() }, 0, "Containerd::start needs root");
        let containerd = which(&["/usr/bin/containerd", "/usr/local/bin/containerd"]);
        let runc = which(&["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"]);
        which(&["/usr/bin/python3"]); // for the gke runc wrapper (Debian's, not pyenv's)
        let (pause_tar, tools_tar) = image_tarballs();

        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "shrike-ctd-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            &random_uid()[..8]
        ));
        fs::create_dir_all(dir.join("logs")).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod temp dir");
        let socket = dir.join("containerd.sock");
        let wrapper = dir.join("runc-gke");
        fs::write(&wrapper, RUNC_GKE.replace("@RUNC@", &runc)).expect("write runc wrapper");
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).expect("chmod runc wrapper");
        let config = render_config(&dir, &socket, &wrapper);
        fs::write(dir.join("config.toml"), config).expect("write config.toml");

        // Shared parents that exist now are foreign (kept at stop) unless another fixture is live
        // (then they are likely its, and whichever fixture stops last removes them).
        let other_fixture_live = !pids_where(|pid| {
            let args = cmdline(pid);
            args.len() >= 3 && args[1] == b"--config" && {
                let cfg = String::from_utf8_lossy(&args[2]);
                cfg.contains("/shrike-ctd-") && cfg.ends_with("/config.toml")
            }
        })
        .is_empty();
        let pre_existing = match other_fixture_live {
            true => HashSet::new(),
            false => cgroup_mounts()
                .iter()
                .flat_map(|m| SHARED_PARENTS.iter().map(move |p| m.join(p)))
                .filter(|p| p.exists())
                .collect(),
        };
        let log = fs::File::create(dir.join("containerd.log")).expect("create containerd.log");
        let child = Command::new(&containerd)
            .arg("--config")
            .arg(dir.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {containerd}: {e}"));
        let mut ctd = Containerd {
            socket,
            dir,
            child: Some(child),
            pre_existing,
            pod_cgroups: Mutex::new(Vec::new()),
            run_containerd_existed: !other_fixture_live && Path::new("/run/containerd").exists(),
        };

        // Wait for CRI to answer (Drop cleans up if we panic from here on).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = ctd.child.as_mut().unwrap().try_wait() {
                panic!("containerd exited during start ({st}); log tail:\n{}", ctd.log_tail());
            }
            let sock = ctd.socket.clone();
            let ok = sock.exists()
                && block_on_thread(async move {
                    let fut = async {
                        let mut c = RuntimeServiceClient::new(connect(sock).await.ok()?);
                        c.version(VersionRequest { version: "v1".into() }).await.ok()
                    };
                    tokio::time::timeout(Duration::from_secs(2), fut).await.ok().flatten().is_some()
                });
            if ok {
                break;
            }
            if Instant::now() > deadline {
                panic!("containerd did not answer CRI Version within 30 s; log tail:\n{}", ctd.log_tail());
            }
            std::thread::sleep(Duration::from_millis(20)); // poll interval, bounded by the deadline
        }
        let ctr = which(&["/usr/bin/ctr", "/usr/local/bin/ctr"]);
        for tar in [pause_tar, tools_tar] {
            let mut cmd = Command::new(&ctr);
            cmd.arg("--address").arg(&ctd.socket).args(["-n", CRI_NS, "images", "import"]).arg(tar);
            let out = cmd.output().expect("run ctr");
            let (o, e) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success(), "{cmd:?} failed: {o}{e}\ncontainerd log tail:\n{}", ctd.log_tail());
        }
        ctd
    }

    /// Import an image archive (docker-archive or OCI) into the CRI namespace.
    pub fn import_image(&self, archive: &Path) {
        let ctr = which(&["/usr/bin/ctr", "/usr/local/bin/ctr"]);
        let mut cmd = Command::new(&ctr);
        cmd.arg("--address").arg(&self.socket).args(["-n", CRI_NS, "images", "import"]).arg(archive);
        let out = cmd.output().expect("run ctr");
        let (o, e) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{cmd:?} failed: {o}{e}\ncontainerd log tail:\n{}", self.log_tail());
    }

    /// The CRI log file of a pod's container (`<timestamp> <stream> <tag> <line>` lines).
    pub fn container_log(&self, spec: &PodSpec) -> PathBuf {
        self.dir.join("logs").join(format!("{}_{}_{}", spec.namespace, spec.name, spec.uid)).join(&spec.container_name).join("0.log")
    }

    /// Stop a container with a grace period (SIGTERM, then SIGKILL after `timeout_s`).
    pub async fn stop_container(&self, container_id: &str, timeout_s: i64) {
        self.runtime()
            .await
            .stop_container(StopContainerRequest { container_id: container_id.into(), timeout: timeout_s })
            .await
            .unwrap_or_else(|e| panic!("StopContainer {container_id}: {e}"));
    }

    /// A CRI runtime client on a fresh connection (usable from any tokio runtime).
    pub async fn runtime(&self) -> RuntimeServiceClient<Channel> {
        RuntimeServiceClient::new(self.channel().await)
    }

    /// A CRI image client on a fresh connection.
    pub async fn images(&self) -> ImageServiceClient<Channel> {
        ImageServiceClient::new(self.channel().await)
    }

    async fn channel(&self) -> Channel {
        connect(self.socket.clone())
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}; log tail:\n{}", self.socket.display(), self.log_tail()))
    }

    /// RunPodSandbox + CreateContainer + StartContainer, as kubelet would. Panics on failure.
    pub async fn run_pod(&self, spec: &PodSpec) -> RunningPod {
        let mut rt = self.runtime().await;
        let fail = |what: &str, e: tonic::Status| {
            format!("{what} for pod {}/{}: {e}\ncontainerd log tail:\n{}", spec.namespace, spec.name, self.log_tail())
        };
        self.pod_cgroups.lock().unwrap().push(spec.pod_cgroup());
        let cgroup_parent = match spec.qos {
            "guaranteed" => format!("/kubepods/pod{}", spec.uid),
            q => format!("/kubepods/{q}/pod{}", spec.uid),
        };
        let ns_opts = NamespaceOption {
            network: NamespaceMode::Node as i32,
            pid: if spec.host_pid {
                NamespaceMode::Node
            } else if spec.share_process_namespace {
                NamespaceMode::Pod
            } else {
                NamespaceMode::Container
            } as i32,
            ipc: NamespaceMode::Pod as i32,
            ..Default::default()
        };
        let pod_ids = [
            ("io.kubernetes.pod.name", spec.name.as_str()),
            ("io.kubernetes.pod.namespace", spec.namespace.as_str()),
            ("io.kubernetes.pod.uid", spec.uid.as_str()),
        ];
        let mut labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
        labels.extend(pod_ids.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let log_dir = self.dir.join("logs").join(format!("{}_{}_{}", spec.namespace, spec.name, spec.uid));
        fs::create_dir_all(log_dir.join(&spec.container_name)).expect("create pod log dir");
        let sandbox_config = PodSandboxConfig {
            metadata: Some(PodSandboxMetadata {
                name: spec.name.clone(),
                uid: spec.uid.clone(),
                namespace: spec.namespace.clone(),
                attempt: 0,
            }),
            hostname: String::new(), // host network: no private UTS namespace
            log_directory: log_dir.to_string_lossy().into_owned(),
            labels,
            annotations: HashMap::from([("kubernetes.io/config.source".into(), "api".into())]),
            linux: Some(LinuxPodSandboxConfig {
                cgroup_parent,
                security_context: Some(LinuxSandboxSecurityContext {
                    namespace_options: Some(ns_opts.clone()),
                    privileged: spec.privileged,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let handler = if spec.gke_cgroups { "gke" } else { "" };
        let sandbox_id = rt
            .run_pod_sandbox(RunPodSandboxRequest {
                config: Some(sandbox_config.clone()),
                runtime_handler: handler.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("{}", fail("RunPodSandbox", e)))
            .into_inner()
            .pod_sandbox_id;

        let host_usr: &[(&str, &str)] =
            if spec.image.is_none() { &[("/usr", "/usr"), ("/etc/alternatives", "/etc/alternatives")] } else { &[] };
        let mounts: Vec<Mount> = host_usr
            .iter()
            .map(|(h, c)| (PathBuf::from(h), c.to_string(), true))
            .chain(spec.extra_mounts.iter().cloned())
            .map(|(host, container, readonly)| Mount {
                host_path: host.to_string_lossy().into_owned(),
                propagation: if spec.host_to_container.contains(&container) {
                    MountPropagation::PropagationHostToContainer as i32
                } else {
                    MountPropagation::PropagationPrivate as i32
                },
                container_path: container,
                readonly,
                ..Default::default()
            })
            .collect();
        let mut clabels: HashMap<String, String> =
            pod_ids.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        clabels.insert("io.kubernetes.container.name".into(), spec.container_name.clone());
        let config = ContainerConfig {
            metadata: Some(ContainerMetadata { name: spec.container_name.clone(), attempt: 0 }),
            image: Some(ImageSpec { image: spec.image.clone().unwrap_or_else(|| TOOLS_IMAGE.into()), ..Default::default() }),
            command: spec.command.clone(),
            args: spec.args.clone(),
            envs: spec.env.iter().map(|(k, v)| KeyValue { key: k.clone(), value: v.clone() }).collect(),
            mounts,
            labels: clabels,
            annotations: HashMap::from([("io.kubernetes.container.restartCount".into(), "0".into())]),
            log_path: format!("{}/0.log", spec.container_name),
            linux: Some(LinuxContainerConfig {
                security_context: Some(LinuxContainerSecurityContext {
                    namespace_options: Some(ns_opts),
                    privileged: spec.privileged,
                    capabilities: spec.capabilities.as_ref().map(|add| Capability {
                        add_capabilities: add.clone(),
                        drop_capabilities: vec!["ALL".into()],
                        ..Default::default()
                    }),
                    readonly_rootfs: spec.readonly_rootfs,
                    ..Default::default()
                }),
                resources: (spec.memory_limit > 0)
                    .then(|| LinuxContainerResources { memory_limit_in_bytes: spec.memory_limit, ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let container_id = rt
            .create_container(CreateContainerRequest {
                pod_sandbox_id: sandbox_id.clone(),
                config: Some(config),
                sandbox_config: Some(sandbox_config),
            })
            .await
            .unwrap_or_else(|e| panic!("{}", fail("CreateContainer", e)))
            .into_inner()
            .container_id;
        rt.start_container(StartContainerRequest { container_id: container_id.clone() })
            .await
            .unwrap_or_else(|e| panic!("{}", fail("StartContainer", e)));
        let status = rt
            .container_status(ContainerStatusRequest { container_id: container_id.clone(), verbose: true })
            .await
            .unwrap_or_else(|e| panic!("{}", fail("ContainerStatus", e)))
            .into_inner();
        // A container that has already exited (one that refuses to run, say) has no pid: 0.
        let exited = status.status.as_ref().is_some_and(|s| s.state == ContainerState::ContainerExited as i32);
        let pid = status
            .info
            .get("info")
            .and_then(|i| serde_json::from_str::<serde_json::Value>(i).ok())
            .and_then(|v| v.get("pid")?.as_u64())
            .filter(|p| *p > 0 || exited)
            .or(exited.then_some(0))
            .unwrap_or_else(|| panic!("no pid in ContainerStatus info of {container_id}: {:?}", status.info));
        RunningPod { sandbox_id, container_id, pid: pid as u32, spec: spec.clone() }
    }

    /// The exit code of a container that has exited, `None` while it runs.
    pub async fn exit_code(&self, container_id: &str) -> Option<i32> {
        let status = self
            .runtime()
            .await
            .container_status(ContainerStatusRequest { container_id: container_id.into(), verbose: false })
            .await
            .unwrap_or_else(|e| panic!("ContainerStatus {container_id}: {e}"))
            .into_inner()
            .status?;
        (status.state == ContainerState::ContainerExited as i32).then_some(status.exit_code)
    }

    /// ExecSync in a container: (exit code, stdout, stderr). Panics on a CRI error.
    pub async fn exec_sync(&self, container_id: &str, cmd: &[&str], timeout_s: i64) -> (i32, Vec<u8>, Vec<u8>) {
        let r = self
            .runtime()
            .await
            .exec_sync(ExecSyncRequest {
                container_id: container_id.into(),
                cmd: cmd.iter().map(|s| s.to_string()).collect(),
                timeout: timeout_s,
            })
            .await
            .unwrap_or_else(|e| panic!("ExecSync {cmd:?} in {container_id}: {e}\nlog tail:\n{}", self.log_tail()))
            .into_inner();
        (r.exit_code, r.stdout, r.stderr)
    }

    /// Stop (SIGKILL, no grace period) and remove the pod's container and sandbox, then its cgroup dirs.
    pub async fn remove_pod(&self, pod: &RunningPod) {
        let mut rt = self.runtime().await;
        let fail = |what: &str, e: tonic::Status| format!("{what} for pod {}: {e}", pod.spec.name);
        let sid = pod.sandbox_id.clone();
        stop_and_remove_container(&mut rt, &pod.container_id).await.unwrap_or_else(|(what, e)| panic!("{}", fail(what, e)));
        rt.stop_pod_sandbox(StopPodSandboxRequest { pod_sandbox_id: sid.clone() })
            .await
            .unwrap_or_else(|e| panic!("{}", fail("StopPodSandbox", e)));
        rt.remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: sid })
            .await
            .unwrap_or_else(|e| panic!("{}", fail("RemovePodSandbox", e)));
        let rel = pod.spec.pod_cgroup();
        remove_cgroup_tree(&rel, Duration::from_secs(2));
        self.pod_cgroups.lock().unwrap().retain(|r| *r != rel);
    }

    /// Tear everything down (see module docs). Also runs on Drop.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// The last 60 lines of containerd's log.
    pub fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    fn shutdown(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let mut problems = Vec::new();
        // 1. CRI teardown of every pod left (this containerd is private: all pods are ours).
        if child.try_wait().ok().flatten().is_none() {
            let sock = self.socket.clone();
            let res = std::panic::catch_unwind(|| {
                block_on_thread(tokio::time::timeout(Duration::from_secs(20), remove_all_pods(sock)))
            });
            match res {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => problems.push(format!("CRI teardown: {e}")),
                Ok(Err(_)) => problems.push("CRI teardown timed out".into()),
                Err(_) => problems.push("CRI teardown panicked".into()),
            }
        }
        // 2. containerd, by its pid.
        let pid = child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid (not yet reaped, so not reused).
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                problems.push("containerd ignored SIGTERM for 5 s: SIGKILL".into());
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // 3. Leftovers: our shims (our socket is in their argv), processes in our pod cgroups.
        let sock_arg = self.socket.to_string_lossy().into_owned();
        let pod_cgroups = self.pod_cgroups.lock().unwrap().clone();
        // After a clean CRI teardown the shims exit by themselves; else kill right away.
        let grace = Duration::from_secs(if problems.is_empty() { 3 } else { 0 });
        let (deadline, mut killed) = (Instant::now() + grace, false);
        loop {
            let shims = pids_where(|pid| {
                let args = cmdline(pid);
                args.first().is_some_and(|a| a.ends_with(b"containerd-shim-runc-v2"))
                    && args.windows(2).any(|w| w[0] == b"-address" && w[1] == sock_arg.as_bytes())
            });
            let in_pods = pids_where(|pid| {
                let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                if stat.rsplit_once(") ").is_none_or(|(_, rest)| rest.starts_with('Z')) {
                    return false; // zombies wait for their reaper; they hold nothing
                }
                let cg = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
                cg.lines().filter_map(|l| l.strip_prefix("0::/")).any(|p| {
                    pod_cgroups.iter().any(|r| p == r || p.starts_with(&format!("{r}/")))
                })
            });
            if shims.is_empty() && in_pods.is_empty() {
                break;
            }
            if Instant::now() > deadline + Duration::from_secs(2) {
                problems.push(format!("unkillable leftovers: shims {shims:?}, pod processes {in_pods:?}"));
                break;
            }
            if Instant::now() > deadline {
                if !killed {
                    problems.push(format!("killed leftover shims {shims:?}, pod processes {in_pods:?}"));
                    killed = true;
                }
                for p in in_pods.iter().chain(&shims) {
                    // SAFETY: kill(2) on a pid just identified as ours.
                    unsafe { libc::kill(*p, libc::SIGKILL) };
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // 4. Mounts under dir, the dir, our cgroup dirs, empty /run/containerd/s.
        let mut mounts = mount_points().into_iter().filter(|m| m.starts_with(&self.dir)).collect::<Vec<_>>();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
        for m in mounts {
            let c = std::ffi::CString::new(m.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: c is a valid NUL-terminated path.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
        // Sockets of killed shims: /run/containerd/s/sha256(<address>/<ns>/<id>) (containerd 1.6).
        let tasks = self.dir.join("state/io.containerd.runtime.v2.task").join(CRI_NS);
        for id in fs::read_dir(&tasks).into_iter().flatten().flatten() {
            let key = format!("{}/{CRI_NS}/{}", self.socket.display(), id.file_name().to_string_lossy());
            let Ok(mut c) = Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn() else {
                continue;
            };
            let _ = std::io::Write::write_all(&mut c.stdin.take().unwrap(), key.as_bytes());
            let out = c.wait_with_output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
            if let Some(hash) = out.split_whitespace().next().filter(|h| h.len() == 64) {
                let _ = fs::remove_file(Path::new("/run/containerd/s").join(hash));
            }
        }
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            problems.push(format!("remove {}: {e}", self.dir.display()));
        }
        for rel in &pod_cgroups {
            remove_cgroup_tree(rel, Duration::from_secs(1));
        }
        for parent in SHARED_PARENTS {
            for m in cgroup_mounts() {
                let p = m.join(parent);
                if !self.pre_existing.contains(&p) {
                    let _ = fs::remove_dir(&p); // fails harmlessly if in use (another fixture)
                }
            }
        }
        if !self.run_containerd_existed {
            let _ = fs::remove_dir("/run/containerd/s");
            let _ = fs::remove_dir("/run/containerd");
        }
        if !problems.is_empty() {
            eprintln!("containerd fixture teardown: {}", problems.join("; "));
        }
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Connect a tonic channel to a unix socket.
async fn connect(path: PathBuf) -> Result<Channel, tonic::transport::Error> {
    Endpoint::try_from("http://[::]")?
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let p = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(p).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
}

/// Stop a container (SIGKILL, no grace period) and remove it. StopContainer can return before
/// containerd has processed the task's exit, and RemoveContainer then refuses the container as
/// still running: stop again and retry, for up to 10 s. The error names the call that failed.
async fn stop_and_remove_container(rt: &mut RuntimeServiceClient<Channel>, id: &str) -> Result<(), (&'static str, tonic::Status)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        rt.stop_container(StopContainerRequest { container_id: id.into(), timeout: 0 }).await.map_err(|e| ("StopContainer", e))?;
        match rt.remove_container(RemoveContainerRequest { container_id: id.into() }).await {
            Ok(_) => return Ok(()),
            Err(e) if e.message().contains("still running") && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(("RemoveContainer", e)),
        }
    }
}

async fn remove_all_pods(sock: PathBuf) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut rt = RuntimeServiceClient::new(connect(sock).await?);
    let filter = Some(ContainerFilter::default());
    for c in rt.list_containers(ListContainersRequest { filter }).await?.into_inner().containers {
        stop_and_remove_container(&mut rt, &c.id).await.map_err(|(what, e)| format!("{what} {}: {e}", c.id))?;
    }
    for s in rt.list_pod_sandbox(ListPodSandboxRequest { filter: None }).await?.into_inner().items {
        rt.stop_pod_sandbox(StopPodSandboxRequest { pod_sandbox_id: s.id.clone() }).await?;
        rt.remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: s.id }).await?;
    }
    Ok(())
}

/// Run a future to completion on a fresh current-thread runtime in its own thread (works from
/// sync code and from inside another runtime alike).
fn block_on_thread<T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime").block_on(f)
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

fn which(candidates: &[&str]) -> String {
    candidates
        .iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| panic!("none of {candidates:?} exists (apt-get install -y containerd runc python3 gcc)"))
        .to_string()
}

fn random_uid() -> String {
    let mut b = [0u8; 16];
    fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).expect("read /dev/urandom");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// `containerd config default` with this fixture's paths and settings.
fn render_config(dir: &Path, socket: &Path, wrapper: &Path) -> String {
    let out = Command::new("containerd").args(["config", "default"]).output().expect("containerd config default");
    assert!(out.status.success(), "containerd config default: {}", String::from_utf8_lossy(&out.stderr));
    let q = |p: &Path| format!("{:?}", p.to_string_lossy());
    let cri = r#"plugins."io.containerd.grpc.v1.cri""#;
    let runc_opts = format!("{cri}.containerd.runtimes.runc.options");
    let sets: Vec<(String, &str, String)> = vec![
        (String::new(), "root", q(&dir.join("root"))),
        (String::new(), "state", q(&dir.join("state"))),
        ("grpc".into(), "address", q(socket)),
        (cri.into(), "restrict_oom_score_adj", "true".into()),
        (cri.into(), "sandbox_image", format!("{PAUSE_IMAGE:?}")),
        (cri.into(), "systemd_cgroup", "false".into()),
        (format!("{cri}.cni"), "conf_dir", q(&dir.join("cni"))),
        (format!("{cri}.cni"), "bin_dir", q(&dir.join("cni"))),
        (runc_opts.clone(), "Root", q(&dir.join("runc"))),
        (runc_opts, "SystemdCgroup", "false".into()),
        (r#"plugins."io.containerd.internal.v1.opt""#.into(), "path", q(&dir.join("opt"))),
    ];
    let mut applied = vec![false; sets.len()];
    let mut section = String::new();
    let mut cfg = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            section = t.trim_matches(|c| c == '[' || c == ']').to_string();
        }
        let key = t.split(" = ").next().unwrap_or("");
        match sets.iter().position(|(s, k, _)| *s == section && *k == key && t.contains(" = ")) {
            Some(i) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                cfg += &format!("{indent}{key} = {}\n", sets[i].2);
                applied[i] = true;
            }
            None => cfg += &format!("{line}\n"),
        }
    }
    if let Some(i) = applied.iter().position(|a| !a) {
        panic!("containerd config default has no {} in [{}]", sets[i].1, sets[i].0);
    }
    cfg += &format!(
        "\n[{cri}.containerd.runtimes.gke]\n  runtime_type = \"io.containerd.runc.v2\"\n\
         [{cri}.containerd.runtimes.gke.options]\n  BinaryName = {}\n  Root = {}\n  SystemdCgroup = false\n",
        q(wrapper),
        q(&dir.join("runc"))
    );
    cfg
}

fn mount_points() -> Vec<PathBuf> {
    mountinfo().into_iter().map(|(mp, _)| mp).collect()
}

fn cgroup_mounts() -> Vec<PathBuf> {
    mountinfo().into_iter().filter(|(_, fs)| fs == "cgroup" || fs == "cgroup2").map(|(mp, _)| mp).collect()
}

fn mountinfo() -> Vec<(PathBuf, String)> {
    // (mount point, fs type); octal escapes (\040 for ' ') are left as they are: none of the
    // paths looked for here (our temp dir, cgroup mounts) contains such characters.
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let fields = |l: &str| -> Option<(PathBuf, String)> {
        let f: Vec<&str> = l.split(' ').collect();
        let sep = f.iter().position(|x| *x == "-")?;
        Some((PathBuf::from(f.get(4)?), f.get(sep + 1)?.to_string()))
    };
    text.lines().filter_map(fields).collect()
}

/// argv of a process (empty if gone).
fn cmdline(pid: i32) -> Vec<Vec<u8>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    raw.split(|b| *b == 0).map(<[u8]>::to_vec).collect()
}

/// rmdir `rel` (and any sub-dirs runc left) in every cgroup hierarchy, retrying while busy.
fn remove_cgroup_tree(rel: &str, patience: Duration) {
    fn rm(p: &Path) -> bool {
        if let Ok(rd) = fs::read_dir(p) {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    rm(&e.path());
                }
            }
        }
        fs::remove_dir(p).is_ok() || !p.exists()
    }
    let deadline = Instant::now() + patience;
    for m in cgroup_mounts() {
        while !rm(&m.join(rel)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn pids_where(pred: impl Fn(i32) -> bool) -> Vec<i32> {
    let me = std::process::id() as i32;
    fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .filter(|p| *p != me && pred(*p))
                .collect()
        })
        .unwrap_or_default()
}

/// Build (once per process; cached across runs under target/tmp) the two docker-archive tarballs
/// with fixtures/build-images.sh.
fn image_tarballs() -> (&'static Path, &'static Path) {
    static IMAGES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    let (p, t) = IMAGES.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        (PAUSE_C, BUILD_IMAGES, std::env::consts::ARCH).hash(&mut h);
        let base = PathBuf::from(env!("SHRIKE_TARGET_TMPDIR"));
        let cache = base.join(format!("shrike-ctd-images-{:016x}", h.finish()));
        let (pause, tools) = (cache.join("pause.tar"), cache.join("tools.tar"));
        if !(pause.exists() && tools.exists()) {
            let work = base.join(format!("shrike-ctd-images.tmp-{}", random_uid()));
            fs::create_dir_all(&work).expect("mkdir image build dir");
            fs::write(work.join("pause.c"), PAUSE_C).expect("write pause.c");
            let arch = match std::env::consts::ARCH {
                "x86_64" => "amd64",
                "aarch64" => "arm64",
                a => a,
            };
            let mut cmd = Command::new("sh");
            cmd.args(["-c", BUILD_IMAGES, "build-images.sh"]).arg(&work).arg(work.join("pause.c")).arg(arch);
            let out = cmd.output().expect("run build-images.sh");
            let _ = fs::remove_file(work.join("pause.c"));
            if !out.status.success() {
                let _ = fs::remove_dir_all(&work);
                panic!("fixtures/build-images.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
            }
            if fs::rename(&work, &cache).is_err() {
                if !(pause.exists() && tools.exists()) {
                    let _ = fs::remove_dir_all(&cache); // partial leftovers
                    let _ = fs::rename(&work, &cache);
                }
                let _ = fs::remove_dir_all(&work); // a concurrent process won the race
            }
            assert!(pause.exists() && tools.exists(), "image cache {} incomplete", cache.display());
        }
        (pause, tools)
    });
    (p.as_path(), t.as_path())
}
