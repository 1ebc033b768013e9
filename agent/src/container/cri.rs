//! A CRI (Kubernetes Container Runtime Interface) client over the runtime's unix socket:
//! container id → pod and container metadata, the way the kubelet labelled them.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use cri_api::v1::{
    image_service_client::ImageServiceClient, runtime_service_client::RuntimeServiceClient,
    ContainerFilter, ImageSpec, ImageStatusRequest, ImageStatusResponse, ListContainersRequest,
    ListContainersResponse, PodSandboxStatusRequest, PodSandboxStatusResponse, VersionRequest,
};
use serde::{Deserialize, Serialize};
use tonic::transport::{Channel, Endpoint, Uri};

/// Container runtime (CRI) sockets looked for when none is configured, in order: containerd
/// (GKE, kind, most distributions), CRI-O (both spellings of its run directory), k3s and rke2's
/// embedded containerd.
pub const RUNTIME_SOCKETS: &[&str] =
    &["/run/containerd/containerd.sock", "/run/crio/crio.sock", "/var/run/crio/crio.sock", "/run/k3s/containerd/containerd.sock"];

/// Where the CRI socket is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeEndpoint {
    /// The configured socket, and only it.
    Socket(PathBuf),
    /// The first of [`RUNTIME_SOCKETS`] that exists when a connection is made: asked again on
    /// every connection attempt, so a runtime that starts (or whose socket directory is mounted)
    /// after the agent is found.
    Discover,
}

impl RuntimeEndpoint {
    /// From the `[container] runtime_endpoint` setting: a socket path or `unix://` URL; empty
    /// means discover.
    pub fn from_setting(s: &str) -> Self {
        let e = s.trim();
        if e.is_empty() {
            RuntimeEndpoint::Discover
        } else {
            RuntimeEndpoint::Socket(PathBuf::from(e.strip_prefix("unix://").unwrap_or(e)))
        }
    }

    /// The socket to connect to now: the configured one, or the first usual one that exists.
    pub fn current(&self) -> Option<PathBuf> {
        match self {
            RuntimeEndpoint::Socket(p) => Some(p.clone()),
            RuntimeEndpoint::Discover => RUNTIME_SOCKETS.iter().map(PathBuf::from).find(|p| p.exists()),
        }
    }
}

impl std::fmt::Display for RuntimeEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuntimeEndpoint::Socket(p) => write!(f, "{}", p.display()),
            RuntimeEndpoint::Discover => match self.current() {
                Some(p) => write!(f, "{} (discovered)", p.display()),
                None => write!(f, "none yet (looking for {})", RUNTIME_SOCKETS.join(", ")),
            },
        }
    }
}

/// Kubelet labels on containers and sandboxes.
pub const LABEL_POD_NAME: &str = "io.kubernetes.pod.name";
/// Pod namespace label.
pub const LABEL_POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
/// Pod uid label.
pub const LABEL_POD_UID: &str = "io.kubernetes.pod.uid";
/// Container name label.
pub const LABEL_CONTAINER_NAME: &str = "io.kubernetes.container.name";

/// What the runtime knows about a container and its pod.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerMeta {
    /// Pod name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_name: Option<String>,
    /// Pod namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_namespace: Option<String>,
    /// Pod uid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_uid: Option<String>,
    /// Pod labels (the sandbox's labels without the kubelet's own `io.kubernetes.*` keys).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_labels: BTreeMap<String, String>,
    /// Container name in the pod spec (`POD` for the sandbox's pause container).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// Image as named in the pod spec, e.g. `docker.io/library/nginx:1.27`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image digest, `repo@sha256:...` when the runtime knows a repo digest, else the image id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
}

/// A CRI call that did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum CriError {
    /// The socket could not be reached.
    #[error("connecting to {socket}: {reason}")]
    Connect {
        /// Socket path.
        socket: PathBuf,
        /// Cause.
        reason: String,
    },
    /// A call failed.
    #[error("{call}: {status}")]
    Call {
        /// The RPC.
        call: &'static str,
        /// gRPC status.
        status: Box<tonic::Status>,
    },
    /// A call did not answer in time.
    #[error("{call}: no answer within {timeout:?}")]
    Timeout {
        /// The RPC.
        call: &'static str,
        /// Deadline.
        timeout: Duration,
    },
}

/// Outcome of a container lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The runtime knows it.
    Found(ContainerMeta),
    /// Not a container or sandbox of this runtime (e.g. a Docker, podman or `ctr` container).
    NotFound,
}

