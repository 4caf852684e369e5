"""A character bigram language model in pure Python: the toy the tiny trainer trains and the tiny
evaluator scores. Logits W[prev][next], softmax per row, trained by minibatch SGD on cross-entropy.

Checkpoints are one JSON file holding everything needed to continue exactly where training stopped:
weights (float64, base64), vocabulary, step, tokens seen, the sampler's random state. Resuming from a
checkpoint and training on gives bit-for-bit the weights an uninterrupted run would have.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import sys
from array import array
from pathlib import Path
from typing import Any

FORMAT = "kumo-tiny-bigram/1"
UNK = ""  # vocabulary slot 0: every character the vocabulary lacks
BOUNDARY = "\n"  # what a text is scored as following


class Bigram:
    def __init__(self, vocab: list[str], weights: array | None = None) -> None:
        if not vocab or vocab[0] != UNK or BOUNDARY not in vocab:
            raise ValueError("vocabulary must start with the unknown slot and contain a newline")
        self.vocab = vocab
        self.index = {ch: i for i, ch in enumerate(vocab) if i}
        self.v = len(vocab)
        self.w = weights if weights is not None else array("d", bytes(8 * self.v * self.v))
        if len(self.w) != self.v * self.v:
            raise ValueError(f"weights hold {len(self.w)} values, not {self.v}x{self.v}")
        self._lse: dict[int, float] = {}

    @classmethod
    def for_text(cls, text: str, vocab_size: int) -> "Bigram":
        """A zero-initialised (uniform) model whose vocabulary is the text's most frequent characters."""
        freq: dict[str, int] = {}
        for ch in text:
            freq[ch] = freq.get(ch, 0) + 1
        freq.pop(BOUNDARY, None)
        chars = sorted(freq, key=lambda c: (-freq[c], c))[: max(1, vocab_size - 2)]
        return cls([UNK, BOUNDARY, *sorted(chars)])

    def encode(self, text: str) -> list[int]:
        get = self.index.get
        return [get(ch, 0) for ch in text]

    # -------------------------------------------------------------------------------------- training

    def train_step(self, ids: list[int], rng: random.Random, batch: int, lr: float) -> float:
        """One SGD step on `batch` (prev, next) pairs sampled from ids; returns the batch's mean loss."""
        v, w = self.v, self.w
        grads: dict[int, list[float]] = {}
        loss = 0.0
        last = len(ids) - 1
        exp = math.exp
        for _ in range(batch):
            i = rng.randrange(last)
            a, b = ids[i], ids[i + 1]
            base = a * v
            row = w[base : base + v]
            m = max(row)
            exps = [exp(x - m) for x in row]
            s = sum(exps)
            loss += math.log(s) + m - row[b]
            g = grads.get(a)
            inv = 1.0 / s
            if g is None:
                grads[a] = g = [e * inv for e in exps]
            else:
                for j, e in enumerate(exps):
                    g[j] += e * inv
            g[b] -= 1.0
        scale = lr / batch
        for a, g in grads.items():
            base = a * v
            for j, gj in enumerate(g):
                w[base + j] -= scale * gj
        self._lse.clear()
        return loss / batch

    # ------------------------------------------------------------------------------------- inference

    def _row_lse(self, a: int) -> float:
        lse = self._lse.get(a)
        if lse is None:
            row = self.w[a * self.v : (a + 1) * self.v]
            m = max(row)
            lse = m + math.log(sum(math.exp(x - m) for x in row))
            self._lse[a] = lse
        return lse

    def logprob(self, text: str, after: str = BOUNDARY) -> float:
        """Natural-log probability of `text` following `after` (its last character)."""
        ids = self.encode(after[-1:] + text) if after else self.encode(text)
        v, w = self.v, self.w
        return sum(w[a * v + b] - self._row_lse(a) for a, b in zip(ids, ids[1:]))

    def bits_per_char(self, text: str) -> float:
        n = len(text)
        return -self.logprob(text) / (n * math.log(2)) if n else 0.0

    # ----------------------------------------------------------------------------------- checkpoints

    def weights_sha256(self) -> str:
        return hashlib.sha256(self._weight_bytes()).hexdigest()

    def _weight_bytes(self) -> bytes:
        w = array("d", self.w)
        if sys.byteorder == "big":
            w.byteswap()
        return w.tobytes()

    def to_json(self, **state: Any) -> dict[str, Any]:
        return {
            "format": FORMAT,
            **state,
            "vocab": self.vocab,
            "weights": {"dtype": "float64-le", "shape": [self.v, self.v], "base64": base64.b64encode(self._weight_bytes()).decode("ascii"), "sha256": self.weights_sha256()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Bigram":
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} checkpoint (format: {data.get('format')!r})")
        w = array("d")
        w.frombytes(base64.b64decode(data["weights"]["base64"]))
        if sys.byteorder == "big":
            w.byteswap()
        model = cls(list(data["vocab"]), w)
        expected = data["weights"].get("sha256")
        if expected and model.weights_sha256() != expected:
            raise ValueError("checkpoint weights do not match their sha256: the file is damaged")
        return model


def load_checkpoint(path: Path) -> tuple[Bigram, dict[str, Any]]:
    """(model, the whole checkpoint document). Raises OSError or ValueError."""
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"checkpoint is not JSON: {err}") from None
    return Bigram.from_json(data), data


def latest_checkpoint(folder: Path) -> Path | None:
    found = sorted(folder.glob("step-*.ckpt"))
    return found[-1] if found else None
