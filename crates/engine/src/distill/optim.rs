//! AdamW ("Decoupled Weight Decay Regularization", Loshchilov and Hutter 2019,
//! <https://arxiv.org/abs/1711.05101>), as `torch.optim.AdamW` computes it, with the
//! usual exemption of biases and LayerNorm parameters from weight decay.
//!
//! candle-nn has an AdamW too, but it decays every tensor and builds about a dozen
//! temporary tensors per parameter per step; for a model whose embedding table is most of
//! its weights, those allocations (and the page faults behind them) cost as much as the
//! forward pass. Here each tensor's moments live in plain vectors and one loop updates
//! them in place.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use super::{CandleContext, Result};

struct Slot {
    var: Var,
    decay: bool,
    m: Vec<f32>,
    v: Vec<f32>,
}

/// AdamW state over a set of named tensors.
pub struct AdamW {
    slots: Vec<Slot>,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    t: i32,
}

/// Whether a tensor is exempt from weight decay (biases and LayerNorm parameters).
pub fn no_decay(name: &str) -> bool {
    name.ends_with(".bias") || name.contains("LayerNorm") || name.contains("layer_norm")
}

impl AdamW {
    /// An optimiser for `vars` with PyTorch's default betas (0.9, 0.999) and eps 1e-8.
    pub fn new(vars: Vec<(String, Var)>, lr: f64, weight_decay: f64) -> Self {
        let slots = vars
            .into_iter()
            .map(|(name, var)| {
                let n = var.elem_count();
                Slot {
                    decay: !no_decay(&name),
                    var,
                    m: vec![0.0; n],
                    v: vec![0.0; n],
                }
            })
            .collect();
        Self {
            slots,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            t: 0,
        }
    }

    /// Sets the learning rate of the next steps.
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Backpropagates `loss` and takes one step.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward().during("backward")?;
        self.step(&grads)
    }

    /// One step with the gradients in `grads` (tensors without one are left alone).
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.t += 1;
        let (b1, b2) = (self.beta1 as f32, self.beta2 as f32);
        let c1 = 1.0 - self.beta1.powi(self.t);
        let c2 = 1.0 - self.beta2.powi(self.t);
        // torch: p -= lr * wd * p; p -= lr / c1 * m / (sqrt(v / c2) + eps)
        let step = (self.lr / c1) as f32;
        let c2_sqrt = c2.sqrt() as f32;
        let eps = self.eps as f32;
        for s in &mut self.slots {
            let Some(g) = grads.get(s.var.as_tensor()) else {
                continue;
            };
            let g = g
                .flatten_all()
                .and_then(|g| g.to_vec1::<f32>())
                .during("adamw: gradient")?;
            let t = s.var.as_tensor();
            let mut p = t
                .flatten_all()
                .and_then(|p| p.to_vec1::<f32>())
                .during("adamw: weight")?;
            let shrink = if s.decay {
                1.0 - (self.lr * self.weight_decay) as f32
            } else {
                1.0
            };
            for i in 0..p.len() {
                let gi = g[i];
                s.m[i] = b1 * s.m[i] + (1.0 - b1) * gi;
                s.v[i] = b2 * s.v[i] + (1.0 - b2) * gi * gi;
                p[i] = p[i] * shrink - step * s.m[i] / (s.v[i].sqrt() / c2_sqrt + eps);
            }
            let updated = Tensor::from_vec(p, t.shape(), t.device()).during("adamw: weight")?;
            s.var.set(&updated).during("adamw: weight")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_torch_adamw_on_a_quadratic() {
        // torch.optim.AdamW([w], lr=0.1, weight_decay=0.01) on loss = sum(w^2), w0 = [1, -2]:
        // after one step every weight moves by lr·sign(grad) (Adam's first step), after
        // the decay shrink: 1·(1 - 0.001) - 0.1 = 0.899, -2·(1 - 0.001) + 0.1 = -1.898.
        let w = Var::from_vec(vec![1f32, -2.0], 2, &Device::Cpu).unwrap();
        let mut opt = AdamW::new(vec![("w".into(), w.clone())], 0.1, 0.01);
        let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
        opt.backward_step(&loss).unwrap();
        let got = w.as_tensor().to_vec1::<f32>().unwrap();
        assert!(
            (got[0] - 0.899).abs() < 1e-6 && (got[1] + 1.898).abs() < 1e-6,
            "{got:?}"
        );
        // A bias is not decayed.
        let b = Var::from_vec(vec![1f32], 1, &Device::Cpu).unwrap();
        let mut opt = AdamW::new(vec![("x.bias".into(), b.clone())], 0.1, 0.5);
        opt.backward_step(&b.as_tensor().sqr().unwrap().sum_all().unwrap())
            .unwrap();
        assert!((b.as_tensor().to_vec1::<f32>().unwrap()[0] - 0.9).abs() < 1e-6);
    }

    #[test]
    fn keeps_falling_on_a_quadratic() {
        let w = Var::from_vec(vec![3f32, -1.0, 0.5], 3, &Device::Cpu).unwrap();
        let mut opt = AdamW::new(vec![("w".into(), w.clone())], 0.05, 0.0);
        let loss = |w: &Var| w.as_tensor().sqr().unwrap().sum_all().unwrap();
        let before = loss(&w).to_scalar::<f32>().unwrap();
        for _ in 0..100 {
            opt.backward_step(&loss(&w)).unwrap();
        }
        assert!(loss(&w).to_scalar::<f32>().unwrap() < 0.01 * before);
    }
}
