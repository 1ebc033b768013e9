//! Experiment (`SHRIKE_PYMODEL_STACK=TREES`): a gradient-boosted second stage over the logistic
//! regression's margin and the behaviour facts, so that conjunctions of facts (an install hook
//! that runs a process *and* downloads, a rc-file write *and* a send) can weigh differently from
//! their sum. The first stage's margin of a training file comes from a model that did not see
//! its group (K-fold by project, template cluster or sample), otherwise the second stage would
//! learn to trust a margin that is overfit on exactly its training data.

use std::collections::HashMap;

use forust_ml::constraints::Constraint;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use python_model::FeatureVec;

use crate::learn::{self, Example, Params};

pub const FOLDS: u64 = 3;

/// The dense row of one file: LR margin, then one 0/1 column per behaviour fact.
pub struct Columns {
    fact_col: HashMap<u32, usize>,
    pub names: Vec<String>,
}

impl Columns {
    pub fn new() -> Columns {
        let mut names = vec!["lr_margin".to_string()];
        let mut fact_col = HashMap::new();
        for f in python_model::behaviour::all_facts() {
            fact_col.insert(python_model::behaviour_bucket(&f), names.len());
            names.push(format!("beh:{f}"));
        }
        Columns { fact_col, names }
    }

    pub fn row(&self, margin: f32, fv: &FeatureVec) -> Vec<f64> {
        let mut out = vec![0f64; self.names.len()];
        out[0] = margin as f64;
        for b in fv.behaviour() {
            if let Some(&c) = self.fact_col.get(b) {
                out[c] = 1.0;
            }
        }
        out
    }
}

/// Out-of-fold margins: `fold[i]` in `0..FOLDS` of every example; the margin of example `i`
/// comes from a model trained on the other folds.
pub fn out_of_fold(examples: &[Example], fold: &[u64], fvs: &[&FeatureVec], p: &Params) -> Vec<f32> {
    let mut out = vec![0f32; examples.len()];
    for k in 0..FOLDS {
        let part: Vec<Example> = examples.iter().zip(fold).filter(|(_, &f)| f != k).map(|(e, _)| *e).collect();
        let t = learn::train(&part, p, |_, _| {});
        for i in (0..examples.len()).filter(|&i| fold[i] == k) {
            out[i] = t.margin(fvs[i]);
        }
    }
    out
}

/// The second stage's knobs (`SHRIKE_PYMODEL_STACK*`).
#[derive(Clone, Copy, Debug)]
pub struct Knobs {
    pub trees: usize,
    pub depth: usize,
    pub eta: f32,
    /// The score only grows with the first stage's margin.
    pub monotone: bool,
}

pub struct Stage2 {
    booster: GradientBooster,
    pub columns: Columns,
}

fn column_major(rows: &[Vec<f64>], ncols: usize) -> Vec<f64> {
    let mut data = vec![0f64; rows.len() * ncols];
    for (i, r) in rows.iter().enumerate() {
        for c in 0..ncols {
            data[c * rows.len() + i] = r[c];
        }
    }
    data
}

impl Stage2 {
    pub fn fit(rows: &[Vec<f64>], y: &[f64], w: &[f64], k: Knobs, columns: Columns) -> anyhow::Result<Stage2> {
        let data = column_major(rows, columns.names.len());
        let m = Matrix::new(&data, rows.len(), columns.names.len());
        let mut booster = GradientBooster::default()
            .set_objective_type(ObjectiveType::LogLoss)
            .set_iterations(k.trees)
            .set_learning_rate(k.eta)
            .set_monotone_constraints(k.monotone.then(|| [(0, Constraint::Positive)].into_iter().collect()))
            .set_max_depth(k.depth)
            .set_parallel(false)
            .set_seed(1);
        booster.fit(&m, y, w, None).map_err(|e| anyhow::anyhow!("second stage: {e:?}"))?;
        Ok(Stage2 { booster, columns })
    }

    pub fn trees(&self) -> usize {
        self.booster.trees.len()
    }

    pub fn score(&self, rows: &[Vec<f64>]) -> Vec<f32> {
        let data = column_major(rows, self.columns.names.len());
        let m = Matrix::new(&data, rows.len(), self.columns.names.len());
        self.booster.predict(&m, false).into_iter().map(|z| (1.0 / (1.0 + (-z).exp())) as f32).collect()
    }
}

