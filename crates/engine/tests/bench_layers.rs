//! `bench::layers`: every Linear of a model timed alone, f32 against int8, on the tiny
//! fixture (dim 64, FFN 128) with the real clock.

mod common;

use std::time::Instant;

use common::tiny;
use engine::bench::layers::linear_medians;
use engine::Scheme;

#[test]
fn every_linear_is_timed_on_the_rows_it_sees_in_a_forward() {
    let model = tiny();
    let int8 = model.quantize(Scheme::Int8Dynamic).unwrap();
    let start = Instant::now();
    let now_ms = move || start.elapsed().as_secs_f64() * 1e3;
    let times = linear_medians(&model, &int8, 12, 3, 0.05, &now_ms).unwrap();

    let linears = model.linears();
    assert_eq!(times.len(), linears.len());
    for (t, info) in times.iter().zip(&linears) {
        assert_eq!(t.name, info.name);
        assert_eq!(
            (t.in_features, t.out_features),
            (info.in_features, info.out_features)
        );
        let head = t.name.contains("classifier");
        assert_eq!(t.rows, if head { 1 } else { 12 }, "{}", t.name);
        assert!(t.f32_ms > 0.0 && t.f32_ms.is_finite(), "{t:?}");
        assert!(t.quantized_ms > 0.0 && t.quantized_ms.is_finite(), "{t:?}");
    }
    assert!(times.iter().any(|t| t.rows == 1), "the head is timed too");
}
