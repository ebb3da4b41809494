"""Make the PyTorch reference fixtures under tests/fixtures/ (run by hand, see README.md).

Writes:
  tests/fixtures/tiny/       a seeded tiny DistilBertForSequenceClassification in HF
                             format, a pruned WordPiece tokenizer, torch's f32 / qint8 /
                             per-channel qint8 logits for varied sentences (logits.json),
                             and the exact input/output of several quantized Linear calls
                             (layers.safetensors + layers.json).
  tests/fixtures/tiny-bert/  a seeded tiny BertModel in HF BERT format, a seeded head with
                             DistilBERT names, and what the BERT -> DistilBERT conversion
                             must give (expected.json).
It then re-does every quantized Linear call in numpy (int8_reference.py, the reference
arithmetic) and fails unless numpy and torch agree bit for bit.
"""

import copy
import shutil
import sys

from common import LABELS, REPO, deterministic_torch, f32_list, minilm_dir, readable, rel, write_json

import numpy as np
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece
import transformers
from transformers import (
    BertConfig,
    BertModel,
    DistilBertConfig,
    DistilBertForSequenceClassification,
)

import int8_reference as ref

TINY = REPO / "tests/fixtures/tiny"
TINY_BERT = REPO / "tests/fixtures/tiny-bert"
MAX_LEN = 64
FIXED_PAD = 32

# Varied on purpose: each line exercises something the engine's tokenizer or
# arithmetic could get wrong.
SENTENCES = [
    "I love learning about AI!",
    "not bad at all",
    "I wanted to love it, but it was dull.",
    "Wonderful",
    "great 🎉🎉",
    "我喜欢学习",
    "أحب تعلم الذكاء الاصطناعي",
    "אני אוהב ללמוד",
    "ThIs MoViE wAs AmAzInG",
    "The 3 hour film cost $12.50 and was worth every cent in 2024.",
    "What?!?! No way...",
    "This is the worst product I have ever bought.",
    "Absolutely fantastic service, friendly staff and quick delivery.",
    "It's okay, I guess.",
    "I don't hate it.",
    "Terrible. Just terrible.",
    "The plot was predictable but the acting saved it.",
    "Never again!!!",
    "Best purchase of the year :)",
    "meh",
    "The food was cold and the waiter was rude, yet I'd still go back for the dessert.",
    "Café déjà vu, naïve résumé",
    "email me at test@example.com or visit https://example.org",
    "Quantization makes models smaller and faster.",
    "   leading and trailing spaces   ",
    "tab\tseparated\nnew line",
    "ÜBER straße",
    "supercalifragilisticexpialidocious",
    "I can't believe it's not butter!",
    "10/10 would recommend",
    "A",
    'He said "brilliant" — and meant it.',
    "1234567890",
    "((( ))) --- ...",
    "🙂",
    "今日はいい天気ですね",
    "정말 좋아요",
    "Ça va? Très bien, merci.",
    # Truncation edges: 62 word pieces + [CLS] + [SEP] = 64 fits exactly; 63 does not.
    " ".join(["good"] * 62),
    " ".join(["good"] * 63),
    (
        "I bought this laptop for university after reading dozens of reviews, and for the "
        "first few weeks it was everything I hoped for: light, quiet, and fast enough for "
        "my programming assignments. Then the battery started draining overnight, the "
        "keyboard developed a sticky space bar, and customer support kept sending me the "
        "same useless troubleshooting link. I would not buy it again."
    ),
]

# Sentences whose every quantized Linear call is stored in layers.safetensors.
LAYER_SENTENCES = [0, 2, 20]

# (name in the fixture, module path in DistilBertForSequenceClassification)
STORED_LAYERS = [
    ("layer0.q_lin", "distilbert.transformer.layer.0.attention.q_lin"),
    ("layer0.ffn.lin1", "distilbert.transformer.layer.0.ffn.lin1"),
    ("layer1.out_lin", "distilbert.transformer.layer.1.attention.out_lin"),
    ("layer1.ffn.lin2", "distilbert.transformer.layer.1.ffn.lin2"),
    ("pre_classifier", "pre_classifier"),
    ("classifier", "classifier"),
]

