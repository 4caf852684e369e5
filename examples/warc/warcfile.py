"""A small WARC 1.0/1.1 reader and writer, standard library only.

Reading (`read_warc`): plain `.warc` or `.warc.gz`, sniffed from the first bytes, streamed record by
record so a 1 GiB CommonCrawl file never sits in memory. CommonCrawl compresses each record as its own
gzip member; a member that does not decompress (truncated download, flipped bits: zlib checks each
member's CRC-32) is reported as one `Skipped` and reading goes on at the next member. In a plain file,
a record whose header does not parse is skipped up to the next `WARC/1.x` line. A record whose
`WARC-Block-Digest` does not match its content is skipped too. Each corrupt stretch yields exactly one
`Skipped`, however many false starts resynchronising takes.

Writing (`record_bytes`): one record serialised with its `Content-Length` and `WARC-Block-Digest` filled
in; `gzip.compress` each one on its own for a CommonCrawl-style .warc.gz (see make_sample_warcs.py).

As a tool:
    python3 examples/warc/warcfile.py ls FILE...       one line per record (or SKIPPED ...)
    python3 examples/warc/warcfile.py verify FILE...   counts; exit 1 when any record is corrupt
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import sys
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import BinaryIO, Collection, Iterator, Union
from urllib.request import Request, urlopen

GZIP_MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 16
#: Bigger WARC headers than this are garbage, not a header (CommonCrawl's are ~1 KiB).
MAX_HEADER_BYTES = 64 * 1024
#: CommonCrawl truncates payloads at 1 MiB; records larger than this are skipped, not buffered.
DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024
#: How much of a gzip member is kept to look for the next member in when it turns out corrupt.
MAX_RETAINED_MEMBER_BYTES = 16 * 1024 * 1024


@dataclass
class WarcRecord:
    version: str
    headers: list[tuple[str, str]]
    content: bytes
    #: Where the record starts in the file: the gzip member's offset for .warc.gz (what CommonCrawl's
    #: index calls `offset`), the byte offset for plain files.
    offset: int
    _index: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for k, v in self.headers:
            self._index.setdefault(k.lower(), v)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self._index.get(name.lower(), default)

    @property
    def type(self) -> str:
        return self.header("WARC-Type", "") or ""

    @property
    def record_id(self) -> str:
        return self.header("WARC-Record-ID", "") or ""

    @property
    def target_uri(self) -> str:
        return self.header("WARC-Target-URI", "") or ""

    @property
    def date(self) -> str:
        return self.header("WARC-Date", "") or ""


@dataclass
class Skipped:
    """A corrupt stretch of the file: one record (or more, if they were lost together) not read."""

    offset: int
    reason: str


Item = Union[WarcRecord, Skipped]


# ---------------------------------------------------------------------------------------------- input


def open_input(source: str) -> BinaryIO:
    """A local path, or an http(s) URL streamed (https://data.commoncrawl.org/crawl-data/...)."""
    if source.startswith(("http://", "https://")):
        return urlopen(Request(source, headers={"User-Agent": "kumo-examples-warc/1"}), timeout=60)  # noqa: S310
    return open(source, "rb")


class _Source:
    """The raw bytes of the file, read in chunks, remembering the end."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.eof = False

    def read(self) -> bytes:
        if self.eof:
            return b""
        data = self.raw.read(CHUNK)
        if not data:
            self.eof = True
        return data


def _plain_chunks(src: _Source) -> Iterator[tuple]:
    offset = 0
    while True:
        data = src.read()
        if not data:
            return
        yield ("data", data, offset)
        offset += len(data)


def _gzip_members(src: _Source, first: bytes) -> Iterator[tuple]:
    """Events over concatenated gzip members: ("data", bytes, member_offset), ("end", member_offset),
    ("corrupt", offset, reason). After a corrupt member, looks for the next gzip header in what
    follows the corrupt member's first byte."""
    pending = bytearray(first)
    pending_offset = 0  # the file offset of pending[0]
    while True:
        if len(pending) < 3 and not src.eof:
            pending += src.read()
            continue
        if not pending:
            return
        if not pending.startswith(GZIP_MAGIC):
            yield ("corrupt", pending_offset, "bytes that are not a gzip member")
            found = _scan_for_magic(src, pending, 1)
            if found is None:
                return
            skip, pending = found
            pending_offset += skip
            continue

        member_offset = pending_offset
        d = zlib.decompressobj(wbits=31)
        # The member's bytes so far (or, past the cap, from the latest read on), to look for the next
        # member in if this one turns out corrupt: it may have swallowed the next one's start.
        retained = bytearray()
        retained_offset = member_offset
        error: str | None = None
        while True:
            data = bytes(pending)
            pending = bytearray()
            if len(retained) + len(data) > MAX_RETAINED_MEMBER_BYTES:
                retained = bytearray()
                retained_offset = pending_offset
            retained += data
            try:
                out = d.decompress(data)
            except zlib.error as err:
                error = f"gzip member does not decompress: {err}"
                break
            if out:
                yield ("data", out, member_offset)
            if d.eof:
                unused = d.unused_data
                pending_offset += len(data) - len(unused)
                pending = bytearray(unused)
                yield ("end", member_offset)
                break
            pending_offset += len(data)
            pending = bytearray(src.read())
            if not pending:
                error = "gzip member is truncated (the file ends inside it)"
                break
        if error is None:
            continue
        yield ("corrupt", member_offset, error)
        found = _scan_for_magic(src, retained, 1 if retained_offset == member_offset else 0)
        if found is None:
            return
        skip, pending = found
        pending_offset = retained_offset + skip


def _scan_for_magic(src: _Source, buf: bytearray, start: int) -> tuple[int, bytearray] | None:
    """(how far into buf the next gzip header starts, the bytes from there), reading on as needed."""
    dropped = 0
    while True:
        i = buf.find(GZIP_MAGIC, start)
        if i >= 0:
            return dropped + i, buf[i:]
        more = src.read()
        if not more:
            return None
        keep = buf[-2:]  # the magic may straddle two reads
        dropped += len(buf) - len(keep)
        buf = keep + more
        start = 0


# --------------------------------------------------------------------------------------------- records


class _RecordParser:
    """WARC records out of a stream of decompressed bytes, with resynchronisation after corruption."""

    def __init__(self, verify_digests: bool | Collection[str], max_record_bytes: int, gz: bool) -> None:
        self.buf = bytearray()
        # Offset reported for the record now parsing: the byte offset in a plain file; in a gzip'd
        # one, the offset of the member it starts in (what CommonCrawl's index calls the offset).
        self.buf_offset = 0
        self.verify = verify_digests
        self.max_record = max_record_bytes
        self.gz = gz
        self.in_corrupt = False  # inside a corrupt stretch already reported
        self.resync = False  # looking for the next line that starts with "WARC/"
        self.discard = 0  # bytes of an oversized record still to drop

    def feed(self, data: bytes, offset: int) -> Iterator[Item]:
        n = min(self.discard, len(data))
        self.discard -= n
        if not self.buf:
            self.buf_offset = offset if self.gz else offset + n
        self.buf += data[n:] if n else data
        yield from self._parse()

    def corrupt(self, offset: int, reason: str) -> Iterator[Item]:
        # What was half-parsed belonged to the corrupt member. The next good member starts a record
        # (one member per record, as CommonCrawl writes); if it does not, resync finds the next one.
        self.buf = bytearray()
        self.discard = 0
        self.resync = False
        yield from self._report(Skipped(offset, reason))

    def member_end(self) -> None:
        if not self.buf.strip():
            self.buf = bytearray()

    def finish(self) -> Iterator[Item]:
        if self.buf.strip():
            yield from self._report(Skipped(self.buf_offset, "the file ends inside a record"))
        self.buf = bytearray()

    def _report(self, skipped: Skipped) -> Iterator[Item]:
        if not self.in_corrupt:
            self.in_corrupt = True
            yield skipped

    def _drop(self, n: int) -> None:
        del self.buf[:n]
        if not self.gz:
            self.buf_offset += n

    def _parse(self) -> Iterator[Item]:
        buf = self.buf
        while True:
            # The CRLF CRLF after each record, and stray blank lines, are not records.
            i = 0
            while i < len(buf) and buf[i] in (0x0D, 0x0A):
                i += 1
            if i:
                self._drop(i)
            if not buf:
                return
            if self.resync:
                # Skip at least one byte: the record that starts here already failed to parse.
                j = buf.find(b"\nWARC/")
                if j < 0:
                    self._drop(max(0, len(buf) - 5))  # "\nWARC" may straddle two reads
                    return
                self._drop(j + 1)
                self.resync = False
            end, sep = _find_header_end(buf)
            if end < 0:
                if len(buf) > MAX_HEADER_BYTES or (len(buf) >= 5 and not buf.startswith(b"WARC/")):
                    yield from self._report(Skipped(self.buf_offset, "not a WARC record header"))
                    self.resync = True
                    continue
                return
            try:
                version, headers = _parse_warc_header(bytes(buf[:end]))
                length = _content_length(headers)
            except ValueError as err:
                yield from self._report(Skipped(self.buf_offset, str(err)))
                self.resync = True
                continue
            body_start = end + sep
            if length > self.max_record:
                skipped = Skipped(self.buf_offset, f"record of {length} bytes is over the {self.max_record}-byte limit")
                have = len(buf) - body_start
                if have >= length:
                    self._drop(body_start + length)
                else:
                    self.discard = length - have
                    self._drop(len(buf))
                self.in_corrupt = False
                yield skipped
                continue
            if len(buf) - body_start < length:
                return
            record = WarcRecord(version, headers, bytes(buf[body_start : body_start + length]), self.buf_offset)
            self._drop(body_start + length)
            verify = self.verify if isinstance(self.verify, bool) else record.type in self.verify
            mismatch = verify and _digest_mismatch(record)
            if mismatch:
                yield from self._report(Skipped(record.offset, mismatch))
                continue
            self.in_corrupt = False
            yield record


def _find_header_end(buf: bytearray) -> tuple[int, int]:
    i = buf.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES + 4)
    j = buf.find(b"\n\n", 0, MAX_HEADER_BYTES + 2)
    if i >= 0 and (j < 0 or i <= j):
        return i, 4
    if j >= 0:
        return j, 2
    return -1, 0


