"""Export a squeeze model folder (DistilBERT layout) to ONNX f32 and to ONNX Runtime's own
dynamic int8, for the onnxruntime-web columns of `cargo xtask bench`.

    /work/venv/bin/python tools/reference/export_onnx.py --model www/models/default \
        --out .cache/onnx/student

Writes OUT/model.onnx (f32) and OUT/model_int8.onnx
(`onnxruntime.quantization.quantize_dynamic`, QInt8 weights, its default operators: every
Linear becomes DynamicQuantizeLinear + MatMulInteger, and the embedding tables are stored
in int8 behind a DequantizeLinear; attention's two products stay f32), both with
inputs input_ids and attention_mask (int64, [1, sequence]; the sequence length is dynamic)
and output logits, plus OUT/export.json (where they came from, the checks below).

Fails unless ONNX Runtime's f32 logits are within 1e-4 of transformers' on the bench's
8- and 64-token inputs and a few held-out sentences; the int8 file's distance to f32 is
printed (it is quantized, so it is not held to a tolerance). Needs torch, transformers,
onnx and onnxruntime (`pip install onnx onnxruntime`); reads local files only.
"""

import argparse
import logging
import sys
import warnings
from pathlib import Path

from common import REPO, deterministic_torch, write_json

import numpy as np
import torch
from transformers import AutoTokenizer, DistilBertForSequenceClassification

import squeeze_cli

# The TorchScript exporter's deprecation notice and tracer remarks, and onnxruntime's advice
# to pre-process before quantizing (quantize_dynamic on the exported graph is the recipe
# the issue measures), are noise here.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
warnings.filterwarnings("ignore", message=r".*aten::index.*")
logging.getLogger().setLevel(logging.ERROR)

TOLERANCE = 1e-4
OPSET = 17
SHORT = "I love learning about AI!"
"""engine::bench::SHORT: 8 tokens with [CLS] and [SEP]."""


def bench_ids(tokenizer, n: int) -> list:
    """engine::bench::input_of: SHORT, then " learning" until n tokens, cut to n, [SEP] last."""
    text = SHORT
    while len(tokenizer(text)["input_ids"]) < n:
        text += " learning"
    ids = tokenizer(text)["input_ids"]
    return ids[: n - 1] + [ids[-1]]


def export_f32(model, path: Path) -> None:
    """torch.onnx.export through TorchScript (dynamo=False: the dynamo exporter needs onnxscript)."""
    ids = torch.ones(1, 8, dtype=torch.long)
    mask = torch.ones(1, 8, dtype=torch.long)
    torch.onnx.export(
        model,
        (ids, mask),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {1: "sequence"}, "attention_mask": {1: "sequence"}},
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )


def export_int8(f32: Path, int8: Path) -> None:
    """ONNX Runtime's dynamic quantization: QInt8 weights, activations quantized per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(f32), str(int8), weight_type=QuantType.QInt8)


def session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run(sess, ids: list) -> np.ndarray:
    feed = {
        "input_ids": np.array([ids], dtype=np.int64),
        "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
    }
    return sess.run(["logits"], feed)[0][0]


def shown(path: Path) -> str:
    """path relative to the repository root when it is inside it."""
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True, help="a squeeze model folder")
    p.add_argument("--out", type=Path, required=True, help="folder for the .onnx files")
    p.add_argument("--sentences", type=int, default=8, help="held-out sentences to compare")
    args = p.parse_args()
    deterministic_torch()

    tokenizer = AutoTokenizer.from_pretrained(args.model, local_files_only=True)
    model = DistilBertForSequenceClassification.from_pretrained(
        args.model, local_files_only=True, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    model.config.return_dict = False
    args.out.mkdir(parents=True, exist_ok=True)
    f32, int8 = args.out / "model.onnx", args.out / "model_int8.onnx"
    with torch.no_grad():
        export_f32(model, f32)
    export_int8(f32, int8)

    inputs = [bench_ids(tokenizer, 8), bench_ids(tokenizer, 64)]
    inputs += [tokenizer(t)["input_ids"] for t in squeeze_cli.held_out(args.sentences)]
    s_f32, s_int8 = session(f32), session(int8)
    f32_diff = int8_diff = 0.0
    with torch.no_grad():
        for ids in inputs:
            t = torch.tensor([ids])
            theirs = model(input_ids=t, attention_mask=torch.ones_like(t))[0][0].numpy()
            f32_diff = max(f32_diff, float(np.abs(run(s_f32, ids) - theirs).max()))
            int8_diff = max(int8_diff, float(np.abs(run(s_int8, ids) - theirs).max()))
    sizes = {p.name: p.stat().st_size for p in (f32, int8)}
    print(f"{shown(args.model)}: wrote {shown(f32)} ({sizes[f32.name]:,} bytes) "
          f"and {shown(int8)} ({sizes[int8.name]:,} bytes)")
    print(f"  {len(inputs)} inputs ({len(inputs[0])} to {max(map(len, inputs))} tokens): "
          f"ONNX f32 vs transformers max |diff| {f32_diff:.3e}; "
          f"ONNX int8 vs transformers f32 max |diff| {int8_diff:.3e}")
    write_json(args.out / "export.json", {
        "source": shown(args.model),
        "opset": OPSET,
        "int8": "onnxruntime.quantization.quantize_dynamic, QuantType.QInt8",
        "inputs_checked": len(inputs),
        "f32_max_abs_diff": f32_diff,
        "int8_max_abs_diff": int8_diff,
        "bytes": sizes,
    })
    if f32_diff > TOLERANCE:
        print(f"FAIL: ONNX f32 is above {TOLERANCE} from transformers", file=sys.stderr)
        return 1
    print(f"ok: ONNX f32 within {TOLERANCE} of transformers")
    return 0

if __name__ == "__main__":
    sys.exit(main())
