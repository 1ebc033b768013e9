//! cgroup v2 path → container runtime and container id. Pure string work, no I/O.
//!
//! The input is the path of the `0::` line of `/proc/<pid>/cgroup` (or the path
//! [`super::cgroups::CgroupPaths`] found for a cgroup id), e.g.
//! `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope`.
//!
//! Recognised layouts (`<id>` is 64 lower-case hex digits unless noted):
//!
//! | runtime    | layout                                                                     |
//! |------------|----------------------------------------------------------------------------|
//! | containerd | `…/kubepods[-<qos>]-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope` (systemd driver) |
//! | containerd | `…/kubepods/[<qos>/]pod<uid>/<id>` (cgroupfs driver)                        |
//! | containerd | `/<ns>/<ctr-id>` for `ns` in `k8s.io`, `default`, `moby`, `buildkit` (plain `ctr`) |
//! | CRI-O      | `…/crio-<id>.scope`, `…/kubepods/…/pod<uid>/crio-<id>`                       |
//! | Docker     | `…/docker-<id>.scope`, `…/docker/<id>`                                      |
//! | podman     | `…/libpod-<id>.scope`, `…/libpod_parent/…/libpod-<id>`                       |
//!
//! Sub-cgroups below a container's cgroup (`…/cri-containerd-<id>.scope/init`) belong to that
//! container. When several components look like containers (a kind node is itself a container
//! holding the pods' containers) the innermost one wins. Monitor processes
//! (`crio-conmon-<id>.scope`, `libpod-conmon-<id>.scope`) are not containers: they resolve to
//! whatever container encloses them, usually none.

use serde::{Deserialize, Serialize};

/// Container runtime that created a container's cgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// containerd (CRI plugin or plain `ctr`).
    Containerd,
    /// CRI-O.
    CriO,
    /// Docker (moby).
    Docker,
    /// podman (libpod).
    Podman,
    /// A container whose runtime could not be told from its cgroup path.
    Unknown,
}

