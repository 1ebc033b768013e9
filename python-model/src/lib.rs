//! shrike's malicious-Python classifier: feature extraction (shared with the trainer, `cargo xtask
//! train-python-model`) and inference.
//!
//! The model is a logistic regression over hashed, L2-normalised binary features of the source
//! (see [`features`]), and, for models of feature version 5, binary behaviour features from a
//! Python parser (see [`behaviour`]); a model records the features it was trained on and is
//! scored with exactly those; the trained weights, the decision threshold and the version live in
//! `rules/python-model.bin`, written by the trainer together with its evaluation report
//! (docs/python-model-evaluation.md). Scoring reads at most [`MAX_SCAN_BYTES`] of the code,
//! accepts any bytes (non-UTF-8, binary) and never panics; [`Model::explain`] lists the features
//! behind a score, for evidence in a finding.
//!
//! ```no_run
//! let model = python_model::Model::load(std::path::Path::new("rules/python-model.bin")).unwrap();
//! let s = model.score(b"import socket,os,pty\n...");
//! if model.is_malicious(s) { /* raise a finding */ }
//! ```

use std::cell::RefCell;
use std::path::Path;

pub mod cases;
pub mod behaviour;
mod features;
mod format;

pub use features::{behaviour_bucket, explain, explain_behaviour, features, features_for, FeatureVec, FEATURE_VERSION, LEXICAL_FEATURE_VERSION, HASH_BITS, MAX_SCAN_BYTES, N_BUCKETS};
pub use format::{encode_model, fnv1a64, fnv1a64_of, FORMAT_VERSION, MAGIC};

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("model file too short: {0} bytes, the header alone is {1}")]
    TooShort(usize, usize),
    #[error("not a shrike Python model: bad magic bytes")]
    BadMagic,
    #[error("model file format version {0} is not supported (this build reads version {1})")]
    UnsupportedFormat(u32, u32),
    #[error("model body length mismatch: header says {declared} bytes, file has {actual} (truncated or padded)")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("model checksum mismatch: header {expected:016x}, body hashes to {actual:016x} (corrupted)")]
    ChecksumMismatch { expected: u64, actual: u64 },
    #[error(
        "model was trained with feature version {model} but this build extracts version {build}: retrain or update"
    )]
    FeatureVersion { model: u32, build: u32 },
    #[error("model uses 2^{model} hash buckets but this build uses 2^{build}")]
    HashBits { model: u32, build: u32 },
    #[error("malformed model body: {0}")]
    Malformed(&'static str),
}

/// A loaded classifier.
#[derive(Clone)]
pub struct Model {
    /// The features the model was trained on ([`FEATURE_VERSION`]).
    feature_version: u32,
    version: String,
    threshold: f32,
    bias: f32,
    /// dense weights, one per hash bucket (dequantised)
    weights: Vec<f32>,
    n_nonzero: usize,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("version", &self.version)
            .field("threshold", &self.threshold)
            .field("bias", &self.bias)
            .field("nonzero_weights", &self.n_nonzero)
            .finish()
    }
}

thread_local! {
    static SCRATCH: RefCell<FeatureVec> = RefCell::new(FeatureVec::new());
}

impl Model {
    /// Parses and validates a model file (magic, format version, length, checksum, feature
    /// version, every weight entry).
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        let d = format::decode(bytes)?;
        let mut weights = vec![0f32; N_BUCKETS];
        for &(i, w) in &d.weights {
            weights[i as usize] = w;
        }
        Ok(Model { feature_version: d.feature_version, version: d.version, threshold: d.threshold, bias: d.bias, n_nonzero: d.weights.len(), weights })
    }

    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let bytes =
            std::fs::read(path).map_err(|source| ModelError::Io { path: path.display().to_string(), source })?;
        Model::from_bytes(&bytes)
    }

    /// Probability-like score in [0, 1] that `code` (Python source, any bytes) is malicious.
    /// Looks at the first [`MAX_SCAN_BYTES`] bytes. Never panics.
    pub fn score(&self, code: &[u8]) -> f32 {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut fv) => {
                let s = self.score_with(code, &mut fv);
                if fv.capacity() > 1 << 18 {
                    *fv = FeatureVec::new(); // do not keep a huge buffer around
                }
                s
            }
            Err(_) => self.score_with(code, &mut FeatureVec::new()),
        })
    }

    /// [`Model::score`] with a caller-provided scratch buffer.
    pub fn score_with(&self, code: &[u8], scratch: &mut FeatureVec) -> f32 {
        features_for(self.feature_version, code, scratch);
        self.score_features(scratch)
    }

    /// Score of already extracted features.
    pub fn score_features(&self, fv: &FeatureVec) -> f32 {
        let mut sum = 0f32;
        for &i in fv.indices() {
            sum += self.weights[i as usize & (N_BUCKETS - 1)];
        }
        let mut behaviour = 0f32;
        for &i in fv.behaviour() {
            behaviour += self.weights[i as usize & (N_BUCKETS - 1)];
        }
        sigmoid(self.bias + sum * fv.value() + behaviour)
    }

    /// Why a score is what it is: the `top` features with the largest contribution to the logit
    /// (name, weight x value), largest magnitude first. Features sharing a hash bucket are listed
    /// together as `a | b`. For evidence in findings and for debugging; slower than [`Model::score`].
    pub fn explain(&self, code: &[u8], top: usize) -> Vec<(String, f32)> {
        let mut fv = FeatureVec::new();
        features_for(self.feature_version, code, &mut fv);
        let value = fv.value();
        let behaviour = if self.feature_version >= 2 { explain_behaviour(code) } else { Vec::new() };
        let mut by_bucket: Vec<(u32, String)> = Vec::new();
        for (b, name) in explain(code) {
            match by_bucket.last_mut() {
                Some((lb, ln)) if *lb == b => {
                    ln.push_str(" | ");
                    ln.push_str(&name);
                }
                _ => by_bucket.push((b, name)),
            }
        }
        let mut v: Vec<(String, f32)> = by_bucket
            .into_iter()
            .map(|(b, n)| (n, self.weights[b as usize] * value))
            .chain(behaviour.into_iter().map(|(b, n)| (n, self.weights[b as usize])))
            .filter(|(_, c)| *c != 0.0)
            .collect();
        v.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
        v.truncate(top);
        v
    }

    /// The feature version the model was trained with: 1 lexical, 5 lexical and behaviour.
    pub fn feature_version(&self) -> u32 {
        self.feature_version
    }

    /// The weight of a hash bucket (0 when pruned or never learnt).
    pub fn weight(&self, bucket: u32) -> f32 {
        self.weights[bucket as usize & (N_BUCKETS - 1)]
    }

    /// The bias (intercept) of the logit.
    pub fn bias(&self) -> f32 {
        self.bias
    }

    /// The verdict for a score: `score >= threshold`.
    pub fn is_malicious(&self, score: f32) -> bool {
        score >= self.threshold
    }

    /// Model version, e.g. `py-lr-2026.11.23-1a2b3c4d`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Decision threshold chosen at training time.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Number of non-zero weights.
    pub fn nonzero_weights(&self) -> usize {
        self.n_nonzero
    }
}

fn sigmoid(z: f32) -> f32 {
    if !z.is_finite() {
        return if z > 0.0 { 1.0 } else { 0.0 };
    }
    let s = 1.0 / (1.0 + (-z).exp());
    s.clamp(0.0, 1.0)
}
