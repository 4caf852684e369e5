"""Bytes of an HTML page to text: which charset, and how sure.

Order (close to what browsers do, tuned for a Japanese corpus):
  1. a byte-order mark;
  2. the charset the HTTP Content-Type declares, then the one a <meta> tag declares in the first 4 KiB,
     each taken only when the bytes decode with it (a stray bad byte or two is tolerated);
  3. otherwise detection among UTF-8, Shift_JIS (cp932) and EUC-JP: the decoding that is most
     Japanese-looking wins (see japanese.japanese_score);
  4. otherwise UTF-8 with replacement characters.
A Western default in the HTTP header (ISO-8859-1, windows-1252, US-ASCII: what a server says when
nobody configured it) counts for less than a <meta> tag or a clean Japanese decoding.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from japanese import japanese_score

# Labels as pages write them -> (the name we report, the Python codec we decode with). The WHATWG
# Encoding Standard maps every Shift_JIS label to Windows-31J (cp932): pages say "Shift_JIS" and
# mean cp932, with its NEC and IBM extensions (①, ㈱, ...) that strict shift_jis cannot decode.
_ALIASES: dict[str, tuple[str, str]] = {}
for _names, _target in (
    (("utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"), ("utf-8", "utf-8")),
    (("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "ms932", "cp932", "x-ms-cp932"), ("shift_jis", "cp932")),
    (("euc-jp", "euc_jp", "eucjp", "x-euc-jp", "cseucpkdfmtjapanese"), ("euc-jp", "euc_jp")),
    (("iso-2022-jp", "csiso2022jp", "jis"), ("iso-2022-jp", "iso2022_jp_ext")),
    (("iso-8859-1", "latin1", "latin-1", "l1", "iso8859-1", "iso_8859-1", "us-ascii", "ascii", "windows-1252", "cp1252", "x-cp1252"), ("windows-1252", "cp1252")),
    (("gb2312", "gbk", "gb18030", "x-gbk", "chinese", "csgb2312"), ("gb18030", "gb18030")),
    (("big5", "big5-hkscs", "x-x-big5", "cn-big5"), ("big5", "big5hkscs")),
    (("euc-kr", "ks_c_5601-1987", "windows-949", "cp949"), ("euc-kr", "cp949")),
    (("utf-16", "utf-16le"), ("utf-16le", "utf-16-le")),
    (("utf-16be",), ("utf-16be", "utf-16-be")),
):
    for _n in _names:
        _ALIASES[_n] = _target

_WESTERN_DEFAULTS = {"windows-1252"}
#: Japanese decodings tried when nothing declared works, in order of preference on a tie.
_DETECT = (("utf-8", "utf-8"), ("shift_jis", "cp932"), ("euc-jp", "euc_jp"))
#: Replacement characters tolerated in a declared charset's decoding (per character decoded).
_MAX_BAD_RATIO = 0.001

_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class Decoded:
    text: str
    #: The charset's canonical name ("utf-8", "shift_jis", "euc-jp", ...).
    charset: str
    #: Where it came from: "bom", "http", "meta", "detected" or "fallback".
    source: str


def normalize_label(label: str | None) -> tuple[str, str] | None:
    """(canonical name, Python codec) for a charset label, or None when it names nothing we know."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        info = codecs.lookup(key)
    except LookupError:
        return None
    return info.name, info.name


def http_charset(content_type: str | None) -> str | None:
    m = _CT_CHARSET.search(content_type or "")
    return m.group(1) if m else None


def meta_charset(body: bytes) -> str | None:
    """The charset a <meta charset> or <meta http-equiv="Content-Type"> tag declares in the first 4 KiB."""
    m = _META_CHARSET.search(body[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def _try(body: bytes, codec: str, tolerant: bool) -> str | None:
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        if not tolerant:
            return None
    text = body.decode(codec, "replace")
    return text if text.count("\ufffd") <= max(1, len(text) * _MAX_BAD_RATIO) else None


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    for bom, name, codec in ((codecs.BOM_UTF8, "utf-8", "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16le", "utf-16"), (codecs.BOM_UTF16_BE, "utf-16be", "utf-16")):
        if body.startswith(bom):
            return Decoded(body.decode(codec, "replace"), name, "bom")

    declared: list[tuple[tuple[str, str], str]] = []
    h = normalize_label(http_charset(content_type))
    m = normalize_label(meta_charset(body))
    if h:
        declared.append((h, "http"))
    if m and m != h:
        declared.append((m, "meta"))
    # A Western default from the server loses to a <meta> tag, and to a clean Japanese decoding.
    weak = [d for d in declared if d[0][0] in _WESTERN_DEFAULTS]
    strong = [d for d in declared if d[0][0] not in _WESTERN_DEFAULTS]
    for (name, codec), source in strong:
        text = _try(body, codec, tolerant=True)
        if text is not None:
            return Decoded(text, name, source)

    best: Decoded | None = None
    best_score = 0
    for name, codec in _DETECT:
        text = _try(body, codec, tolerant=False)
        if text is None:
            continue
        score = japanese_score(text)
        if best is None or score > best_score:
            best, best_score = Decoded(text, name, "detected"), score
    if best is not None and (best_score > 0 or not weak):
        return best
    for (name, codec), source in weak:
        text = _try(body, codec, tolerant=True)
        if text is not None:
            return Decoded(text, name, source)
    if best is not None:
        return best
    return Decoded(body.decode("utf-8", "replace"), "utf-8", "fallback")