impl Runtime {
    /// The lower-case name, as serialized.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Containerd => "containerd",
            Runtime::CriO => "crio",
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A container identified from a cgroup path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerRef {
    /// Runtime that created the container's cgroup.
    pub runtime: Runtime,
    /// Container id: the 64-hex id, or the `ctr` container id for plain containerd paths.
    pub id: String,
    /// Kubernetes pod uid when the container is in a kubepods hierarchy, with dashes restored
    /// (the systemd driver spells `1234-abcd` as `1234_abcd`).
    pub pod_uid: Option<String>,
    /// containerd namespace for plain `ctr` paths (`/<namespace>/<id>`).
    pub namespace: Option<String>,
}

/// Length of a runtime-generated container id in hex digits.
const HEX_ID_LEN: usize = 64;
/// Longest accepted plain `ctr` container id.
const CTR_ID_MAX: usize = 128;
/// Longest accepted pod uid (UUIDs are 36, static-pod hashes 32).
const POD_UID_MAX: usize = 64;
/// containerd namespaces accepted for plain `/<namespace>/<id>` paths.
const CTR_NAMESPACES: [&str; 4] = ["k8s.io", "default", "moby", "buildkit"];
/// Suffix the kernel appends in `/proc/<pid>/cgroup` when the cgroup was removed.
const DELETED_SUFFIX: &str = " (deleted)";
/// systemd scope units created for containers: unit prefix → runtime.
const SCOPE_PREFIXES: [(&str, Runtime); 4] = [
    ("cri-containerd-", Runtime::Containerd),
    ("crio-", Runtime::CriO),
    ("docker-", Runtime::Docker),
    ("libpod-", Runtime::Podman),
];

/// The container a cgroup v2 path belongs to, or `None` when the path is not inside a
/// recognised container cgroup (host services, sessions, runtime monitors, malformed ids).
///
/// A trailing ` (deleted)` (as printed for removed cgroups) is ignored.
#[must_use]
pub fn parse(path: &str) -> Option<ContainerRef> {
    let path = path.strip_suffix(DELETED_SUFFIX).unwrap_or(path);
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();

    for i in (0..comps.len()).rev() {
        let ancestors = &comps[..i];
        if let Some((runtime, id)) = classify(comps[i], ancestors) {
            let pod_uid = match ancestors.split_last() {
                Some((parent, above)) => pod_uid_of(parent, above),
                None => None,
            };
            return Some(ContainerRef {
                runtime,
                id: id.to_owned(),
                pod_uid,
                namespace: None,
            });
        }
    }

    // Plain `ctr`: exactly `/<namespace>/<id>` with a known namespace.
    if let [ns, id] = comps[..] {
        if CTR_NAMESPACES.contains(&ns) && is_ctr_id(id) {
            return Some(ContainerRef {
                runtime: Runtime::Containerd,
                id: id.to_owned(),
                pod_uid: None,
                namespace: Some(ns.to_owned()),
            });
        }
    }
    None
}

/// The path of the cgroup v2 (`0::`) line of a `/proc/<pid>/cgroup` text.
#[must_use]
pub fn unified_path(proc_cgroup: &str) -> Option<&str> {
    proc_cgroup
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .filter(|p| p.starts_with('/'))
}

/// Runtime and id when one path component is a container's cgroup. `ancestors` are the
/// components above it, outermost first.
fn classify<'a>(comp: &'a str, ancestors: &[&str]) -> Option<(Runtime, &'a str)> {
    // systemd driver: `<prefix><id>.scope`. Monitors (`crio-conmon-<id>`, `libpod-conmon-<id>`)
    // fail the id check.
    if let Some(stem) = comp.strip_suffix(".scope") {
        return SCOPE_PREFIXES.iter().find_map(|&(prefix, runtime)| {
            stem.strip_prefix(prefix)
                .filter(|id| is_hex_id(id))
                .map(|id| (runtime, id))
        });
    }

    let parent = ancestors.last().copied();
    let in_pod =
        || parent.is_some_and(|p| cgroupfs_pod_uid(p).is_some()) && ancestors.contains(&"kubepods");

    if is_hex_id(comp) {
        // cgroupfs drivers: `/docker/<id>`, `/kubepods/<qos>/pod<uid>/<id>`.
        if parent == Some("docker") {
            return Some((Runtime::Docker, comp));
        }
        if in_pod() {
            return Some((Runtime::Containerd, comp));
        }
        return None;
    }
    if let Some(id) = comp.strip_prefix("crio-").filter(|id| is_hex_id(id)) {
        // CRI-O with the cgroupfs manager.
        if in_pod() {
            return Some((Runtime::CriO, id));
        }
        return None;
    }
    if let Some(id) = comp.strip_prefix("libpod-").filter(|id| is_hex_id(id)) {
        // podman with the cgroupfs manager.
        if ancestors.contains(&"libpod_parent") {
            return Some((Runtime::Podman, id));
        }
    }
    None
}

/// Pod uid from the cgroup directly above a container's, if that is a kubepods pod cgroup.
fn pod_uid_of(parent: &str, above: &[&str]) -> Option<String> {
    // systemd driver: `kubepods[-<qos>]-pod<uid_with_underscores>.slice`, possibly with a
    // prefix such as kind's `kubelet-kubepods-…`.
    if let Some(stem) = parent.strip_suffix(".slice") {
        let at = stem.rfind("-pod")?;
        let (prefix, uid) = (&stem[..at], &stem[at + "-pod".len()..]);
        let valid = prefix.contains("kubepods")
            && !uid.is_empty()
            && uid.len() <= POD_UID_MAX
            && uid.bytes().all(|b| is_lower_hex(b) || b == b'_');
        return valid.then(|| uid.replace('_', "-"));
    }
    // cgroupfs driver: `…/kubepods/…/pod<uid>`.
    if above.contains(&"kubepods") {
        return cgroupfs_pod_uid(parent).map(str::to_owned);
    }
    None
}

