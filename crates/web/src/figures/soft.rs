//! Soft targets in plain numbers, as the distillation lesson writes them: `softmax(z / T)`,
//! the KL divergence between softened distributions times `T²`, and the MSE on logits.
//! A handful of floats per call, so the temperature figure computes them on the page
//! and follows the slider without a round trip to the worker.

use crate::engine::metrics;

/// `softmax(logits / t)`.
pub fn softened(logits: &[f32], t: f32) -> Vec<f32> {
    let scaled: Vec<f32> = logits.iter().map(|z| z / t).collect();
    metrics::softmax(&scaled)
}

/// `T² · KL(teacher ‖ student)` on `softmax(· / T)`, for one example: the loss
/// `F.kl_div(log_softmax(s / T), softmax(t / T), reduction="batchmean") * T * T`.
pub fn kl_loss(student: &[f32], teacher: &[f32], t: f32) -> f32 {
    let p = softened(teacher, t);
    let q = softened(student, t);
    let kl: f32 = p
        .iter()
        .zip(&q)
        .filter(|(p, _)| **p > 0.0)
        .map(|(p, q)| p * (p.ln() - q.max(f32::MIN_POSITIVE).ln()))
        .sum();
    kl * t * t
}

/// Mean squared error between two logit vectors (the seed's "distillation loss").
pub fn mse(student: &[f32], teacher: &[f32]) -> f32 {
    metrics::mse(student, teacher).unwrap_or(f32::NAN)
}

/// The largest probability of `softmax(logits / t)`.
pub fn top_probability(logits: &[f32], t: f32) -> f32 {
    softened(logits, t).into_iter().fold(0.0, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 5e-4)
    }

    #[test]
    fn the_lessons_temperature_table() {
        // lessons/distillation.md, "Temperature and the KL divergence".
        let z = [3.0, 1.0, 0.2];
        assert!(close(&softened(&z, 1.0), &[0.836, 0.113, 0.051]));
        assert!(close(&softened(&z, 2.0), &[0.619, 0.228, 0.153]));
        assert!(close(&softened(&z, 4.0), &[0.475, 0.288, 0.236]));
        assert!((top_probability(&z, 2.0) - 0.619).abs() < 5e-4);
    }

    #[test]
    fn kl_is_zero_for_a_perfect_student_and_scales_with_t_squared() {
        let t = [2.0, -1.0];
        assert!(kl_loss(&t, &t, 3.0).abs() < 1e-7);
        let s = [0.5, 0.5];
        let at1 = kl_loss(&s, &t, 1.0);
        assert!(at1 > 0.0);
        // By hand: p = softmax([2, -1]), q = [0.5, 0.5].
        let p = softened(&t, 1.0);
        let by_hand = p[0] * (p[0] / 0.5).ln() + p[1] * (p[1] / 0.5).ln();
        assert!((at1 - by_hand).abs() < 1e-6);
        assert!(kl_loss(&s, &t, 2.0) > 0.0);
    }

    #[test]
    fn mse_matches_the_seed_example() {
        // The seed's practice question: identical outputs give zero loss.
        assert_eq!(mse(&[0.1, 0.9], &[0.1, 0.9]), 0.0);
        assert!((mse(&[0.0, 1.0], &[1.0, 1.0]) - 0.5).abs() < 1e-7);
    }
}
