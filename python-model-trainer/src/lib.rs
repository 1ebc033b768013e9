//! `cargo xtask train-python-model`: trains shrike's malicious-Python classifier, evaluates it on
//! held-out data and writes rules/python-model.bin, docs/python-model-evaluation.md and the test
//! fixture python-model/tests/expected_scores.tsv.
//!
//! Reproducible: inputs are sorted, splits are hashes of group names, training is single-threaded
//! with a fixed seed, and nothing depends on the clock except the timing section of the report.
//!
//! The malicious registry is LIVE MALWARE: archives are read into memory and decompressed there
//! (flate2 + tar / zip), never unpacked to disk, imported or executed, and none of their content
//! is copied anywhere; only scores and archive/member names reach the report.

mod augment;
mod corpus;
mod learn;
mod metrics;
mod report;
mod sources;
mod stack;
mod synth;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use python_model::{FeatureVec, Model};

use corpus::{RawDoc, Source, Split};
use metrics::Item;

/// Date part of the model version; bump together with any change of the training recipe.
const RECIPE_DATE: &str = "2026.12.06";
const SEED: u64 = 0x5eed_2026_1123;
/// Package-bootstrap resamples of the validation split for the threshold, and the quantile used.
pub const BOOTSTRAP: usize = 1000;
pub const BOOTSTRAP_QUANTILE: f64 = 0.95;
/// The model keeps at most this many non-zero weights.
const MAX_WEIGHTS: usize = 100_000;

/// Training knobs. Defaults are the committed recipe; `SHRIKE_PYMODEL_<NAME>` environment
/// variables override them for experiments (the report lists the values used).
#[derive(Clone, Debug)]
pub struct Recipe {
    pub epochs: usize,
    /// Benign false-positive rate the threshold is chosen for, on the validation split
    /// (package bootstrap, see `robust_threshold`).
    pub target_fpr: f64,
    pub lr: f32,
    pub l2: f32,
    /// Total weight of the malregistry training files, as a fraction of the benign total.
    pub reg_share: f64,
    /// Total weight of the defanged training samples, as a fraction of the benign total.
    pub def_share: f64,
    /// Weight of one hard benign sample (an installed file weighs 1).
    pub hard_weight: f64,
    /// Number of synthetic benign setup.py files (synth.rs) and the weight of each.
    pub synth_setups: usize,
    /// Training uses at most this many payload files of one template cluster.
    pub cluster_cap: usize,
    pub synth_weight: f64,
    /// Weight of a benign `setup.py` (installed or sample): most registry payloads live in a
    /// `setup.py`, while the installed corpus has only a few dozen benign ones, so without this the
    /// model would learn "setup.py = malicious".
    pub setup_weight: f64,
    /// L1 strength; > 0 selects FTRL-Proximal (sparse) instead of AdaGrad.
    pub l1: f32,
    /// FTRL-Proximal beta.
    pub beta: f32,
    /// Train only on registry files that are payload carriers (capability outside library lines).
    pub train_carriers_only: bool,
    /// Use the behaviour features (python-model/src/behaviour.rs) beside the lexical ones.
    pub behaviour: bool,
    /// FTRL L1 strength of the behaviour features.
    pub l1_behaviour: f32,
    /// Weight of one script of the pinned benign sources (an installed file weighs 1).
    pub script_weight: f64,
    /// Registry payload files that only import and bind constants (`corpus::only_imports`) are
    /// weak labels too: not trained on, scored for package recall only.
    pub weak_imports_only: bool,
    /// Train on the pinned benign scripts (split by project like installed files); otherwise
    /// they are all test data.
    pub train_on_scripts: bool,
    /// Renamed variants (augment.rs) made of each training hard benign and defanged sample.
    pub augment: usize,
    /// Weight of one variant, as a fraction of its sample's weight.
    pub augment_weight: f64,
    /// Experiment: number of trees of a gradient-boosted second stage (stack.rs); 0 = none.
    pub stack: usize,
    /// Their depth and learning rate.
    pub stack_depth: usize,
    pub stack_eta: f32,
    /// The second stage's score only grows with the first stage's margin.
    pub stack_monotone: bool,
    /// Weight of an unguarded variant (`augment::unguarded`) of a training file whose entry point
    /// runs under a `__main__` guard; 0 = none made. Hard samples' and defanged samples' variants
    /// weigh like their renamed variants.
    pub unguard: f64,
    pub overridden: Vec<String>,
}

