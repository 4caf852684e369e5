"""HTML to plain text: the title apart, scripts and styles dropped, block elements on lines of their own.

Standard library's html.parser: tolerant of the broken markup the web is made of, and it decodes
character references (&amp;, &#12354;) as it goes.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements whose content is never text a reader sees.
SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas", "select", "button"})
#: Elements that start and end a line.
BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
CELL = frozenset({"td", "th"})

_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A line break in the source between two CJK characters is not a space (CSS Text 3 "segment break
# transformation"): Japanese has no spaces between words, and HTML authors wrap lines anywhere.
_CJK_BREAK = re.compile(f"(?<=[{_CJK}])[ \\t\\r]*\\n[ \\t\\r\\n]*(?=[{_CJK}])")
# HTML whitespace (and no-break spaces); not U+3000, the ideographic space, which is text.
_SPACES = re.compile("[ \\t\\n\\r\\f\\v\\u00a0]+")
_LINE_SPACES = re.compile("[ \\t\\u00a0]+")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.skip = 0
        self.pre = 0
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag in BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self.pre += 1
        elif tag in CELL:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self.in_title = False
        elif tag in BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.in_title:
            self.title.append(data)
        elif self.pre:
            self.parts.append(data)
        else:
            self.parts.append(_SPACES.sub(" ", _CJK_BREAK.sub("", data)))


def html_to_text(html: str) -> tuple[str, str]:
    """(title, text). Text: one line per block, lines stripped, no empty lines."""
    p = _Extractor()
    p.feed(html)
    p.close()
    title = _SPACES.sub(" ", "".join(p.title)).strip()
    lines = (_LINE_SPACES.sub(" ", line).strip() for line in "".join(p.parts).split("\n"))
    return title, "\n".join(line for line in lines if line)