# Synthetic inputs for one layer that reach the corners of torch's activation
# quantization: the 0.1 fallback scale, the 6.1e-5 minimum scale with each of its
# three widening rules, one-sided ranges (zero point 0 or 127), and exact .5 ties.
EDGE_LAYER = ("layer0.q_lin", "distilbert.transformer.layer.0.attention.q_lin")


BERT_SENTENCES = [
    "I love learning about AI!",
    "not bad at all",
    "I wanted to love it, but it was dull.",
    "The 3 hour film cost $12.50 and was worth every cent in 2024.",
]

# BERT encoder module names -> DistilBERT ones (reference file, "BERT checkpoints").
BERT_TO_DISTIL = [
    ("attention.self.query", "attention.q_lin"),
    ("attention.self.key", "attention.k_lin"),
    ("attention.self.value", "attention.v_lin"),
    ("attention.output.dense", "attention.out_lin"),
    ("attention.output.LayerNorm", "sa_layer_norm"),
    ("intermediate.dense", "ffn.lin1"),
    ("output.dense", "ffn.lin2"),
    ("output.LayerNorm", "output_layer_norm"),
]

FLOATS_NOTE = (
    "every float is an f32 value written as the exact decimal of that f32 "
    "(parse as f64, then cast to f32: lossless)"
)


# ---------------------------------------------------------------- tokenizer


def pruned_vocab(minilm: Tokenizer, texts: list) -> list:
    """Specials, single characters and their ## forms, and every MiniLM piece of texts.

    Kept in MiniLM's id order, so it is a subset of the real vocabulary and greedy
    WordPiece splits every fixture text exactly as the real tokenizer does.
    """
    full = minilm.get_vocab()
    keep = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    chars = "abcdefghijklmnopqrstuvwxyz0123456789" + "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    for c in chars:
        keep.update(t for t in (c, "##" + c) if t in full)
    for text in texts:
        keep.update(minilm.encode(text, add_special_tokens=False).tokens)
    missing = keep - set(full)
    assert not missing, f"not in the MiniLM vocabulary: {missing}"
    return sorted(keep, key=lambda t: full[t])