/// Training weight of the files carrying each behaviour fact, benign and malicious, for the log:
/// a fact that only one side carries is one no second stage can weigh differently.
pub fn fact_weights(columns: &Columns, rows: &[Vec<f64>], y: &[f64], w: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    for (c, name) in columns.names.iter().enumerate().skip(1) {
        let (mut b, mut m, mut nb, mut nm) = (0.0, 0.0, 0, 0);
        for ((r, &y), &w) in rows.iter().zip(y).zip(w) {
            if r[c] > 0.0 {
                if y > 0.5 {
                    m += w;
                    nm += 1;
                } else {
                    b += w;
                    nb += 1;
                }
            }
        }
        if nb + nm > 0 {
            out.push(format!("{name}: benign {nb} files (weight {b:.0}), malicious {nm} files (weight {m:.0})"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fv(code: &str) -> FeatureVec {
        let mut fv = FeatureVec::new();
        python_model::features(code.as_bytes(), &mut fv);
        fv
    }

    #[test]
    fn a_row_marks_exactly_the_facts_of_the_code() {
        let cols = Columns::new();
        let code = "import socket, os, pty\ns = socket.socket()\ns.connect(('127.0.0.1', 4444))\nfor fd in (0, 1, 2):\n    os.dup2(s.fileno(), fd)\npty.spawn('/bin/sh')\n";
        let row = cols.row(1.5, &fv(code));
        assert_eq!(row[0], 1.5);
        let on: Vec<&str> = cols.names.iter().zip(&row).skip(1).filter(|(_, v)| **v > 0.0).map(|(n, _)| n.as_str()).collect();
        let want: Vec<String> = python_model::behaviour::behaviours(code.as_bytes()).into_iter().map(|f| format!("beh:{f}")).collect();
        assert!(want.iter().any(|f| f == "beh:socket>dup2"), "{want:?}");
        assert_eq!(on, want.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn the_second_stage_learns_a_conjunction_a_sum_cannot() {
        // malicious exactly when facts A and B are both present; the margin carries nothing
        let cols = Columns::new();
        let n = cols.names.len();
        let (mut rows, mut y) = (Vec::new(), Vec::new());
        for k in 0..400 {
            let (a, b) = (k % 2 == 1, (k / 2) % 2 == 1);
            let mut r = vec![0f64; n];
            r[1] = a as u8 as f64;
            r[2] = b as u8 as f64;
            rows.push(r);
            y.push((a && b) as u8 as f64);
        }
        let w = vec![1f64; rows.len()];
        let s2 = Stage2::fit(&rows, &y, &w, Knobs { trees: 100, depth: 2, eta: 0.3, monotone: true }, cols).expect("fit");
        let scores = s2.score(&rows[..4]);
        // rows 0..4 are (no, no), (A), (B), (A and B)
        assert!(scores[3] > 0.9, "{scores:?}");
        assert!(scores[..3].iter().all(|&s| s < 0.1), "{scores:?}");
    }

    #[test]
    fn out_of_fold_margins_come_from_models_that_did_not_see_the_fold() {
        // identical files, labelled by group: a model that saw a file's own group scores it on
        // its label's side, one that did not on the other side
        let fvs: Vec<FeatureVec> = (0..6).map(|_| fv("import os\nos.system('id')\n")).collect();
        let refs: Vec<&FeatureVec> = fvs.iter().collect();
        let ys = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0];
        let fold = [0, 0, 0, 0, 1, 2];
        let examples: Vec<Example> = fvs
            .iter()
            .zip(ys)
            .map(|(f, y)| Example { idx: f.indices(), value: f.value(), beh: f.behaviour(), y, weight: 1.0 })
            .collect();
        let p = Params { epochs: 20, lr: 0.3, l2: 0.0, seed: 1, max_step_weight: 4.0, l1: 0.0, beta: 1.0, l1_behaviour: 0.0 };
        let m = out_of_fold(&examples, &fold, &refs, &p);
        // all six together lean malicious (4 to 2); fold 0 (the four malicious files) is scored
        // by a model trained on the two benign files only, folds 1 and 2 by models that saw the
        // four malicious files
        assert!(m[..4].iter().all(|&z| z < 0.0), "{m:?}");
        assert!(m[4] > 0.0 && m[5] > 0.0, "{m:?}");
    }
}