/// A connected CRI client.
#[derive(Clone)]
pub struct CriClient {
    runtime: RuntimeServiceClient<Channel>,
    images: ImageServiceClient<Channel>,
    timeout: Duration,
}

async fn with_timeout<T>(
    call: &'static str,
    timeout: Duration,
    fut: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, CriError> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(r)) => Ok(r.into_inner()),
        Ok(Err(status)) => Err(CriError::Call { call, status: Box::new(status) }),
        Err(_) => Err(CriError::Timeout { call, timeout }),
    }
}

impl CriClient {
    /// Connect to the runtime socket (fails fast when the socket is missing or refuses).
    pub async fn connect(socket: PathBuf, timeout: Duration) -> Result<CriClient, CriError> {
        let connect_err = |reason: String| CriError::Connect { socket: socket.clone(), reason };
        let path = socket.clone();
        let endpoint = Endpoint::try_from("http://[::]:50051")
            .map_err(|e| connect_err(e.to_string()))?
            .connect_timeout(timeout)
            .timeout(timeout);
        let channel = tokio::time::timeout(
            timeout,
            endpoint.connect_with_connector(tower::service_fn(move |_: Uri| {
                let p = path.clone();
                async move { Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tokio::net::UnixStream::connect(p).await?)) }
            })),
        )
        .await
        .map_err(|_| connect_err(format!("no answer within {timeout:?}")))?
        .map_err(|e| connect_err(format!("{e}: {}", std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default())))?;
        let client = CriClient {
            runtime: RuntimeServiceClient::new(channel.clone()),
            images: ImageServiceClient::new(channel),
            timeout,
        };
        Ok(client)
    }

    /// Runtime name and version, e.g. `containerd 1.6.20 (CRI v1)`.
    pub async fn version(&mut self) -> Result<String, CriError> {
        let v = with_timeout("Version", self.timeout, self.runtime.version(VersionRequest { version: "v1".into() })).await?;
        Ok(format!("{} {} (CRI {})", v.runtime_name, v.runtime_version, v.runtime_api_version))
    }

    /// Pod and container metadata for a container (or pod sandbox) id.
    pub async fn lookup(&mut self, container_id: &str) -> Result<Lookup, CriError> {
        let filter = ContainerFilter { id: container_id.to_string(), ..Default::default() };
        let list = with_timeout(
            "ListContainers",
            self.timeout,
            self.runtime.list_containers(ListContainersRequest { filter: Some(filter) }),
        )
        .await?;
        let (sandbox_id, mut meta) = container_meta(container_id, list);
        let sandbox = with_timeout(
            "PodSandboxStatus",
            self.timeout,
            self.runtime.pod_sandbox_status(PodSandboxStatusRequest { pod_sandbox_id: sandbox_id, verbose: false }),
        )
        .await;
        match sandbox {
            Ok(resp) => apply_sandbox_status(&mut meta, resp),
            Err(CriError::Call { status, .. }) if status.code() == tonic::Code::NotFound => {
                if meta.container_name.as_deref() == Some("POD") {
                    return Ok(Lookup::NotFound);
                }
            }
            Err(e) => return Err(e),
        }
        // Prefer a repo digest (`repo@sha256:...`) over a bare image id.
        if let Some(image) = meta.image.clone() {
            let spec = ImageSpec { image, ..Default::default() };
            if let Ok(st) = with_timeout(
                "ImageStatus",
                self.timeout,
                self.images.image_status(ImageStatusRequest { image: Some(spec), verbose: false }),
            )
            .await
            {
                if let Some(d) = repo_digest(st) {
                    meta.image_digest = Some(d);
                }
            }
        }
        Ok(Lookup::Found(meta))
    }
}

