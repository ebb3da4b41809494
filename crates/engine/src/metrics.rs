//! Numbers that compare two models' outputs: the seed's "distillation loss" (mean squared
//! error between logit vectors), the largest absolute difference, softmax and argmax.

use crate::{Error, Result};

/// Mean squared error between two equally long vectors, as `torch.nn.MSELoss()` computes it
/// (mean over all elements). Identical inputs give exactly 0.0.
pub fn mse(a: &[f32], b: &[f32]) -> Result<f32> {
    check_lengths("mse", a, b)?;
    if a.is_empty() {
        return Ok(0.0);
    }
    // Accumulate in f64: the mean of a few squares is then exact to f32 precision.
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum();
    Ok((sum / a.len() as f64) as f32)
}

/// The largest `|a[i] - b[i]|`.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> Result<f32> {
    check_lengths("max abs diff", a, b)?;
    Ok(a.iter()
        .zip(b)
        .map(|(&x, &y)| (x - y).abs())
        .fold(0.0, f32::max))
}

/// Softmax, shifted by the maximum so large logits cannot overflow.
pub fn softmax(x: &[f32]) -> Vec<f32> {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = x.iter().map(|&v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Index of the largest value (the first one on ties); 0 for an empty slice.
pub fn argmax(x: &[f32]) -> usize {
    x.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

/// How far the prediction is from flipping: the largest logit minus the second largest
/// (0 with fewer than two classes). Always ≥ 0.
pub fn margin(logits: &[f32]) -> f32 {
    let (mut first, mut second) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &v in logits {
        if v > first {
            second = first;
            first = v;
        } else if v > second {
            second = v;
        }
    }
    if logits.len() < 2 {
        0.0
    } else {
        first - second
    }
}

fn check_lengths(what: &'static str, a: &[f32], b: &[f32]) -> Result<()> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            left: a.len(),
            right: b.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_outputs_give_zero_loss_as_in_the_seed() {
        // The seed's practice question: teacher == student == [0.1, 0.9] gives 0.0.
        assert_eq!(mse(&[0.1, 0.9], &[0.1, 0.9]).unwrap(), 0.0);
    }

    #[test]
    fn mse_is_the_mean_of_squares() {
        assert!((mse(&[1.0, 2.0], &[0.0, 0.0]).unwrap() - 2.5).abs() < 1e-7);
        assert!((max_abs_diff(&[1.0, -3.0], &[0.5, 0.0]).unwrap() - 3.0).abs() < 1e-7);
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let err = mse(&[1.0], &[1.0, 2.0]).unwrap_err().to_string();
        assert_eq!(err, "mse: lengths differ (1 vs 2)");
    }

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        let p = softmax(&[1000.0, 1001.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[1] > p[0]);
        assert_eq!(argmax(&[0.2, 0.7, 0.7]), 1);
    }

    #[test]
    fn margin_is_top_one_minus_top_two() {
        assert_eq!(margin(&[0.5, 2.0, 1.25]), 0.75);
        assert_eq!(margin(&[3.0, 1.0]), 2.0);
        assert_eq!(margin(&[0.7, 0.7]), 0.0, "a tie is no margin");
        assert_eq!(margin(&[4.0]), 0.0);
        assert_eq!(margin(&[]), 0.0);
    }
}
