"""Load a folder written by `squeeze export` with transformers (local files only) and
compare its logits with squeeze's on the same folder, sentence by sentence.

    squeeze export --model www/models/default --out /tmp/hf-f32 [--f16]
    /work/venv/bin/python tools/reference/check_export.py --export /tmp/hf-f32 \
        [--source www/models/default] [--squeeze target/debug/squeeze]

Fails unless every logit is within 1e-5 of squeeze's (f16 folders are widened to f32 on
both sides, so they compare at the same tolerance). With --source, also prints how far the
export is from the original model (0 for an f32 export; the f16 rounding otherwise).
"""

import argparse
import sys
from pathlib import Path

from common import deterministic_torch

import numpy as np
import torch
from transformers import AutoTokenizer, DistilBertForSequenceClassification

import squeeze_cli

TOLERANCE = 1e-5


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--export", type=Path, required=True, help="folder from `squeeze export`")
    p.add_argument("--source", type=Path, help="the model folder it was exported from")
    p.add_argument("--squeeze", type=Path, default=squeeze_cli.DEFAULT_BIN)
    p.add_argument("--sentences", type=int, default=40, help="held-out sentences to compare")
    args = p.parse_args()
    deterministic_torch()

    texts = squeeze_cli.held_out(args.sentences)
    tokenizer = AutoTokenizer.from_pretrained(args.export, local_files_only=True)
    model = DistilBertForSequenceClassification.from_pretrained(
        args.export, local_files_only=True, dtype=torch.float32
    ).eval()
    ours = np.array(squeeze_cli.logits(args.squeeze, args.export, texts), dtype=np.float32)
    theirs = []
    # squeeze truncates at the model's positions: 512 for DistilBERT, 64 for a /train student.
    max_length = model.config.max_position_embeddings
    with torch.no_grad():
        for text in texts:
            enc = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_length)
            theirs.append(model(**enc).logits[0].numpy())
    theirs = np.array(theirs, dtype=np.float32)
    diff = float(np.abs(ours - theirs).max())
    print(f"{args.export}: {len(texts)} sentences, transformers vs squeeze max |diff| {diff:.3e}")
    if args.source:
        source = np.array(squeeze_cli.logits(args.squeeze, args.source, texts), dtype=np.float32)
        print(f"  export vs the source model (squeeze): max |diff| {float(np.abs(source - theirs).max()):.3e}")
    if diff > TOLERANCE:
        print(f"FAIL: above {TOLERANCE}", file=sys.stderr)
        return 1
    print(f"ok: within {TOLERANCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
