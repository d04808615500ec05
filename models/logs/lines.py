"""Reading CI logs as numbered lines: decoding, line breaks, CI prefixes, ANSI codes.

Line numbers follow the convention of editors and of Java's `BufferedReader` (which CI log tools
and the hand-marked data sets use): `\\r\\n`, a lone `\\r` and `\\n` each end a line. A segment
ended by a lone `\\r` is a progress update that a terminal would overwrite; it keeps its number
but is flagged `overwritten` so only the last segment counts as content.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

MAX_LINE_CHARS = 2000
CHUNK_BYTES = 8 * 1024 * 1024
BINARY_SNIFF_BYTES = 64 * 1024

_ANSI = r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>]"
# `gh run view --log` prefixes "job<TAB>step<TAB>"; raw GitHub Actions logs prefix an ISO
# timestamp with 7 fractional digits; GitLab and others use similar RFC 3339 prefixes.
_CI_PREFIX = (
    r"^(?:[^\t\n]*\t[^\t\n]*\t)?"
    r"(?:\ufeff)?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})\s?"
)
_ANSI_RE = re.compile(_ANSI)
_CI_PREFIX_RE = re.compile(_CI_PREFIX)


@dataclass(frozen=True, slots=True)
class RawLine:
    n: int
    text: str
    overwritten: bool


def truncate(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """Cut a line to `limit` characters with a visible marker saying how much was dropped."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} …[truncated {len(text) - limit} chars]"


def clean_line(text: str) -> str:
    """One line without CI timestamp prefix or ANSI codes (scalar twin of `clean_series`)."""
    return _CI_PREFIX_RE.sub("", _ANSI_RE.sub("", text), count=1)


def clean_series(lines: pl.Series) -> pl.Series:
    """Vectorised `clean_line` over a chunk of lines."""
    return lines.str.replace_all(_ANSI, "").str.replace(_CI_PREFIX, "")


def is_binary(head: bytes) -> bool:
    """NUL bytes do not occur in text logs in any common encoding but UTF-16/32."""
    return b"\x00" in head


def iter_text_lines(text: str) -> Iterator[RawLine]:
    """Number the lines of an in-memory log."""
    yield from _split(iter([text]))


