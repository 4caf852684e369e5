"""Cleaning steps and the named pipelines made of them.

A step takes a document (a dict with at least "text") and returns it, changed or not, or None to drop
it. A step that must see the whole shard first (repeated_lines: which lines are boilerplate) has
`needs_prepass`: the runner streams the shard through the steps before it and the step's `observe`,
then runs the pipeline for real.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any, Callable

from japanese import JapaneseFilter, count_scripts

Doc = dict[str, Any]


class Step:
    name = ""
    needs_prepass = False

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.dropped = 0
        self.stats: dict[str, int] = {}

    def observe(self, doc: Doc) -> None:
        """Prepass steps: see one document of the shard before the real pass."""

    def adopt_observations(self, other: "Step") -> None:
        """Prepass steps: take what `other` (the same step) observed."""

    def apply(self, doc: Doc) -> Doc | None:
        raise NotImplementedError

    def report(self) -> dict[str, Any]:
        return {"name": self.name, "params": self.params, "dropped": self.dropped, **self.stats}

    def _count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n


class Nfkc(Step):
    """Unicode NFKC on title and text: full-width ASCII to half-width, half-width Katakana to full-width,
    ① to 1: the normalisation Japanese corpora are usually built with."""

    name = "nfkc"

    def apply(self, doc: Doc) -> Doc | None:
        text = unicodedata.normalize("NFKC", doc["text"])
        if text != doc["text"]:
            self._count("changed")
        doc["text"] = text
        if isinstance(doc.get("title"), str):
            doc["title"] = unicodedata.normalize("NFKC", doc["title"])
        return doc


class MinLength(Step):
    """Drops documents with fewer than `min_chars` characters of text (whitespace not counted)."""

    name = "min_length"

    def __init__(self, min_chars: int = 50) -> None:
        super().__init__(min_chars=min_chars)
        self.min_chars = int(min_chars)

    def apply(self, doc: Doc) -> Doc | None:
        if sum(1 for ch in doc["text"] if not ch.isspace()) < self.min_chars:
            self.dropped += 1
            return None
        return doc


class JaRatio(Step):
    """Drops documents that are not Japanese enough (see japanese.JapaneseFilter)."""

    name = "ja_ratio"

    def __init__(self, min_ratio: float = 0.5, min_hiragana_ratio: float = 0.05) -> None:
        super().__init__(min_ratio=min_ratio, min_hiragana_ratio=min_hiragana_ratio)
        self.filter = JapaneseFilter(float(min_ratio), float(min_hiragana_ratio), 1)

    def apply(self, doc: Doc) -> Doc | None:
        if not self.filter.accepts(count_scripts(doc["text"])):
            self.dropped += 1
            return None
        return doc


class RepeatedLines(Step):
    """Removes boilerplate lines: a line found in at least `min_docs` documents of the shard (menus,
    footers, "ホーム | 旅行記"), and a line repeated inside one document after its first time.
    A document left with no lines is dropped."""

    name = "repeated_lines"
    needs_prepass = True

    def __init__(self, min_docs: int = 3) -> None:
        super().__init__(min_docs=min_docs)
        self.min_docs = int(min_docs)
        self.seen_in: dict[bytes, int] = {}

    @staticmethod
    def _key(line: str) -> bytes:
        return hashlib.blake2b(line.strip().encode("utf-8"), digest_size=12).digest()

    def observe(self, doc: Doc) -> None:
        for key in {self._key(line) for line in doc["text"].split("\n") if line.strip()}:
            self.seen_in[key] = self.seen_in.get(key, 0) + 1

    def adopt_observations(self, other: Step) -> None:
        if isinstance(other, RepeatedLines):
            self.seen_in = other.seen_in

    def apply(self, doc: Doc) -> Doc | None:
        kept: list[str] = []
        mine: set[bytes] = set()
        removed = 0
        for line in doc["text"].split("\n"):
            if not line.strip():
                continue
            key = self._key(line)
            if key in mine or self.seen_in.get(key, 0) >= self.min_docs:
                removed += 1
                continue
            mine.add(key)
            kept.append(line)
        if removed:
            self._count("linesRemoved", removed)
        if not kept:
            self.dropped += 1
            return None
        doc["text"] = "\n".join(kept)
        return doc


class DedupExact(Step):
    """Drops a document whose text (spaces at line ends aside) is the same as an earlier one's in the shard."""

    name = "dedup_exact"

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[bytes] = set()

    def apply(self, doc: Doc) -> Doc | None:
        canon = "\n".join(line.strip() for line in doc["text"].split("\n") if line.strip())
        h = hashlib.sha256(canon.encode("utf-8")).digest()
        if h in self.seen:
            self.dropped += 1
            return None
        self.seen.add(h)
        return doc


STEPS: dict[str, Callable[..., Step]] = {s.name: s for s in (Nfkc, MinLength, JaRatio, RepeatedLines, DedupExact)}

#: Named pipelines (a cleaning job's `pipeline.name`, given to the task as KUMO_PIPELINE).
PIPELINES: dict[str, list[dict[str, Any]]] = {
    "ja-basic": [
        {"name": "nfkc"},
        {"name": "repeated_lines", "params": {"min_docs": 3}},
        {"name": "min_length", "params": {"min_chars": 50}},
        {"name": "dedup_exact"},
    ],
    "ja-strict": [
        {"name": "nfkc"},
        {"name": "ja_ratio", "params": {"min_ratio": 0.6}},
        {"name": "repeated_lines", "params": {"min_docs": 2}},
        {"name": "min_length", "params": {"min_chars": 200}},
        {"name": "dedup_exact"},
    ],
    "dedup": [{"name": "dedup_exact"}],
}


def build(specs: list[dict[str, Any]]) -> list[Step]:
    """Steps from [{"name", "params"}]; a ValueError names what is wrong."""
    steps = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise ValueError(f"step {i}: expected {{\"name\": ..., \"params\": {{...}}}}")
        make = STEPS.get(spec["name"])
        if make is None:
            raise ValueError(f"step {i}: unknown step '{spec['name']}' (known: {', '.join(sorted(STEPS))})")
        params = spec.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError(f"step {i} ({spec['name']}): params must be an object")
        try:
            steps.append(make(**params))
        except (TypeError, ValueError) as err:
            raise ValueError(f"step {i} ({spec['name']}): bad params {params}: {err}") from None
    return steps
