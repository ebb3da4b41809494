#!/usr/bin/env python3
"""Split squeeze's hand-written sentiment sentences into train/dev/test.

Reads data/sentiment/all.tsv (header `label<TAB>domain<TAB>text`, label 0 =
negative, 1 = positive) and writes train.tsv, dev.tsv and test.tsv beside it,
each with the header `label<TAB>text`, which is what `squeeze eval` reads.

What it guarantees (and checks; it exits non-zero with one clear line if not):
- every row is well formed: a 0/1 label, a known domain, a text with no tab;
- exact duplicates (after lowercasing and stripping punctuation and emoji) are
  dropped, and the same text with two labels is an error;
- no near-duplicates anywhere in the set (word or character-trigram overlap
  above a threshold), so no sentence can leak into test in a reworded form;
- each split is balanced 50/50 and stratified by domain: every domain gives
  each split the same number of positive and negative sentences;
- forms are spread evenly too: inside each domain and label, sentences are
  ordered by a detected form (long, short, emoji, question, exclamation,
  contrast, negation, other) and dealt to the splits at evenly spaced places;
- determinism: groups are sorted before a seeded shuffle, so re-running on the
  same all.tsv writes byte-identical files, whatever the row order in all.tsv.

Usage: python3 data/sentiment/split.py   (Python 3.8+, standard library only)
"""

import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

SEED = 1729
TEST_FRAC = 0.24
DEV_FRAC = 0.16
DOMAINS = (
    "products",
    "media",
    "food",
    "travel",
    "learning",
    "software",
    "health",
    "daily",
)
# Pairs above either threshold count as near-duplicates. Chosen by eye on this
# set: the closest genuinely different pairs share a frame ("Not bad at all,
# ...") but stay well below these values.
WORD_JACCARD_MAX = 0.75
TRIGRAM_JACCARD_MAX = 0.75

HERE = Path(__file__).resolve().parent


def fail(msg):
    """Print one clear line and exit non-zero."""
    print(f"split.py: {msg}", file=sys.stderr)
    sys.exit(1)


def normalise(text):
    """Lowercase, replace punctuation and emoji by spaces, collapse spaces."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", text.lower()).split())


def read_rows(path):
    """Read all.tsv into (label, domain, text) tuples, validating each line."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    if lines[0] != "label\tdomain\ttext":
        fail(f"{path}:1: expected the header 'label<TAB>domain<TAB>text'")
    rows = []
    for no, line in enumerate(lines[1:], start=2):
        if line == "":
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            fail(f"{path}:{no}: expected 3 tab-separated fields, found {len(parts)}")
        label, domain, text = parts
        if label not in ("0", "1"):
            fail(f"{path}:{no}: label must be 0 or 1, found {label!r}")
        if domain not in DOMAINS:
            fail(f"{path}:{no}: unknown domain {domain!r}")
        if text != text.strip() or not normalise(text):
            fail(f"{path}:{no}: text is empty or has surrounding whitespace")
        rows.append((int(label), domain, text))
    return rows


def dedupe(rows):
    """Drop exact normalised duplicates; a text with two labels is an error."""
    seen = {}
    kept = []
    for row in rows:
        key = normalise(row[2])
        if key in seen:
            if seen[key][0] != row[0]:
                fail(f"same text with both labels: {row[2]!r}")
            print(f"dropped duplicate: {row[2]!r}")
            continue
        seen[key] = row
        kept.append(row)
    return kept


def trigrams(s):
    """Character trigrams of a normalised string, padded with spaces."""
    s = f" {s} "
    return {s[i : i + 3] for i in range(len(s) - 2)}


def jaccard(a, b):
    """Size of the intersection over the size of the union."""
    return len(a & b) / len(a | b)


def check_near_duplicates(rows):
    """Fail if any two sentences are near-duplicates of each other."""
    norm = [normalise(r[2]) for r in rows]
    words = [set(n.split()) for n in norm]
    grams = [trigrams(n) for n in norm]
    bad = []
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            # Cheap size test first: Jaccard can't exceed min/max of the sizes.
            gi, gj = grams[i], grams[j]
            if min(len(gi), len(gj)) < TRIGRAM_JACCARD_MAX * max(len(gi), len(gj)):
                wi, wj = words[i], words[j]
                if min(len(wi), len(wj)) < WORD_JACCARD_MAX * max(len(wi), len(wj)):
                    continue
            w = jaccard(words[i], words[j])
            g = jaccard(gi, gj)
            if w >= WORD_JACCARD_MAX or g >= TRIGRAM_JACCARD_MAX:
                bad.append((w, g, rows[i][2], rows[j][2]))
    for w, g, a, b in bad:
        print(f"near-duplicate (words {w:.2f}, trigrams {g:.2f}): {a!r} ~ {b!r}")
    if bad:
        fail(f"{len(bad)} near-duplicate pair(s); reword or remove one of each")


