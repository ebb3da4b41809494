//! The one horizontal reduction the simd128 kernels share: four vectors of four partial
//! sums become one vector of the four totals, by two transposing shuffle-and-add steps.
//! Lane `j` of the result is `(v[j]₀ + v[j]₂) + (v[j]₁ + v[j]₃)`, with the kernel's own add
//! (`i32x4_add` for the integer kernels, `f32x4_add` for the f32 one, whose scalar
//! reference adds in that same order).

use core::arch::wasm32::*;

/// `[Σ v[0], Σ v[1], Σ v[2], Σ v[3]]`, each sum paired as above.
#[inline(always)]
pub fn transpose_sum([a0, a1, a2, a3]: [v128; 4], add: fn(v128, v128) -> v128) -> v128 {
    // [a0₀+a0₂, a1₀+a1₂, a0₁+a0₃, a1₁+a1₃], and the same for a2, a3.
    let t01 = add(
        i32x4_shuffle::<0, 4, 1, 5>(a0, a1),
        i32x4_shuffle::<2, 6, 3, 7>(a0, a1),
    );
    let t23 = add(
        i32x4_shuffle::<0, 4, 1, 5>(a2, a3),
        i32x4_shuffle::<2, 6, 3, 7>(a2, a3),
    );
    add(
        i32x4_shuffle::<0, 1, 4, 5>(t01, t23),
        i32x4_shuffle::<2, 3, 6, 7>(t01, t23),
    )
}
