#!/usr/bin/env python3
"""One kumo cleaning task: a JSONL shard through a pipeline of cleaning steps.

Input (KUMO_TASK_INPUTS): the shard, a .jsonl / .jsonl.gz file or a folder of them (an extraction
task's output folder, e.g. `<prefix>/task-3`); relative paths resolve against --input-root or
KUMO_INPUT_ROOT. Each line is a JSON object with a "text" string; other fields pass through.

Pipeline, first found: --steps-json or KUMO_PIPELINE_STEPS (a JSON list of {"name", "params"}, as in
the job spec's pipeline.steps); --pipeline or KUMO_PIPELINE (a named pipeline, see steps.PIPELINES);
else "ja-basic". Steps: nfkc, repeated_lines, min_length, ja_ratio, dedup_exact.

Output (KUMO_OUTPUT_PREFIX, a local folder): clean.jsonl, then _manifest.jsonl, one line saying what was
made from what (`cat <prefix>/task-*/_manifest.jsonl` is the whole job's manifest). Both written
atomically; the manifest last, so its presence means the shard is done. Prints
    ::kumo::result {"docsIn", "docsOut", "bytesIn", "bytesOut", "output", "pipeline", "steps": [...], ...}
A line that is not a JSON object with a "text" string is skipped and counted (badLines).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

sys.dont_write_bytecode = True
_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE), str(_HERE.parent / "common")]

import kumo_task  # noqa: E402
import steps as steps_mod  # noqa: E402
from kumo_task import TaskError  # noqa: E402

OUTPUT_NAME = "clean.jsonl"
MANIFEST_NAME = "_manifest.jsonl"
DEFAULT_PIPELINE = "ja-basic"


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Clean a JSONL shard (a kumo cleaning task).")
    ap.add_argument("inputs", nargs="*", help="shard files or folders; default: KUMO_TASK_INPUTS")
    ap.add_argument("--input-root", default=kumo_task.env("KUMO_INPUT_ROOT"))
    ap.add_argument("--output-dir", default=kumo_task.env("KUMO_OUTPUT_PREFIX"))
    ap.add_argument("--pipeline", default=kumo_task.env("KUMO_PIPELINE"), help=f"named pipeline: {', '.join(steps_mod.PIPELINES)}")
    ap.add_argument("--steps-json", default=kumo_task.env("KUMO_PIPELINE_STEPS"), help='[{"name": "min_length", "params": {"min_chars": 100}}, ...]')
    return ap.parse_args(argv)


def pipeline_of(args: argparse.Namespace) -> tuple[str, list[dict[str, Any]], list[steps_mod.Step]]:
    if args.steps_json:
        try:
            specs = json.loads(args.steps_json)
        except json.JSONDecodeError as err:
            raise TaskError(f"pipeline steps are not JSON: {err}") from None
        if not isinstance(specs, list) or not specs:
            raise TaskError("pipeline steps must be a non-empty JSON list")
        name = args.pipeline or "custom"
    else:
        name = args.pipeline or DEFAULT_PIPELINE
        if name not in steps_mod.PIPELINES:
            raise TaskError(f"unknown pipeline '{name}' (known: {', '.join(steps_mod.PIPELINES)}; or give its steps in KUMO_PIPELINE_STEPS)")
        specs = steps_mod.PIPELINES[name]
    try:
        return name, specs, steps_mod.build(specs)
    except ValueError as err:
        raise TaskError(f"pipeline '{name}': {err}") from None


class Reader:
    """The shard's documents, as many times as asked (prepass steps read it twice)."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.bytes_in = sum(f.stat().st_size for f in files)
        self.bad_lines = 0

    def docs(self, count_bad: bool) -> Iterator[dict[str, Any]]:
        for f in self.files:
            try:
                opener = gzip.open if f.name.endswith(".gz") else open
                with opener(f, "rt", encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        if not line.strip():
                            continue
                        try:
                            doc = json.loads(line)
                        except json.JSONDecodeError:
                            doc = None
                        if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
                            if count_bad:
                                self.bad_lines += 1
                            continue
                        yield doc
            except (OSError, EOFError) as err:
                raise TaskError(f"cannot read shard file '{f}': {err}", 3) from None


def shard_files(refs: list[str], root: str) -> list[Path]:
    files: list[Path] = []
    for ref in refs:
        path = kumo_task.local_path(kumo_task.resolve_input(ref, root), "input")
        if not path.exists():
            raise TaskError(f"input '{ref}' does not exist ({path})", 3)
        found = list(kumo_task.data_files(path, (".jsonl", ".jsonl.gz")))
        if path.is_dir() and not found:
            raise TaskError(f"input '{ref}' is a folder with no .jsonl files in it ({path})", 3)
        files += found
    return files


def prepass(reader: Reader, specs: list[dict[str, Any]], pipeline: list[steps_mod.Step]) -> None:
    """Lets each step that needs the whole shard observe it, as the steps before it leave it. Those
    earlier steps run as fresh copies, so their state and counts (a dedup step's hashes) belong to
    the real pass alone."""
    for k, step in enumerate(pipeline):
        if not step.needs_prepass:
            continue
        before = steps_mod.build(specs[:k])
        for copy, real in zip(before, pipeline[:k]):
            copy.adopt_observations(real)
        for doc in reader.docs(count_bad=False):
            for earlier in before:
                doc = earlier.apply(doc)
                if doc is None:
                    break
            if doc is not None:
                step.observe(doc)


def run(args: argparse.Namespace) -> int:
    refs = args.inputs or kumo_task.task_inputs()
    if not refs:
        raise TaskError("no inputs: KUMO_TASK_INPUTS is empty and no shard was given")
    if not args.output_dir:
        raise TaskError("no output folder: give the job an output.prefix (KUMO_OUTPUT_PREFIX) or --output-dir")
    name, specs, pipeline = pipeline_of(args)
    reader = Reader(shard_files(refs, args.input_root))
    out_dir = kumo_task.ensure_dir(kumo_task.local_path(args.output_dir, "output"), "the output folder")
    started = time.monotonic()
    kumo_task.exit_on_sigterm()

    prepass(reader, specs, pipeline)
    docs_in = docs_out = 0
    out_path = out_dir / OUTPUT_NAME
    digest = hashlib.sha256()
    with kumo_task.AtomicFile(out_path, "w") as out:
        for doc in reader.docs(count_bad=True):
            docs_in += 1
            for step in pipeline:
                doc = step.apply(doc)
                if doc is None:
                    break
            if doc is not None:
                line = json.dumps(doc, ensure_ascii=False) + "\n"
                out.write(line)
                digest.update(line.encode("utf-8"))
                docs_out += 1
    bytes_out = out_path.stat().st_size
    reports = [s.report() for s in pipeline]
    summary = {
        "docsIn": docs_in,
        "docsOut": docs_out,
        "bytesIn": reader.bytes_in,
        "bytesOut": bytes_out,
        "badLines": reader.bad_lines,
        "pipeline": name,
        "dropped": {r["name"]: r["dropped"] for r in reports if r["dropped"]},
    }
    manifest = {
        "inputs": [str(f) for f in reader.files],
        "output": str(out_path.resolve()),
        "sha256": digest.hexdigest(),
        **summary,
        "steps": reports,
        "job": kumo_task.env("KUMO_JOB_ID"),
        "task": kumo_task.env("KUMO_TASK_INDEX"),
        "createdAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with kumo_task.AtomicFile(out_dir / MANIFEST_NAME, "w") as mf:
        mf.write(json.dumps(manifest, ensure_ascii=False) + "\n")
    kumo_task.result({**summary, "output": manifest["output"], "manifest": str((out_dir / MANIFEST_NAME).resolve()), "steps": reports, "seconds": round(time.monotonic() - started, 3)})
    return 0


if __name__ == "__main__":
    kumo_task.main_wrapper(lambda: run(parse_args(sys.argv[1:])))
