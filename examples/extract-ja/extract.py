#!/usr/bin/env python3
"""Japanese text out of WARC files: one kumo extraction task.

Reads the WARC files of this task's batch (KUMO_TASK_INPUTS), keeps the HTTP 200 HTML responses whose
text is Japanese, and writes them as JSONL to KUMO_OUTPUT_PREFIX/ja.jsonl (a local folder, created;
the file appears whole or not at all). One line per page:
    {"url", "title", "text", "warc_record_id", "warc_date", "warc_file", "charset", "charset_source",
     "ja_ratio", "snapshot"}
Then prints
    ::kumo::result {"docsIn", "docsOut", "bytesIn", "bytesOut", "output", "recordsRead", "recordsSkipped", ...}
docsIn counts the response records read; docsOut the pages written; bytesIn the (compressed) bytes read.

Inputs: paths or http(s) URLs. A relative one resolves against --input-root or KUMO_INPUT_ROOT (a folder,
or a URL prefix such as https://data.commoncrawl.org/). An input that names a batch of a snapshot
(`CC-MAIN-2023-50/batch-7`, what kumo gives for `source.batches`) is line 7 of the snapshot's
warc.paths file, given with --warc-paths or WARC_PATHS.

A corrupt record is skipped and counted (recordsSkipped). An input that cannot be opened or read, or in
which not one record can be read, fails the task (exit 3, with the reason on stderr) so kumo retries it.

Run by hand:  python3 examples/extract-ja/extract.py --output-dir /tmp/out FILE.warc.gz ...
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

sys.dont_write_bytecode = True
_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE), str(_HERE.parent / "common"), str(_HERE.parent / "warc")]

import kumo_task  # noqa: E402
from charset import decode_html  # noqa: E402
from html_text import html_to_text  # noqa: E402
from japanese import JapaneseFilter, count_scripts  # noqa: E402
from kumo_task import TaskError  # noqa: E402
from warcfile import Skipped, open_input, parse_http_response, read_warc  # noqa: E402

HTML_TYPES = {"text/html", "application/xhtml+xml"}
OUTPUT_NAME = "ja.jsonl"
BATCH_REF = re.compile(r"^[A-Za-z0-9._-]+/batch-(\d+)$")
EXIT_BAD_INPUT = 3


class CountingReader:
    """Counts the bytes read from an input (bytesIn), whatever the input is."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data

    def close(self) -> None:
        self.raw.close()


class Stats:
    def __init__(self) -> None:
        self.docs_in = 0
        self.docs_out = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.records_read = 0
        self.records_skipped = 0
        self.dropped: dict[str, int] = {}
        self.charsets: dict[str, int] = {}

    def drop(self, why: str) -> None:
        self.dropped[why] = self.dropped.get(why, 0) + 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Extract Japanese pages from WARC files (a kumo extraction task).")
    ap.add_argument("inputs", nargs="*", help="WARC files; default: KUMO_TASK_INPUTS")
    ap.add_argument("--input-root", default=kumo_task.env("KUMO_INPUT_ROOT"), help="folder or URL prefix relative inputs resolve against (KUMO_INPUT_ROOT)")
    ap.add_argument("--output-dir", default=kumo_task.env("KUMO_OUTPUT_PREFIX"), help="where ja.jsonl goes (KUMO_OUTPUT_PREFIX)")
    ap.add_argument("--warc-paths", default=kumo_task.env("WARC_PATHS"), help="the snapshot's warc.paths[.gz], to turn batch numbers into paths (WARC_PATHS)")
    ap.add_argument("--min-ja-ratio", type=float, default=0.3, help="least share of Japanese script among letters (0.3)")
    ap.add_argument("--min-hiragana-ratio", type=float, default=0.05, help="least share of Hiragana among Japanese script (0.05): rules out Chinese")
    ap.add_argument("--min-ja-chars", type=int, default=10, help="least Japanese-script characters in a page (10)")
    ap.add_argument("--no-verify-digests", action="store_true", help="do not check the WARC-Block-Digest of response records")
    ap.add_argument("--progress-seconds", type=float, default=10.0, help="least time between ::kumo::progress lines")
    return ap.parse_args(argv)


def resolve_inputs(refs: list[str], root: str, warc_paths: str) -> list[tuple[str, str]]:
    """(what kumo called it, where to read it) for each input."""
    lines: list[str] | None = None
    out = []
    for ref in refs:
        m = BATCH_REF.match(ref)
        target = ref
        if m and not os.path.exists(kumo_task.resolve_input(ref, root)):
            if not warc_paths:
                raise TaskError(f"input '{ref}' is a batch number, not a WARC file: give --warc-paths (WARC_PATHS) with the snapshot's warc.paths, or submit source.paths")
            if lines is None:
                lines = read_paths_file(kumo_task.resolve_input(warc_paths, root))
            n = int(m.group(1))
            if n >= len(lines):
                raise TaskError(f"input '{ref}': {warc_paths} lists only {len(lines)} files", EXIT_BAD_INPUT)
            target = lines[n]
        out.append((ref, kumo_task.resolve_input(target, root)))
    return out


def read_paths_file(where: str) -> list[str]:
    try:
        with open_input(where) as f:
            data = f.read()
    except OSError as err:
        raise TaskError(f"cannot read the warc.paths file '{where}': {err}", EXIT_BAD_INPUT) from None
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [line.strip() for line in data.decode("utf-8").splitlines() if line.strip()]


