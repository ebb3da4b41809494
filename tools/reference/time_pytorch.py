"""Times PyTorch on the same model and inputs as `cargo xtask bench`, 1 thread.

f32 and `torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)`
(the scheme our int8-dynamic reproduces bit for bit), on an 8-token and a 64-token
input built exactly as engine::bench::input_of builds them: "I love learning about
AI!", then " learning" repeated, cut to length, [SEP] last. Both schemes are timed in
interleaved rounds (median per forward), like ours.

    /work/venv/bin/python tools/reference/time_pytorch.py [MODEL_DIR] \
        [--name teacher] [--ours target/xtask/bench-rows.tsv]

MODEL_DIR: a DistilBERT-layout folder (config.json, model.safetensors, tokenizer.json);
default $SQUEEZE_TEACHER, else .cache/distill/teacher. With --ours, our rows for the same
model name (written by `cargo xtask bench`) are printed beside torch's, as ratios.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from common import REPO

import torch  # noqa: E402  (common sets the offline environment first)
from tokenizers import Tokenizer  # noqa: E402
from transformers import DistilBertForSequenceClassification  # noqa: E402

SHORT = "I love learning about AI!"
MIN_SAMPLE_S = 0.002


def input_of(tok: Tokenizer, n: int) -> list[int]:
    """engine::bench::input_of: exactly n ids, [CLS] first, [SEP] last."""
    text = SHORT
    while len(tok.encode(text).ids) < n:
        text += " learning"
    ids = tok.encode(text).ids
    return ids[: n - 1] + [ids[-1]]


def medians(models: dict, ids: torch.Tensor, rounds: int) -> dict:
    """Median seconds per forward of each model, from interleaved rounds."""
    batches = {}
    for name, m in models.items():
        m(input_ids=ids)
        start = time.perf_counter()
        m(input_ids=ids)
        once = max(time.perf_counter() - start, 1e-6)
        batches[name] = max(1, min(200, int(MIN_SAMPLE_S / once + 0.999)))
    times = {name: [] for name in models}
    for _ in range(rounds):
        for name, m in models.items():
            start = time.perf_counter()
            for _ in range(batches[name]):
                m(input_ids=ids)
            times[name].append((time.perf_counter() - start) / batches[name])
    return {name: statistics.median(t) for name, t in times.items()}


def read_ours(path: Path, model: str) -> dict:
    """(place, tokens, scheme) → median ms from bench-row lines."""
    ours = {}
    for line in path.read_text().splitlines():
        f = line.split("\t")
        if len(f) == 8 and f[0] == "bench-row" and f[2] == model:
            ours[(f[1], int(f[3]), f[4])] = float(f[5])
    return ours


def main() -> None:
    default = os.environ.get("SQUEEZE_TEACHER", str(REPO / ".cache/distill/teacher"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir", nargs="?", default=default)
    ap.add_argument("--name", default="teacher", help="model name in our rows")
    ap.add_argument("--ours", type=Path, help="bench-rows.tsv from cargo xtask bench")
    ap.add_argument("--rounds", type=int, default=31)
    args = ap.parse_args()
    model_dir = Path(args.model_dir)
    if not (model_dir / "model.safetensors").is_file():
        sys.exit(f"error: {model_dir}/model.safetensors not found (run `cargo xtask distill`)")

    torch.set_num_threads(1)
    torch.manual_seed(0)
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    f32 = DistilBertForSequenceClassification.from_pretrained(model_dir).eval()
    qint8 = torch.quantization.quantize_dynamic(f32, {torch.nn.Linear}, dtype=torch.qint8)
    models = {"f32": f32, "int8-dynamic": qint8}

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"engine {torch.backends.quantized.engine}, load {os.getloadavg()[0]:.2f}")
    print(f"model {model_dir}\n")
    ours = read_ours(args.ours, args.name) if args.ours else {}
    head = "| tokens | scheme | torch ms | f32 / scheme |"
    extra = " ours native ms | native / torch | ours wasm ms | wasm / torch |" if ours else ""
    print(head + extra)
    print("|---:|---|---:|---:|" + ("---:|---:|---:|---:|" if ours else ""))
    with torch.inference_mode():
        for n in (8, 64):
            ids = torch.tensor([input_of(tok, n)])
            med = medians(models, ids, args.rounds)
            for scheme, s in med.items():
                ms = s * 1e3
                line = f"| {n} | {scheme} | {ms:.3f} | {med['f32'] / s:.2f}x |"
                if ours:
                    for place in ("native", "wasm"):
                        o = ours.get((place, n, scheme))
                        line += f" {o:.3f} | {o / ms:.2f}x |" if o else " — | — |"
                print(line)


if __name__ == "__main__":
    main()