impl Recipe {
    fn from_env() -> Result<Recipe> {
        let mut r = Recipe {
            epochs: 12,
            target_fpr: 0.003,
            lr: 0.3,
            l2: 1e-6,
            reg_share: 0.5,
            def_share: 0.25,
            hard_weight: 20.0,
            setup_weight: 20.0,
            synth_setups: 600,
            cluster_cap: 16,
            synth_weight: 2.0,
            l1: 1.0,
            beta: 1.0,
            train_carriers_only: false,
            behaviour: true,
            l1_behaviour: 8.0,
            script_weight: 4.0,
            train_on_scripts: true,
            weak_imports_only: false,
            augment: 8,
            augment_weight: 1.0,
            stack: 0,
            stack_depth: 4,
            stack_eta: 0.1,
            stack_monotone: true,
            unguard: 16.0,
            overridden: Vec::new(),
        };
        fn knob<T: std::str::FromStr>(name: &str, v: &mut T, over: &mut Vec<String>) -> Result<()> {
            let key = format!("SHRIKE_PYMODEL_{name}");
            if let Ok(s) = std::env::var(&key) {
                *v = s.parse().map_err(|_| anyhow::anyhow!("{key}={s} does not parse"))?;
                over.push(format!("{key}={s}"));
            }
            Ok(())
        }
        let mut o = Vec::new();
        knob("EPOCHS", &mut r.epochs, &mut o)?;
        knob("TARGET_FPR", &mut r.target_fpr, &mut o)?;
        knob("LR", &mut r.lr, &mut o)?;
        knob("L2", &mut r.l2, &mut o)?;
        knob("REG_SHARE", &mut r.reg_share, &mut o)?;
        knob("DEF_SHARE", &mut r.def_share, &mut o)?;
        knob("HARD_WEIGHT", &mut r.hard_weight, &mut o)?;
        knob("L1", &mut r.l1, &mut o)?;
        knob("SETUP_WEIGHT", &mut r.setup_weight, &mut o)?;
        knob("SYNTH_SETUPS", &mut r.synth_setups, &mut o)?;
        knob("CLUSTER_CAP", &mut r.cluster_cap, &mut o)?;
        knob("SYNTH_WEIGHT", &mut r.synth_weight, &mut o)?;
        knob("BETA", &mut r.beta, &mut o)?;
        knob("TRAIN_CARRIERS_ONLY", &mut r.train_carriers_only, &mut o)?;
        knob("BEHAVIOUR", &mut r.behaviour, &mut o)?;
        knob("L1_BEHAVIOUR", &mut r.l1_behaviour, &mut o)?;
        knob("SCRIPT_WEIGHT", &mut r.script_weight, &mut o)?;
        knob("TRAIN_ON_SCRIPTS", &mut r.train_on_scripts, &mut o)?;
        knob("WEAK_IMPORTS_ONLY", &mut r.weak_imports_only, &mut o)?;
        knob("AUGMENT", &mut r.augment, &mut o)?;
        knob("AUGMENT_WEIGHT", &mut r.augment_weight, &mut o)?;
        knob("STACK", &mut r.stack, &mut o)?;
        knob("STACK_DEPTH", &mut r.stack_depth, &mut o)?;
        knob("STACK_ETA", &mut r.stack_eta, &mut o)?;
        knob("STACK_MONOTONE", &mut r.stack_monotone, &mut o)?;
        knob("UNGUARD", &mut r.unguard, &mut o)?;
        r.overridden = o;
        Ok(r)
    }
}

pub struct Doc {
    pub raw: RawDoc,
    pub split: Split,
    pub fv: FeatureVec,
    /// Training weight (0 = not trained on).
    pub weight: f64,
    pub score: f32,
    /// Payload carrier: true unless this is a registry file whose every capability-bearing line
    /// is verbatim installed library code, or that has no capability word at all (an evaluation
    /// view, see the report; training uses it only under `train_carriers_only`).
    pub carrier: bool,
}

impl Doc {
    pub fn malicious(&self) -> bool {
        self.raw.source.malicious()
    }
}

/// A held-out registry file the model missed, described without its content.
pub struct Miss {
    pub name: String,
    pub score: f32,
    /// Substantive lines, and how many of them occur verbatim in some installed file.
    pub lines: usize,
    pub known: usize,
    /// Capability words found ([`corpus::capabilities`]).
    pub capabilities: Vec<&'static str>,
    /// Of those, the ones on lines that are not verbatim installed library code.
    pub novel: Vec<&'static str>,
}

/// Everything the report needs.
pub struct Outcome {
    pub recipe: Recipe,
    pub docs: Vec<Doc>,
    /// Malregistry payload files without an indicator (scored for package-level recall only).
    pub weak: Vec<Doc>,
    /// Held-out malregistry files the model missed.
    pub misses: Vec<Miss>,
    pub packages: Vec<corpus::MalPackage>,
    /// Other Python files of held-out packages scored for the package view.
    pub others_scored: usize,
    pub installed: corpus::InstalledStats,
    /// What was read from the pinned benign script sources.
    pub scripts: sources::SourcesStats,
    pub mal: corpus::MalStats,
    pub mal_dropped_benign_dupes: usize,
    pub mal_cross_split: usize,
    pub model: Model,
    pub model_bytes: usize,
    pub threshold: f32,
    pub epoch_log: Vec<(usize, f64, f64)>,
    pub timing_us: Vec<f64>,
    /// Scoring times of 256 KiB scripts, wall clock.
    pub timing_256k_us: Vec<f64>,
    /// The same scorings' CPU time on the scoring thread (what they cost one core, less any
    /// time other work preempted them).
    pub timing_256k_cpu_us: Vec<f64>,
    pub timing_bytes: usize,
    pub score_mismatches: usize,
    pub cases: Vec<(String, String, f32, bool)>,
    pub val_threshold_fp: usize,
    /// The threshold at exactly the recipe's target FPR on the validation files (before the bootstrap).
    pub plain_threshold: f32,
    pub val_benign: usize,
    pub train_seconds: f64,
    pub total_seconds: f64,
}

