"""What a kumo command task sees and may say, in one place (docs/task-contract.md).

Seen: KUMO_* environment variables (task index, inputs, output prefix, the kind's own).
Said: `::kumo::result {json}`, `::kumo::progress {json}`, `::kumo::checkpoint {json}` lines on stdout;
everything else there and on stderr is the task's log. Exit 0 is success.

Standard library only: workers run these programs with whatever python3 the machine has.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import unquote, urlparse

RESULT_PREFIX = "::kumo::result "
PROGRESS_PREFIX = "::kumo::progress "
CHECKPOINT_PREFIX = "::kumo::checkpoint "


class TaskError(Exception):
    """A failure the task reports on stderr and exits with (exit code 2 unless given)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _say(prefix: str, payload: dict[str, Any]) -> None:
    # One line, flushed at once: kumo reads stdout line by line while the task runs, and a progress or
    # checkpoint line stuck in a buffer when the VM is preempted is a line kumo never saw. ASCII JSON
    # (\u escapes), so no locale's stdout encoding can garble it.
    sys.stdout.write(prefix + json.dumps(payload, ensure_ascii=True, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def result(payload: dict[str, Any]) -> None:
    _say(RESULT_PREFIX, payload)


def progress(payload: dict[str, Any]) -> None:
    _say(PROGRESS_PREFIX, payload)


def checkpoint(payload: dict[str, Any]) -> None:
    _say(CHECKPOINT_PREFIX, payload)


def log(message: str) -> None:
    """A log line: stderr, so it can never be mistaken for a contract line."""
    print(message, file=sys.stderr, flush=True)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def task_inputs() -> list[str]:
    raw = env("KUMO_TASK_INPUTS")
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise TaskError(f"KUMO_TASK_INPUTS is not JSON: {err}") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskError("KUMO_TASK_INPUTS must be a JSON array of strings")
    return value


def is_url(s: str) -> bool:
    return "://" in s and urlparse(s).scheme not in ("", "file")


def resolve_input(ref: str, root: str) -> str:
    """A local path or an http(s) URL for one input. Relative refs resolve against `root`
    (a folder, or a URL prefix such as https://data.commoncrawl.org/)."""
    if ref.startswith("file://"):
        return unquote(urlparse(ref).path)
    if "://" in ref:
        return ref
    if os.path.isabs(ref) or not root:
        return ref
    if root.startswith("file://"):
        root = unquote(urlparse(root).path)
    if "://" in root:
        return root.rstrip("/") + "/" + ref.lstrip("/")
    return os.path.join(root, ref)


def local_path(uri: str, what: str) -> Path:
    """A path on this machine for a `file://` URI or a plain path; anything else is a clear failure."""
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    if "://" in uri:
        scheme = urlparse(uri).scheme
        raise TaskError(f"{what} '{uri}': {scheme}:// is not readable by this program; give a local path (mount the bucket, e.g. gcsfuse)")
    return Path(uri)


def ensure_dir(path: str | Path, what: str) -> Path:
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise TaskError(f"cannot create {what} '{p}': {err.strerror or err}") from None
    return p


class AtomicFile:
    """Write `path` whole or not at all: into a hidden temporary file beside it, fsync, rename.

    A retried attempt, or a reader listing the folder while we write, never sees half a file. Readers
    (data_files below) skip names that start with '.', so the temporary's name does.
    """

    def __init__(self, path: str | Path, mode: str = "wb") -> None:
        self.path = Path(path)
        self.mode = mode
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self.tmp = Path(tmp)
        self.file = os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}))

    def __enter__(self) -> Any:
        return self.file

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.chmod(self.tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the result is for the team to read
        os.replace(self.tmp, self.path)
        _fsync_dir(self.path.parent)

    def abort(self) -> None:
        try:
            self.file.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    # The rename itself is durable only once the folder's entry is on disk.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def exit_on_sigterm() -> None:
    """SIGTERM raises SystemExit(143) so `finally` blocks and context managers clean up (temporaries
    removed, nothing half-written left behind). Programs that checkpoint install their own handler."""

    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main_wrapper(main: Callable[[], int]) -> None:
    """Runs `main`, turning a TaskError into one clear stderr line and its exit code."""
    try:
        code = main()
    except TaskError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        code = err.exit_code
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def data_files(path: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """The data files of a path: itself, or every file under a folder with one of `suffixes`, in name
    order, skipping hidden and `_`-prefixed names (temporaries, manifests, markers)."""
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path).parts
            if any(part.startswith((".", "_")) for part in rel):
                continue
            if p.is_file() and p.name.endswith(suffixes):
                yield p
    else:
        yield path
