//! Training loops on a [`Net`]: fine-tuning the teacher on labels (cross-entropy), and
//! distilling the student from the teacher's logits (the seed's MSE between logit vectors,
//! optionally plus an MSE between [CLS] hidden states), both with AdamW, a linear warm-up
//! and a linear decay of the learning rate.
//!
//! Batches hold sentences of similar length (less padding, so less wasted arithmetic); their
//! order is shuffled by a seeded [`Rng`], so a run is reproducible.

use candle_core::{Device, Tensor};

use super::net::{Batch, Net};
use super::optim::AdamW;
use super::rng::Rng;
use super::{CandleContext, Error, Result};

/// One training sentence: its ids and what the model should output for it.
#[derive(Clone, Debug)]
pub struct Example {
    /// Token ids, `[CLS] … [SEP]`.
    pub ids: Vec<u32>,
    /// The class, for fine-tuning on labels.
    pub label: usize,
    /// The teacher's logits, for distillation.
    pub logits: Vec<f32>,
    /// The teacher's [CLS] hidden state restricted to the student's dimensions (may be empty).
    pub cls: Vec<f32>,
}

/// How long and how fast to train.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// Passes over the data.
    pub epochs: usize,
    /// Sentences per step.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Share of the steps spent warming the learning rate up from 0.
    pub warmup: f64,
    /// Seed of the batch order.
    pub seed: u64,
    /// Stop after this many steps in all (for smoke runs); `None` runs every epoch.
    pub max_steps: Option<usize>,
}

/// What a loss means: which outputs are compared to which targets.
#[derive(Clone, Copy, Debug)]
pub enum Objective {
    /// Cross-entropy against `Example::label`.
    Labels,
    /// MSE between the net's logits and `Example::logits` (the seed's distillation loss),
    /// plus `hidden` × MSE between [CLS] states and `Example::cls`.
    Teacher {
        /// Weight of the hidden-state term (0 for logits only).
        hidden: f64,
    },
}

/// One line of the training log.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Step, from 1, counted over the whole run.
    pub step: usize,
    /// Steps in the whole run.
    pub steps: usize,
    /// Mean loss over the steps since the previous line.
    pub loss: f64,
    /// Mean logit MSE over the same steps (equals `loss` when there is no other term).
    pub logit_mse: f64,
    /// Learning rate at the last of those steps.
    pub lr: f64,
}

/// Batches of similar-length sentences, in a seeded random order.
pub fn batches(examples: &[Example], size: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    rng.shuffle(&mut order);
    // Sort within windows of 50 batches: lengths match inside a batch, yet batch contents
    // still change from epoch to epoch.
    let window = size.max(1) * 50;
    let mut out = Vec::new();
    for chunk in order.chunks(window) {
        let mut chunk = chunk.to_vec();
        chunk.sort_by_key(|&i| examples[i].ids.len());
        out.extend(chunk.chunks(size.max(1)).map(|c| c.to_vec()));
    }
    rng.shuffle(&mut out);
    out
}

/// Learning rate at `step` (0-based) of `total`: linear warm-up, then linear decay to 0.
pub fn learning_rate(s: &Schedule, step: usize, total: usize) -> f64 {
    let warm = ((total as f64) * s.warmup).round().max(1.0);
    let t = step as f64 + 1.0;
    if t <= warm {
        s.lr * t / warm
    } else {
        s.lr * ((total as f64 - t + 1.0) / (total as f64 - warm + 1.0)).max(0.0)
    }
}

/// Trains `net`'s trainable tensors on `examples`. `log` gets a line every `log_every`
/// steps; `after_epoch` is called at the end of each epoch with the epoch number and may
/// look at the net (e.g. a dev-set accuracy) and return `false` to stop.
pub fn train(
    net: &Net,
    examples: &[Example],
    objective: Objective,
    schedule: &Schedule,
    log_every: usize,
    log: &mut dyn FnMut(&LogLine),
    after_epoch: &mut dyn FnMut(usize, &Net) -> Result<bool>,
) -> Result<()> {
    if examples.is_empty() {
        return Err(Error::Data("nothing to train on".into()));
    }
    let device = net.tensor("classifier.weight")?.device().clone();
    let mut rng = Rng::new(schedule.seed);
    let per_epoch = examples.len().div_ceil(schedule.batch.max(1));
    let mut total = per_epoch * schedule.epochs;
    if let Some(max) = schedule.max_steps {
        total = total.min(max);
    }
    let mut opt = AdamW::new(
        net.trainable_named(),
        learning_rate(schedule, 0, total),
        schedule.weight_decay,
    );
    let (mut step, mut sum, mut sum_mse, mut count) = (0usize, 0f64, 0f64, 0usize);
    for epoch in 1..=schedule.epochs {
        for batch in batches(examples, schedule.batch, &mut rng) {
            if step >= total {
                break;
            }
            let lr = learning_rate(schedule, step, total);
            opt.set_learning_rate(lr);
            let picked: Vec<&Example> = batch.iter().map(|&i| &examples[i]).collect();
            let (loss, logit_mse) = batch_loss(net, &picked, objective, &device)?;
            opt.backward_step(&loss)?;
            let value = loss.to_scalar::<f32>().during("loss")? as f64;
            if !value.is_finite() {
                return Err(Error::Data(format!(
                    "the loss became {value} at step {}",
                    step + 1
                )));
            }
            step += 1;
            sum += value;
            sum_mse += logit_mse;
            count += 1;
            if step % log_every.max(1) == 0 || step == total {
                log(&LogLine {
                    epoch,
                    step,
                    steps: total,
                    loss: sum / count as f64,
                    logit_mse: sum_mse / count as f64,
                    lr,
                });
                (sum, sum_mse, count) = (0.0, 0.0, 0);
            }
        }
        if !after_epoch(epoch, net)? || step >= total {
            break;
        }
    }
    Ok(())
}

