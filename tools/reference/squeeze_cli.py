"""Run the squeeze command line and read its logits, for the scripts that hold squeeze's
numbers against transformers/torch (check_export.py, rebuild_int8.py)."""

import json
import subprocess
from pathlib import Path

from common import REPO

DEFAULT_BIN = REPO / "target/debug/squeeze"
"""Where `cargo build -p squeeze-cli` puts the binary (set --squeeze for another target dir)."""


def held_out(limit=None) -> list:
    """The sentences of data/sentiment/test.tsv (the held-out set), in file order."""
    lines = (REPO / "data/sentiment/test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    texts = [line.split("\t", 1)[1] for line in lines if "\t" in line]
    return texts[:limit] if limit else texts


def logits(binary: Path, model: Path, texts: list, *flags: str) -> list:
    """squeeze classify --json on texts: one logit list per text."""
    cmd = [str(binary), "classify", "--model", str(model), "--json", *flags, "--", *texts]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{binary} classify failed: {run.stderr.strip()}")
    return [row["logits"] for row in json.loads(run.stdout)]
