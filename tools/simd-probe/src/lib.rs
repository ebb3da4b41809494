//! Three integer matmul kernels for `m × k` activations against `n × k` weights, the
//! shape of the student's FFN: the engine's 2 × 4 block with `i32x4.dot_i16x8_s`, and the
//! same block (and a 3 × 4 one) with relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add_s`,
//! which multiplies 16 pairs per instruction. Built with `+simd128,+relaxed-simd`; the page
//! (index.html) times each and checks that all three give the same sums.
#![allow(clippy::missing_safety_doc)]

use core::arch::wasm32::*;
use std::cell::RefCell;

const M: usize = 64;
const K: usize = 512;
const N: usize = 512;

struct Data {
    x16: Vec<i16>,
    w16: Vec<i16>,
    x8: Vec<u8>,
    w8: Vec<i8>,
    out: Vec<i32>,
}

thread_local! {
    static DATA: RefCell<Data> = RefCell::new(data());
}

/// Activations 0..=127 (PyTorch's reduce_range) and weights -128..=127 from an LCG.
fn data() -> Data {
    let mut s: u32 = 12345;
    let mut next = move || {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (s >> 16) as u8
    };
    let x8: Vec<u8> = (0..M * K).map(|_| next() & 127).collect();
    let w8: Vec<i8> = (0..N * K).map(|_| next() as i8).collect();
    Data {
        x16: x8.iter().map(|&v| i16::from(v)).collect(),
        w16: w8.iter().map(|&v| i16::from(v)).collect(),
        x8,
        w8,
        out: vec![0; M * N],
    }
}

fn sum4(a: v128) -> i32 {
    i32x4_extract_lane::<0>(a)
        + i32x4_extract_lane::<1>(a)
        + i32x4_extract_lane::<2>(a)
        + i32x4_extract_lane::<3>(a)
}

unsafe fn load<T>(s: &[T], i: usize) -> v128 {
    v128_load(s.as_ptr().add(i).cast())
}

/// Multiply-adds per call, for GOP/s.
#[no_mangle]
pub extern "C" fn ops() -> f64 {
    2.0 * (M * N * K) as f64
}

/// i16 × i16 with `dot_i16x8_s` (8 multiply-adds per instruction), 2 × 4 block.
#[no_mangle]
pub extern "C" fn dot_i16() -> i32 {
    DATA.with_borrow_mut(|d| {
        for n in (0..N).step_by(4) {
            for m in (0..M).step_by(2) {
                let mut acc = [[i32x4_splat(0); 4]; 2];
                for k in (0..K).step_by(8) {
                    // SAFETY: m + 1 < M, n + 3 < N, k + 8 <= K.
                    let (x, w) = unsafe {
                        (
                            [load(&d.x16, m * K + k), load(&d.x16, (m + 1) * K + k)],
                            std::array::from_fn::<_, 4, _>(|j| load(&d.w16, (n + j) * K + k)),
                        )
                    };
                    for (a, xv) in acc.iter_mut().zip(x) {
                        for (c, wv) in a.iter_mut().zip(w) {
                            *c = i32x4_add(*c, i32x4_dot_i16x8(xv, wv));
                        }
                    }
                }
                for (i, a) in acc.iter().enumerate() {
                    for (j, &c) in a.iter().enumerate() {
                        d.out[(m + i) * N + n + j] = sum4(c);
                    }
                }
            }
        }
        d.out.iter().fold(0i32, |h, &v| h.wrapping_mul(31).wrapping_add(v))
    })
}

/// i8 × u7 with `relaxed_dot_i8x16_i7x16_add_s` (16 per instruction), `R` × 4 block.
fn relaxed<const R: usize>() -> i32 {
    DATA.with_borrow_mut(|d| {
        for n in (0..N).step_by(4) {
            let mut m = 0;
            while m < M {
                let rows = R.min(M - m);
                let mut acc = [[i32x4_splat(0); 4]; R];
                for k in (0..K).step_by(16) {
                    // SAFETY: rows beyond M reuse row m (their sums are discarded).
                    let (x, w) = unsafe {
                        (
                            std::array::from_fn::<_, R, _>(|i| {
                                load(&d.x8, (m + if i < rows { i } else { 0 }) * K + k)
                            }),
                            std::array::from_fn::<_, 4, _>(|j| load(&d.w8, (n + j) * K + k)),
                        )
                    };
                    for (a, xv) in acc.iter_mut().zip(x) {
                        for (c, wv) in a.iter_mut().zip(w) {
                            *c = i32x4_relaxed_dot_i8x16_i7x16_add(wv, xv, *c);
                        }
                    }
                }
                for (i, a) in acc.iter().enumerate().take(rows) {
                    for (j, &c) in a.iter().enumerate() {
                        d.out[(m + i) * N + n + j] = sum4(c);
                    }
                }
                m += R;
            }
        }
        d.out.iter().fold(0i32, |h, &v| h.wrapping_mul(31).wrapping_add(v))
    })
}

/// [`relaxed`] with a 2 × 4 block (the engine's shape).
#[no_mangle]
pub extern "C" fn relaxed_2x4() -> i32 {
    relaxed::<2>()
}

/// [`relaxed`] with a 3 × 4 block.
#[no_mangle]
pub extern "C" fn relaxed_3x4() -> i32 {
    relaxed::<3>()
}
