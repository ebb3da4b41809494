//! Where a forward's time goes: every Linear timed alone, f32 against its quantized copy,
//! on an input of the shape it gets in a forward of `tokens` tokens (one row for the head,
//! which sees only [CLS]).
//!
//! Quantization speeds up the Linears only. Whatever else a forward spends (attention
//! products and softmax, GELU, LayerNorm, embeddings) is the same code in both models, so
//! the Linears' share of the f32 forward limits what any int8 kernel can gain.

use candle_core::{Device, Tensor};

use super::{interleaved, rows_seen, Job};
use crate::error::CandleContext;
use crate::{Classifier, Result};

/// One Linear, timed alone in f32 and in the quantized model's scheme.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearTime {
    /// Hugging Face name without `.weight`.
    pub name: String,
    /// Input rows (tokens, or 1 for the head).
    pub rows: usize,
    /// Input width.
    pub in_features: usize,
    /// Output width.
    pub out_features: usize,
    /// Median milliseconds per f32 forward.
    pub f32_ms: f64,
    /// Median milliseconds per forward of the quantized copy.
    pub quantized_ms: f64,
}

impl LinearTime {
    /// f32 time over quantized time.
    pub fn speedup(&self) -> f64 {
        self.f32_ms / self.quantized_ms
    }
}

/// Every Linear of `f32_model` and the same Linear of `quantized`, timed in interleaved
/// rounds (f32, quantized, next layer, …) on a fixed input in [-1, 1).
pub fn linear_medians(
    f32_model: &Classifier,
    quantized: &Classifier,
    tokens: usize,
    rounds: usize,
    min_sample_ms: f64,
    now_ms: &dyn Fn() -> f64,
) -> Result<Vec<LinearTime>> {
    let mut rows = Vec::new();
    let mut inputs = Vec::new();
    for info in f32_model.linears() {
        let n = rows_seen(&info.name, tokens);
        let values: Vec<f32> = (0..n * info.in_features)
            .map(|i| (i * 7919 % 1000) as f32 / 500.0 - 1.0)
            .collect();
        inputs.push(
            Tensor::from_vec(values, (1, n, info.in_features), &Device::Cpu)
                .during("bench input")?,
        );
        rows.push((info, n));
    }
    let mut jobs: Vec<Job> = Vec::new();
    for ((info, _), x) in rows.iter().zip(&inputs) {
        for model in [f32_model, quantized] {
            let linear = model.linear(&info.name)?;
            jobs.push(Box::new(move || linear.forward(x).map(drop)));
        }
    }
    let medians = interleaved(&jobs, rounds, min_sample_ms, now_ms)?;
    Ok(rows
        .into_iter()
        .zip(medians.chunks_exact(2))
        .map(|((info, n), t)| LinearTime {
            name: info.name,
            rows: n,
            in_features: info.in_features,
            out_features: info.out_features,
            f32_ms: t[0],
            quantized_ms: t[1],
        })
        .collect())
}

