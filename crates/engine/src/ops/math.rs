//! `exp`, `erfc` and the exact (erf) GELU, written once over [`Lanes`] so that the same
//! formula runs on one f32 and on four at a time (wasm simd128), bit for bit alike: every
//! step is one IEEE operation per lane, in the same order, with no fused multiply-add.
//!
//! - `exp`: Cody–Waite reduction `x = n·ln 2 + r`, |r| ≤ ln 2 / 2, then the degree-7
//!   Taylor polynomial of `eʳ` (truncation error r⁸/8! < 6e-9, below half an f32 ulp),
//!   scaled by 2ⁿ built from the exponent bits.
//! - `erfc`: the Chebyshev-fitted form `t·exp(−z² + P(t))`, `t = 1 / (1 + z/2)`, whose
//!   relative error is below 1.2e-7 for every z ≥ 0 (Press et al., *Numerical Recipes*,
//!   §6.2); `erfc(−z) = 2 − erfc(z)`.
//! - `gelu(v) = v/2 · (1 + erf(v/√2)) = v/2 · erfc(−v/√2)`: the erfc form never
//!   subtracts two numbers near 1, so the negative tail keeps its relative accuracy.

/// Below this `exp` would need a subnormal 2ⁿ; it returns 0 there (e⁻⁸⁷ ≈ 1.6e-38).
const EXP_MIN: f32 = -87.0;
/// Above this `exp` overflows f32; it returns e⁸⁸ there.
const EXP_MAX: f32 = 88.0;
/// `ln 2` split so that `n · LN2_HI` is exact for every |n| ≤ 128.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// erfc's fitted polynomial in t, highest power first.
const ERFC_POLY: [f32; 10] = [
    0.170_872_77,
    -0.822_152_23,
    1.488_515_9,
    -1.135_204,
    0.278_868_07,
    -0.186_288_06,
    0.096_784_18,
    0.374_091_96,
    1.000_023_7,
    -1.265_512_2,
];

/// One f32 or a vector of them: the operations the formulas need, one IEEE operation per
/// lane each.
trait Lanes: Copy {
    fn splat(v: f32) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn abs(self) -> Self;
    fn round_even(self) -> Self;
    /// 2ⁿ for whole n in [-126, 127], from the exponent bits.
    fn pow2(self) -> Self;
    /// Per lane: `if self < than { then } else { other }`.
    fn if_less(self, than: Self, then: Self, other: Self) -> Self;
}

