//! The malicious-Python classifier on any bytes a container can hand it (scripts, `-c` code):
//! feature extraction (lexical, and the parser-based behaviour pass), scoring with the embedded model (rules/python-model.bin) and the
//! explanation put into findings; the model-file reader on the same bytes; and the python
//! command-line reader (`-c`, `-m`, script, stdin) on them as argv.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use python_model::{FeatureVec, Model};
use shrike::{detect::python, event::split_argv};

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::from_bytes(python::EMBEDDED_MODEL).expect("the embedded model loads"))
}

fuzz_target!(|data: &[u8]| {
    let m = model();
    let s = m.score(data);
    assert!(s.is_finite() && (0.0..=1.0).contains(&s), "score {s}");
    let mut fv = FeatureVec::new();
    // The features the model was trained on (lexical, or lexical and behaviour) give its score.
    python_model::features_for(m.feature_version(), data, &mut fv);
    assert!(fv.value().is_finite());
    assert_eq!(m.score_features(&fv), s);
    // The parser-based behaviour pass, whatever the embedded model uses.
    let _ = python_model::behaviour::behaviours(data);
    let _ = m.is_malicious(s);
    let _ = m.explain(data, 5);
    let _ = python_model::explain(data);
    let _ = Model::from_bytes(data);
    let (argv, _) = split_argv(data, false);
    let _ = python::code_source(&argv);
});
