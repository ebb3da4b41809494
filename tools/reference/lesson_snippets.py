"""Runs the Python snippets of lessons/ that make a claim about PyTorch, and prints
what the lessons state about them.

The snippets are read from the lesson files and run as they stand, so a lesson that
changes its code changes what runs here. Nothing is downloaded: DistilBERT is built
from `DistilBertConfig()` (distilbert-base-uncased's shape, 2 labels) with random
weights — sizes do not depend on the values.

    /work/venv/bin/python tools/reference/lesson_snippets.py     # ~10 s

- why-optimise.md: `size_in_megabytes` (saved state dict) and `parameter_megabytes`
  (sum over `model.parameters()`) on DistilBERT, f32 and after `quantize_dynamic`;
- quantization.md: the `quantize_dynamic` call, the warnings it raises, and (when
  torchao is installed) what its replacement `quantize_` does differently;
- hands-on.md: the MSE snippet on the reference logits of the lesson's sentence
  (all-MiniLM-L6-v2, random head: shared/reference/pytorch-dynamic-int8.md);
- lab-formats.md: the per-channel `quantize_dynamic` call (one scale per weight row);
- lab-measuring.md: the observer, static-quantization (fusing, calibration) and
  accuracy-interval snippets;
- hands-on.md ("Take it home"): the lines that rebuild torch's int8 model from the
  lab's int8-dynamic download, on the bundled model's `squeeze quantize` folder (needs
  target/debug/squeeze: `cargo build -p squeeze-cli`), against squeeze's int8 logits.
"""

import re
import subprocess
import tempfile
import warnings
from pathlib import Path

from common import REPO, deterministic_torch

import torch  # noqa: E402  (common sets the offline environment first)
from transformers import DistilBertConfig, DistilBertForSequenceClassification  # noqa: E402


def python_block(slug: str, needle: str) -> str:
    """The one ```python block of lessons/<slug>.md that contains `needle`."""
    text = (REPO / "lessons" / f"{slug}.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if needle in b]
    if len(blocks) != 1:
        raise SystemExit(
            f"error: lessons/{slug}.md has {len(blocks)} python blocks with {needle!r}"
        )
    return blocks[0]


def run(code: str, **names) -> dict:
    """Executes a lesson's snippet with `names` defined; returns its namespace."""
    namespace = dict(names)
    exec(compile(code, "<lesson>", "exec"), namespace)  # noqa: S102 (our own lesson text)
    return namespace


def torchao_replacement(model) -> None:
    """quantization.md: torchao's `quantize_` works in place, returns nothing, and rounds
    otherwise than `quantize_dynamic`. Skipped without torchao (`pip install torchao`)."""
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError:
        print("\nquantization: torchao not installed, its claims not checked")
        return
    # "[CLS] i love learning about ai! [SEP]" in distilbert-base-uncased's vocabulary.
    ids = torch.tensor([[101, 1045, 2293, 4083, 2055, 9932, 999, 102]])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = torch.quantization.quantize_dynamic(
            model, {torch.nn.Linear}, dtype=torch.qint8
        )
        expected = reference(input_ids=ids).logits
        copy = DistilBertForSequenceClassification(model.config).eval()
        copy.load_state_dict(model.state_dict())
        returned = quantize_(copy, Int8DynamicActivationInt8WeightConfig())
        got = copy(input_ids=ids).logits
    diff = (got - expected).abs().max().item()
    print(f"\nquantization: torchao quantize_ returned {returned!r}; "
          f"max |logit difference| from quantize_dynamic {diff:.2e}")


def main() -> None:
    deterministic_torch()
    print(f"torch {torch.__version__}, engine {torch.backends.quantized.engine}\n")

    sizes = run(python_block("why-optimise", "def size_in_megabytes"))
    sizes.update(run(python_block("why-optimise", "def parameter_megabytes")))
    model = DistilBertForSequenceClassification(DistilBertConfig()).eval()
    params = sum(p.numel() for p in model.parameters())
    print(f"why-optimise: DistilBERT, {params:,} parameters")

    # common.py silences these warnings for the fixture scripts; here they are the point.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quantized = run(python_block("quantization", "quantize_dynamic("), model=model)
    qmodel = quantized["quantized_model"]
    for name, m in (("f32", model), ("qint8", qmodel)):
        print(
            f"  {name:5}  size_in_megabytes {sizes['size_in_megabytes'](m):.1f} MB"
            f"   parameter_megabytes {sizes['parameter_megabytes'](m):.1f} MB"
        )

    print("\nquantization: warnings of the quantize_dynamic call")
    # "always" records the deprecation twice (the call and torch's own re-raise).
    shown = dict.fromkeys(
        f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught
    )
    for line in shown:
        print(f"  {line}")

    torchao_replacement(model)

    logits = {
        "original_logits": torch.tensor([[0.0008736129, -0.0113303196]]),
        "quantized_logits": torch.tensor([[-0.0022453035, -0.0054777809]]),
    }
    print("\nhands-on: the MSE snippet on the reference logits")
    run(python_block("hands-on", "mse_loss("), torch=torch, **logits)
    mean_square = logits["original_logits"].pow(2).mean().item()
    print(f"mean square of the f32 logits: {mean_square:.3e}")

    print("\nlab-formats: per-channel quantize_dynamic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_channel = run(python_block("lab-formats", "per_channel_dynamic_qconfig"), model=model)
    layer = per_channel["quantized_model"].distilbert.transformer.layer[0].ffn.lin2
    scales = layer.weight().q_per_channel_scales()
    print(f"  ffn.lin2 of layer 0: {scales.numel()} weight scales, one per output row")

    print("\nlab-measuring: observers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(python_block("lab-measuring", "HistogramObserver"))
        print("lab-measuring: static quantization with fusing")
        static = run(python_block("lab-measuring", "tq.fuse_modules"))
    print(f"  {static['quantized']}")
    print("lab-measuring: accuracy interval")
    run(python_block("lab-measuring", "def interval"))
    take_it_home()


def take_it_home() -> None:
    """hands-on.md: rebuild torch's quantize_dynamic model from squeeze's int8 export."""
    import numpy as np
    from transformers import AutoTokenizer

    import squeeze_cli

    binary, source = squeeze_cli.DEFAULT_BIN, REPO / "www/models/default"
    if not binary.is_file():
        print("\nhands-on: target/debug/squeeze not built, the take-it-home lines not checked")
        return
    code = python_block("hands-on", "set_weight_bias")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "squeeze-default-int8-dynamic"
        subprocess.run(
            [binary, "quantize", "--model", source, "--scheme", "int8-dynamic", "--out", folder],
            check=True, capture_output=True,
        )
        line = 'folder = "squeeze-default-int8-dynamic"'
        assert line in code, "the snippet's folder line changed"
        model = run(code.replace(line, f"folder = {str(folder)!r}"))["model"]
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        texts = squeeze_cli.held_out()
        with torch.no_grad():
            theirs = np.array([model(**tokenizer(t, return_tensors="pt")).logits[0].numpy() for t in texts])
    ours = np.array(squeeze_cli.logits(binary, source, texts, "--scheme", "int8-dynamic"))
    gap = np.abs(ours - theirs).max(axis=1)
    print(f"\nhands-on: take it home, {len(texts)} held-out sentences: torch rebuilt vs squeeze int8 "
          f"max |diff| {gap.max():.2e}, median {np.median(gap):.2e}, "
          f"labels agree {(ours.argmax(1) == theirs.argmax(1)).sum()}/{len(texts)}")


if __name__ == "__main__":
    main()
