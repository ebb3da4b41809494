"""Rebuild torch's dynamic int8 model from a `squeeze quantize` folder and compare its
logits with squeeze's int8 logits on the held-out sentences.

    squeeze quantize --model www/models/default --scheme int8-dynamic [--int8-embeddings] \
        --out /tmp/q-int8
    /work/venv/bin/python tools/reference/rebuild_int8.py --quantized /tmp/q-int8 \
        --source www/models/default [--squeeze target/debug/squeeze]

Each int8 Linear becomes `torch.ao.nn.quantized.dynamic.Linear` holding exactly the stored
int8 weight and scale (no re-quantization); everything else is loaded as f32 (an int8
embedding table is widened row by row, q * scale, as squeeze's lookup does). The same code
is in docs/EXPORT.md. Expected parity (../shared/reference/pytorch-dynamic-int8.md): most
sentences match to ~1e-7, a few differ by up to ~1e-2 when a last-bit difference elsewhere
flips one activation rounding.
"""

import argparse
import json
import sys
from pathlib import Path

from common import deterministic_torch

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import AutoTokenizer, DistilBertConfig, DistilBertForSequenceClassification

import squeeze_cli


def rebuild(folder: Path) -> torch.nn.Module:
    """torch's quantize_dynamic model, from quantized.safetensors + config.json."""
    path = folder / "quantized.safetensors"
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    assert meta["format"] == "squeeze-quantized", "not a squeeze quantized export"
    tensors = load_file(path)
    model = DistilBertForSequenceClassification(DistilBertConfig.from_pretrained(folder)).eval()
    state = {}
    layers = {k: v for k, v in meta.items() if k.startswith(("distilbert.", "pre_classifier", "classifier")) and not k.endswith(".shape")}
    table = "distilbert.embeddings.word_embeddings"
    for name, t in tensors.items():
        owner = name.rsplit(".", 1)[0]
        if owner in layers and layers[owner] != "f32" or owner == table:
            continue  # built below
        state[name] = t
    if meta["embeddings"] == "int8-per-row":
        q, scale = tensors[f"{table}.weight"], tensors[f"{table}.scale"]
        state[f"{table}.weight"] = q.to(torch.float32) * scale[:, None]
    else:
        state[f"{table}.weight"] = tensors[f"{table}.weight"]
    for name, scheme in layers.items():
        if scheme == "f32":
            continue
        if scheme not in ("int8-dynamic", "int8-per-channel"):
            raise SystemExit(f"{name}: {scheme} has no torch dynamic int8 equivalent")
        # Placeholder f32 weights so load_state_dict is complete; replaced just below.
        state[f"{name}.weight"] = torch.zeros(tensors[f"{name}.weight"].shape)
        state[f"{name}.bias"] = tensors[f"{name}.bias"]
    model.load_state_dict(state, strict=True)

    for name, scheme in layers.items():
        if scheme == "f32":
            continue
        q, scale, bias = (tensors[f"{name}.{p}"] for p in ("weight", "scale", "bias"))
        if scheme == "int8-dynamic":
            qweight = torch._make_per_tensor_quantized_tensor(q, float(scale[0]), 0)
        else:
            zero = torch.zeros(q.shape[0], dtype=torch.int64)
            qweight = torch._make_per_channel_quantized_tensor(q, scale.double(), zero, 0)
        out_f, in_f = q.shape
        linear = torch.ao.nn.quantized.dynamic.Linear(in_f, out_f, dtype=torch.qint8)
        linear.set_weight_bias(qweight, bias)
        parent, child = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model, name.rsplit(".", 1)[-1]
        setattr(parent, child, linear)
    return model


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quantized", type=Path, required=True, help="folder from `squeeze quantize`")
    p.add_argument("--source", type=Path, required=True, help="the f32 model folder it came from")
    p.add_argument("--squeeze", type=Path, default=squeeze_cli.DEFAULT_BIN)
    p.add_argument("--sentences", type=int, default=336)
    args = p.parse_args()
    deterministic_torch()

    model = rebuild(args.quantized)
    with safe_open(args.quantized / "quantized.safetensors", "pt") as f:
        meta = f.metadata()
    flags = ["--scheme", meta["scheme"]]
    if meta["embeddings"] == "int8-per-row":
        flags.append("--int8-embeddings")
    texts = squeeze_cli.held_out(args.sentences)
    ours = np.array(squeeze_cli.logits(args.squeeze, args.source, texts, *flags), dtype=np.float32)
    tokenizer = AutoTokenizer.from_pretrained(args.quantized, local_files_only=True)
    with torch.no_grad():
        theirs = np.array(
            [model(**tokenizer(t, return_tensors="pt", truncation=True, max_length=512)).logits[0].numpy() for t in texts],
            dtype=np.float32,
        )
    per_sentence = np.abs(ours - theirs).max(axis=1)
    print(f"{args.quantized} ({meta['scheme']}, embeddings {meta['embeddings']}): {len(texts)} sentences")
    print(f"  torch vs squeeze max |diff| {per_sentence.max():.3e}, median {np.median(per_sentence):.3e}")
    print(f"  sentences within 1e-6: {(per_sentence <= 1e-6).sum()}/{len(texts)}; labels agree: "
          f"{(ours.argmax(1) == theirs.argmax(1)).sum()}/{len(texts)}")
    print(json.dumps({"max_abs_diff": float(per_sentence.max())}))
    return 0 if per_sentence.max() < 5e-2 else 1


if __name__ == "__main__":
    sys.exit(main())
