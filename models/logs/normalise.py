"""Parameter masking: turn a log message into the shape its log statement printed.

Variables (ids, hashes, UUIDs, numbers, paths, URLs, IPs, dates, durations, hex) are replaced by
`<*>` so that messages of one statement become equal strings. The rules are deliberately
digit-value agnostic: every rule treats all digits alike, which lets callers fold digits to `0`
before de-duplicating (see `fold_digits`) without changing any masked result.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

WILDCARD = "<*>"

# Rust-regex syntax (polars); no look-around. Specific shapes are first replaced by a digit so
# that the final "token containing a digit" rule turns them, with any glued prefix or suffix such
# as `blk_-` or `.log`, into a single wildcard token.
_TOKEN_CHARS = r"[\w.\-:@#/+~%$]"
MASK_RULES: tuple[tuple[str, str], ...] = (
    (
        "ctime",
        r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
        r"[a-z]*\s+\d{1,2},?\s+(?:\d{4}\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:\s+\d{4})?",
    ),
    (
        "datetime",
        r"\b\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:\s?Z|\s?[+-]\d{2}:?\d{2})?",
    ),
    ("url", r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>()\[\]{}]+"),
    ("email", r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"),
    ("path", r"(?:[A-Za-z]:)?(?:[\\/][\w.@+\-$~]+){2,}[\\/]?(?:\?[^\s\"'<>]*)?"),
    # An empty bracket pair standing alone is a parameter that happened to be empty.
    ("empty_parens", r"(^|\s)\(\)(\s|$)"),
    ("empty_brackets", r"(^|\s)\[\](\s|$)"),
    ("key_value", r"\b([A-Za-z_][\w.\-]*)=[^\s,;)\]}\"']+"),
    ("hex_word", r"\b[0-9a-fA-F]{12,}\b"),
    ("token_with_digit", _TOKEN_CHARS + r"*\d" + _TOKEN_CHARS + "*"),
)


def _as_series(messages: pl.Series | list[str] | tuple[str, ...]) -> pl.Series:
    if isinstance(messages, pl.Series):
        return messages.cast(pl.String)
    return pl.Series("message", list(messages), dtype=pl.String)


def mask_expr(expr: pl.Expr) -> pl.Expr:
    """The masking rules as one polars expression, so callers can fuse it into a query."""
    for name, pattern in MASK_RULES:
        replacement = {
            "token_with_digit": WILDCARD,
            "key_value": "${1}=0",
            "empty_parens": "${1}(0)${2}",
            "empty_brackets": "${1}[0]${2}",
        }.get(name, "0")
        expr = expr.str.replace_all(pattern, replacement)
    # A list of parameters is one parameter, however many items it has.
    expr = expr.str.replace_all(r"<\*>(?:[,;|]\s?<\*>)+", WILDCARD)
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()


def mask_series(messages: pl.Series | list[str] | tuple[str, ...]) -> pl.Series:
    """Mask every message; vectorised (one regex pass per rule over the whole column)."""
    s = _as_series(messages)
    return pl.select(mask_expr(pl.lit(s)).alias(s.name or "masked")).to_series()


def mask(message: str) -> str:
    """Mask a single message (convenience wrapper over `mask_series`)."""
    return mask_series([message])[0]


def fold_digits(messages: pl.Series) -> pl.Series:
    """Replace every ASCII digit by `0`, byte-wise in numpy.

    Length-preserving and much cheaper than a regex pass; because the masking rules do not
    depend on digit values, messages equal after folding mask identically, so de-duplicating on
    the folded text first means the regex passes only run on distinct shapes.
    """
    arr = messages.cast(pl.String).to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    validity, offsets, data = arr.buffers()
    if data is None or len(data) == 0:
        return messages.cast(pl.String)
    raw = np.frombuffer(data, dtype=np.uint8)
    folded = raw.copy()
    np.putmask(folded, (raw - np.uint8(48)) < np.uint8(10), np.uint8(48))
    out = pa.Array.from_buffers(
        pa.large_string(), len(arr), [validity, offsets, pa.py_buffer(folded)], offset=arr.offset
    )
    return pl.Series(messages.name, out).cast(pl.String)