impl Lanes for f32 {
    fn splat(v: f32) -> Self {
        v
    }
    fn add(self, o: Self) -> Self {
        self + o
    }
    fn sub(self, o: Self) -> Self {
        self - o
    }
    fn mul(self, o: Self) -> Self {
        self * o
    }
    fn div(self, o: Self) -> Self {
        self / o
    }
    fn abs(self) -> Self {
        f32::abs(self)
    }
    fn round_even(self) -> Self {
        self.round_ties_even()
    }
    fn pow2(self) -> Self {
        // `as` saturates and maps NaN to 0, as wasm's trunc_sat does.
        f32::from_bits(((self as i32).wrapping_add(127) as u32) << 23)
    }
    fn if_less(self, than: Self, then: Self, other: Self) -> Self {
        if self < than {
            then
        } else {
            other
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Lanes for core::arch::wasm32::v128 {
    fn splat(v: f32) -> Self {
        core::arch::wasm32::f32x4_splat(v)
    }
    fn add(self, o: Self) -> Self {
        core::arch::wasm32::f32x4_add(self, o)
    }
    fn sub(self, o: Self) -> Self {
        core::arch::wasm32::f32x4_sub(self, o)
    }
    fn mul(self, o: Self) -> Self {
        core::arch::wasm32::f32x4_mul(self, o)
    }
    fn div(self, o: Self) -> Self {
        core::arch::wasm32::f32x4_div(self, o)
    }
    fn abs(self) -> Self {
        core::arch::wasm32::f32x4_abs(self)
    }
    fn round_even(self) -> Self {
        core::arch::wasm32::f32x4_nearest(self)
    }
    fn pow2(self) -> Self {
        use core::arch::wasm32::*;
        let n = i32x4_trunc_sat_f32x4(self);
        i32x4_shl(i32x4_add(n, i32x4_splat(127)), 23)
    }
    fn if_less(self, than: Self, then: Self, other: Self) -> Self {
        use core::arch::wasm32::*;
        v128_bitselect(then, other, f32x4_lt(self, than))
    }
}

#[inline(always)]
fn exp_lanes<L: Lanes>(x: L) -> L {
    let (min, max) = (L::splat(EXP_MIN), L::splat(EXP_MAX));
    let clamped = x.if_less(min, min, x);
    let clamped = max.if_less(clamped, max, clamped);
    let n = clamped.mul(L::splat(std::f32::consts::LOG2_E)).round_even();
    let r = clamped
        .sub(n.mul(L::splat(LN2_HI)))
        .sub(n.mul(L::splat(LN2_LO)));
    let mut p = L::splat(1.0 / 5040.0);
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p.mul(r).add(L::splat(c));
    }
    x.if_less(min, L::splat(0.0), p.mul(n.pow2()))
}

#[inline(always)]
fn erfc_lanes<L: Lanes>(z: L) -> L {
    let a = z.abs();
    let one = L::splat(1.0);
    let t = one.div(one.add(L::splat(0.5).mul(a)));
    let mut poly = L::splat(ERFC_POLY[0]);
    for &c in &ERFC_POLY[1..] {
        poly = poly.mul(t).add(L::splat(c));
    }
    let zero = L::splat(0.0);
    let tail = t.mul(exp_lanes(zero.sub(a.mul(a)).add(poly)));
    z.if_less(zero, L::splat(2.0).sub(tail), tail)
}

#[inline(always)]
fn gelu_lanes<L: Lanes>(v: L) -> L {
    let u = L::splat(0.0)
        .sub(v)
        .mul(L::splat(std::f32::consts::FRAC_1_SQRT_2));
    L::splat(0.5).mul(v).mul(erfc_lanes(u))
}

/// `eˣ` to within 2 ulp for x in [-87, 88]; 0 below, e⁸⁸ above.
pub fn exp(x: f32) -> f32 {
    exp_lanes(x)
}

/// `erfc(z)` with a relative error near 1e-7 for every finite z.
pub fn erfc(z: f32) -> f32 {
    erfc_lanes(z)
}

/// The exact GELU, `v/2 · (1 + erf(v/√2))`, what PyTorch's and Hugging Face's `"gelu"` is.
pub fn gelu(v: f32) -> f32 {
    gelu_lanes(v)
}

/// Applies `f` to every value, four at a time where simd128 is on.
#[inline(always)]
fn map_in_place(x: &mut [f32], f: impl Fn(f32) -> f32, _f4: impl Fn(Vec4) -> Vec4) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let x = {
        use core::arch::wasm32::{v128_load, v128_store};
        let mut chunks = x.chunks_exact_mut(4);
        for c in &mut chunks {
            // SAFETY: `c` holds exactly four f32; v128 loads and stores may be unaligned.
            unsafe { v128_store(c.as_mut_ptr().cast(), _f4(v128_load(c.as_ptr().cast()))) };
        }
        chunks.into_remainder()
    };
    for v in x {
        *v = f(*v);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type Vec4 = core::arch::wasm32::v128;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type Vec4 = f32;

/// [`gelu`] over a slice.
pub fn gelu_in_place(x: &mut [f32]) {
    map_in_place(x, gelu_lanes::<f32>, gelu_lanes::<Vec4>);
}

/// `x ← exp(x − shift)` over a slice (softmax's numerator).
pub fn exp_shifted_in_place(x: &mut [f32], shift: f32) {
    map_in_place(
        x,
        |v| exp_lanes(v - shift),
        |v| exp_lanes(v.sub(Vec4::splat(shift))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points from -20 to 20, dense near 0 where GELU bends.
    fn sweep() -> impl Iterator<Item = f32> {
        (-20_000..=20_000).map(|i| i as f32 / 1000.0)
    }

    fn ulps(a: f32, b: f32) -> f32 {
        (a - b).abs() / (b.abs().max(f32::MIN_POSITIVE) * f32::EPSILON)
    }

    #[test]
    fn exp_is_within_two_ulp_of_std() {
        let worst = (-8_700..=8_800)
            .map(|i| i as f32 / 100.0)
            .map(|x| ulps(exp(x), x.exp()))
            .fold(0.0f32, f32::max);
        assert!(worst <= 2.0, "worst {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1000.0), 0.0);
        assert!(exp(1000.0).is_finite());
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn erfc_matches_f64_reference_in_relative_terms() {
        // candle's f64 erfc (accurate to ~1e-16, no cancellation in the tail) is the reference.
        for z in sweep().map(|v| v / 2.0) {
            let want = candle_core::cpu::erf::erfc_f64(f64::from(z));
            if want < 1e-30 {
                continue;
            }
            let got = f64::from(erfc(z));
            let rel = (got - want).abs() / want;
            // 1.2e-7 from the fit, plus f32 rounding of z² and of the polynomial.
            let bound = 4e-7 + 2e-7 * f64::from(z * z);
            assert!(rel <= bound, "erfc({z}) = {got}, want {want}: rel {rel:e}");
        }
    }

    #[test]
    fn gelu_matches_candle_gelu_erf() {
        let x: Vec<f32> = sweep().collect();
        let want = candle_core::Tensor::new(x.as_slice(), &candle_core::Device::Cpu)
            .and_then(|t| t.gelu_erf())
            .and_then(|t| t.to_vec1::<f32>())
            .expect("candle gelu");
        let mut got = x.clone();
        gelu_in_place(&mut got);
        for ((v, g), w) in x.iter().zip(&got).zip(&want) {
            // Absolute error against the value's own scale: GELU feeds a Linear layer,
            // where an error counts against the row's largest values, not against a
            // near-zero tail value.
            let tol = 3e-7 * v.abs().max(1.0);
            assert!((g - w).abs() <= tol, "gelu({v}) = {g}, candle {w}");
        }
        assert_eq!(gelu(0.0), 0.0);
        assert_eq!(gelu(30.0), 30.0);
        assert_eq!(gelu(-30.0), 0.0);
    }

    #[test]
    fn slices_equal_the_scalar_function_bit_for_bit() {
        // Seven values: a vector body and a scalar remainder where simd128 is on.
        let x = [-3.5f32, -0.1, 0.0, 0.7, 2.5, 90.0, -100.0];
        let mut g = x;
        gelu_in_place(&mut g);
        let mut e = x;
        exp_shifted_in_place(&mut e, 1.5);
        for (i, &v) in x.iter().enumerate() {
            assert_eq!(g[i].to_bits(), gelu(v).to_bits(), "gelu({v})");
            assert_eq!(e[i].to_bits(), exp(v - 1.5).to_bits(), "exp({v} - 1.5)");
        }
    }
}