def _parse_warc_header(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    version = lines[0].strip()
    if not version.startswith("WARC/"):
        raise ValueError(f"not a WARC version line: {version[:40]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation
            k, v = headers[-1]
            headers[-1] = (k, v + " " + line.strip())
            continue
        k, sep, v = line.partition(":")
        if not sep or not k.strip():
            raise ValueError(f"malformed WARC header line: {line[:60]!r}")
        headers.append((k.strip(), v.strip()))
    return version, headers


def _content_length(headers: list[tuple[str, str]]) -> int:
    for k, v in headers:
        if k.lower() == "content-length":
            if not v.isdigit():
                raise ValueError(f"bad Content-Length: {v[:30]!r}")
            return int(v)
    raise ValueError("WARC record without Content-Length")


def _digest_mismatch(record: WarcRecord) -> str | None:
    declared = record.header("WARC-Block-Digest")
    if not declared or ":" not in declared:
        return None
    algo, _, value = declared.partition(":")
    algo = algo.strip().lower().replace("-", "")
    if algo not in ("sha1", "sha256", "md5"):
        return None
    digest = hashlib.new(algo, record.content).digest()
    value = value.strip()
    if value.upper() == base64.b32encode(digest).decode() or value.lower() == digest.hex():
        return None
    return f"WARC-Block-Digest does not match the record's content ({record.record_id})"


def read_warc(source: Union[str, BinaryIO], *, verify_digests: bool | Collection[str] = True, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[Item]:
    """Every record of a WARC file, in order, with a `Skipped` for each corrupt stretch.

    `verify_digests`: check every record's WARC-Block-Digest (True), none (False), or only those of
    the record types named (e.g. {"response"}: what an extractor reads).

    Raises OSError when the file cannot be opened or read: that is the caller's failure, not a
    corrupt record."""
    raw = open_input(source) if isinstance(source, str) else source
    try:
        src = _Source(raw)
        first = src.read()
        gz = first.startswith(b"\x1f\x8b")
        parser = _RecordParser(verify_digests, max_record_bytes, gz)
        if gz:
            events = _gzip_members(src, first)
        else:
            events = _chain_first(first, _plain_chunks(src))
        for ev in events:
            kind = ev[0]
            if kind == "data":
                yield from parser.feed(ev[1], ev[2])
            elif kind == "end":
                parser.member_end()
            else:
                yield from parser.corrupt(ev[1], ev[2])
        yield from parser.finish()
    finally:
        if isinstance(source, str):
            raw.close()


def _chain_first(first: bytes, rest: Iterator[tuple]) -> Iterator[tuple]:
    if first:
        yield ("data", first, 0)
    for kind, data, offset in rest:
        yield (kind, data, offset + len(first))


# ------------------------------------------------------------------------------------------------ HTTP


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def payload(self) -> bytes:
        """The body with transfer and content encodings undone where they are still applied.

        CommonCrawl stores bodies decoded but sometimes keeps the original headers, so each decoding
        is tried only when the bytes look encoded, and a failed decoding keeps the bytes as they are."""
        body = self.body
        te = (self.header("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            body = _dechunk(body) or body
        ce = (self.header("Content-Encoding") or "").lower().strip()
        if ce in ("gzip", "x-gzip") and body.startswith(b"\x1f\x8b"):
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error):
                pass
        elif ce == "deflate":
            for wbits in (15, -15):
                try:
                    body = zlib.decompress(body, wbits)
                    break
                except zlib.error:
                    continue
        return body

    @property
    def mime_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()


def parse_http_response(block: bytes) -> HttpResponse:
    """The HTTP response inside a `response` record's content. Raises ValueError when it is not one."""
    end, sep = _find_header_end(bytearray(block[: MAX_HEADER_BYTES + 4]))
    if end < 0:
        raise ValueError("no end of HTTP headers")
    lines = block[:end].decode("latin-1").replace("\r\n", "\n").split("\n")
    status_line = lines[0].split(None, 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not status_line[1].isdigit():
        raise ValueError(f"not an HTTP status line: {lines[0][:60]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        k, s, v = line.partition(":")
        if s:
            headers.append((k.strip(), v.strip()))
    return HttpResponse(int(status_line[1]), status_line[2] if len(status_line) > 2 else "", headers, block[end + sep :])


def _dechunk(body: bytes) -> bytes | None:
    out = bytearray()
    i = 0
    while True:
        j = body.find(b"\r\n", i)
        if j < 0:
            return None
        size_text = body[i:j].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        if size == 0:
            return bytes(out)
        out += body[j + 2 : j + 2 + size]
        i = j + 2 + size + 2


# ------------------------------------------------------------------------------------------------ writer


def block_digest(content: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(content).digest()).decode()  # noqa: S324 (WARC's own digest)


def warc_date(dt: datetime | None = None) -> str:
    return (dt or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_bytes(record_type: str, content: bytes, headers: list[tuple[str, str]] | None = None, *, record_id: str | None = None, date: str | None = None, version: str = "WARC/1.0") -> bytes:
    """One record, serialised: version line, headers (Content-Length and digest filled in), content, CRLF CRLF."""
    rid = record_id or f"<urn:uuid:{uuid.uuid4()}>"
    lines = [version, f"WARC-Type: {record_type}", f"WARC-Date: {date or warc_date()}", f"WARC-Record-ID: {rid}"]
    lines += [f"{k}: {v}" for k, v in (headers or [])]
    lines += [f"WARC-Block-Digest: {block_digest(content)}", f"Content-Length: {len(content)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + content + b"\r\n\r\n"


# -------------------------------------------------------------------------------------------------- CLI


def _cli(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("ls", "verify"):
        print(__doc__.split("As a tool:")[1].rstrip(), file=sys.stderr)
        return 2
    cmd, files = argv[0], argv[1:]
    bad = 0
    for path in files:
        counts: dict[str, int] = {}
        for item in read_warc(path):
            if isinstance(item, Skipped):
                bad += 1
                counts["SKIPPED"] = counts.get("SKIPPED", 0) + 1
                if cmd == "ls":
                    print(f"{path}\t{item.offset}\tSKIPPED\t{item.reason}")
                continue
            counts[item.type] = counts.get(item.type, 0) + 1
            if cmd == "ls":
                print(f"{path}\t{item.offset}\t{item.type}\t{len(item.content)}\t{item.target_uri}")
        if cmd == "verify":
            print(f"{path}\t" + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 1 if bad and cmd == "verify" else 0


if __name__ == "__main__":
    try:
        sys.exit(_cli(sys.argv[1:]))
    except BrokenPipeError:  # `ls ... | head`
        sys.exit(0)
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