fn log(msg: impl AsRef<str>) {
    eprintln!("train-python-model: {}", msg.as_ref());
}

/// Train and evaluate; write the model and the report.
pub fn run(root: &Path, malregistry: &Path, model_path: &Path, report: &Path) -> anyhow::Result<()> {
    // The dev profile leaves workspace crates unoptimised: training and the timing numbers of
    // the report must come from an optimised build (the agent ships one), so re-run under
    // --release.
    if cfg!(debug_assertions) && std::env::var_os("SHRIKE_PYMODEL_NO_REEXEC").is_none() {
        log("re-running under --release (optimised feature extraction, training and timing)");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .current_dir(root)
            .args(["run", "--quiet", "--release", "--package", "xtask", "--", "train-python-model", "--malregistry"])
            .arg(malregistry)
            .env("SHRIKE_PYMODEL_NO_REEXEC", "1")
            .status()
            .context("running cargo")?;
        if !status.success() {
            bail!("train-python-model (release) failed: {status}");
        }
        return Ok(());
    }
    let t0 = Instant::now();
    let recipe = Recipe::from_env()?;
    if !malregistry.join("manifest.tsv").is_file() {
        bail!("{} has no manifest.tsv: pass --malregistry DIR (the pypi-malregistry data set)", malregistry.display());
    }

    // ------------------------------------------------------------------ load
    log("reading installed Python files");
    let (installed_docs, installed) = corpus::load_installed()?;
    log(format!("  {} paths, {} unique contents", installed.paths, installed.unique));
    log("reading malregistry payload members (in memory)");
    let (mut mal_docs, packages, mal) = corpus::load_malregistry(malregistry)?;
    if recipe.weak_imports_only {
        for d in mal_docs.iter_mut().filter(|d| !d.weak) {
            d.weak = corpus::only_imports(&d.bytes);
        }
    }
    log(format!("  {} packages, {} unique non-empty payload files", mal.packages, mal_docs.len()));
    let benign_samples = corpus::load_samples(root, "benign", Source::BenignSample)?;
    let defanged = corpus::load_samples(root, "malicious", Source::Defanged)?;
    log(format!("  {} hard benign samples, {} defanged malicious samples", benign_samples.len(), defanged.len()));

    log("reading the pinned benign script sources (training/python/benign-sources.tsv)");
    let known: HashSet<(u64, usize)> = installed_docs.iter().chain(&benign_samples).map(|d| corpus::content_key(&d.bytes)).collect();
    let (script_docs, script_stats) =
        sources::load(&root.join("training/python/benign-sources.tsv"), &sources::cache_dir(root), &known)?;
    log(format!(
        "  {} artifacts ({} Debian, {} PyPI): {} script files and {} `python -c` bodies ({} over the per-project caps, {} duplicates)",
        script_stats.artifacts,
        script_stats.debian,
        script_stats.pypi,
        script_stats.files,
        script_stats.one_liners,
        script_stats.capped,
        script_stats.duplicates
    ));

    // malicious contents that are byte-identical to a benign file are not malicious evidence
    let benign_keys: HashSet<(u64, usize)> =
        installed_docs.iter().chain(&benign_samples).chain(&script_docs).map(|d| corpus::content_key(&d.bytes)).collect();
    let mut mal_dropped_benign_dupes = 0;
    let mal_docs: Vec<RawDoc> = mal_docs
        .into_iter()
        .filter(|d| {
            let dup = benign_keys.contains(&corpus::content_key(&d.bytes));
            mal_dropped_benign_dupes += dup as usize;
            !dup
        })
        .collect();

    // ------------------------------------------------------------------ split
    let mut mal_cross_split = 0;
    let cluster_split = |c: &str| split_of(corpus::bucket100("cluster", c), 60, 80);
    let mut raw: Vec<(RawDoc, Split)> = Vec::new();
    for d in installed_docs {
        let s = split_of(corpus::bucket100("benign", &d.group), 70, 85);
        raw.push((d, s));
    }
    for d in script_docs {
        let s = if recipe.train_on_scripts { split_of(corpus::bucket100("benign", &d.group), 70, 85) } else { Split::Test };
        raw.push((d, s));
    }
    for d in mal_docs {
        let mut s = cluster_split(&d.group);
        // the same file in clusters of different splits: train only, never evaluated
        if d.all_groups.iter().any(|g| cluster_split(g) != s) {
            mal_cross_split += 1;
            s = Split::Train;
        }
        raw.push((d, s));
    }
    for samples in [benign_samples, defanged] {
        // within each family: every fifth file (in hash order) to test, the next to validation
        let mut fam: BTreeMap<String, Vec<RawDoc>> = BTreeMap::new();
        for d in samples {
            fam.entry(d.group.clone()).or_default().push(d);
        }
        for (_, mut v) in fam {
            v.sort_by_key(|d| (corpus::bucket100("sample", &d.name), d.name.clone()));
            for (k, d) in v.into_iter().enumerate() {
                let s = match k % 5 {
                    0 => Split::Test,
                    1 => Split::Val,
                    _ => Split::Train,
                };
                raw.push((d, s));
            }
        }
    }

    // renamed variants of the training samples (augment.rs)
    let mut variants = Vec::new();
    for (d, _) in raw.iter().filter(|(d, s)| *s == Split::Train && matches!(d.source, Source::BenignSample | Source::Defanged)) {
        for (k, bytes) in augment::variants(&d.bytes, recipe.augment, SEED ^ corpus::content_key(&d.bytes).0).into_iter().enumerate() {
            variants.push((d.variant(&format!("variant{k}"), bytes), Split::Train));
        }
    }
    raw.extend(variants);

    // the same scripts with their entry point run at import time (augment::unguarded)
    if recipe.unguard > 0.0 {
        let mut unguarded = Vec::new();
        for (d, _) in raw.iter().filter(|(d, s)| {
            *s == Split::Train
                && matches!(d.source, Source::Installed | Source::Scripts | Source::BenignSample | Source::Defanged)
                && !is_setup_py(d)
        }) {
            if let Some(bytes) = augment::unguarded(&d.bytes) {
                unguarded.push((d.variant("unguarded", bytes), Split::Train));
            }
        }
        log(format!("unguarded variants: {}", unguarded.len()));
        raw.extend(unguarded);
    }

    for (k, text) in synth::setup_files(recipe.synth_setups, SEED).into_iter().enumerate() {
        let d = RawDoc {
            source: Source::SyntheticSetup,
            name: format!("synthetic/setup-{k:04}.py"),
            group: "synthetic".into(),
            paths: 1,
            all_groups: Vec::new(),
            weak: false,
            bytes: text.into_bytes(),
        };
        raw.push((d, Split::Train));
    }

    // ------------------------------------------------------------------ features
    log(format!("extracting features of {} documents", raw.len()));
    let fvs = extract_all(&raw, if recipe.behaviour { python_model::FEATURE_VERSION } else { python_model::LEXICAL_FEATURE_VERSION });
    let (mut docs, mut weak): (Vec<Doc>, Vec<Doc>) = raw
        .into_iter()
        .zip(fvs)
        .map(|((raw, split), fv)| Doc { raw, split, fv, weight: 0.0, score: 0.0, carrier: true })
        .partition(|d| !d.raw.weak);

    // how much of each registry file is verbatim installed library code (carrier view, misses)
    let library = corpus::LibraryLines::new(
        docs.iter().filter(|d| d.raw.source == Source::Installed).map(|d| d.raw.bytes.as_slice()),
    );
    for d in docs.iter_mut().filter(|d| d.raw.source == Source::Malregistry) {
        d.carrier = !library.novel_capabilities(&d.raw.bytes).is_empty();
    }

    // ------------------------------------------------------------------ training weights
    let mut by_cluster: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, d) in docs.iter_mut().enumerate() {
        if d.split != Split::Train {
            continue;
        }
        let setup = is_setup_py(&d.raw);
        match d.raw.source {
            Source::Installed if setup => d.weight = recipe.setup_weight,
            Source::Installed => d.weight = 1.0,
            Source::BenignSample if setup => d.weight = recipe.setup_weight.max(recipe.hard_weight),
            Source::BenignSample => d.weight = recipe.hard_weight,
            Source::Malregistry if recipe.train_carriers_only && !d.carrier => {}
            Source::Malregistry => by_cluster.entry(d.raw.group.clone()).or_default().push(i),
            Source::Defanged => d.weight = 1.0,
            Source::BenignVariant if setup => d.weight = recipe.augment_weight * recipe.setup_weight.max(recipe.hard_weight),
            Source::BenignVariant => d.weight = recipe.augment_weight * recipe.hard_weight,
            Source::DefangedVariant => d.weight = recipe.augment_weight,
            Source::Unguarded => d.weight = recipe.unguard,
            Source::SyntheticSetup => d.weight = recipe.synth_weight,
            Source::Scripts if setup => d.weight = recipe.setup_weight,
            Source::Scripts => d.weight = recipe.script_weight,
        }
    }
    let benign_total: f64 = docs.iter().filter(|d| !d.malicious()).map(|d| d.weight).sum();
    let mut reg_raw_total = 0.0;
    for (_, mut v) in by_cluster {
        v.sort_by_key(|&i| (corpus::content_key(&docs[i].raw.bytes), i));
        v.truncate(recipe.cluster_cap);
        let w = 1.0 / (v.len() as f64).sqrt();
        for i in v {
            docs[i].weight = w;
            reg_raw_total += w;
        }
    }
    let def_raw_total: f64 =
        docs.iter().filter(|d| d.split == Split::Train && matches!(d.raw.source, Source::Defanged | Source::DefangedVariant)).map(|d| d.weight).sum();
    for d in docs.iter_mut().filter(|d| d.split == Split::Train) {
        match d.raw.source {
            Source::Malregistry if reg_raw_total > 0.0 => d.weight *= recipe.reg_share * benign_total / reg_raw_total,
            Source::Defanged | Source::DefangedVariant if def_raw_total > 0.0 => d.weight *= recipe.def_share * benign_total / def_raw_total,
            _ => {}
        }
    }

    let train_weight = |malicious: bool, setup_only: bool| -> f64 {
        docs.iter()
            .filter(|d| d.split == Split::Train && d.malicious() == malicious && (!setup_only || is_setup_py(&d.raw)))
            .map(|d| d.weight)
            .sum()
    };
    log(format!(
        "training weight: benign {:.0} (setup.py {:.0}), malicious {:.0} (setup.py {:.0})",
        benign_total,
        train_weight(false, true),
        train_weight(true, false),
        train_weight(true, true)
    ));

    // ------------------------------------------------------------------ train
    let examples: Vec<learn::Example> = docs
        .iter()
        .filter(|d| d.weight > 0.0)
        .map(|d| learn::Example {
            idx: d.fv.indices(),
            value: d.fv.value(),
            beh: d.fv.behaviour(),
            y: if d.malicious() { 1.0 } else { 0.0 },
            weight: d.weight as f32,
        })
        .collect();
    log(format!("training on {} examples ({:?})", examples.len(), recipe));
    let params = learn::Params {
        epochs: recipe.epochs,
        lr: recipe.lr,
        l2: recipe.l2,
        seed: SEED,
        max_step_weight: 4.0,
        l1: recipe.l1,
        beta: recipe.beta,
        l1_behaviour: recipe.l1_behaviour,
    };
    let val: Vec<usize> = (0..docs.len()).filter(|&i| docs[i].split == Split::Val).collect();
    let sizes = cluster_sizes(&docs);
    let mut epoch_log = Vec::new();
    let t_train = Instant::now();
    let trained = learn::train(&examples, &params, |epoch, t| {
        let items: Vec<Item> = val
            .iter()
            .map(|&i| {
                let d = &docs[i];
                let z = t.margin(&d.fv);
                Item { score: 1.0 / (1.0 + (-z).exp()), malicious: d.malicious(), weight: eval_weight(d, &sizes) }
            })
            .collect();
        let auc = metrics::auc(&items);
        let (_, rec) = metrics::recall_at_fpr(&items, recipe.target_fpr);
        log(format!(
            "  epoch {}: validation AUC {auc:.5}, recall at {}% FPR {rec:.4}",
            epoch + 1,
            recipe.target_fpr * 100.0
        ));
        epoch_log.push((epoch + 1, auc, rec));
    });
    let train_seconds = t_train.elapsed().as_secs_f64();
    let stage2 = if recipe.stack > 0 {
        let trained_docs: Vec<usize> = (0..docs.len()).filter(|&i| docs[i].weight > 0.0).collect();
        let fold: Vec<u64> = trained_docs
            .iter()
            .map(|&i| {
                let d = &docs[i];
                let key = match d.raw.source {
                    Source::Installed | Source::Scripts | Source::Malregistry => d.raw.group.clone(),
                    _ => d.raw.name.split('~').next().unwrap_or("").to_string(),
                };
                corpus::bucket100("fold", &key) % stack::FOLDS
            })
            .collect();
        let fvs: Vec<&FeatureVec> = trained_docs.iter().map(|&i| &docs[i].fv).collect();
        log(format!("stacking: out-of-fold margins ({} folds)", stack::FOLDS));
        let oof = stack::out_of_fold(&examples, &fold, &fvs, &params);
        let columns = stack::Columns::new();
        let rows: Vec<Vec<f64>> = trained_docs.iter().zip(&oof).map(|(&i, &m)| columns.row(m, &docs[i].fv)).collect();
        let y: Vec<f64> = trained_docs.iter().map(|&i| if docs[i].malicious() { 1.0 } else { 0.0 }).collect();
        let w: Vec<f64> = trained_docs.iter().map(|&i| docs[i].weight).collect();
        for line in stack::fact_weights(&columns, &rows, &y, &w) {
            log(format!("  {line}"));
        }
        let s2 = stack::Stage2::fit(
            &rows,
            &y,
            &w,
            stack::Knobs { trees: recipe.stack, depth: recipe.stack_depth, eta: recipe.stack_eta, monotone: recipe.stack_monotone },
            columns,
        )?;
        log(format!("stacking: second stage has {} trees", s2.trees()));
        Some(s2)
    } else {
        None
    };
    drop(examples);
    // the stacked score of feature vectors (experiment), from the full first stage
    let stacked = |fvs: &[&FeatureVec]| -> Vec<f32> {
        let s2 = stage2.as_ref().expect("stacking");
        let rows: Vec<Vec<f64>> = fvs.iter().map(|fv| s2.columns.row(trained.margin(fv), fv)).collect();
        s2.score(&rows)
    };
    if stage2.is_some() {
        // the same validation view as the epoch log above, for the second stage
        let fvs: Vec<&FeatureVec> = val.iter().map(|&i| &docs[i].fv).collect();
        let items: Vec<Item> = val
            .iter()
            .zip(stacked(&fvs))
            .map(|(&i, score)| Item { score, malicious: docs[i].malicious(), weight: eval_weight(&docs[i], &sizes) })
            .collect();
        let (_, rec) = metrics::recall_at_fpr(&items, recipe.target_fpr);
        log(format!(
            "stacking: second stage validation AUC {:.5}, recall at {}% FPR {rec:.4}",
            metrics::auc(&items),
            recipe.target_fpr * 100.0
        ));
    }

    // ------------------------------------------------------------------ threshold, encode
    let weights = learn::prune(&trained.weights, MAX_WEIGHTS);
    let feature_version = if recipe.behaviour { python_model::FEATURE_VERSION } else { python_model::LEXICAL_FEATURE_VERSION };
    let unthresholded = python_model::encode_model(feature_version, "tmp", 0.5, trained.bias, &weights);
    let m0 = Model::from_bytes(&unthresholded).context("decoding the freshly encoded model")?;
    let val_benign_docs: Vec<usize> = val.iter().copied().filter(|&i| !docs[i].malicious()).collect();
    // the threshold is for the scores the evaluation reports: the experiment's second stage, if any
    let val_benign: Vec<f32> = if stage2.is_some() {
        stacked(&val_benign_docs.iter().map(|&i| &docs[i].fv).collect::<Vec<_>>())
    } else {
        val_benign_docs.iter().map(|&i| m0.score_features(&docs[i].fv)).collect()
    };
    let mut val_groups: BTreeMap<String, Vec<f32>> = BTreeMap::new();
    for (&i, &score) in val_benign_docs.iter().zip(&val_benign) {
        let d = &docs[i];
        // hand-written samples: each file its own group
        let g = if d.raw.source == Source::Installed { d.raw.group.clone() } else { d.raw.name.clone() };
        val_groups.entry(g).or_default().push(score);
    }
    let (threshold, plain_threshold) = robust_threshold(&val_groups, recipe.target_fpr);
    let val_threshold_fp = val_benign.iter().filter(|&&s| s >= threshold).count();
    let bytes = python_model::encode_model(feature_version, &format!("py-lr-{RECIPE_DATE}"), threshold, trained.bias, &weights);
    let model = Model::from_bytes(&bytes).context("decoding the encoded model")?;
    // an experiment's second stage is not in the model file: leave the shipped one alone
    if stage2.is_none() {
        write(model_path, &bytes)?;
    }
    log(format!(
        "model {} ({} bytes, {} weights, threshold {threshold})",
        model.version(),
        bytes.len(),
        model.nonzero_weights()
    ));

    // every score below comes from the decoded model, exactly as the agent computes it
    for d in docs.iter_mut().chain(weak.iter_mut()) {
        d.score = model.score_features(&d.fv);
    }
    if stage2.is_some() {
        let fvs: Vec<&FeatureVec> = docs.iter().chain(weak.iter()).map(|d| &d.fv).collect();
        let scores = stacked(&fvs);
        for (d, s) in docs.iter_mut().chain(weak.iter_mut()).zip(scores) {
            d.score = s;
        }
    }

    // the package view: every other Python file of a held-out package, as `shrike scan` of the
    // unpacked package would judge it (files byte-identical to a benign file left out)
    let mut packages = packages;
    let mut others_scored = 0;
    for p in packages.iter_mut() {
        let others = std::mem::take(&mut p.others);
        if cluster_split(&p.cluster) != Split::Test {
            continue;
        }
        for (name, bytes) in others {
            if benign_keys.contains(&corpus::content_key(&bytes)) {
                continue;
            }
            others_scored += 1;
            let s = if stage2.is_some() {
                let mut fv = FeatureVec::new();
                python_model::features_for(feature_version, &bytes, &mut fv);
                stacked(&[&fv])[0]
            } else {
                model.score(&bytes)
            };
            if p.best_other.as_ref().is_none_or(|b| s > b.0) {
                p.best_other = Some((s, format!("{}!{name}", p.archive)));
            }
        }
    }

    if let Some(path) = std::env::var_os("SHRIKE_PYMODEL_DUMP") {
        dump(Path::new(&path), &docs, &weak, &packages)?;
    }

    // held-out misses, for the report: how much of each is verbatim installed library code
    let mut misses: Vec<Miss> = docs
        .iter()
        .filter(|d| d.split == Split::Test && d.raw.source == Source::Malregistry && d.score < threshold)
        .map(|d| {
            let (lines, known) = library.overlap(&d.raw.bytes);
            Miss {
                name: d.raw.name.clone(),
                score: d.score,
                lines,
                known,
                capabilities: corpus::capabilities(&d.raw.bytes),
                novel: library.novel_capabilities(&d.raw.bytes),
            }
        })
        .collect();
    // the misses that carry a capability outside library lines first
    misses.sort_by(|a, b| {
        (a.novel.is_empty(), a.capabilities.is_empty(), &a.name).cmp(&(b.novel.is_empty(), b.capabilities.is_empty(), &b.name))
    });
    drop(library);

    // ------------------------------------------------------------------ timing (installed corpus)
    log("timing inference over the installed corpus");
    let mut timing_us = Vec::new();
    let mut timing_bytes = 0;
    let mut score_mismatches = 0;
    for d in docs.iter().filter(|d| d.raw.source == Source::Installed) {
        let t = Instant::now();
        let s = model.score(&d.raw.bytes);
        timing_us.push(t.elapsed().as_secs_f64() * 1e6);
        timing_bytes += d.raw.bytes.len();
        if s != d.score && stage2.is_none() {
            score_mismatches += 1;
        }
    }
    timing_us.sort_by(|a, b| a.total_cmp(b));
    // 256 KiB scripts: installed files joined in corpus order, cut at exactly the model's window,
    // each scored 5 times.
    let mut timing_256k_us = Vec::new();
    let mut timing_256k_cpu_us = Vec::new();
    let mut script = Vec::with_capacity(python_model::MAX_SCAN_BYTES);
    for d in docs.iter().filter(|d| d.raw.source == Source::Installed) {
        script.extend_from_slice(&d.raw.bytes);
        script.push(b'\n');
        if script.len() >= python_model::MAX_SCAN_BYTES {
            script.truncate(python_model::MAX_SCAN_BYTES);
            for _ in 0..5 {
                let (t, c) = (Instant::now(), thread_cpu_us());
                std::hint::black_box(model.score(&script));
                timing_256k_us.push(t.elapsed().as_secs_f64() * 1e6);
                timing_256k_cpu_us.push(thread_cpu_us() - c);
            }
            script.clear();
            if timing_256k_us.len() >= 500 {
                break;
            }
        }
    }
    timing_256k_us.sort_by(|a, b| a.total_cmp(b));
    timing_256k_cpu_us.sort_by(|a, b| a.total_cmp(b));

    // ------------------------------------------------------------------ fixture
    let cases = fixture(root, &model, stage2.is_none())?;

    let outcome = Outcome {
        recipe,
        docs,
        weak,
        misses,
        packages,
        others_scored,
        installed,
        scripts: script_stats,
        mal,
        mal_dropped_benign_dupes,
        mal_cross_split,
        model,
        model_bytes: bytes.len(),
        threshold,
        epoch_log,
        timing_us,
        timing_256k_us,
        timing_256k_cpu_us,
        timing_bytes,
        score_mismatches,
        cases,
        val_threshold_fp,
        val_benign: val_benign.len(),
        plain_threshold,
        train_seconds,
        total_seconds: t0.elapsed().as_secs_f64(),
    };
    let text = report::render(&outcome);
    write(report, text.as_bytes())?;
    if stage2.is_some() {
        log(format!("wrote {} (experiment: {} left as it was)", report.display(), model_path.display()));
    } else {
        log(format!("wrote {} and {}", model_path.display(), report.display()));
    }
    if outcome.score_mismatches > 0 {
        bail!("{} files scored differently from raw bytes than from stored features", outcome.score_mismatches);
    }
    Ok(())
}