def _decoded_chunks(path: Path, chunk_bytes: int) -> Iterator[str]:
    """A log file's text in chunks (invalid UTF-8 replaced), so memory stays bounded."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with path.open("rb") as fh:
        while True:
            block = fh.read(chunk_bytes)
            if not block:
                tail = decoder.decode(b"", final=True)
                if tail:
                    yield tail
                return
            yield decoder.decode(block)


def iter_file_lines(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[RawLine]:
    """Number the lines of a log file, reading it in chunks so memory stays bounded."""
    yield from _split(_decoded_chunks(path, chunk_bytes))


_BREAK = re.compile(r"\r\n|\r|\n")


def _split(chunks: Iterable[str]) -> Iterator[RawLine]:
    n = 0
    pending = ""
    dropped = 0  # characters of the current (overlong) line already thrown away
    for chunk in chunks:
        if not chunk:
            continue
        buf = pending + chunk
        pos = 0
        for m in _BREAK.finditer(buf):
            if m.end() == len(buf) and m.group() == "\r":
                break  # a `\r\n` may be split across chunks; decide with the next chunk
            n += 1
            yield RawLine(n, _finish(buf[pos : m.start()], dropped), m.group() == "\r")
            dropped = 0
            pos = m.end()
        pending = buf[pos:]
        if len(pending) > 2 * MAX_LINE_CHARS + 1:
            # One enormous line: keep only what display needs, count the rest.
            keep = MAX_LINE_CHARS + 1
            dropped += len(pending) - keep - (1 if pending.endswith("\r") else 0)
            pending = pending[:keep] + ("\r" if pending.endswith("\r") else "")
    if pending or dropped:
        n += 1
        yield RawLine(n, _finish(pending.removesuffix("\r"), dropped), False)


def _finish(text: str, dropped: int) -> str:
    if not dropped:
        return truncate(text)
    return f"{text[:MAX_LINE_CHARS]} …[truncated {len(text) - MAX_LINE_CHARS + dropped} chars]"


@dataclass(frozen=True, slots=True)
class LineBatch:
    """Consecutive lines `first`, `first + 1`, ... as polars columns (no per-line Python)."""

    first: int
    text: pl.Series
    overwritten: pl.Series

    def __len__(self) -> int:
        return self.text.len()


def _batch(first: int, block: str, tail: str | None = None) -> LineBatch:
    """Lines of `block` (which ends with a line break, or is the unterminated `tail`)."""
    s = pl.Series("t", _segments(block, tail), dtype=pl.String)
    ov = s.str.ends_with("\r")
    s = s.str.strip_suffix("\r")
    if (s.str.len_chars() > MAX_LINE_CHARS).any():
        s = pl.select(truncate_expr(pl.lit(s))).to_series().alias("t")
    return LineBatch(first, s, ov.alias("ov"))


# The longest marker `truncate` appends; a line up to this much over the limit may be one that
# was already truncated and is left alone.
_MARKER_ROOM = len(" …[truncated 9999999999999 chars]")


def truncate_expr(expr: pl.Expr, *, already: bool = False) -> pl.Expr:
    """`truncate` as a polars expression. With `already=True` lines that may carry a marker
    already (at most `_MARKER_ROOM` over the limit) are kept as they are."""
    n = expr.str.len_chars()
    limit = MAX_LINE_CHARS + (_MARKER_ROOM if already else 0)
    return (
        pl.when(n > limit)
        .then(
            pl.concat_str(
                expr.str.slice(0, MAX_LINE_CHARS),
                pl.lit(" …[truncated "),
                (n - MAX_LINE_CHARS).cast(pl.String),
                pl.lit(" chars]"),
            )
        )
        .otherwise(expr)
    )


def _batches_of(chunks: Iterable[str]) -> Iterator[LineBatch]:
    n = 1
    pending = ""
    dropped = 0
    for chunk in chunks:
        if not chunk:
            continue
        buf = pending + chunk
        # A `\r` at the very end may be the first half of a `\r\n`: decide with the next chunk.
        end = len(buf) - 1 if buf.endswith("\r") else len(buf)
        cut = max(buf.rfind("\n", 0, end), buf.rfind("\r", 0, end)) + 1
        if cut == 0:
            pending = buf
        else:
            head, pending = buf[:cut], buf[cut:]
            if dropped:
                # The first line was an overlong one whose middle was thrown away.
                first_end = min(i for i in (head.find("\n"), head.find("\r")) if i >= 0)
                brk = 2 if head.startswith("\r\n", first_end) else 1
                yield _overlong(n, head[:first_end], dropped, head[first_end] == "\r" and brk == 1)
                n += 1
                dropped = 0
                head = head[first_end + brk :]
            if head:
                batch = _batch(n, head)
                n += len(batch)
                yield batch
        if len(pending) > 2 * MAX_LINE_CHARS + 1:
            keep = MAX_LINE_CHARS + 1
            cr = pending.endswith("\r")
            dropped += len(pending) - keep - (1 if cr else 0)
            pending = pending[:keep] + ("\r" if cr else "")
    if pending or dropped:
        text = pending.removesuffix("\r")
        if dropped:
            yield _overlong(n, text, dropped, False)
        else:
            yield _batch(n, "", text)


def _overlong(n: int, text: str, dropped: int, overwritten: bool) -> LineBatch:
    return LineBatch(
        n,
        pl.Series("t", [_finish(text, dropped)], dtype=pl.String),
        pl.Series("ov", [overwritten], dtype=pl.Boolean),
    )


def _segments(block: str, tail: str | None) -> list[str]:
    segs = block.replace("\r\n", "\n").replace("\r", "\r\n").split("\n")
    segs.pop()  # after the final break
    if tail is not None:
        segs.append(tail)
    return segs


def _needs_stream(text: str) -> bool:
    """Texts `text_batches_many` leaves to `iter_text_batches`: more than one chunk, a final
    `\r` (held back for a possible `\n`), or an overlong last line."""
    if len(text) > CHUNK_BYTES or text.endswith("\r"):
        return True
    last = max(text.rfind("\n"), text.rfind("\r")) + 1
    return len(text) - last > 2 * MAX_LINE_CHARS + 1


def text_batches_many(texts: Sequence[str]) -> list[list[LineBatch]]:
    """`list(iter_text_batches(t))` for every text, with one polars pass over all of them.

    Every text is split into lines, flagged and truncated together in Rust and handed back as
    slices of one column (the lines up to the last break, then the unterminated last line as
    its own batch, as `iter_text_batches` does), so many small logs cost what one log of their
    total size costs.
    """
    out: list[list[LineBatch]] = [[] for _ in texts]
    take: list[int] = []
    for i, text in enumerate(texts):
        if _needs_stream(text):
            out[i] = list(iter_text_batches(text))
        elif text:
            take.append(i)
    if not take:
        return out
    split = (
        pl.Series("t", [texts[i] for i in take], dtype=pl.String)
        .str.replace_all("\r\n", "\n", literal=True)
        .str.replace_all("\r", "\r\n", literal=True)
        .str.split("\n")
    )
    sizes = split.list.len().to_list()
    last_empty = (split.list.last() == "").to_list()
    lines = split.explode()
    ov = lines.str.ends_with("\r").alias("ov")
    lines = lines.str.strip_suffix("\r").alias("t")
    if (lines.str.len_chars() > MAX_LINE_CHARS).any():
        lines = pl.select(truncate_expr(pl.lit(lines))).to_series().alias("t")
    pos = 0
    for i, size, no_tail in zip(take, sizes, last_empty, strict=True):
        if size > 1:
            out[i].append(LineBatch(1, lines.slice(pos, size - 1), ov.slice(pos, size - 1)))
        if not no_tail:
            out[i].append(LineBatch(size, lines.slice(pos + size - 1, 1), ov.slice(pos + size - 1, 1)))
        pos += size
    return out


def iter_text_batches(text: str) -> Iterator[LineBatch]:
    """The lines of an in-memory log as batches (same numbering as `iter_text_lines`)."""
    step = CHUNK_BYTES
    yield from _batches_of(text[i : i + step] for i in range(0, len(text), step))


def iter_file_batches(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[LineBatch]:
    """The lines of a log file as batches, one per chunk read; memory stays bounded."""
    yield from _batches_of(_decoded_chunks(path, chunk_bytes))
