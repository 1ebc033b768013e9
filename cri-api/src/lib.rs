//! The Kubernetes Container Runtime Interface, API version v1 (`runtime.v1`): messages and the
//! `RuntimeService` / `ImageService` clients, generated from the kubelet's `api.proto`
//! (kubernetes/cri-api, Apache-2.0, copied unchanged into `proto/`).

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// `runtime.v1`.
pub mod v1 {
    tonic::include_proto!("runtime.v1");
}