fn batch_loss(
    net: &Net,
    picked: &[&Example],
    objective: Objective,
    device: &Device,
) -> Result<(Tensor, f64)> {
    let seqs: Vec<&[u32]> = picked.iter().map(|e| e.ids.as_slice()).collect();
    let out = net.forward(&Batch::new(&seqs, device)?)?;
    match objective {
        Objective::Labels => {
            let labels: Vec<u32> = picked.iter().map(|e| e.label as u32).collect();
            let labels = Tensor::new(labels.as_slice(), device).during("labels")?;
            let loss =
                candle_nn::loss::cross_entropy(&out.logits, &labels).during("cross-entropy")?;
            Ok((loss, f64::NAN))
        }
        Objective::Teacher { hidden } => {
            let target = stack(picked.iter().map(|e| e.logits.as_slice()), device)?;
            let mse = candle_nn::loss::mse(&out.logits, &target).during("logit mse")?;
            let mse_value = mse.to_scalar::<f32>().during("logit mse")? as f64;
            if hidden > 0.0 {
                let cls = stack(picked.iter().map(|e| e.cls.as_slice()), device)?;
                let h = candle_nn::loss::mse(&out.cls, &cls).during("hidden mse")?;
                let loss = (mse + (h * hidden).during("hidden mse")?).during("loss")?;
                Ok((loss, mse_value))
            } else {
                Ok((mse, mse_value))
            }
        }
    }
}

fn stack<'a>(rows: impl Iterator<Item = &'a [f32]>, device: &Device) -> Result<Tensor> {
    let rows: Vec<&[f32]> = rows.collect();
    let width = rows.first().map_or(0, |r| r.len());
    if width == 0 || rows.iter().any(|r| r.len() != width) {
        return Err(Error::Data(
            "every example needs a target of the same width".into(),
        ));
    }
    let flat: Vec<f32> = rows.concat();
    Tensor::from_vec(flat, (rows.len(), width), device).during("targets")
}

/// The net's logits and [CLS] states for many sentences, in their order, batched by length.
pub fn predict(net: &Net, seqs: &[Vec<u32>], batch: usize) -> Result<Vec<(Vec<f32>, Vec<f32>)>> {
    let device = net.tensor("classifier.weight")?.device().clone();
    let mut order: Vec<usize> = (0..seqs.len()).collect();
    order.sort_by_key(|&i| seqs[i].len());
    let mut out = vec![(Vec::new(), Vec::new()); seqs.len()];
    for chunk in order.chunks(batch.max(1)) {
        let picked: Vec<&[u32]> = chunk.iter().map(|&i| seqs[i].as_slice()).collect();
        let o = net.forward(&Batch::new(&picked, &device)?)?;
        let logits = o.logits.to_vec2::<f32>().during("predict: logits")?;
        let cls = o.cls.to_vec2::<f32>().during("predict: cls")?;
        for ((&i, l), c) in chunk.iter().zip(logits).zip(cls) {
            out[i] = (l, c);
        }
    }
    Ok(out)
}