/// What a `ListContainers` reply (filtered on `container_id`) says: the pod sandbox to ask
/// about next, and the container's metadata. When the reply has no such container, the id may
/// be a pod's sandbox (pause container) itself: it is the sandbox to ask about, named `POD`.
///
/// The reply comes from the runtime, so any field may be empty or odd; nothing here fails.
pub fn container_meta(container_id: &str, list: ListContainersResponse) -> (String, ContainerMeta) {
    match list.containers.into_iter().find(|c| c.id == container_id) {
        Some(c) => {
            let image = c.image.as_ref().map(|i| i.image.clone()).filter(|s| !s.is_empty());
            let meta = ContainerMeta {
                pod_name: c.labels.get(LABEL_POD_NAME).cloned(),
                pod_namespace: c.labels.get(LABEL_POD_NAMESPACE).cloned(),
                pod_uid: c.labels.get(LABEL_POD_UID).cloned(),
                container_name: c
                    .labels
                    .get(LABEL_CONTAINER_NAME)
                    .cloned()
                    .or_else(|| c.metadata.as_ref().map(|m| m.name.clone())),
                image,
                image_digest: Some(c.image_ref.clone()).filter(|s| !s.is_empty()),
                ..Default::default()
            };
            (c.pod_sandbox_id, meta)
        }
        // Not a container: maybe the pod's sandbox (pause) itself.
        None => (container_id.to_string(), ContainerMeta { container_name: Some("POD".into()), ..Default::default() }),
    }
}

/// Add what a `PodSandboxStatus` reply says to `meta`: the pod's name, namespace and uid where
/// the container's own labels did not give them, and the pod's labels (without the kubelet's
/// `io.kubernetes.*` keys).
pub fn apply_sandbox_status(meta: &mut ContainerMeta, resp: PodSandboxStatusResponse) {
    if let Some(s) = resp.status {
        if let Some(m) = &s.metadata {
            meta.pod_name.get_or_insert_with(|| m.name.clone());
            meta.pod_namespace.get_or_insert_with(|| m.namespace.clone());
            meta.pod_uid.get_or_insert_with(|| m.uid.clone());
        }
        meta.pod_labels = s.labels.into_iter().filter(|(k, _)| !k.starts_with("io.kubernetes.")).collect();
    }
}

/// The first repo digest (`repo@sha256:...`) an `ImageStatus` reply names, if any.
pub fn repo_digest(resp: ImageStatusResponse) -> Option<String> {
    resp.image.and_then(|i| i.repo_digests.into_iter().next())
}

#[cfg(test)]
mod tests {
    use cri_api::v1::{Container, ContainerMetadata, Image, PodSandboxMetadata, PodSandboxStatus};

    use super::*;

    fn labels(kv: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn replies_make_the_metadata() {
        let c = Container {
            id: "c1".into(),
            pod_sandbox_id: "s1".into(),
            metadata: Some(ContainerMetadata { name: "from-metadata".into(), attempt: 0 }),
            image: Some(ImageSpec { image: "docker.io/library/nginx:1.27".into(), ..Default::default() }),
            image_ref: "sha256:abc".into(),
            labels: labels(&[(LABEL_POD_NAME, "web-0"), (LABEL_CONTAINER_NAME, "nginx")]),
            ..Default::default()
        };
        let other = Container { id: "c2".into(), ..Default::default() };
        let (sandbox, mut meta) = container_meta("c1", ListContainersResponse { containers: vec![other, c] });
        assert_eq!(sandbox, "s1");
        assert_eq!(meta.container_name.as_deref(), Some("nginx"));
        assert_eq!(meta.image_digest.as_deref(), Some("sha256:abc"));
        let status = PodSandboxStatus {
            metadata: Some(PodSandboxMetadata { name: "ignored".into(), uid: "u1".into(), namespace: "shop".into(), attempt: 0 }),
            labels: labels(&[("app", "web"), ("io.kubernetes.pod.name", "web-0")]),
            ..Default::default()
        };
        apply_sandbox_status(&mut meta, PodSandboxStatusResponse { status: Some(status), ..Default::default() });
        assert_eq!((meta.pod_name.as_deref(), meta.pod_namespace.as_deref(), meta.pod_uid.as_deref()), (Some("web-0"), Some("shop"), Some("u1")));
        assert_eq!(meta.pod_labels.keys().collect::<Vec<_>>(), ["app"], "the kubelet's own labels are dropped");
        let image = Image { repo_digests: vec!["docker.io/library/nginx@sha256:def".into()], ..Default::default() };
        assert_eq!(repo_digest(ImageStatusResponse { image: Some(image), ..Default::default() }).as_deref(), Some("docker.io/library/nginx@sha256:def"));
        assert_eq!(repo_digest(ImageStatusResponse::default()), None);
    }

    #[test]
    fn an_id_not_listed_is_asked_about_as_a_sandbox() {
        let (sandbox, meta) = container_meta("p1", ListContainersResponse::default());
        assert_eq!((sandbox.as_str(), meta.container_name.as_deref()), ("p1", Some("POD")));
    }
}
