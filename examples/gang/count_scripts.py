#!/usr/bin/env python3
"""A gang task that really works as one: each rank counts the scripts (Hiragana, Katakana, Kanji, other
letters) of its share of a corpus's lines, and rank 0 gathers every rank's counts over TCP at
MASTER_ADDR:MASTER_PORT, the way torchrun's ranks meet, then reports the corpus's totals.

Reads:  KUMO_GANG_SIZE / NNODES, KUMO_GANG_RANK / NODE_RANK, MASTER_ADDR, MASTER_PORT (kumo gives a gang's
        ranks all of them); COUNT_DATA: a .txt file (default: examples/train-tiny/corpus-ja.txt).
Says:   ::kumo::result {"rank", "lines", "counts"} on every rank; rank 0's also has "gang": the totals of all.
Rank r takes lines r, r + N, r + 2N, ...: the ranks' shares add up to the whole corpus, once.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE.parent / "common")]

import kumo_task  # noqa: E402
from japanese import count_scripts  # noqa: E402
from kumo_task import TaskError  # noqa: E402

CONNECT_FOR_S = 60.0


def my_counts(path: Path, rank: int, size: int) -> dict[str, int]:
    totals = {"lines": 0, "letters": 0, "hiragana": 0, "katakana": 0, "kanji": 0}
    with open(path, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            if i % size != rank:
                continue
            c = count_scripts(line)
            totals["lines"] += 1
            for k in ("letters", "hiragana", "katakana", "kanji"):
                totals[k] += getattr(c, k)
    return totals


def gather(addr: str, port: int, size: int, mine: dict[str, int]) -> list[dict[str, int]]:
    """Rank 0: every other rank connects and sends its counts as one JSON line."""
    by_rank = {0: mine}
    with socket.create_server((addr, port), reuse_port=False) as srv:
        srv.settimeout(CONNECT_FOR_S)
        while len(by_rank) < size:
            conn, _ = srv.accept()
            with conn, conn.makefile("r", encoding="utf-8") as f:
                msg = json.loads(f.readline())
                by_rank[int(msg["rank"])] = msg["counts"]
    return [by_rank[r] for r in range(size)]


def send(addr: str, port: int, rank: int, mine: dict[str, int]) -> None:
    """Any other rank: rank 0 may not listen yet (it starts at the same moment): try until it does."""
    deadline = time.monotonic() + CONNECT_FOR_S
    while True:
        try:
            with socket.create_connection((addr, port), timeout=5) as s:
                s.sendall((json.dumps({"rank": rank, "counts": mine}) + "\n").encode())
                return
        except OSError as err:
            if time.monotonic() > deadline:
                raise TaskError(f"rank 0 at {addr}:{port} did not answer in {CONNECT_FOR_S:.0f} s: {err}", 4) from err
            time.sleep(0.2)


def main() -> int:
    kumo_task.exit_on_sigterm()
    env = kumo_task.env
    size, rank = int(env("KUMO_GANG_SIZE") or env("NNODES") or 1), int(env("KUMO_GANG_RANK") or env("NODE_RANK") or 0)
    addr, port = env("MASTER_ADDR") or "127.0.0.1", int(env("MASTER_PORT") or 29500)
    path = Path(env("COUNT_DATA")) if env("COUNT_DATA") else _HERE.parent / "train-tiny" / "corpus-ja.txt"
    if not path.is_file():
        raise TaskError(f"no text at '{path}' (COUNT_DATA)", 3)
    mine = my_counts(path, rank, size)
    if rank == 0:
        all_ranks = gather(addr, port, size, mine) if size > 1 else [mine]
        gang = {k: sum(r[k] for r in all_ranks) for k in mine}
        kumo_task.result({"rank": 0, "lines": mine["lines"], "counts": mine, "gang": gang, "ranks": size})
    else:
        send(addr, port, rank, mine)
        kumo_task.result({"rank": rank, "lines": mine["lines"], "counts": mine})
    return 0


if __name__ == "__main__":
    kumo_task.main_wrapper(main)
