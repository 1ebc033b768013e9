//! Weighted ROC AUC, confusion counts and threshold selection.

#[derive(Clone, Copy, Debug)]
pub struct Item {
    pub score: f32,
    pub malicious: bool,
    pub weight: f64,
}

/// Weighted ROC AUC: the weighted probability that a malicious item scores above a benign one
/// (ties count one half). NaN when a class is missing.
pub fn auc(items: &[Item]) -> f64 {
    let mut v: Vec<&Item> = items.iter().collect();
    v.sort_by(|a, b| a.score.total_cmp(&b.score));
    let (mut neg_below, mut sum, mut pos_total, mut neg_total) = (0f64, 0f64, 0f64, 0f64);
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        let (mut p, mut n) = (0f64, 0f64);
        while j < v.len() && v[j].score == v[i].score {
            if v[j].malicious {
                p += v[j].weight;
            } else {
                n += v[j].weight;
            }
            j += 1;
        }
        sum += p * (neg_below + 0.5 * n);
        neg_below += n;
        pos_total += p;
        neg_total += n;
        i = j;
    }
    sum / (pos_total * neg_total)
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Confusion {
    pub tp: f64,
    pub fp: f64,
    pub tn: f64,
    pub fn_: f64,
}

impl Confusion {
    pub fn at(items: &[Item], threshold: f32) -> Confusion {
        let mut c = Confusion::default();
        for it in items {
            let flagged = it.score >= threshold;
            match (it.malicious, flagged) {
                (true, true) => c.tp += it.weight,
                (true, false) => c.fn_ += it.weight,
                (false, true) => c.fp += it.weight,
                (false, false) => c.tn += it.weight,
            }
        }
        c
    }
    pub fn precision(&self) -> f64 {
        self.tp / (self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        self.tp / (self.tp + self.fn_)
    }
    pub fn fpr(&self) -> f64 {
        self.fp / (self.fp + self.tn)
    }
}

fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f32::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f32::from_bits(bits + 1)
    } else {
        f32::from_bits(bits - 1)
    }
}

/// The lowest threshold at which at most `max_fpr` of the benign scores are flagged (a score is
/// flagged when `score >= threshold`).
pub fn threshold_for_fpr(benign: &[f32], max_fpr: f64) -> f32 {
    let mut s = benign.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    let allowed = (max_fpr * s.len() as f64).floor() as usize;
    if allowed >= s.len() {
        return 0.0;
    }
    next_up(s[allowed]).min(1.0)
}

/// Recall at the lowest threshold with FPR <= max_fpr (weighted items).
pub fn recall_at_fpr(items: &[Item], max_fpr: f64) -> (f32, f64) {
    let benign: Vec<f32> = items.iter().filter(|i| !i.malicious).map(|i| i.score).collect();
    let t = threshold_for_fpr(&benign, max_fpr);
    (t, Confusion::at(items, t).recall())
}

/// Value at quantile q (0..=1) of sorted data.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it(score: f32, malicious: bool) -> Item {
        Item { score, malicious, weight: 1.0 }
    }

    #[test]
    fn auc_basics() {
        assert_eq!(auc(&[it(0.9, true), it(0.1, false)]), 1.0);
        assert_eq!(auc(&[it(0.1, true), it(0.9, false)]), 0.0);
        assert_eq!(auc(&[it(0.5, true), it(0.5, false)]), 0.5);
    }

    #[test]
    fn threshold() {
        let b: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
        let t = threshold_for_fpr(&b, 0.01);
        assert_eq!(b.iter().filter(|&&s| s >= t).count(), 1);
        let t = threshold_for_fpr(&b, 0.0);
        assert_eq!(b.iter().filter(|&&s| s >= t).count(), 0);
    }
}