/// `<uid>` of a cgroupfs-driver pod directory `pod<uid>`.
fn cgroupfs_pod_uid(comp: &str) -> Option<&str> {
    comp.strip_prefix("pod").filter(|uid| {
        !uid.is_empty()
            && uid.len() <= POD_UID_MAX
            && uid.bytes().all(|b| is_lower_hex(b) || b == b'-')
    })
}

/// Exactly 64 lower-case hex digits.
fn is_hex_id(s: &str) -> bool {
    s.len() == HEX_ID_LEN && s.bytes().all(is_lower_hex)
}

/// `0-9a-f`.
fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// A plain containerd id: `[A-Za-z0-9][A-Za-z0-9_.-]{0,127}`.
fn is_ctr_id(s: &str) -> bool {
    let bytes = s.as_bytes();
    match bytes.split_first() {
        Some((first, rest)) => {
            bytes.len() <= CTR_ID_MAX
                && first.is_ascii_alphanumeric()
                && rest
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "4d5c2f1e0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";
    const B: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const UID: &str = "9f3c2b1a-7d6e-4c5b-8a9f-0e1d2c3b4a59";
    const UID_: &str = "9f3c2b1a_7d6e_4c5b_8a9f_0e1d2c3b4a59";
    const STATIC_UID: &str = "6c2f8e5b0a1d4c3e9f7a8b6d5c4e3f21";

    fn c(runtime: Runtime, id: &str, pod: Option<&str>, ns: Option<&str>) -> Option<ContainerRef> {
        Some(ContainerRef {
            runtime,
            id: id.to_owned(),
            pod_uid: pod.map(str::to_owned),
            namespace: ns.map(str::to_owned),
        })
    }

    fn check(cases: &[(String, Option<ContainerRef>)]) {
        let mut failed = Vec::new();
        for (path, want) in cases {
            let got = parse(path);
            if &got != want {
                failed.push(format!("{path:?}\n   got  {got:?}\n   want {want:?}"));
            }
        }
        assert!(
            failed.is_empty(),
            "{} mismatches:\n{}",
            failed.len(),
            failed.join("\n")
        );
    }

    #[test]
    fn fixtures_are_well_formed() {
        assert_eq!(A.len(), 64);
        assert_eq!(B.len(), 64);
        assert!(is_hex_id(A) && is_hex_id(B));
    }

    #[test]
    fn containerd_systemd_driver() {
        use Runtime::Containerd as C;
        let pod = |qos: &str| {
            format!("/kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{UID_}.slice")
        };
        check(&[
            (format!("{}/cri-containerd-{A}.scope", pod("besteffort")), c(C, A, Some(UID), None)),
            (format!("{}/cri-containerd-{A}.scope", pod("burstable")), c(C, A, Some(UID), None)),
            (format!("/kubepods.slice/kubepods-pod{UID_}.slice/cri-containerd-{A}.scope"), c(C, A, Some(UID), None)),
            (format!("{}/cri-containerd-{A}.scope/init", pod("besteffort")), c(C, A, Some(UID), None)),
            (format!("{}/cri-containerd-{A}.scope/a/b/c.scope", pod("burstable")), c(C, A, Some(UID), None)),
            (
                format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{STATIC_UID}.slice/cri-containerd-{A}.scope"),
                c(C, A, Some(STATIC_UID), None),
            ),
            // Removed cgroup as printed by /proc/<pid>/cgroup.
            (format!("{}/cri-containerd-{A}.scope (deleted)", pod("besteffort")), c(C, A, Some(UID), None)),
            // Not under a pod slice: still a container, no pod.
            (format!("/system.slice/cri-containerd-{A}.scope"), c(C, A, None, None)),
            // The pod slice alone and the QoS slice are not containers.
            (pod("besteffort"), None),
            ("/kubepods.slice/kubepods-besteffort.slice".to_owned(), None),
            ("/kubepods.slice".to_owned(), None),
            // Malformed ids / missing `.scope`.
            (format!("{}/cri-containerd-{A}", pod("besteffort")), None),
            (format!("{}/cri-containerd-{A}.slice", pod("besteffort")), None),
            (format!("{}/cri-containerd-{}.scope", pod("besteffort"), &A[..63]), None),
            (format!("{}/cri-containerd-{A}0.scope", pod("besteffort")), None),
            (format!("{}/cri-containerd-{}.scope", pod("besteffort"), A.to_uppercase()), None),
            (format!("{}/cri-containerd-.scope", pod("besteffort")), None),
            // A malformed pod slice keeps the container but drops the pod uid.
            (format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID}.slice/cri-containerd-{A}.scope"), c(C, A, None, None)),
            (format!("/foo.slice/foo-pod{UID_}.slice/cri-containerd-{A}.scope"), c(C, A, None, None)),
        ]);
    }

    #[test]
    fn containerd_cgroupfs_driver() {
        use Runtime::Containerd as C;
        check(&[
            (
                format!("/kubepods/besteffort/pod{UID}/{A}"),
                c(C, A, Some(UID), None),
            ),
            (
                format!("/kubepods/burstable/pod{UID}/{A}"),
                c(C, A, Some(UID), None),
            ),
            (format!("/kubepods/pod{UID}/{A}"), c(C, A, Some(UID), None)),
            (
                format!("/kubepods/pod{STATIC_UID}/{A}"),
                c(C, A, Some(STATIC_UID), None),
            ),
            (
                format!("/kubepods/besteffort/pod{UID}/{A}/sub"),
                c(C, A, Some(UID), None),
            ),
            (format!("/kubepods/besteffort/pod{UID}"), None),
            (format!("/kubepods/besteffort/{A}"), None),
            (format!("/somewhere/pod{UID}/{A}"), None),
            (format!("/kubepods/besteffort/pod{UID}/{}", &A[..63]), None),
            (
                format!("/kubepods/besteffort/pod{UID}/{}", A.to_uppercase()),
                None,
            ),
            (
                format!("/kubepods/besteffort/pod{}/{A}", UID.to_uppercase()),
                None,
            ),
            (format!("/kubepods/besteffort/pod/{A}"), None),
            (
                format!("/kubepods/besteffort/pod{UID}/cri-containerd-{A}"),
                None,
            ),
        ]);
    }

    #[test]
    fn crio() {
        use Runtime::CriO as O;
        let pod =
            format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice");
        check(&[
            (format!("{pod}/crio-{A}.scope"), c(O, A, Some(UID), None)),
            (
                format!("{pod}/crio-{A}.scope/container"),
                c(O, A, Some(UID), None),
            ),
            (
                format!("/kubepods/besteffort/pod{UID}/crio-{A}"),
                c(O, A, Some(UID), None),
            ),
            (format!("{pod}/crio-conmon-{A}.scope"), None),
            (
                format!("/kubepods/besteffort/pod{UID}/crio-conmon-{A}"),
                None,
            ),
            (format!("{pod}/crio-{A}"), None),
            (format!("/crio-{A}"), None),
            ("/system.slice/crio.service".to_owned(), None),
        ]);
    }

    #[test]
    fn docker_and_podman() {
        use Runtime::{Docker as D, Podman as P};
        check(&[
            (format!("/system.slice/docker-{A}.scope"), c(D, A, None, None)),
            (format!("/docker/{A}"), c(D, A, None, None)),
            (format!("/docker/{A}/nested"), c(D, A, None, None)),
            (format!("/docker/{}", &A[..12]), None),
            (format!("/system.slice/docker-{}.scope", &A[..12]), None),
            ("/system.slice/docker.service".to_owned(), None),
            ("/system.slice/docker.socket".to_owned(), None),
            (format!("/machine.slice/libpod-{A}.scope"), c(P, A, None, None)),
            (format!("/machine.slice/libpod-{A}.scope/container"), c(P, A, None, None)),
            (format!("/libpod_parent/libpod-{A}"), c(P, A, None, None)),
            (format!("/libpod_parent/{B}/libpod-{A}"), c(P, A, None, None)),
            (
                format!("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{A}.scope/container"),
                c(P, A, None, None),
            ),
            (format!("/machine.slice/libpod-conmon-{A}.scope"), None),
            (format!("/libpod_parent/libpod-conmon-{A}"), None),
            (format!("/libpod-{A}"), None),
            (format!("/machine.slice/libpod-{A}"), None),
            (format!("/machine.slice/machine-libpod_pod_{B}.slice/libpod-{A}.scope"), c(P, A, None, None)),
        ]);
    }

    #[test]
    fn plain_ctr() {
        use Runtime::Containerd as C;
        let long = "x".repeat(128);
        let too_long = "x".repeat(129);
        check(&[
            (format!("/k8s.io/{A}"), c(C, A, None, Some("k8s.io"))),
            (
                "/default/mycontainer".to_owned(),
                c(C, "mycontainer", None, Some("default")),
            ),
            (
                "/moby/web-1.2_x".to_owned(),
                c(C, "web-1.2_x", None, Some("moby")),
            ),
            ("/buildkit/a".to_owned(), c(C, "a", None, Some("buildkit"))),
            (
                format!("/default/{long}"),
                c(C, &long, None, Some("default")),
            ),
            (format!("/default/{too_long}"), None),
            ("/other/mycontainer".to_owned(), None),
            ("/default/mycontainer/sub".to_owned(), None),
            ("/x/default/mycontainer".to_owned(), None),
            ("/default".to_owned(), None),
            ("/default/-bad".to_owned(), None),
            ("/default/.hidden".to_owned(), None),
            ("/default/a:b".to_owned(), None),
            // `/docker/<id>` is Docker, not a ctr namespace.
            (format!("/docker/{A}"), c(Runtime::Docker, A, None, None)),
        ]);
    }

    #[test]
    fn kind_nesting_prefers_innermost() {
        use Runtime::{Containerd as C, Docker as D};
        let node = format!("/system.slice/docker-{B}.scope");
        check(&[
            (
                format!("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{UID_}.slice/cri-containerd-{A}.scope"),
                c(C, A, Some(UID), None),
            ),
            (
                format!("{node}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod{UID_}.slice/cri-containerd-{A}.scope"),
                c(C, A, Some(UID), None),
            ),
            (format!("{node}/kubepods/besteffort/pod{UID}/{A}"), c(C, A, Some(UID), None)),
            (format!("/docker/{B}/kubepods/pod{UID}/{A}"), c(C, A, Some(UID), None)),
            (format!("/docker/{B}/kubelet/kubepods/burstable/pod{UID}/{A}"), c(C, A, Some(UID), None)),
            // Processes of the node itself belong to the node container.
            (node.clone(), c(D, B, None, None)),
            (format!("{node}/system.slice/containerd.service"), c(D, B, None, None)),
            (format!("{node}/kubelet.slice/kubelet-kubepods.slice"), c(D, B, None, None)),
            // Docker in docker.
            (format!("/docker/{B}/docker/{A}"), c(D, A, None, None)),
        ]);
    }

    #[test]
    fn host_paths_are_not_containers() {
        for path in [
            "",
            "/",
            "//",
            "/init.scope",
            "/user.slice/user-0.slice/session-1.scope",
            "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service",
            "/system.slice/containerd.service",
            "/system.slice/kubelet.service",
            "/system.slice/systemd-journald.service",
            "/kubepods.slice/kubepods-besteffort.slice",
            "/machine.slice",
            "/docker",
            "/kubepods",
        ] {
            assert_eq!(parse(path), None, "{path:?}");
        }
    }

    #[test]
    fn unified_path_of_proc_cgroup() {
        let hybrid = "9:name=systemd:/\n4:memory:/x\n0::/system.slice/docker-abc.scope\n";
        assert_eq!(unified_path(hybrid), Some("/system.slice/docker-abc.scope"));
        assert_eq!(unified_path("0::/\n"), Some("/"));
        assert_eq!(unified_path("4:memory:/x\n"), None);
        assert_eq!(unified_path(""), None);
    }

    #[test]
    fn runtime_names() {
        assert_eq!(Runtime::CriO.as_str(), "crio");
        assert_eq!(Runtime::Containerd.to_string(), "containerd");
    }
}
