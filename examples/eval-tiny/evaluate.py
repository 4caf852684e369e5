#!/usr/bin/env python3
"""One kumo evaluation task: a checkpoint of the tiny bigram model on one tiny benchmark.

Reads:  KUMO_CHECKPOINT (a checkpoint file, a file:// URI, or a folder whose newest step-*.ckpt is
        taken; relative paths resolve against KUMO_INPUT_ROOT), KUMO_BENCHMARK (jglue-mini,
        llm-jp-eval-mini, ja-bpc). --checkpoint / --benchmark override them.
Says:   ::kumo::result {"checkpoint", "benchmark", "metric", "score", "higherIsBetter", "items",
                        "correct", "step", "model"}
A checkpoint that cannot be read, or a benchmark that does not exist, fails the task (exit 3 / 2).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE), str(_HERE.parent / "common")]

import benchmarks as bm  # noqa: E402
import kumo_task  # noqa: E402
from bigram import Bigram, latest_checkpoint, load_checkpoint  # noqa: E402
from kumo_task import TaskError  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Evaluate a tiny bigram checkpoint (a kumo evaluation task).")
    ap.add_argument("--checkpoint", default=kumo_task.env("KUMO_CHECKPOINT"))
    ap.add_argument("--benchmark", default=kumo_task.env("KUMO_BENCHMARK"))
    ap.add_argument("--input-root", default=kumo_task.env("KUMO_INPUT_ROOT"))
    return ap.parse_args(argv)


def pick(model: Bigram, question: str, choices: tuple[str, ...]) -> int:
    """The choice with the highest log-probability per character after the question."""
    scores = [model.logprob(c, after=question) / max(1, len(c)) for c in choices]
    return max(range(len(choices)), key=lambda i: scores[i])


def run_benchmark(model: Bigram, name: str) -> tuple[float, int, int | None]:
    """(score, items, correct or None)."""
    if name == "jglue-mini":
        correct = sum(pick(model, q.question, q.choices) == q.answer for q in bm.JGLUE_MINI)
        return correct / len(bm.JGLUE_MINI), len(bm.JGLUE_MINI), correct
    if name == "llm-jp-eval-mini":
        # The natural sentence is offered first in half the items and second in the rest, so a model
        # that cannot tell them apart scores about one half, not one or zero.
        correct = 0
        for i, (good, bad) in enumerate(bm.LLM_JP_EVAL_MINI):
            choices, answer = ((good, bad), 0) if i % 2 == 0 else ((bad, good), 1)
            correct += pick(model, "", choices) == answer
        return correct / len(bm.LLM_JP_EVAL_MINI), len(bm.LLM_JP_EVAL_MINI), correct
    if name == "ja-bpc":
        chars = sum(len(s) for s in bm.JA_BPC)
        bits = sum(model.bits_per_char(s) * len(s) for s in bm.JA_BPC)
        return bits / chars, len(bm.JA_BPC), None
    raise AssertionError(name)


def run(args: argparse.Namespace) -> int:
    if not args.benchmark:
        raise TaskError("no benchmark: KUMO_BENCHMARK (or --benchmark) is empty")
    if args.benchmark not in bm.BENCHMARKS:
        raise TaskError(f"unknown benchmark '{args.benchmark}' (known: {', '.join(bm.BENCHMARKS)})")
    if not args.checkpoint:
        raise TaskError("no checkpoint: KUMO_CHECKPOINT (or --checkpoint) is empty")
    path = kumo_task.local_path(kumo_task.resolve_input(args.checkpoint, args.input_root), "checkpoint")
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise TaskError(f"checkpoint '{args.checkpoint}' is a folder with no step-*.ckpt in it", 3)
        path = found
    try:
        model, ckpt = load_checkpoint(path)
    except (OSError, ValueError, KeyError) as err:
        raise TaskError(f"cannot load checkpoint '{args.checkpoint}' ({path}): {err}", 3) from None
    metric, higher = bm.BENCHMARKS[args.benchmark]
    started = time.monotonic()
    score, items, correct = run_benchmark(model, args.benchmark)
    print(f"{args.benchmark}: {metric} {score:.4f} on {items} items (checkpoint step {ckpt.get('step')})", flush=True)
    result = {
        "checkpoint": args.checkpoint,
        "checkpointPath": str(path.resolve()),
        "benchmark": args.benchmark,
        "metric": metric,
        "score": round(score, 4),
        "higherIsBetter": higher,
        "items": items,
        "step": ckpt.get("step"),
        "model": ckpt.get("model"),
        "seconds": round(time.monotonic() - started, 3),
    }
    if correct is not None:
        result["correct"] = correct
    kumo_task.result(result)
    return 0


if __name__ == "__main__":
    kumo_task.main_wrapper(lambda: run(parse_args(sys.argv[1:])))
