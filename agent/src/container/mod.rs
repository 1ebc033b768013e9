//! Container identity: which container, if any, a process belongs to.
//!
//! The sensor tags every event with a cgroup v2 id (the inode of the process's cgroup2
//! directory, as returned by `bpf_get_current_cgroup_id()`). [`cgroups::CgroupPaths`] turns that
//! id into the cgroup path (from a cached walk of the cgroup2 tree, not a `/proc` read per
//! event), and [`cgroup_path::parse`] turns the path into a [`ContainerRef`]: the runtime, the
//! container id and, for Kubernetes pods, the pod uid.

pub mod cgroup_path;
pub mod cgroups;
pub mod cri;
pub mod resolver;

pub use cgroup_path::{parse as parse_cgroup_path, ContainerRef, Runtime};
pub use cgroups::{CgroupPathStats, CgroupPaths};
pub use resolver::{ContainerInfo, ContainerRecord, ContainerResolver, Enrichment, EnrichmentQueue};