# Checked in this order; the first that matches names the sentence's form.
FORMS = (
    ("long", lambda t: len(t.split()) >= 30),
    ("short", lambda t: len(t.split()) <= 3),
    ("emoji", lambda t: re.search("[\U0001F000-\U0001FFFF\u2600-\u27BF]", t)),
    ("question", lambda t: "?" in t),
    ("exclamation", lambda t: "!" in t),
    ("contrast", lambda t: re.search(r"\b(but|yet|though|however)\b", t.lower())),
    (
        "negation",
        lambda t: re.search(r"\b(not|never|no|nothing|nobody|none)\b|n't\b", t.lower()),
    ),
)


def form(text):
    """The index of the first form in FORMS that matches, else len(FORMS)."""
    for i, (_, test) in enumerate(FORMS):
        if test(text):
            return i
    return len(FORMS)


def evenly(positions, k):
    """Pick k of the given positions, spaced as evenly as possible."""
    n = len(positions)
    return [positions[int((j + 0.5) * n / k)] for j in range(k)]


def deal(n, n_test, n_dev):
    """Split names for positions 0..n-1, each split spread over the range."""
    test = set(evenly(list(range(n)), n_test))
    rest = [i for i in range(n) if i not in test]
    dev = set(evenly(rest, n_dev))
    return ["test" if i in test else "dev" if i in dev else "train" for i in range(n)]


def split(rows):
    """Stratify by domain and label; return {split name: [(label, text)]}."""
    groups = defaultdict(list)
    for label, domain, text in rows:
        groups[(domain, label)].append(text)
    out = {"train": [], "dev": [], "test": []}
    for domain in DOMAINS:
        pos = sorted(groups[(domain, 1)])
        neg = sorted(groups[(domain, 0)])
        random.Random(f"{SEED}:{domain}:1").shuffle(pos)
        random.Random(f"{SEED}:{domain}:0").shuffle(neg)
        # Equal positives and negatives per domain keeps every split at 50/50.
        n = min(len(pos), len(neg))
        for extra in pos[n:] + neg[n:]:
            print(f"dropped to keep {domain} balanced: {extra!r}")
        plan = deal(n, int(n * TEST_FRAC + 0.5), int(n * DEV_FRAC + 0.5))
        for label, texts in ((1, pos[:n]), (0, neg[:n])):
            # A seeded rotation per group, so that a small form sitting at the
            # same place in every group does not always meet the same split.
            k = random.Random(f"{SEED}:{domain}:{label}:rotate").randrange(n)
            rotated = plan[k:] + plan[:k]
            # sorted() is stable: within a form the seeded order survives.
            for name, text in zip(rotated, sorted(texts, key=form)):
                out[name].append((label, text, domain))
    for name, items in out.items():
        random.Random(f"{SEED}:{name}").shuffle(items)
    return out


def verify(splits):
    """Check balance and that no normalised text appears in two splits."""
    owner = {}
    for name, items in splits.items():
        labels = Counter(label for label, _, _ in items)
        if labels[0] != labels[1]:
            fail(f"{name} is not balanced: {dict(labels)}")
        for _, text, _ in items:
            key = normalise(text)
            if key in owner and owner[key] != name:
                fail(f"text in both {owner[key]} and {name}: {text!r}")
            owner[key] = name


def write(splits):
    """Write each split as `label<TAB>text` with Unix newlines."""
    for name, items in splits.items():
        body = "".join(f"{label}\t{text}\n" for label, text, _ in items)
        (HERE / f"{name}.tsv").write_text("label\ttext\n" + body, encoding="utf-8")


def report(splits):
    """Print counts per split, label and domain."""
    print(f"{'split':<6} {'neg':>4} {'pos':>4} {'total':>5}  per domain (neg/pos)")
    for name in ("train", "dev", "test"):
        items = splits[name]
        c = Counter((d, label) for label, _, d in items)
        labels = Counter(label for label, _, _ in items)
        per = " ".join(f"{d}={c[(d, 0)]}/{c[(d, 1)]}" for d in DOMAINS)
        print(f"{name:<6} {labels[0]:>4} {labels[1]:>4} {len(items):>5}  {per}")
    names = [f for f, _ in FORMS] + ["other"]
    print(f"{'split':<6} per form: " + " ".join(names))
    for name in ("train", "dev", "test"):
        c = Counter(form(text) for _, text, _ in splits[name])
        print(f"{name:<6} " + " ".join(f"{c[i]:>{len(f)}}" for i, f in enumerate(names)))


def main():
    rows = dedupe(read_rows(HERE / "all.tsv"))
    check_near_duplicates(rows)
    splits = split(rows)
    verify(splits)
    write(splits)
    report(splits)


if __name__ == "__main__":
    main()