def is_html(http_mime: str, record_payload_type: str | None, payload: bytes) -> bool:
    if http_mime in HTML_TYPES:
        return True
    if http_mime and http_mime != "application/octet-stream":
        return False
    if (record_payload_type or "").lower() in HTML_TYPES:
        return True
    head = payload[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def extract_doc(record: Any, ref: str, flt: JapaneseFilter, stats: Stats, snapshot: str) -> dict[str, Any] | None:
    try:
        http = parse_http_response(record.content)
    except ValueError:
        stats.drop("badHttp")
        return None
    if http.status != 200:
        stats.drop("httpStatus")
        return None
    payload = http.payload()
    if not is_html(http.mime_type, record.header("WARC-Identified-Payload-Type"), payload):
        stats.drop("notHtml")
        return None
    decoded = decode_html(payload, http.header("Content-Type"))
    if not flt.might_accept(decoded.text):
        stats.drop("notJapanese")
        return None
    try:
        title, text = html_to_text(decoded.text)
    except Exception:  # noqa: BLE001 - html.parser can assert on pathological markup; one page, not the task
        stats.drop("badHtml")
        return None
    if not text:
        stats.drop("empty")
        return None
    counts = count_scripts(title + "\n" + text)
    if not flt.accepts(counts):
        stats.drop("notJapanese")
        return None
    stats.charsets[decoded.charset] = stats.charsets.get(decoded.charset, 0) + 1
    doc = {
        "url": record.target_uri,
        "title": title,
        "text": text,
        "warc_record_id": record.record_id,
        "warc_date": record.date,
        "warc_file": ref,
        "charset": decoded.charset,
        "charset_source": decoded.source,
        "ja_ratio": round(counts.japanese_ratio, 3),
    }
    if snapshot:
        doc["snapshot"] = snapshot
    return doc


def run(args: argparse.Namespace) -> int:
    refs = args.inputs or kumo_task.task_inputs()
    if not refs:
        raise TaskError("no inputs: KUMO_TASK_INPUTS is empty and no files were given")
    if not args.output_dir:
        raise TaskError("no output folder: give the job an output.prefix (KUMO_OUTPUT_PREFIX) or --output-dir")
    if kumo_task.is_url(args.output_dir):
        raise TaskError(f"output '{args.output_dir}' is not a local folder: this example writes local files (mount the bucket)")
    inputs = resolve_inputs(refs, args.input_root, args.warc_paths)
    out_dir = kumo_task.ensure_dir(kumo_task.local_path(args.output_dir, "output"), "the output folder")
    out_path = out_dir / OUTPUT_NAME
    flt = JapaneseFilter(args.min_ja_ratio, args.min_hiragana_ratio, args.min_ja_chars)
    snapshot = kumo_task.env("KUMO_SNAPSHOT")
    stats = Stats()
    started = last_progress = time.monotonic()

    kumo_task.exit_on_sigterm()
    with kumo_task.AtomicFile(out_path, "w") as out:
        for n, (ref, where) in enumerate(inputs):
            try:
                raw = CountingReader(open_input(where))
            except OSError as err:
                raise TaskError(f"cannot open input '{ref}' ({where}): {err.strerror or err}", EXIT_BAD_INPUT) from None
            read_here = skipped_here = 0
            try:
                for item in read_warc(raw, verify_digests=False if args.no_verify_digests else {"response"}):  # type: ignore[arg-type]
                    if isinstance(item, Skipped):
                        stats.records_skipped += 1
                        skipped_here += 1
                        kumo_task.log(f"{ref}: skipped a corrupt record at offset {item.offset}: {item.reason}")
                        continue
                    stats.records_read += 1
                    read_here += 1
                    if item.type != "response":
                        continue
                    stats.docs_in += 1
                    doc = extract_doc(item, ref, flt, stats, snapshot)
                    if doc is not None:
                        out.write(json.dumps(doc, ensure_ascii=False) + "\n")
                        stats.docs_out += 1
                    now = time.monotonic()
                    if now - last_progress >= args.progress_seconds:
                        last_progress = now
                        kumo_task.progress({"inputsDone": n, "inputs": len(inputs), "recordsRead": stats.records_read, "docsOut": stats.docs_out})
            except (OSError, http.client.HTTPException) as err:
                # A read that fails half-way (a reset connection, a disk error) is not a corrupt record:
                # the file may be fine, so the task fails and kumo retries it.
                raise TaskError(f"cannot read input '{ref}' ({where}): {getattr(err, 'strerror', None) or err!r}", EXIT_BAD_INPUT) from None
            finally:
                stats.bytes_in += raw.count
                raw.close()
            if read_here == 0 and skipped_here:
                # Not one record: a wrong file, or a download damaged from its first byte. Failing lets
                # kumo retry (a new download may be whole) and shows the task rather than hiding it.
                raise TaskError(f"input '{ref}' ({where}) is not a readable WARC file: no record in it could be read", EXIT_BAD_INPUT)
            kumo_task.log(f"{ref}: {stats.records_read} records read so far, {stats.docs_out} Japanese pages kept")
    stats.bytes_out = out_path.stat().st_size
    kumo_task.result(
        {
            "docsIn": stats.docs_in,
            "docsOut": stats.docs_out,
            "bytesIn": stats.bytes_in,
            "bytesOut": stats.bytes_out,
            "output": str(out_path.resolve()),
            "inputs": len(inputs),
            "recordsRead": stats.records_read,
            "recordsSkipped": stats.records_skipped,
            "dropped": stats.dropped,
            "charsets": stats.charsets,
            "seconds": round(time.monotonic() - started, 3),
        }
    )
    return 0


if __name__ == "__main__":
    kumo_task.main_wrapper(lambda: run(parse_args(sys.argv[1:])))
