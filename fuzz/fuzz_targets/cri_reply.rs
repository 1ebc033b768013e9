//! The container runtime's CRI replies, as the agent takes them: protobuf decoding of
//! `ListContainers`, `PodSandboxStatus` and `ImageStatus` replies (what tonic hands over), the
//! container metadata built from them, and that metadata as it goes out in a recording line
//! (it must read back unchanged).
//!
//! Input: three protobuf messages, each preceded by its length as one little-endian u16.
#![no_main]

use std::path::Path;

use cri_api::v1::{ImageStatusResponse, ListContainersResponse, PodSandboxStatusResponse};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use shrike::{
    container::{cri, ContainerInfo, ContainerRecord, Enrichment, Runtime},
    replay::{self, Line},
};

fn next<'a>(data: &mut &'a [u8]) -> &'a [u8] {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return std::mem::take(data);
    };
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (msg, rest) = rest.split_at(len);
    *data = rest;
    msg
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let (list, sandbox, image) = (next(&mut data), next(&mut data), next(&mut data));
    let list = ListContainersResponse::decode(list).ok();
    let sandbox = PodSandboxStatusResponse::decode(sandbox).ok();
    let image = ImageStatusResponse::decode(image).ok();
    // The id asked about: the first container's, so the lookup finds it (or not, when absent).
    let id = list.as_ref().and_then(|l| l.containers.first()).map(|c| c.id.clone()).unwrap_or_default();
    let (sandbox_id, mut meta) = cri::container_meta(&id, list.unwrap_or_default());
    let _ = sandbox_id;
    if let Some(s) = sandbox {
        cri::apply_sandbox_status(&mut meta, s);
    }
    if let Some(d) = image.and_then(cri::repo_digest) {
        meta.image_digest = Some(d);
    }
    let info = ContainerInfo { runtime: Runtime::Containerd, id, meta, enrichment: Enrichment::Complete, enrichment_error: None };
    let rec = ContainerRecord { cgroup_id: 7, container: Some(info) };
    let mut line = Vec::new();
    replay::write_container(&mut line, &rec).expect("writing to memory");
    let mut back = Vec::new();
    replay::read_lines(line.as_slice(), Path::new("fuzz"), |l| back.push(l)).expect("a written container line reads back");
    assert_eq!(back, vec![Line::Container(rec)], "recording line {}", String::from_utf8_lossy(&line));
});