def build_tokenizer(vocab: list) -> Tokenizer:
    """BERT-style WordPiece tokenizer that, like MiniLM's, asks for fixed padding."""
    ids = {tok: i for i, tok in enumerate(vocab)}
    tok = Tokenizer(WordPiece(ids, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    # The engine must switch this padding off: one activation scale covers the whole
    # input, so pad rows would change the int8 logits.
    tok.enable_padding(length=FIXED_PAD, pad_id=ids["[PAD]"], pad_token="[PAD]")
    tok.enable_truncation(max_length=MAX_LEN)
    return tok


def unpadded(tok: Tokenizer) -> Tokenizer:
    """A copy that encodes the way the engine must: no padding, truncation at MAX_LEN."""
    out = Tokenizer.from_str(tok.to_str())
    out.no_padding()
    out.enable_truncation(max_length=MAX_LEN)
    return out


# ---------------------------------------------------------------- models


def perturb_affine(model: torch.nn.Module) -> None:
    """Random biases and LayerNorm affines: HF initialises them to 0 and 1, which would
    let an engine that drops a bias or a LayerNorm weight still pass the tests."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Linear) and module.bias is not None:
                module.bias.normal_(0.0, 0.1)
            elif isinstance(module, torch.nn.LayerNorm):
                module.weight.normal_(1.0, 0.1)
                module.bias.normal_(0.0, 0.1)


def distil_config(vocab_size: int) -> DistilBertConfig:
    """The tiny DistilBERT shape used by both fixtures."""
    return DistilBertConfig(
        vocab_size=vocab_size,
        dim=64,
        n_layers=2,
        n_heads=2,
        hidden_dim=128,
        max_position_embeddings=MAX_LEN,
        activation="gelu",
        initializer_range=0.1,
        id2label=dict(LABELS),
        label2id={v: k for k, v in LABELS.items()},
        pad_token_id=0,
        attn_implementation="eager",
    )


def quantized(model: torch.nn.Module, per_channel: bool) -> torch.nn.Module:
    """torch's dynamic int8 model, per-tensor (the default) or per-channel."""
    q = torch.ao.quantization
    if per_channel:
        return q.quantize_dynamic(
            copy.deepcopy(model),
            qconfig_spec={torch.nn.Linear: q.per_channel_dynamic_qconfig},
            dtype=torch.qint8,
        )
    return torch.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def logits(model: torch.nn.Module, ids: list) -> torch.Tensor:
    """One sentence alone, unpadded, attention mask all ones."""
    x = torch.tensor([ids], dtype=torch.long)
    with torch.no_grad():
        return model(input_ids=x, attention_mask=torch.ones_like(x)).logits[0]


def weight_params(module) -> tuple:
    """(int8 weight, f32 weight scales) of a quantized dynamic Linear, as torch holds them."""
    w = module.weight()
    if w.qscheme() == torch.per_tensor_affine:
        scale = np.array([w.q_scale()], dtype=np.float64)
        assert w.q_zero_point() == 0
    else:
        scale = w.q_per_channel_scales().numpy().astype(np.float64)
        assert int(w.q_per_channel_zero_points().abs().max()) == 0
    # torch keeps the scale as f64 but computed it in f32: storing f32 is lossless.
    assert np.array_equal(scale.astype(np.float32).astype(np.float64), scale)
    return w.int_repr().numpy(), scale.astype(np.float32)


def capture(model: torch.nn.Module, ids: list) -> dict:
    """Run one sentence and return {module path: (X, Y)} for every quantized Linear."""
    seen = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, torch.ao.nn.quantized.dynamic.Linear):
            def hook(mod, inputs, output, name=name):
                assert name not in seen, f"{name} called twice"
                seen[name] = (inputs[0].detach().clone().numpy(), output.detach().clone().numpy())
            hooks.append(module.register_forward_hook(hook))
    try:
        logits(model, ids)
    finally:
        for h in hooks:
            h.remove()
    return seen


# ---------------------------------------------------------------- tiny fixture


def make_tiny(tok: Tokenizer, vocab: list) -> dict:
    """Write tests/fixtures/tiny/ and return what the summary and checks need."""
    deterministic_torch()
    model = DistilBertForSequenceClassification(distil_config(len(vocab))).eval()
    perturb_affine(model)
    model.save_pretrained(TINY, safe_serialization=True)
    tok.save(str(TINY / "tokenizer.json"))
    (TINY / "vocab.txt").write_text("".join(t + "\n" for t in vocab), encoding="utf-8")

    q_tensor = quantized(model, per_channel=False).eval()
    q_channel = quantized(model, per_channel=True).eval()

    enc = unpadded(tok)
    full = Tokenizer.from_str(enc.to_str())
    full.no_truncation()
    rows = []
    for text in SENTENCES:
        e = enc.encode(text)
        original = len(full.encode(text).ids)
        rows.append(
            {
                "text": text,
                "tokens": e.tokens,
                "ids": e.ids,
                "original_len": original,
                "truncated": original > MAX_LEN,
                "f32_logits": f32_list(logits(model, e.ids)),
                "qint8_logits": f32_list(logits(q_tensor, e.ids)),
                "qint8_per_channel_logits": f32_list(logits(q_channel, e.ids)),
            }
        )
    write_json(
        TINY / "logits.json",
        {
            "about": "torch logits of tests/fixtures/tiny for each sentence fed alone, unpadded, "
            "attention mask all ones, truncated to max_position_embeddings",
            "made_by": "tools/reference/make_fixtures.py",
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "quantized_engine": torch.backends.quantized.engine,
            "threads": torch.get_num_threads(),
            "attn_implementation": "eager",
            "schemes": {
                "f32_logits": "the float model",
                "qint8_logits": "torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)",
                "qint8_per_channel_logits": "quantize_dynamic(model, qconfig_spec={nn.Linear: "
                "per_channel_dynamic_qconfig}, dtype=torch.qint8)",
            },
            "floats": FLOATS_NOTE,
            "max_len": MAX_LEN,
            "labels": [LABELS[0], LABELS[1]],
            "sentences": rows,
        },
    )
    return {"model": model, "tensor": q_tensor, "channel": q_channel, "rows": rows}


def edge_inputs() -> dict:
    """name -> f32 input [1, rows, 64] for EDGE_LAYER, fixed by a seeded generator."""
    g = np.random.default_rng(7)
    n = lambda rows: g.standard_normal((1, rows, 64)).astype(np.float32)  # noqa: E731
    # 0.01 * j + 0.005 lands on an exact .5 after scaling by 1 / 0.01 for many j.
    ties = np.array([0.0, 1.27] + [0.01 * j + 0.005 for j in range(62)], dtype=np.float32)
    # The same with an odd zero point (63): rne(x / s) + zp and rne(x / s + zp) differ here.
    ties_zp = np.array([-0.63, 0.64] + [0.01 * j + 0.005 for j in range(-31, 31)], dtype=np.float32)
    return {
        "zeros": np.zeros((1, 3, 64), dtype=np.float32),
        "tiny_mixed": n(3) * np.float32(1e-4),
        "tiny_positive": np.abs(n(3)) * np.float32(1e-4),
        "tiny_negative": -np.abs(n(3)) * np.float32(1e-4),
        "positive": np.abs(n(3)),
        "negative": -np.abs(n(3)),
        "large": n(3) * np.float32(1e3),
        "one_row": n(1),
        "ties": ties.reshape(1, 1, 64),
        "ties_odd_zero_point": ties_zp.reshape(1, 1, 64),
    }


class LayerFixture:
    """Collects layers.safetensors tensors and layers.json entries, and counts how often
    numpy (int8_reference.py) and torch agree."""

    def __init__(self, tiny: dict):
        self.tiny = tiny
        self.f32 = {k: v.detach().numpy() for k, v in tiny["model"].named_parameters()}
        self.tensors = {}
        self.json = {"layers": [], "weights": [], "calls": [], "edge_calls": []}
        self.check = {
            "weights": 0, "weight_mismatches": 0,
            "calls": 0, "outputs": 0, "mismatches": 0,
            "edge_calls": 0, "edge_mismatches": 0,
        }

    def compare(self, what: str, x, y, wq, scale, bias, counter: str) -> tuple:
        """numpy's output and activation qparams for x, checked bit for bit against y."""
        y_np, s_x, zp = ref.linear(x, wq, scale, bias)
        ts, tzp = torch._choose_qparams_per_tensor(torch.from_numpy(x), True)
        assert np.float32(ts) == s_x and tzp == zp, f"qparams differ on {what}: {(ts, tzp)} vs {(s_x, zp)}"
        bad = int((y_np.view(np.uint32) != y.view(np.uint32)).sum())
        self.check[counter] += bad
        if bad:
            print(f"  {what}: {bad}/{y.size} outputs differ", file=sys.stderr)
        return s_x, zp

    def float_weights(self) -> None:
        """The f32 weight and bias of every stored layer."""
        for name, path in STORED_LAYERS:
            w, b = self.f32[path + ".weight"], self.f32[path + ".bias"]
            self.tensors[f"weight/{name}/w"] = w.copy()
            self.tensors[f"weight/{name}/b"] = b.copy()
            self.json["layers"].append(
                {
                    "name": name,
                    "module": path,
                    "hf_weight": path + ".weight",
                    "hf_bias": path + ".bias",
                    "in_features": int(w.shape[1]),
                    "out_features": int(w.shape[0]),
                    "key_w": f"weight/{name}/w",
                    "key_b": f"weight/{name}/b",
                }
            )

    def quantized_weights(self, variant: str) -> dict:
        """Check every layer's int8 weight and scale against numpy; store the chosen ones.

        Returns {module path: (int8 weight, scale, bias)} of that variant.
        """
        out = {}
        for path, module in self.tiny[variant].named_modules():
            if not isinstance(module, torch.ao.nn.quantized.dynamic.Linear):
                continue
            wq, scale = weight_params(module)
            out[path] = (wq, scale, module.bias().detach().numpy())
            np_scale = ref.weight_scale(self.f32[path + ".weight"], variant == "channel")
            np_wq = ref.quantize_weight(self.f32[path + ".weight"], np_scale)
            self.check["weights"] += 1
            if not (np.array_equal(np_scale.view(np.uint32), scale.view(np.uint32)) and np.array_equal(np_wq, wq)):
                self.check["weight_mismatches"] += 1
                print(f"  weight mismatch: {variant} {path}", file=sys.stderr)
        for name, path in STORED_LAYERS:
            wq, scale, _ = out[path]
            self.tensors[f"{variant}/{name}/w_int8"] = wq.copy()
            self.tensors[f"{variant}/{name}/w_scale"] = scale.copy()
            self.json["weights"].append(
                {
                    "variant": variant,
                    "layer": name,
                    "key_int8": f"{variant}/{name}/w_int8",
                    "key_scale": f"{variant}/{name}/w_scale",
                    "scale_shape": list(scale.shape),
                }
            )
        return out

    def sentence_calls(self, variant: str, params: dict) -> None:
        """Every quantized Linear call of every sentence through numpy; the chosen ones stored."""
        for si, row in enumerate(self.tiny["rows"]):
            seen = capture(self.tiny[variant], row["ids"])
            qparams = {}
            for path, (x, y) in seen.items():
                qparams[path] = self.compare(f"{variant} {path} sentence {si}", x, y, *params[path], "mismatches")
                self.check["calls"] += 1
                self.check["outputs"] += y.size
            if si not in LAYER_SENTENCES:
                continue
            s = LAYER_SENTENCES.index(si)
            for name, path in STORED_LAYERS:
                x, y = seen[path]
                base = f"{variant}/{name}/s{s}"
                self.store(base, x, y, qparams[path], "calls", variant=variant, layer=name, sentence=s)

    def edge_calls(self, variant: str, params: dict) -> None:
        """EDGE_LAYER on the synthetic corner-case inputs."""
        name, path = EDGE_LAYER
        module = dict(self.tiny[variant].named_modules())[path]
        for case, x in edge_inputs().items():
            with torch.no_grad():
                y = module(torch.from_numpy(x)).numpy()
            qp = self.compare(f"edge {variant} {case}", x, y, *params[path], "edge_mismatches")
            self.check["edge_calls"] += 1
            ties = int((np.abs((x * (np.float32(1) / qp[0])) % 1 - 0.5) == 0).sum())
            self.store(f"edge/{variant}/{case}", x, y, qp, "edge_calls",
                       variant=variant, layer=name, case=case, exact_half_ties=ties)

    def store(self, base: str, x, y, qparams: tuple, section: str, **fields) -> None:
        """x and y under base/x and base/y, described in the json section."""
        self.tensors[base + "/x"] = x.copy()
        self.tensors[base + "/y"] = y.copy()
        entry = dict(fields)
        entry.update(
            {
                "key_x": base + "/x",
                "key_y": base + "/y",
                "x_shape": list(x.shape),
                "y_shape": list(y.shape),
                "x_scale": float(qparams[0]),
                "x_zero_point": int(qparams[1]),
            }
        )
        self.json[section].append(entry)


def make_layers(tiny: dict) -> dict:
    """Write layers.safetensors + layers.json; check numpy against torch on every call."""
    fx = LayerFixture(tiny)
    fx.float_weights()
    for variant in ("tensor", "channel"):
        params = fx.quantized_weights(variant)
        fx.sentence_calls(variant, params)
        fx.edge_calls(variant, params)

    save_numpy({k: np.ascontiguousarray(v) for k, v in fx.tensors.items()}, str(TINY / "layers.safetensors"))
    write_json(
        TINY / "layers.json",
        {
            "about": "exact f32 input x and output y of quantized Linear calls of torch's dynamic "
            "int8 model of tests/fixtures/tiny, captured with forward hooks, plus each layer's "
            "f32 weight and bias, int8 weight (int_repr) and weight scale as torch computed them",
            "made_by": "tools/reference/make_fixtures.py",
            "file": "layers.safetensors",
            "torch": torch.__version__,
            "quantized_engine": torch.backends.quantized.engine,
            "floats": FLOATS_NOTE,
            "variants": {
                "tensor": "quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8): one weight scale "
                "per layer, w_scale has shape [1]",
                "channel": "qconfig_spec={nn.Linear: per_channel_dynamic_qconfig}: one weight scale per "
                "output row, w_scale has shape [out_features]",
            },
            "keys": {
                "weight/<layer>/w": "f32 [out, in], the float weight (same as model.safetensors)",
                "weight/<layer>/b": "f32 [out], the bias (the quantized layer keeps it f32)",
                "<variant>/<layer>/w_int8": "i8 [out, in], weight().int_repr(); zero point 0",
                "<variant>/<layer>/w_scale": "f32, weight scale(s) (torch holds them as f64; exact f32)",
                "<variant>/<layer>/s<i>/x": "f32, the input torch's quantized layer received, shape as captured",
                "<variant>/<layer>/s<i>/y": "f32, its output",
                "edge/<variant>/<case>/x": f"f32, a synthetic input for {EDGE_LAYER[0]} reaching a corner case",
                "edge/<variant>/<case>/y": f"f32, torch's output of {EDGE_LAYER[0]} (of that variant) for it",
            },
            "x_scale": "activation scale torch chose for that call (f32), x_zero_point its zero point; "
            "informational, both follow from x",
            "sentences": [
                {"index": i, "text": tiny["rows"][si]["text"], "ids": tiny["rows"][si]["ids"]}
                for i, si in enumerate(LAYER_SENTENCES)
            ],
            **fx.json,
            "numpy_check": fx.check,
        },
    )
    return fx.check


# ---------------------------------------------------------------- tiny-bert fixture


def bert_to_distilbert(sd: dict, n_layers: int) -> dict:
    """BERT encoder state dict -> DistilBertModel state dict (reference file).

    token_type_embeddings[0] is folded into every position embedding, which is exact
    for single-segment input; the pooler and token types are dropped.
    """
    out = {
        "embeddings.word_embeddings.weight": sd["embeddings.word_embeddings.weight"],
        "embeddings.position_embeddings.weight": sd["embeddings.position_embeddings.weight"]
        + sd["embeddings.token_type_embeddings.weight"][0],
        "embeddings.LayerNorm.weight": sd["embeddings.LayerNorm.weight"],
        "embeddings.LayerNorm.bias": sd["embeddings.LayerNorm.bias"],
    }
    for n in range(n_layers):
        for bert, distil in BERT_TO_DISTIL:
            for p in ("weight", "bias"):
                out[f"transformer.layer.{n}.{distil}.{p}"] = sd[f"encoder.layer.{n}.{bert}.{p}"]
    return out


def make_tiny_bert(tok: Tokenizer, vocab: list) -> dict:
    """Write tests/fixtures/tiny-bert/ and return the conversion's measured error."""
    deterministic_torch()
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=MAX_LEN,
        type_vocab_size=2,
        hidden_act="gelu",
        initializer_range=0.1,
        layer_norm_eps=1e-12,
        pad_token_id=0,
        id2label=dict(LABELS),
        label2id={v: k for k, v in LABELS.items()},
        attn_implementation="eager",
    )
    bert = BertModel(cfg).eval()
    perturb_affine(bert)
    bert.save_pretrained(TINY_BERT, safe_serialization=True)
    tok.save(str(TINY_BERT / "tokenizer.json"))
    (TINY_BERT / "vocab.txt").write_text("".join(t + "\n" for t in vocab), encoding="utf-8")

    gen = torch.Generator().manual_seed(1)
    head = {
        "pre_classifier.weight": torch.randn(64, 64, generator=gen) * 0.1,
        "pre_classifier.bias": torch.randn(64, generator=gen) * 0.1,
        "classifier.weight": torch.randn(2, 64, generator=gen) * 0.1,
        "classifier.bias": torch.randn(2, generator=gen) * 0.1,
    }
    save_torch({k: v.contiguous() for k, v in head.items()}, str(TINY_BERT / "head.safetensors"))

    distil = DistilBertForSequenceClassification(distil_config(len(vocab))).eval()
    converted = {"distilbert." + k: v for k, v in bert_to_distilbert(bert.state_dict(), 2).items()}
    converted.update(head)
    missing, unexpected = distil.load_state_dict(converted, strict=False)
    assert not unexpected and all("position_ids" in m for m in missing), (missing, unexpected)
    q_distil = quantized(distil, per_channel=False).eval()

    enc = unpadded(tok)
    rows = []
    worst = 0.0
    for text in BERT_SENTENCES:
        ids = enc.encode(text).ids
        x = torch.tensor([ids])
        with torch.no_grad():
            h_bert = bert(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state[0]
            h_distil = distil.distilbert(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state[0]
        diff = float((h_bert - h_distil).abs().max())
        worst = max(worst, diff)
        rows.append(
            {
                "text": text,
                "ids": ids,
                "bert_cls_hidden": f32_list(h_bert[0]),
                "converted_max_abs_diff": diff,
                "logits": f32_list(logits(distil, ids)),
                "qint8_logits": f32_list(logits(q_distil, ids)),
            }
        )
    assert worst < 1e-5, f"converted DistilBERT differs from BertModel by {worst}"
    write_json(
        TINY_BERT / "expected.json",
        {
            "about": "a seeded BertModel (config.json + model.safetensors, HF BERT names) and a seeded "
            "head with DistilBERT names (head.safetensors); bert_cls_hidden = BertModel "
            "last_hidden_state[0] (the [CLS] row); logits = DistilBertForSequenceClassification made by "
            "the conversion (token_type_embeddings[0] added to every position embedding, keys renamed, "
            "pooler dropped) plus the head; qint8_logits = that model through quantize_dynamic",
            "made_by": "tools/reference/make_fixtures.py",
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "attn_implementation": "eager",
            "floats": FLOATS_NOTE,
            "head_keys": list(head),
            "rename": {f"encoder.layer.N.{b}": f"transformer.layer.N.{d}" for b, d in BERT_TO_DISTIL},
            "converted_max_abs_diff": worst,
            "sentences": rows,
        },
    )
    return {"worst": worst}


# ---------------------------------------------------------------- main


def main() -> None:
    deterministic_torch()
    minilm = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
    minilm.no_padding()
    minilm.no_truncation()
    vocab = pruned_vocab(minilm, SENTENCES + BERT_SENTENCES)
    tok = build_tokenizer(vocab)

    # The pruned tokenizer must split every fixture text exactly as MiniLM does.
    enc = unpadded(tok)
    enc.no_truncation()
    for text in SENTENCES + BERT_SENTENCES:
        assert enc.encode(text).tokens == minilm.encode(text).tokens, f"tokenization differs: {text!r}"

    for d in (TINY, TINY_BERT):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)

    tiny = make_tiny(tok, vocab)
    check = make_layers(tiny)
    bert = make_tiny_bert(tok, vocab)

    readable(TINY)
    readable(TINY_BERT)
    rows = tiny["rows"]
    print(f"vocabulary: {len(vocab)} tokens; {len(rows)} sentences, "
          f"{sum(r['truncated'] for r in rows)} truncated, "
          f"{sum(1 in r['ids'] for r in rows)} with [UNK]")
    for scheme in ("qint8_logits", "qint8_per_channel_logits"):
        d = np.array([np.array(r[scheme]) - np.array(r["f32_logits"]) for r in rows])
        agree = sum(np.argmax(r[scheme]) == np.argmax(r["f32_logits"]) for r in rows)
        print(f"{scheme}: mse vs f32 mean {np.mean(d ** 2):.3e}, max abs diff {np.abs(d).max():.3e}, "
              f"label agreement {agree}/{len(rows)}")
    print(f"numpy vs torch, weights: {check['weights'] - check['weight_mismatches']}/{check['weights']} "
          "layers with identical int8 values and scales")
    print(f"numpy vs torch, quantized Linear calls: {check['calls']} calls, {check['outputs']} outputs, "
          f"{check['mismatches']} not bit-identical")
    print(f"numpy vs torch, synthetic corner cases: {check['edge_calls']} calls, "
          f"{check['edge_mismatches']} outputs not bit-identical")
    print(f"BERT -> DistilBERT conversion: max abs diff of last_hidden_state {bert['worst']:.3e} (limit 1e-5)")
    for path in sorted(TINY.iterdir()) + sorted(TINY_BERT.iterdir()):
        print(f"  {rel(path)}: {path.stat().st_size} bytes")
    if check["mismatches"] or check["weight_mismatches"] or check["edge_mismatches"]:
        raise SystemExit("error: numpy reference arithmetic disagrees with torch (see above)")


if __name__ == "__main__":
    main()