/// Every scored document and every registry package, for analysis outside the trainer
/// (`SHRIKE_PYMODEL_DUMP=FILE`): `doc` rows (split, source, group, weak, score, content key,
/// name) and `pkg` rows (cluster, member content keys, best other file's score or -1, archive).
/// Names and scores only, no content.
fn dump(path: &Path, docs: &[Doc], weak: &[Doc], packages: &[corpus::MalPackage]) -> Result<()> {
    use std::fmt::Write as _;
    let mut s = String::new();
    for d in docs.iter().chain(weak) {
        let (h, n) = corpus::content_key(&d.raw.bytes);
        let _ = writeln!(
            s,
            "doc\t{:?}\t{:?}\t{}\t{}\t{}\t{h:x}:{n}\t{}",
            d.split, d.raw.source, d.raw.group, d.raw.weak, d.score, d.raw.name
        );
    }
    for p in packages {
        let keys: Vec<String> = p.members.iter().map(|(h, n)| format!("{h:x}:{n}")).collect();
        let other = p.best_other.as_ref().map_or(-1.0, |x| x.0);
        let _ = writeln!(s, "pkg\t{}\t{}\t{other}\t{}", p.cluster, keys.join(","), p.archive);
    }
    write(path, s.as_bytes())
}

/// Robust threshold: the target-FPR threshold of the benign validation files varies a lot with
/// which packages happen to be in the split (files of one package are alike, so a single unusual
/// package moves it). Resample the validation packages with replacement `BOOTSTRAP` times, take
/// the target-FPR threshold of each resample, and use the `BOOTSTRAP_QUANTILE` quantile of those:
/// a threshold that keeps the FPR at target for most plausible package mixes, not just this one.
fn robust_threshold(groups: &BTreeMap<String, Vec<f32>>, target_fpr: f64) -> (f32, f32) {
    let plain: Vec<f32> = groups.values().flatten().copied().collect();
    let base = metrics::threshold_for_fpr(&plain, target_fpr);
    let keys: Vec<&Vec<f32>> = groups.values().collect();
    let mut rng = SEED ^ 0xb007;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut ts: Vec<f32> = (0..BOOTSTRAP)
        .map(|_| {
            let mut sample = Vec::with_capacity(plain.len());
            for _ in 0..keys.len() {
                sample.extend_from_slice(keys[(next() % keys.len() as u64) as usize]);
            }
            metrics::threshold_for_fpr(&sample, target_fpr)
        })
        .collect();
    ts.sort_by(|a, b| a.total_cmp(b));
    let q = ts[((ts.len() - 1) as f64 * BOOTSTRAP_QUANTILE).round() as usize];
    (q.max(base), base)
}

