//! The search on made-up costs: budgets respected, monotone, exact against brute force;
//! the file format round trip and its refusals.

use super::*;

/// A small deterministic problem: `n` layers of three shapes with f32, f16, int8 and q4
/// options whose errors are not convex in bytes.
fn costs(n: usize) -> Sensitivity {
    let layers = (0..n)
        .map(|i| {
            let base = [1000u64, 2000, 500][i % 3];
            let wobble = (i * 7 % 5) as f64 + 1.0;
            let opt = |scheme, bytes, error| Cost {
                scheme,
                bytes,
                error,
            };
            LayerCosts {
                layer: format!("layer.{i}"),
                options: vec![
                    opt(Scheme::F32, base, 0.0),
                    opt(Scheme::F16, base / 2, 1e-6 * wobble),
                    opt(Scheme::Int8Dynamic, base / 4, 1e-4 * wobble),
                    opt(Scheme::Q5_0, base * 5 / 32 + 8, 3e-3 / wobble),
                    opt(Scheme::Q4_0, base / 8 + 8, 2e-3 * wobble),
                ],
            }
        })
        .collect();
    Sensitivity {
        fixed_bytes: 10_000,
        sentences: 3,
        layers,
    }
}

/// Every mix, for checking the frontier on small problems.
fn brute_force(s: &Sensitivity) -> Vec<(u64, f64)> {
    let mut all = vec![(s.fixed_bytes, 0.0)];
    for l in &s.layers {
        all = all
            .iter()
            .flat_map(|&(b, e)| l.options.iter().map(move |c| (b + c.bytes, e + c.error)))
            .collect();
    }
    all
}

#[test]
fn recipe_size_budget_is_respected_and_optimal() {
    let s = costs(6);
    let all = brute_force(&s);
    let frontier = Frontier::new(&s).unwrap();
    for max in (s.min_bytes()..=s.f32_bytes()).step_by(97) {
        let r = frontier.recipe(Budget::MaxBytes(max)).unwrap();
        assert!(r.bytes <= max, "{} > {max}", r.bytes);
        let sum: u64 = s.fixed_bytes + r.layers.iter().map(|l| l.bytes).sum::<u64>();
        assert_eq!(sum, r.bytes);
        let best = all
            .iter()
            .filter(|(b, _)| *b <= max)
            .map(|&(_, e)| e)
            .fold(f64::INFINITY, f64::min);
        assert!(
            (r.predicted_error - best).abs() <= 1e-12,
            "budget {max}: {} vs brute force {best}",
            r.predicted_error
        );
    }
}

#[test]
fn recipe_tighter_budget_is_never_bigger() {
    let s = costs(14);
    let frontier = Frontier::new(&s).unwrap();
    let mut last: Option<Recipe> = None;
    for max in (s.min_bytes()..=s.f32_bytes() + 10).rev().step_by(53) {
        let r = frontier.recipe(Budget::MaxBytes(max)).unwrap();
        if let Some(prev) = &last {
            assert!(r.bytes <= prev.bytes, "{} > {}", r.bytes, prev.bytes);
            assert!(r.predicted_error >= prev.predicted_error);
        }
        last = Some(r);
    }
    let loose = frontier.recipe(Budget::MaxBytes(s.f32_bytes())).unwrap();
    assert_eq!(loose.predicted_error, 0.0);
    assert!(loose.layers.iter().all(|l| l.scheme == Scheme::F32));
}

#[test]
fn recipe_error_budget_gives_the_smallest_model_within_it() {
    let s = costs(6);
    let all = brute_force(&s);
    let frontier = Frontier::new(&s).unwrap();
    let mut last_bytes = 0;
    for max in [1.0, 1e-2, 5e-3, 1e-3, 1e-4, 1e-5, 0.0] {
        let r = frontier.recipe(Budget::MaxError(max)).unwrap();
        assert!(r.predicted_error <= max);
        let best = all
            .iter()
            .filter(|(_, e)| *e <= max)
            .map(|&(b, _)| b)
            .min()
            .unwrap();
        assert_eq!(r.bytes, best, "error budget {max}");
        assert!(
            r.bytes >= last_bytes,
            "a tighter error budget cannot shrink"
        );
        last_bytes = r.bytes;
    }
    assert_eq!(last_bytes, s.f32_bytes());
}

#[test]
fn recipe_budget_below_the_smallest_model_is_a_clear_error() {
    let s = costs(3);
    let err = search(&s, Budget::MaxBytes(100)).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "no recipe fits a budget of 100 bytes: the smallest these schemes reach is {} bytes",
            s.min_bytes()
        )
    );
    let err = search(&s, Budget::MaxError(-1.0)).unwrap_err().to_string();
    assert_eq!(err, "an error budget must be 0 or more, not -1");
}

#[test]
fn recipe_json_round_trips_and_is_versioned() {
    let r = search(&costs(5), Budget::MaxBytes(12_000)).unwrap();
    let json = r.to_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["format"], "squeeze-recipe");
    assert_eq!(v["version"], 1);
    assert_eq!(v["budget"]["max_bytes"], 12_000);
    assert_eq!(v["layers"][0]["layer"], "layer.0");
    let back = Recipe::from_json(json.as_bytes()).unwrap();
    // serde_json reads decimals to within an ulp: names, schemes and bytes exactly.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * a.abs().max(b.abs());
    assert_eq!((back.bytes, back.budget), (r.bytes, r.budget));
    assert!(close(back.predicted_error, r.predicted_error));
    assert_eq!(back.layers.len(), r.layers.len());
    for (a, b) in back.layers.iter().zip(&r.layers) {
        assert_eq!((&a.layer, a.scheme, a.bytes), (&b.layer, b.scheme, b.bytes));
        assert!(close(a.predicted_error, b.predicted_error));
    }

    let by_hand = br#"{"format":"squeeze-recipe","version":1,"bytes":0,"predicted_error":0,
        "layers":[{"layer":"classifier","scheme":"q4_k"}]}"#;
    let r = Recipe::from_json(by_hand).unwrap();
    assert_eq!(r.scheme_of("classifier"), Some(Scheme::Q4K));
    assert_eq!(r.budget, None);
}

#[test]
fn recipe_files_of_other_kinds_are_refused_clearly() {
    let msg = |s: &str| Recipe::from_json(s.as_bytes()).unwrap_err().to_string();
    assert_eq!(
        msg(r#"{"version":1}"#),
        "not a recipe file: no \"format\": \"squeeze-recipe\" field"
    );
    assert_eq!(
        msg(r#"{"format":"gguf","version":1}"#),
        "not a recipe file: format is \"gguf\", expected \"squeeze-recipe\""
    );
    assert_eq!(
        msg(r#"{"format":"squeeze-recipe","version":2,"layers":[]}"#),
        "recipe file version 2 is not supported; this squeeze reads version 1"
    );
    assert!(msg("[1, 2").starts_with("not a recipe file: "));
    let bad_scheme = r#"{"format":"squeeze-recipe","version":1,"bytes":0,"predicted_error":0,
        "layers":[{"layer":"classifier","scheme":"int3"}]}"#;
    assert!(msg(bad_scheme).contains("int3"), "{}", msg(bad_scheme));
}
