//! Logistic regression over the hashed features, trained with per-coordinate AdaGrad SGD, L2
//! regularisation (applied lazily to the coordinates an example touches) and per-example
//! weights. Single-threaded with a fixed seed: the same inputs give bit-identical weights.

use python_model::{FeatureVec, N_BUCKETS};

#[derive(Clone, Copy)]
pub struct Example<'a> {
    /// Lexical features, each of value `value`.
    pub idx: &'a [u32],
    pub value: f32,
    /// Behaviour features, each of value 1.
    pub beh: &'a [u32],
    pub y: f32,
    pub weight: f32,
}

#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub epochs: usize,
    pub lr: f32,
    pub l2: f32,
    pub seed: u64,
    /// An example of weight w appears ceil(w / max_step_weight) times per epoch, each with an
    /// equal share of w, so that no single step is huge.
    pub max_step_weight: f32,
    /// FTRL-Proximal instead of AdaGrad: L1 strength (0 = AdaGrad with L2 only).
    pub l1: f32,
    /// FTRL-Proximal beta (learning-rate smoothing).
    pub beta: f32,
    /// FTRL-Proximal L1 strength for the behaviour features (few, dense, value 1: they need a
    /// stronger pull to zero than the lexical ones not to learn the data sets' habits).
    pub l1_behaviour: f32,
}

pub struct Trained {
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Trained {
    /// The log-odds of `fv` under these (unpruned) weights.
    pub fn margin(&self, fv: &FeatureVec) -> f32 {
        fv.indices().iter().map(|&j| self.weights[j as usize]).sum::<f32>() * fv.value()
            + fv.behaviour().iter().map(|&j| self.weights[j as usize]).sum::<f32>()
            + self.bias
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

pub fn train(examples: &[Example], p: &Params, on_epoch: impl FnMut(usize, &Trained)) -> Trained {
    if p.l1 > 0.0 {
        train_ftrl(examples, p, on_epoch)
    } else {
        train_adagrad(examples, p, on_epoch)
    }
}

fn schedule(examples: &[Example], p: &Params) -> Vec<(u32, f32)> {
    let mut order: Vec<(u32, f32)> = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        let k = (e.weight / p.max_step_weight).ceil().max(1.0) as usize;
        for _ in 0..k {
            order.push((i as u32, e.weight / k as f32));
        }
    }
    order
}

fn shuffle(order: &mut [(u32, f32)], rng: &mut XorShift) {
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
}

/// FTRL-Proximal (McMahan et al., 2013) with L1 + L2: sparse weights, lazily materialised.
fn train_ftrl(examples: &[Example], p: &Params, mut on_epoch: impl FnMut(usize, &Trained)) -> Trained {
    let (alpha, beta, l1, l2) = (p.lr, p.beta, p.l1, p.l2);
    let mut z = vec![0f32; N_BUCKETS];
    let mut n = vec![0f32; N_BUCKETS];
    let (mut zb, mut nb) = (0f32, 0f32);
    let weight_l1 = |z: f32, n: f32, l1: f32| -> f32 {
        if z.abs() <= l1 {
            0.0
        } else {
            -(z - z.signum() * l1) / ((beta + n.sqrt()) / alpha + l2)
        }
    };
    // Which coordinates are behaviour features, for their own L1.
    let mut is_beh = vec![false; N_BUCKETS];
    for e in examples {
        for &j in e.beh {
            is_beh[j as usize] = true;
        }
    }
    let l1_of = |j: usize| if is_beh[j] { p.l1_behaviour } else { l1 };
    let mut order = schedule(examples, p);
    let mut rng = XorShift(p.seed | 1);
    let mut t = Trained { weights: Vec::new(), bias: 0.0 };
    for epoch in 0..p.epochs {
        shuffle(&mut order, &mut rng);
        for &(i, sw) in &order {
            let e = &examples[i as usize];
            let mut dot = 0f32;
            for &j in e.idx {
                let j = j as usize;
                dot += weight_l1(z[j], n[j], l1_of(j));
            }
            let mut dot_beh = 0f32;
            for &j in e.beh {
                let j = j as usize;
                dot_beh += weight_l1(z[j], n[j], l1_of(j));
            }
            let b = -zb / ((beta + nb.sqrt()) / alpha);
            let gz = sw * (sigmoid(b + dot * e.value + dot_beh) - e.y);
            for (block, x) in [(e.idx, e.value), (e.beh, 1.0)] {
                for &j in block {
                    let j = j as usize;
                    let g = gz * x;
                    let w = weight_l1(z[j], n[j], l1_of(j));
                    let sigma = ((n[j] + g * g).sqrt() - n[j].sqrt()) / alpha;
                    z[j] += g - sigma * w;
                    n[j] += g * g;
                }
            }
            let sigma = ((nb + gz * gz).sqrt() - nb.sqrt()) / alpha;
            zb += gz - sigma * b;
            nb += gz * gz;
        }
        t.weights = z.iter().zip(&n).enumerate().map(|(j, (&z, &n))| weight_l1(z, n, l1_of(j))).collect();
        t.bias = -zb / ((beta + nb.sqrt()) / alpha);
        on_epoch(epoch, &t);
    }
    t
}

fn train_adagrad(examples: &[Example], p: &Params, mut on_epoch: impl FnMut(usize, &Trained)) -> Trained {
    let mut w = vec![0f32; N_BUCKETS];
    let mut g2 = vec![0f32; N_BUCKETS];
    let (mut b, mut gb2) = (0f32, 0f32);
    let mut order = schedule(examples, p);
    let mut rng = XorShift(p.seed | 1);
    let mut t = Trained { weights: Vec::new(), bias: 0.0 };
    for epoch in 0..p.epochs {
        shuffle(&mut order, &mut rng);
        for &(i, sw) in &order {
            let e = &examples[i as usize];
            let mut z = 0f32;
            for &j in e.idx {
                z += w[j as usize];
            }
            let mut z_beh = 0f32;
            for &j in e.beh {
                z_beh += w[j as usize];
            }
            let z = b + z * e.value + z_beh;
            let gz = sw * (sigmoid(z) - e.y);
            for (block, x) in [(e.idx, e.value), (e.beh, 1.0)] {
                for &j in block {
                    let j = j as usize;
                    let g = gz * x + p.l2 * w[j];
                    g2[j] += g * g;
                    w[j] -= p.lr * g / (g2[j].sqrt() + 1e-6);
                }
            }
            gb2 += gz * gz;
            b -= p.lr * gz / (gb2.sqrt() + 1e-6);
        }
        t.weights.clone_from(&w);
        t.bias = b;
        on_epoch(epoch, &t);
    }
    t
}

/// Keeps the `max_weights` weights of largest magnitude (ties broken by index) and zeroes the rest.
pub fn prune(weights: &[f32], max_weights: usize) -> Vec<(u32, f32)> {
    let mut nz: Vec<(u32, f32)> =
        weights.iter().enumerate().filter(|(_, w)| **w != 0.0).map(|(i, w)| (i as u32, *w)).collect();
    if nz.len() > max_weights {
        nz.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        nz.truncate(max_weights);
    }
    nz.sort_by_key(|x| x.0);
    nz
}