/// Share of `(ids, label)` pairs the net classifies right.
pub fn accuracy(net: &Net, seqs: &[Vec<u32>], labels: &[usize], batch: usize) -> Result<f64> {
    let out = predict(net, seqs, batch)?;
    let right = out
        .iter()
        .zip(labels)
        .filter(|((l, _), &y)| crate::metrics::argmax(l) == y)
        .count();
    Ok(right as f64 / labels.len().max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule {
            epochs: 1,
            batch: 4,
            lr: 1e-3,
            weight_decay: 0.0,
            warmup: 0.1,
            seed: 0,
            max_steps: None,
        }
    }

    #[test]
    fn learning_rate_warms_up_then_decays_to_zero() {
        let s = schedule();
        let lrs: Vec<f64> = (0..100).map(|i| learning_rate(&s, i, 100)).collect();
        assert!((lrs[0] - 1e-4).abs() < 1e-12);
        assert!((lrs[9] - 1e-3).abs() < 1e-12);
        assert!(lrs[10] < lrs[9] && lrs[50] < lrs[10]);
        assert!(lrs[99] > 0.0 && lrs[99] < 2e-5);
    }

    /// A seeded random 1-layer net (LayerNorm scales 1, the rest uniform in ±0.2).
    fn tiny_net() -> Net {
        let shape = super::super::net::Shape {
            vocab: 20,
            dim: 32,
            layers: 1,
            heads: 2,
            hidden: 64,
            positions: 16,
            labels: 2,
        };
        let mut rng = Rng::new(3);
        Net::from_tensors(shape, 1e-12, |name, dims| {
            let n: usize = dims.iter().product();
            let v: Vec<f32> =
                if name.contains("layer_norm.weight") || name.contains("LayerNorm.weight") {
                    vec![1.0; n]
                } else {
                    (0..n).map(|_| (rng.unit() as f32 - 0.5) * 0.4).collect()
                };
            Tensor::from_vec(v, dims, &Device::Cpu).during("tiny net")
        })
        .unwrap()
    }

    #[test]
    fn distillation_loss_falls_on_a_fixed_batch() {
        let net = tiny_net();
        // Four sentences, one batch: every step sees exactly the same data.
        let examples: Vec<Example> = [
            (vec![2, 5, 6, 3], [2.0, -1.5]),
            (vec![2, 7, 8, 9, 3], [-2.5, 1.0]),
            (vec![2, 10, 3], [0.5, 0.5]),
            (vec![2, 11, 12, 13, 14, 3], [-1.0, 3.0]),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (ids, logits))| Example {
            ids,
            label: 0,
            logits: logits.to_vec(),
            cls: (0..32)
                .map(|d| ((i * 32 + d) as f32 * 0.37).sin())
                .collect(),
        })
        .collect();
        let picked: Vec<&Example> = examples.iter().collect();
        let objective = Objective::Teacher { hidden: 0.1 };
        let loss_now = |net: &Net| {
            let (loss, mse) = batch_loss(net, &picked, objective, &Device::Cpu).unwrap();
            (loss.to_scalar::<f32>().unwrap() as f64, mse)
        };
        let (before, before_mse) = loss_now(&net);
        let schedule = Schedule {
            epochs: 40,
            lr: 1e-2,
            ..schedule()
        };
        let mut logged = Vec::new();
        let mut epochs = 0;
        train(
            &net,
            &examples,
            objective,
            &schedule,
            1,
            &mut |l| logged.push(l.loss),
            &mut |_, _| {
                epochs += 1;
                Ok(true)
            },
        )
        .unwrap();
        assert_eq!((logged.len(), epochs), (40, 40));
        // What the loop logged at its first step is the loss of the untouched net.
        assert!(
            (logged[0] - before).abs() < 1e-5,
            "{} vs {before}",
            logged[0]
        );
        let (after, after_mse) = loss_now(&net);
        assert!(after < 0.2 * before, "loss {before} → {after}");
        assert!(
            after_mse < 0.2 * before_mse,
            "logit MSE {before_mse} → {after_mse}"
        );
        let tail: f64 = logged[35..].iter().sum::<f64>() / 5.0;
        let head: f64 = logged[..5].iter().sum::<f64>() / 5.0;
        assert!(tail < 0.3 * head, "logged loss {head} → {tail}");
    }

    #[test]
    fn batches_cover_every_example_once_with_similar_lengths() {
        let examples: Vec<Example> = (0..37)
            .map(|i| Example {
                ids: vec![1; 2 + i % 9],
                label: 0,
                logits: vec![],
                cls: vec![],
            })
            .collect();
        let b = batches(&examples, 4, &mut Rng::new(5));
        let mut seen: Vec<usize> = b.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..37).collect::<Vec<_>>());
        assert!(b.iter().all(|x| x.len() <= 4));
        let spread: usize = b
            .iter()
            .map(|x| {
                let l: Vec<usize> = x.iter().map(|&i| examples[i].ids.len()).collect();
                l.iter().max().unwrap() - l.iter().min().unwrap()
            })
            .max()
            .unwrap();
        assert!(spread <= 2, "lengths inside a batch differ by {spread}");
    }
}
