"""parse_postmortem / parse_file: any supported document into one `Postmortem`.

This module reads: bytes to text (encodings, binary files, size limits), the format, and the
document's line structure. `assemble.build_postmortem` turns that structure into the model.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .assemble import build_postmortem
from .html import html_to_lines, looks_like_html
from .markdown import HTML_COMMENT_RE, Line, parse_structure
from .model import Postmortem, PostmortemReadError

# Postmortems are a few pages; beyond these limits the rest is ignored and a finding says so.
MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 20_000
MAX_LINE_CHARS = 10_000

_BINARY_CHARS = frozenset(range(0, 9)) | frozenset(range(14, 32)) - {27}
# Markdown link reference definitions ("[fix-pr]: https://...") and the links that use them
# ("[pull request][fix-pr]", "[#2226]"): resolved so a ticket cited by reference counts.
_REF_DEF_RE = re.compile(
    r"^ {0,3}\[(?P<ref>[^\]\n]{1,100})\]:[ \t]*<?(?P<url>\S+?)>?(?:[ \t]+[\"'(].*)?[ \t]*$", re.M
)
_REF_USE_RE = re.compile(r"\[(?P<text>[^\]\n]{1,300})\](?:\[(?P<ref>[^\]\n]{0,100})\])?(?![(\[])")


def _decode(data: bytes, path: str) -> str:
    if not data:
        return ""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise PostmortemReadError(path, f"invalid UTF-16 text ({exc.reason})") from exc
    sample = data[:8192]
    if b"\x00" in sample:
        raise PostmortemReadError(path, "binary content (NUL bytes), not a text document")
    bad = sum(1 for b in sample if b in _BINARY_CHARS)
    if bad > len(sample) * 0.05:
        raise PostmortemReadError(path, "binary content (control characters), not a text document")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text


def _resolve_reference_links(text: str) -> str:
    """Inline the targets of reference-style links; definition lines become blank lines."""
    defs = {m.group("ref").strip().lower(): m.group("url") for m in _REF_DEF_RE.finditer(text)}
    if not defs:
        return text
    text = _REF_DEF_RE.sub("", text)

    def use(m: re.Match[str]) -> str:
        ref = m.group("ref")
        key = (ref if ref else m.group("text")).strip().lower()
        url = defs.get(key)
        if url is None:
            return m.group(0)
        return f"[{m.group('text')}]({url})"

    return _REF_USE_RE.sub(use, text)


def parse_file(path: str | os.PathLike[str]) -> Postmortem:
    """Read and parse one file; raises PostmortemReadError when it cannot be read as text."""
    p = Path(path)
    name = str(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except IsADirectoryError as exc:
        raise PostmortemReadError(name, "is a directory") from exc
    except FileNotFoundError as exc:
        raise PostmortemReadError(name, "no such file") from exc
    except OSError as exc:
        raise PostmortemReadError(name, f"cannot read ({exc.strerror or exc})") from exc
    truncated = len(data) > MAX_BYTES
    if truncated:
        data = data[:MAX_BYTES]
        # Do not split a multi-byte UTF-8 character at the cut.
        while data and (data[-1] & 0xC0) == 0x80:
            data = data[:-1]
        if data and data[-1] >= 0xC0:
            data = data[:-1]
    text = _decode(data, name)
    suffix = p.suffix.lower()
    fmt = (
        "html"
        if suffix in (".html", ".htm", ".xhtml")
        else ("markdown" if suffix in (".md", ".markdown", ".mdown", ".txt") else None)
    )
    return parse_postmortem(text, path=name, fmt=fmt, _truncated=truncated)


def parse_postmortem(
    text: str, path: str = "x.md", fmt: str | None = None, _truncated: bool = False
) -> Postmortem:
    """Parse a document's text; ``fmt`` is "markdown" or "html" (detected when None)."""
    truncated = _truncated
    if len(text) > MAX_BYTES:
        text, truncated = text[:MAX_BYTES], True
    if fmt is None:
        low = path.lower()
        if low.endswith((".html", ".htm", ".xhtml")):
            fmt = "html"
        elif low.endswith((".md", ".markdown")):
            fmt = "markdown"
        else:
            fmt = "html" if looks_like_html(text) else "markdown"
    html_title: str | None = None
    if fmt == "html":
        raw_lines, html_title = html_to_lines(text)
    else:
        if "<!--" in text:
            text = HTML_COMMENT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        if "]:" in text:
            text = _resolve_reference_links(text)
        raw_lines = list(enumerate(text.split("\n"), start=1))
    line_count = text.count("\n") + 1 if text else 0
    if len(raw_lines) > MAX_LINES:
        raw_lines, truncated = raw_lines[:MAX_LINES], True
    if any(len(s) > MAX_LINE_CHARS for _, s in raw_lines):
        raw_lines = [(n, s[:MAX_LINE_CHARS]) for n, s in raw_lines]
        truncated = True
    doc = parse_structure(raw_lines)
    return build_postmortem(doc, path, fmt, html_title, line_count, truncated)


__all__ = ["MAX_BYTES", "MAX_LINES", "Line", "parse_file", "parse_postmortem"]
