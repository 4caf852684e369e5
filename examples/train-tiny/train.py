#!/usr/bin/env python3
"""A toy trainer that keeps kumo's training contract: a character bigram model, pure Python, a few
milliseconds a step, checkpointed and preemptible like the real thing.

Reads:  KUMO_TARGET_STEPS (required), KUMO_MODEL (a name, kept in checkpoints),
        KUMO_CHECKPOINT_DIR (where checkpoints go; --checkpoint-dir wins),
        KUMO_RESUME_FROM (the last checkpoint kumo recorded, a path, file:// URI or a folder whose
        newest step-*.ckpt is taken; empty = a fresh start), KUMO_CHECKPOINT_EVERY (or --checkpoint-every).
        Training text: --data or TRAIN_DATA (a .txt, .jsonl[.gz] of {"text"}, or a folder of them, e.g. a
        cleaning job's output); default: corpus-ja.txt beside this file.
Says:   ::kumo::progress {"step", "tokens", "loss", "targetSteps"}      every --progress-every steps
        ::kumo::checkpoint {"step", "tokens", "uri"}                    after each checkpoint is on disk
        ::kumo::result {"model", "steps", "tokens", "loss", "checkpoint", "weightsSha256", ...}   at the end
Checkpoints: <dir>/step-00000100.ckpt, written to a temporary name, fsync'd, then renamed.
SIGTERM (a preempted VM, a cancelled job): the step in flight finishes, a checkpoint is written and
announced, and the process exits 143 within a second or so, well inside kumo's ~25 s of grace.
Resuming gives exactly the weights an uninterrupted run would have: the sampler's random state and
the step count are in the checkpoint.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True
_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE.parent / "common")]

import kumo_task  # noqa: E402
from bigram import Bigram, latest_checkpoint, load_checkpoint  # noqa: E402
from kumo_task import TaskError  # noqa: E402

DEFAULT_CORPUS = _HERE / "corpus-ja.txt"
EXIT_PREEMPTED = 128 + signal.SIGTERM


def parse_args(argv: list[str]) -> argparse.Namespace:
    env = kumo_task.env
    ap = argparse.ArgumentParser(description="Train a character bigram model (a kumo training task).")
    ap.add_argument("--target-steps", type=int, default=int(env("KUMO_TARGET_STEPS") or 0))
    ap.add_argument("--model", default=env("KUMO_MODEL") or "tiny-bigram")
    ap.add_argument("--checkpoint-dir", default=env("KUMO_CHECKPOINT_DIR"))
    ap.add_argument("--resume-from", default=env("KUMO_RESUME_FROM"))
    ap.add_argument("--checkpoint-every", type=int, default=int(env("KUMO_CHECKPOINT_EVERY") or 100))
    ap.add_argument("--progress-every", type=int, default=50)
    ap.add_argument("--keep", type=int, default=0, help="keep only the newest N checkpoints (0: keep all)")
    ap.add_argument("--data", default=env("TRAIN_DATA"))
    ap.add_argument("--vocab-size", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--step-delay-ms", type=float, default=float(env("TRAIN_STEP_DELAY_MS") or 0), help="sleep per step, to make a demo run long enough to watch and preempt")
    ap.add_argument("--stop-at-step", type=int, default=0, help="stop (checkpoint, exit 143) at this step, as if preempted: for tests and rehearsals")
    return ap.parse_args(argv)


def read_corpus(where: str) -> str:
    path = kumo_task.local_path(kumo_task.resolve_input(where, kumo_task.env("KUMO_INPUT_ROOT")), "training data") if where else DEFAULT_CORPUS
    if not path.exists():
        raise TaskError(f"no training data at '{path}' (TRAIN_DATA / --data): run the cleaning demo first, or unset it for the built-in corpus", 3)
    parts: list[str] = []
    for f in kumo_task.data_files(path, (".txt", ".jsonl", ".jsonl.gz")):
        opener = gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rt", encoding="utf-8", errors="replace") as fh:
            if f.name.endswith(".txt"):
                parts.append(fh.read())
                continue
            for line in fh:
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(doc, dict) and isinstance(doc.get("text"), str):
                    parts.append(doc["text"])
    text = "\n\n".join(p.strip("\n") for p in parts if p.strip())
    if len(text) < 2:
        raise TaskError(f"the training data at '{path}' holds no text", 3)
    return text


class Stopper:
    """SIGTERM/SIGINT ask for a stop; the loop notices after the step in flight."""

    def __init__(self) -> None:
        self.signal: int | None = None
        signal.signal(signal.SIGTERM, self._on)
        signal.signal(signal.SIGINT, self._on)

    def _on(self, signum: int, _frame: Any) -> None:
        self.signal = signum

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while self.signal is None:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))


def resume_path(ref: str) -> Path:
    path = kumo_task.local_path(ref, "KUMO_RESUME_FROM")
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise TaskError(f"KUMO_RESUME_FROM '{ref}' is a folder with no step-*.ckpt in it", 3)
        return found
    return path


def write_checkpoint(folder: Path, model: Bigram, state: dict[str, Any], keep: int) -> Path:
    path = folder / f"step-{state['step']:08d}.ckpt"
    doc = model.to_json(**state, createdAt=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    with kumo_task.AtomicFile(path, "w") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
    if keep > 0:
        for old in sorted(folder.glob("step-*.ckpt"))[:-keep]:
            old.unlink(missing_ok=True)
    return path


def run(args: argparse.Namespace) -> int:
    if args.target_steps < 1:
        raise TaskError("no target: KUMO_TARGET_STEPS (or --target-steps) must be a positive number of steps")
    if not args.checkpoint_dir:
        raise TaskError("nowhere to write checkpoints: KUMO_CHECKPOINT_DIR (or --checkpoint-dir) is not set")
    if args.checkpoint_every < 1:
        raise TaskError("--checkpoint-every must be at least 1")
    stopper = Stopper()
    ckpt_dir = kumo_task.ensure_dir(kumo_task.local_path(args.checkpoint_dir, "checkpoint dir"), "the checkpoint folder")
    corpus = read_corpus(args.data)
    corpus_sha = hashlib.sha256(corpus.encode("utf-8")).hexdigest()

    rng = random.Random(args.seed)
    step = tokens = 0
    loss_ema: float | None = None
    resumed_from: int | None = None
    if args.resume_from:
        path = resume_path(args.resume_from)
        try:
            model, ckpt = load_checkpoint(path)
        except (OSError, ValueError, KeyError) as err:
            # Never fall back to step 0 on a bad resume: that would silently throw away the run.
            raise TaskError(f"cannot resume from '{args.resume_from}': {err}", 3) from None
        step, tokens, loss_ema = int(ckpt["step"]), int(ckpt["tokens"]), ckpt.get("lossEma")
        version, internal, gauss = ckpt["rng"]
        rng.setstate((version, tuple(internal), gauss))
        resumed_from = step
        if ckpt.get("corpusSha256") != corpus_sha:
            kumo_task.log("warning: the training data differs from the data this checkpoint was trained on")
        print(f"resumed from step {step} ({path})", flush=True)
    else:
        model = Bigram.for_text(corpus, args.vocab_size)
        print(f"fresh start: vocabulary {model.v}, corpus {len(corpus)} characters", flush=True)
    ids = model.encode(corpus)
    if len(ids) < 2:
        raise TaskError("the training data is too short to train on", 3)

    def state() -> dict[str, Any]:
        return {
            "model": args.model,
            "step": step,
            "tokens": tokens,
            "targetSteps": args.target_steps,
            "lossEma": loss_ema,
            "rng": list(rng.getstate()),
            "batchSize": args.batch_size,
            "lr": args.lr,
            "corpusSha256": corpus_sha,
        }

    last_ckpt: Path | None = path if resumed_from is not None else None
    last_ckpt_step = step if resumed_from is not None else 0

    def checkpoint() -> None:
        nonlocal last_ckpt, last_ckpt_step
        last_ckpt = write_checkpoint(ckpt_dir, model, state(), args.keep)
        last_ckpt_step = step
        kumo_task.checkpoint({"step": step, "tokens": tokens, "uri": str(last_ckpt.resolve())})

    started = time.monotonic()
    while step < args.target_steps and stopper.signal is None:
        loss = model.train_step(ids, rng, args.batch_size, args.lr)
        step += 1
        tokens += args.batch_size
        loss_ema = loss if loss_ema is None else 0.95 * loss_ema + 0.05 * loss
        if step % args.progress_every == 0:
            kumo_task.progress({"step": step, "tokens": tokens, "loss": round(loss_ema, 4), "targetSteps": args.target_steps})
        if step % args.checkpoint_every == 0 and step < args.target_steps:
            checkpoint()
        if args.stop_at_step and step >= args.stop_at_step and step < args.target_steps:
            stopper.signal = signal.SIGTERM
        if args.step_delay_ms:
            stopper.sleep(args.step_delay_ms / 1000)

    if stopper.signal is not None and step < args.target_steps:
        if step != last_ckpt_step:
            checkpoint()
        name = signal.Signals(stopper.signal).name
        kumo_task.log(f"stopping on {name} at step {step} of {args.target_steps}; resume from the last checkpoint")
        return EXIT_PREEMPTED

    if step != last_ckpt_step or last_ckpt is None:
        checkpoint()
    assert last_ckpt is not None
    kumo_task.result(
        {
            "model": args.model,
            "steps": step,
            "tokens": tokens,
            "loss": round(loss_ema, 4) if loss_ema is not None else None,
            "checkpoint": str(last_ckpt.resolve()),
            "weightsSha256": model.weights_sha256(),
            "resumedFrom": resumed_from,
            "seconds": round(time.monotonic() - started, 3),
        }
    )
    return 0


if __name__ == "__main__":
    kumo_task.main_wrapper(lambda: run(parse_args(sys.argv[1:])))
