"""Is this text Japanese? Counting scripts, the way corpus filters for Japanese LLMs usually do.

Japanese mixes Hiragana, Katakana and Kanji; Chinese uses Han characters (Kanji) alone. So a page is
Japanese when most of its letters are Japanese script AND a fair share of those are Hiragana (the
particles and inflections every Japanese sentence has, and Chinese never does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


# Counted with regular expressions: C speed, which matters on CommonCrawl's volume.
_HIRA = "\u3041-\u309f"
_KATA = "\u30a0-\u30ff\u31f0-\u31ff"  # Katakana, its phonetic extensions, the prolonged sound mark
_HALF_KATA = "\uff66-\uff9f"
_KANJI = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0002fa1f\u3005-\u3007"  # CJK ideographs, 々〆〇
_HIRAGANA_RE = re.compile(f"[{_HIRA}]")
_KATAKANA_RE = re.compile(f"[{_KATA}]")
_HALF_KATAKANA_RE = re.compile(f"[{_HALF_KATA}]")
_KANJI_RE = re.compile(f"[{_KANJI}]")
# Any other letter: a word character that is not a digit, an underscore or Japanese script.
_OTHER_LETTER_RE = re.compile(f"[^\\W\\d_{_HIRA}{_KATA}{_HALF_KATA}{_KANJI}]")
_JAPANESE_RE = re.compile(f"[{_HIRA}{_KATA}{_HALF_KATA}{_KANJI}]")


@dataclass(frozen=True)
class ScriptCounts:
    letters: int
    hiragana: int
    katakana: int
    halfwidth_katakana: int
    kanji: int

    @property
    def japanese(self) -> int:
        return self.hiragana + self.katakana + self.halfwidth_katakana + self.kanji

    @property
    def japanese_ratio(self) -> float:
        """Japanese-script characters among all letters (punctuation, digits, spaces not counted)."""
        return self.japanese / self.letters if self.letters else 0.0

    @property
    def hiragana_ratio(self) -> float:
        """Hiragana among the Japanese-script characters: near 0 for Chinese, 0.3-0.6 for Japanese prose."""
        return self.hiragana / self.japanese if self.japanese else 0.0


def count_scripts(text: str) -> ScriptCounts:
    hira = len(_HIRAGANA_RE.findall(text))
    kata = len(_KATAKANA_RE.findall(text))
    half = len(_HALF_KATAKANA_RE.findall(text))
    kanji = len(_KANJI_RE.findall(text))
    other = len(_OTHER_LETTER_RE.findall(text))
    return ScriptCounts(hira + kata + half + kanji + other, hira, kata, half, kanji)


@dataclass(frozen=True)
class JapaneseFilter:
    """The thresholds; defaults keep Japanese pages with English menus and drop Chinese pages."""

    min_japanese_ratio: float = 0.3
    min_hiragana_ratio: float = 0.05
    min_japanese_chars: int = 10

    def might_accept(self, raw: str) -> bool:
        """A necessary condition, checked on the raw HTML at C speed: text can only hold
        Japanese the page's source holds (numeric character references aside, hence the '&#' test).
        Most of CommonCrawl is not Japanese; this spares parsing its HTML."""
        if "&#" in raw:
            return True
        if self.min_hiragana_ratio > 0 and not _HIRAGANA_RE.search(raw):
            return False
        return len(_JAPANESE_RE.findall(raw)) >= self.min_japanese_chars

    def accepts(self, counts: ScriptCounts) -> bool:
        return (
            counts.japanese >= self.min_japanese_chars
            and counts.japanese_ratio >= self.min_japanese_ratio
            and counts.hiragana_ratio >= self.min_hiragana_ratio
        )


def japanese_score(text: str) -> int:
    """How Japanese a decoding of some bytes looks: used to choose between candidate charsets.

    Hiragana weighs most: EUC-JP bytes decoded as Shift_JIS come out as half-width Katakana and
    odd Kanji but never Hiragana, so the right decoding wins. Half-width Katakana count against.
    """
    c = count_scripts(text)
    return 3 * c.hiragana + c.katakana + c.kanji - 2 * c.halfwidth_katakana