/// Every f32 Linear of `model` timed on candle's f32 matmul and on the layer's own forward
/// (in the browser the engine's f32 kernel on the packed weight,
/// [`crate::quant::f32_kernel`]), interleaved, on the inputs of
/// [`linear_medians`]: `(name, rows, candle ms, kernel ms)` per layer.
pub fn f32_kernel_vs_candle(
    model: &Classifier,
    tokens: usize,
    rounds: usize,
    min_sample_ms: f64,
    now_ms: &dyn Fn() -> f64,
) -> Result<Vec<(String, usize, f64, f64)>> {
    let mut layers = Vec::new();
    for info in model.linears() {
        let crate::quant::Linear::F32(linear) = model.linear(&info.name)? else {
            continue;
        };
        let n = rows_seen(&info.name, tokens);
        let values: Vec<f32> = (0..n * info.in_features)
            .map(|i| (i * 7919 % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let x = Tensor::from_vec(values, (1, n, info.in_features), &Device::Cpu)
            .during("bench input")?;
        let candle = candle_nn::Linear::new(linear.weight().clone(), linear.bias().cloned());
        layers.push((info.name, n, (candle, linear), x));
    }
    let mut jobs: Vec<Job> = Vec::new();
    for (_, _, (candle, linear), x) in &layers {
        jobs.push(Box::new(move || {
            candle_core::Module::forward(candle, x)
                .during("bench: candle linear")
                .map(drop)
        }));
        // The layer's own forward: the kernel on its packed weight in the browser.
        jobs.push(Box::new(move || linear.forward(x).map(drop)));
    }
    let medians = interleaved(&jobs, rounds, min_sample_ms, now_ms)?;
    drop(jobs);
    Ok(layers
        .into_iter()
        .zip(medians.chunks_exact(2))
        .map(|((name, n, _, _), t)| (name, n, t[0], t[1]))
        .collect())
}

/// The rest of a forward, timed alone on the shapes a forward of `tokens` tokens gives
/// it: `(what, times per forward, ms per forward)` for the attention core, GELU,
/// LayerNorm and the residual additions, from interleaved rounds on fixed inputs.
pub fn other_medians(
    model: &Classifier,
    tokens: usize,
    rounds: usize,
    min_sample_ms: f64,
    now_ms: &dyn Fn() -> f64,
) -> Result<Vec<(&'static str, usize, f64)>> {
    let c = model.config();
    let (dim, layers) = (c.dim, c.n_layers);
    let values = |n: usize, seed: usize| -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 + seed * 104_729) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    };
    let rows = |t: Vec<f32>| Tensor::from_vec(t, (1, tokens, dim), &Device::Cpu);
    let (q, k, v) = (
        values(tokens * dim, 1),
        values(tokens * dim, 2),
        values(tokens * dim, 3),
    );
    let hidden = values(tokens * c.hidden_dim, 4);
    let (a, b) = (
        rows(values(tokens * dim, 5)).during("bench input")?,
        rows(values(tokens * dim, 6)).during("bench input")?,
    );
    let norm = crate::ops::LayerNorm::new(
        Tensor::from_vec(values(dim, 7), dim, &Device::Cpu).during("bench input")?,
        Tensor::from_vec(values(dim, 8), dim, &Device::Cpu).during("bench input")?,
        c.layer_norm_eps,
    )?;
    let (heads, head_dim) = (c.n_heads, c.head_dim());
    let jobs: Vec<Job> = vec![
        Box::new(|| {
            std::hint::black_box(crate::ops::self_attention(
                &q, &k, &v, tokens, heads, head_dim,
            ));
            Ok(())
        }),
        Box::new(|| {
            let mut h = hidden.clone();
            crate::ops::gelu_in_place(&mut h);
            std::hint::black_box(h);
            Ok(())
        }),
        Box::new(|| norm.forward(&a).map(drop)),
        Box::new(|| (&a + &b).during("bench: residual").map(drop)),
    ];
    let medians = interleaved(&jobs, rounds, min_sample_ms, now_ms)?;
    let counts = [
        ("attention core", layers),
        ("GELU", layers),
        ("LayerNorm", 2 * layers + 1),
        ("residual add", 2 * layers),
    ];
    Ok(counts
        .into_iter()
        .zip(medians)
        .map(|((what, n), ms)| (what, n, ms * n as f64))
        .collect())
}

/// A Markdown table of `layers`, a row with their sums, and, given the whole forwards'
/// medians `[f32, quantized]`, the Linears' share of each.
pub fn markdown(layers: &[LinearTime], scheme: &str, forward: Option<[f64; 2]>) -> String {
    let mut out = format!(
        "| Linear | input → output | f32 ms | {scheme} ms | f32 / {scheme} |\n|---|---|---:|---:|---:|\n"
    );
    for l in layers {
        out.push_str(&format!(
            "| {} | {}×{} → {} | {:.4} | {:.4} | {:.2}x |\n",
            l.name,
            l.rows,
            l.in_features,
            l.out_features,
            l.f32_ms,
            l.quantized_ms,
            l.speedup()
        ));
    }
    let f32_sum: f64 = layers.iter().map(|l| l.f32_ms).sum();
    let q_sum: f64 = layers.iter().map(|l| l.quantized_ms).sum();
    out.push_str(&format!(
        "| all {} Linears | | {f32_sum:.3} | {q_sum:.3} | {:.2}x |\n",
        layers.len(),
        f32_sum / q_sum
    ));
    if let Some([f, q]) = forward {
        out.push_str(&format!(
            "| whole forward | | {f:.3} | {q:.3} | {:.2}x |\n\n\
             The Linears timed alone add up to {:.0}% of the f32 forward and {:.0}% of the \
             {scheme} forward (inside a forward their weights come from further down the \
             caches, so their real share is somewhat higher).\n",
            f / q,
            100.0 * f32_sum / f,
            100.0 * q_sum / q
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(name: &str, f32_ms: f64, quantized_ms: f64) -> LinearTime {
        LinearTime {
            name: name.into(),
            rows: 64,
            in_features: 256,
            out_features: 512,
            f32_ms,
            quantized_ms,
        }
    }

    #[test]
    fn the_table_sums_layers_and_gives_their_share() {
        let layers = [layer("a.lin1", 0.5, 0.25), layer("a.lin2", 0.3, 0.2)];
        let table = markdown(&layers, "int8-dynamic", Some([1.6, 1.2]));
        assert!(table.contains("| a.lin1 | 64×256 → 512 | 0.5000 | 0.2500 | 2.00x |"));
        assert!(table.contains("| all 2 Linears | | 0.800 | 0.450 | 1.78x |"));
        assert!(table.contains("| whole forward | | 1.600 | 1.200 | 1.33x |"));
        assert!(
            table.contains("50% of the f32 forward and 38% of the int8-dynamic forward"),
            "{table}"
        );
        assert!(!markdown(&layers, "q8_0", None).contains("whole forward"));
    }
}
