//! One forward on a team of threads (`engine::parallel::one_forward`) gives the logits of
//! one thread bit for bit: the bundled student, every scheme, at 8 and 72 tokens, on
//! pools of one and three threads. At 72 tokens a team forms (`parallel::MIN_FORWARD`) and
//! every Linear, the activations' quantization, the attention heads and GELU are split
//! across it (`parallel::TEAM_MIN_WORK`); at 8 tokens the forward stays on one thread.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::bundled;
use engine::Scheme;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

#[test]
fn team_forward_logits_are_one_threads_bit_for_bit() {
    let f32 = bundled();
    let short = "a quiet, lovely little film";
    let long = "the plot wanders for an hour, the jokes land once in a while, and yet the two \
                leads carry every scene with such warmth that by the end I had forgiven the \
                script almost everything it asked of me, even the ending, which arrives late, says \
                too little, and leaves the audience wondering why nobody cut twenty minutes";
    let (one, three) = (pool(1), pool(3));
    for &scheme in Scheme::ALL {
        let model = f32.quantize(scheme).expect("quantizes");
        for text in [short, long] {
            let enc = model.encode(text).expect("encodes");
            assert!([8, 72].contains(&enc.ids.len()), "{} tokens", enc.ids.len());
            let alone = one.install(|| model.logits(&enc)).expect("forward");
            for _ in 0..3 {
                let team = three.install(|| model.logits(&enc)).expect("forward");
                assert_eq!(team, alone, "{scheme:?}, {} tokens", enc.ids.len());
            }
        }
    }
}
