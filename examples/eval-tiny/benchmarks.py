"""Tiny built-in benchmarks, a handful of items each, in the shape of the real ones.

- jglue-mini: five-way multiple choice in the style of JGLUE's JCommonsenseQA. Metric: accuracy.
- llm-jp-eval-mini: two-way choice between a natural Japanese sentence and the same characters in an
  unnatural order (a stand-in for llm-jp-eval's many tasks that a character model can attempt).
  Metric: accuracy.
- ja-bpc: bits per character on held-out Japanese sentences. Metric: bits_per_char (lower is better).

All text written for these examples. A model is scored by log-probability: multiple choice picks the
choice the model finds most likely after the question, per character, as lm-eval-harness does with
`acc_norm`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    question: str
    choices: tuple[str, ...]
    answer: int


JGLUE_MINI = [
    Choice("電車に乗るときに改札にかざすものは何ですか。", ("交通系のカード", "傘", "みかん", "新聞", "枕"), 0),
    Choice("雨の日に外を歩くときに使うものは何ですか。", ("スプーン", "傘", "ベンチ", "提灯", "こたつ"), 1),
    Choice("本を借りることができる場所はどこですか。", ("魚屋", "駅のホーム", "図書館", "山の頂上", "プール"), 2),
    Choice("冬に入って暖まる日本の家具は何ですか。", ("冷蔵庫", "ブランコ", "本棚", "こたつ", "改札"), 3),
    Choice("梅干しを作るときに梅を漬けるものは何ですか。", ("砂糖水", "牛乳", "コーヒー", "しょうゆ", "塩"), 4),
    Choice("夏の祭りの夜に明かりがともるものは何ですか。", ("提灯", "黒板", "切符", "財布", "長靴"), 0),
    Choice("山に登るときに必ず持っていくとよいものは何ですか。", ("テレビ", "水と雨具", "ピアノ", "金魚", "こたつ"), 1),
    Choice("朝ごはんによく食べる日本の汁物は何ですか。", ("コーラ", "アイス", "みそ汁", "ケーキ", "ジャム"), 2),
]

NATURAL = [
    "毎朝、公園を散歩しています。",
    "駅の近くに新しい店ができました。",
    "今日はとてもいい天気です。",
    "図書館で本を借りました。",
    "冬になると雪が降る地方もあります。",
    "友だちと一緒に昼ごはんを食べます。",
    "夜空に月がきれいに見えました。",
    "旅行の前に天気予報を確認します。",
    "子どもたちは公園で遊んでいます。",
    "温かいお茶を飲みながら本を読みます。",
]


def _scramble(sentence: str, seed: int) -> str:
    """The same characters in another order, the same every run."""
    chars = list(sentence)
    rng = random.Random(seed)
    while "".join(chars) == sentence:
        rng.shuffle(chars)
    return "".join(chars)


# (natural, unnatural): the unnatural one holds the same characters in another order.
LLM_JP_EVAL_MINI = [(s, _scramble(s, i)) for i, s in enumerate(NATURAL)]

JA_BPC = [
    "春になると、川の近くの道に桜がたくさん咲きます。",
    "昨日は友だちと駅前の店で昼ごはんを食べました。",
    "この町では、毎年秋に大きな祭りが行われます。",
    "寒い日には、温かいみそ汁を飲むと体が温まります。",
    "週末は家で本を読んだり、音楽を聞いたりして過ごしました。",
]

#: name -> (metric, higher is better)
BENCHMARKS: dict[str, tuple[str, bool]] = {
    "jglue-mini": ("accuracy", True),
    "llm-jp-eval-mini": ("accuracy", True),
    "ja-bpc": ("bits_per_char", False),
}
