//! `shrike replay` on any file a user hands it: the recording reader (bounded lines, clock,
//! container and event lines), then every line through the same pipeline as live events
//! (process table, container resolver, detectors with the embedded rules and Python model,
//! incidents, flood control) and the findings out as JSON, as `shrike replay` does.
#![no_main]

use std::{
    path::Path,
    sync::{Arc, OnceLock},
    time::Duration,
};

use libfuzzer_sys::fuzz_target;
use shrike::{
    container::ContainerResolver,
    detect::{python, rules::Rules},
    finding::Origin,
    pipeline::Pipeline,
    replay::{self, Line},
};

fn rules() -> &'static (Arc<Rules>, Option<Arc<python_model::Model>>) {
    static RULES: OnceLock<(Arc<Rules>, Option<Arc<python_model::Model>>)> = OnceLock::new();
    RULES.get_or_init(|| {
        let rules = Rules::defaults();
        let model = python::load_model(&rules).expect("the embedded model loads");
        (Arc::new(rules), model)
    })
}

fuzz_target!(|data: &[u8]| {
    let (rules, model) = rules();
    let mut pipeline =
        Pipeline::new(Vec::new(), ContainerResolver::replay(), rules.clone(), Origin::default(), Duration::ZERO, false, model.clone());
    let mut out = Vec::new();
    let emit = |pipeline: &mut Pipeline, out: &mut Vec<u8>| {
        for f in pipeline.take_findings() {
            serde_json::to_writer(&mut *out, &f).expect("a finding serializes");
            out.push(b'\n');
        }
        out.clear();
    };
    let _ = replay::read_lines(data, Path::new("fuzz.jsonl"), |line| match line {
        Line::Event(ev) => {
            pipeline.handle(&ev);
            pipeline.poll(ev.ts_boot_ns, false);
            emit(&mut pipeline, &mut out);
        }
        Line::Container(rec) => pipeline.resolver_mut().apply_record(rec),
        Line::Clock(c) => pipeline.set_clock(c.boot_to_unix_ns, c.boot_id),
    });
    pipeline.poll(0, true);
    emit(&mut pipeline, &mut out);
});