/// A `setup.py` (installed, pinned script or registry payload member), a synthetic one, or a
/// sample of the `setup` family.
pub fn is_setup_py(d: &RawDoc) -> bool {
    match d.source {
        Source::Installed | Source::Scripts => d.name.ends_with("/setup.py"),
        Source::Malregistry => d.name.ends_with("/setup.py") || d.name.ends_with("!setup.py"),
        Source::SyntheticSetup => true,
        Source::BenignSample | Source::BenignVariant => d.group == "setup",
        _ => false,
    }
}

fn split_of(bucket: u64, train_below: u64, val_below: u64) -> Split {
    if bucket < train_below {
        Split::Train
    } else if bucket < val_below {
        Split::Val
    } else {
        Split::Test
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Features of every document, on two threads; the result is in input order.
fn extract_all(raw: &[(RawDoc, Split)], version: u32) -> Vec<FeatureVec> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 2);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<Vec<(usize, FeatureVec)>> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    let mut fv = FeatureVec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= raw.len() {
                            break;
                        }
                        python_model::features_for(version, &raw[i].0.bytes, &mut fv);
                        out.push((i, fv.clone()));
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            parts.push(h.join().expect("feature thread panicked"));
        }
    });
    let mut all: Vec<(usize, FeatureVec)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|x| x.0);
    all.into_iter().map(|x| x.1).collect()
}

