"""PyTorch's dynamic int8 Linear (fbgemm / x86 engine) re-done in numpy, step by step.

Follows /work/shared/reference/pytorch-dynamic-int8.md (the project's reference
arithmetic). make_fixtures.py runs it against torch on every quantized Linear call
and requires bit-for-bit equality, so the committed fixtures and the formulas the
Rust engine implements are known to agree.
"""

import numpy as np

F32 = np.float32
F32_EPS = F32(np.finfo(np.float32).eps)
# torch's ChooseQuantizationParams never lets an activation scale fall below this.
SMALL_SCALE = F32(6.1e-5)
# Activations are quint8 with reduce_range: [0, 127] instead of [0, 255].
QMIN, QMAX = 0, 127


def weight_scale(w: np.ndarray, per_channel: bool) -> np.ndarray:
    """Symmetric qint8 scale: max(|min|, |max|) / 127.5 in f32, at least f32 epsilon.

    Returns shape [1] per tensor, [out] per channel (one per output row).
    """
    w = np.asarray(w, dtype=F32)
    rows = w if per_channel else w.reshape(1, -1)
    lo = np.minimum(rows.min(axis=1), F32(0))
    hi = np.maximum(rows.max(axis=1), F32(0))
    m = np.maximum(-lo, hi).astype(F32)
    s = (m / F32(127.5)).astype(F32)
    return np.maximum(s, F32_EPS).astype(F32)


def quantize_weight(w: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """int8 weights: round-half-even of W times the f32 reciprocal of its scale."""
    w = np.asarray(w, dtype=F32)
    inv = (F32(1.0) / scale.astype(F32)).astype(F32)
    inv = inv.reshape(-1, 1) if inv.size > 1 else inv.reshape(1, 1)
    q = np.rint((w * inv).astype(F32))
    return np.clip(q, -128, 127).astype(np.int8)


def choose_act_qparams(x: np.ndarray) -> tuple:
    """(scale as f32, zero point) for one whole activation tensor, as torch picks them.

    Mirrors ATen's quant_utils::ChooseQuantizationParams with qmin 0, qmax 255 and
    reduce_range (so 0..127), preserve_sparsity and power-of-two off.
    """
    x = np.asarray(x, dtype=F32)
    lo = F32(min(x.min(), F32(0)))
    hi = F32(max(x.max(), F32(0)))
    scale = (float(hi) - float(lo)) / (QMAX - QMIN)  # f64
    s32 = F32(scale)
    with np.errstate(divide="ignore", over="ignore"):
        if s32 == 0 or np.isinf(F32(1.0) / s32):
            scale = 0.1
    if scale < float(SMALL_SCALE):
        org = F32(scale)
        scale = float(SMALL_SCALE)
        if lo == 0:
            hi = F32(SMALL_SCALE * F32(QMAX - QMIN))
        elif hi == 0:
            lo = F32(-SMALL_SCALE * F32(QMAX - QMIN))
        else:
            amp = F32(SMALL_SCALE / org)
            lo = F32(lo * amp)
            hi = F32(hi * amp)
    zp_from_min = QMIN - float(lo) / scale
    zp_from_max = QMAX - float(hi) / scale
    err_min = abs(QMIN) - abs(float(lo) / scale)
    err_max = abs(QMAX) - abs(float(hi) / scale)
    initial = zp_from_min if err_min < err_max else zp_from_max
    if initial < QMIN:
        zp = QMIN
    elif initial > QMAX:
        zp = QMAX
    else:
        zp = int(np.rint(initial))
    return F32(scale), zp


def quantize_act(x: np.ndarray, scale: np.float32, zp: int) -> np.ndarray:
    """quint8 activations: round(X * (1/s)) first, then + zero point, clamp to [0, 255]."""
    inv = F32(F32(1.0) / scale)
    q = np.rint((np.asarray(x, dtype=F32) * inv).astype(F32)) + zp
    return np.clip(q, 0, 255).astype(np.int32)


def linear(x: np.ndarray, wq: np.ndarray, w_scale: np.ndarray, bias: np.ndarray) -> tuple:
    """One dynamic int8 Linear call: returns (Y as f32, act scale, act zero point).

    x has any leading shape; its last axis is in_features. The whole tensor shares
    one activation scale.
    """
    x = np.asarray(x, dtype=F32)
    s_x, zp = choose_act_qparams(x)
    xq = quantize_act(x, s_x, zp).reshape(-1, x.shape[-1]).astype(np.int64)
    wq64 = wq.astype(np.int64)
    colsum = wq64.sum(axis=1)
    acc = xq @ wq64.T - zp * colsum
    assert np.abs(acc).max(initial=0) < 2**31, "i32 accumulator overflow"
    # fbgemm converts the i32 sum to f32, then one fused multiply-add with the f32
    # product s_x * s_w: exact product in f64, one f64 add, one rounding to f32.
    mult = (s_x * w_scale.astype(F32)).astype(F32)
    acc32 = acc.astype(np.int32).astype(F32)
    y = acc32.astype(np.float64) * mult.astype(np.float64) + bias.astype(F32).astype(np.float64)
    y = y.astype(F32)
    return y.reshape(*x.shape[:-1], wq.shape[0]), s_x, zp
