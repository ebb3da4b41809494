//! The /train page's plain logic: settings from the address bar, the link that repeats a
//! run, and the loss chart's geometry. No browser types, so it is tested natively.

use crate::engine::distill::live::{LiveConfig, LiveLoss, DIM_RANGE, HEAD_DIM, LR_RANGE};

/// The temperatures the KL loss accepts (the engine's bounds) and the one it starts at.
pub const TEMPERATURE_RANGE: (f64, f64) = (0.5, 10.0);
/// The temperature a KL run starts with (Hinton et al. used 2–20; 2 suits two labels).
pub const DEFAULT_TEMPERATURE: f64 = 2.0;

/// Chart width and height in SVG units.
pub const CHART: (f64, f64) = (600.0, 240.0);

/// Settings from the query (`seed`, `layers`, `dim`, `lr`, and `loss=kl&t=T` for the
/// temperature-KL loss), each clamped into its bounds; missing or unreadable values take
/// the defaults (those of `squeeze distill`: MSE on the logits).
pub fn config_from_query(get: impl Fn(&str) -> Option<String>) -> LiveConfig {
    let d = LiveConfig::default();
    let num = |k: &str| get(k).and_then(|v| v.trim().parse::<f64>().ok());
    LiveConfig {
        seed: get("seed")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(d.seed),
        layers: num("layers").map_or(d.layers, |v| (v as usize).clamp(1, 2)),
        dim: num("dim").map_or(d.dim, |v| snap_dim(v as usize)),
        lr: num("lr").map_or(d.lr, |v| v.clamp(LR_RANGE.0, LR_RANGE.1)),
        loss: match get("loss").as_deref().map(str::trim) {
            Some("kl") => kl(num("t").unwrap_or(DEFAULT_TEMPERATURE)),
            _ => LiveLoss::Mse,
        },
        ..d
    }
}

/// The KL loss at `temperature`, clamped into [`TEMPERATURE_RANGE`] (NaN: the default).
pub fn kl(temperature: f64) -> LiveLoss {
    let t = if temperature.is_nan() {
        DEFAULT_TEMPERATURE
    } else {
        temperature.clamp(TEMPERATURE_RANGE.0, TEMPERATURE_RANGE.1)
    };
    LiveLoss::Kl { temperature: t }
}

/// The nearest allowed width: a multiple of [`HEAD_DIM`] within [`DIM_RANGE`].
pub fn snap_dim(dim: usize) -> usize {
    let snapped = (dim + HEAD_DIM / 2) / HEAD_DIM * HEAD_DIM;
    snapped.clamp(DIM_RANGE.0, DIM_RANGE.1)
}

/// The address that repeats a run with `c`.
pub fn train_href(c: &LiveConfig) -> String {
    let loss = match c.loss {
        LiveLoss::Mse => String::new(),
        LiveLoss::Kl { temperature } => format!("&loss=kl&t={temperature}"),
    };
    format!(
        "/train?seed={}&layers={}&dim={}&lr={}{loss}",
        c.seed, c.layers, c.dim, c.lr
    )
}

/// Chart scales: the x axis spans at least `min_steps`, the y axis 0 to the largest loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// Steps the x axis spans.
    pub steps: f64,
    /// Loss at the top of the chart.
    pub top: f64,
}

impl Scale {
    /// Scales that fit `train` (one loss per step) and `held_out` (`(step, loss)`).
    pub fn fit(train: &[f64], held_out: &[(usize, f64)], min_steps: usize) -> Self {
        let top = train
            .iter()
            .chain(held_out.iter().map(|(_, l)| l))
            .copied()
            .filter(|l| l.is_finite())
            .fold(0.0f64, f64::max);
        Self {
            steps: train.len().max(min_steps).max(1) as f64,
            top: if top > 0.0 { top * 1.05 } else { 1.0 },
        }
    }

    /// SVG coordinates of the loss `loss` after `step` steps.
    pub fn point(&self, step: f64, loss: f64) -> (f64, f64) {
        let x = CHART.0 * step / self.steps;
        let y = CHART.1 * (1.0 - (loss / self.top).clamp(0.0, 1.0));
        (x, y)
    }

    /// An SVG `points` list for `(step, loss)` pairs.
    pub fn points(&self, pts: impl Iterator<Item = (f64, f64)>) -> String {
        pts.map(|(s, l)| {
            let (x, y) = self.point(s, l);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query that holds `pairs`.
    fn q(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn query_values_are_read_and_clamped_into_bounds() {
        let c = config_from_query(q(&[("seed", "42"), ("dim", "100"), ("layers", "9")]));
        assert_eq!((c.seed, c.dim, c.layers), (42, 96, 2));
        let c = config_from_query(q(&[("seed", "x"), ("lr", "5")]));
        assert_eq!(c.seed, LiveConfig::default().seed);
        assert_eq!(c.lr, LR_RANGE.1);
        assert_eq!(snap_dim(10), DIM_RANGE.0);
        assert_eq!(snap_dim(1000), DIM_RANGE.1);
        assert_eq!(
            train_href(&c),
            format!("/train?seed=7&layers=1&dim=128&lr={}", LR_RANGE.1)
        );
    }

    #[test]
    fn the_kl_loss_and_its_temperature_come_from_the_query_and_go_back_into_the_link() {
        assert_eq!(config_from_query(q(&[])).loss, LiveLoss::Mse);
        assert_eq!(
            config_from_query(q(&[("loss", "mse"), ("t", "4")])).loss,
            LiveLoss::Mse
        );
        let c = config_from_query(q(&[("loss", "kl"), ("t", "4")]));
        assert_eq!(c.loss, LiveLoss::Kl { temperature: 4.0 });
        assert_eq!(
            train_href(&c),
            "/train?seed=7&layers=1&dim=128&lr=0.0005&loss=kl&t=4"
        );
        assert_eq!(
            config_from_query(q(&[("loss", "kl")])).loss,
            LiveLoss::Kl {
                temperature: DEFAULT_TEMPERATURE
            }
        );
        assert_eq!(
            config_from_query(q(&[("loss", "kl"), ("t", "99")])).loss,
            LiveLoss::Kl {
                temperature: TEMPERATURE_RANGE.1
            }
        );
        assert_eq!(
            kl(f64::NAN),
            LiveLoss::Kl {
                temperature: DEFAULT_TEMPERATURE
            }
        );
    }

    #[test]
    fn the_chart_puts_the_largest_loss_near_the_top_and_zero_at_the_bottom() {
        let s = Scale::fit(&[2.0, 1.0], &[(0, 2.1)], 10);
        assert_eq!(s.steps, 10.0);
        let (x, y) = s.point(0.0, 2.1);
        assert_eq!(x, 0.0);
        assert!(y > 0.0 && y < 0.06 * CHART.1, "{y}");
        assert_eq!(s.point(10.0, 0.0), (CHART.0, CHART.1));
        assert_eq!(s.points([(5.0, 0.0)].into_iter()), "300.0,240.0");
    }
}