/// Number of evaluated malregistry files per template cluster.
pub fn cluster_sizes(docs: &[Doc]) -> HashMap<String, usize> {
    let mut m: HashMap<String, usize> = HashMap::new();
    for d in docs.iter().filter(|d| d.raw.source == Source::Malregistry) {
        *m.entry(d.raw.group.clone()).or_default() += 1;
    }
    m
}

/// Evaluation weight: a malregistry file weighs 1/(files of its cluster), so that every campaign
/// counts once; everything else weighs 1.
pub fn eval_weight(d: &Doc, sizes: &HashMap<String, usize>) -> f64 {
    if d.raw.source == Source::Malregistry {
        1.0 / *sizes.get(&d.raw.group).unwrap_or(&1) as f64
    } else {
        1.0
    }
}

/// python-model/tests/cases.tsv (hand-written: id, expected verdict, `file` + repo-relative path
/// or `code` + escaped source) → python-model/tests/expected_scores.tsv (id, score).
/// Returns (id, expected, score, verdict matches); writes the fixture file only with
/// `write_expected` (an experiment's scores are not the model file's).
fn fixture(root: &Path, model: &Model, write_expected: bool) -> Result<Vec<(String, String, f32, bool)>> {
    let cases_path = root.join("python-model/tests/cases.tsv");
    let text = std::fs::read_to_string(&cases_path).with_context(|| format!("reading {}", cases_path.display()))?;
    let cases = python_model::cases::parse(&text, root).map_err(|e| anyhow::anyhow!("{}: {e}", cases_path.display()))?;
    let mut out = Vec::new();
    let mut tsv = String::from("# generated by `cargo xtask train-python-model` from cases.tsv; do not edit\n");
    tsv.push_str(&format!("# model\t{}\n", model.version()));
    for c in cases {
        let score = model.score(&c.code);
        let ok = model.is_malicious(score) == c.malicious;
        let expected = if c.malicious { "malicious" } else { "benign" };
        if !ok {
            log(format!("WARNING: fixture case {} expected {expected}, scored {score}", c.id));
        }
        tsv.push_str(&format!("{}\t{score:.6}\n", c.id));
        out.push((c.id, expected.to_string(), score, ok));
    }
    if write_expected {
        write(&root.join("python-model/tests/expected_scores.tsv"), tsv.as_bytes())?;
    }
    Ok(out)
}


/// CPU time of the calling thread in µs (`CLOCK_THREAD_CPUTIME_ID`, ns resolution): what a
/// computation costs the core it runs on, without the time other processes held that core.
fn thread_cpu_us() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec, which `ts` is.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0, "CLOCK_THREAD_CPUTIME_ID is always there on Linux");
    ts.tv_sec as f64 * 1e6 + ts.tv_nsec as f64 / 1e3
}
