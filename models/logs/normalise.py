"""Parameter masking: turn a log message into the shape its log statement printed.

Variables (ids, hashes, UUIDs, numbers, paths, URLs, IPs, dates, durations, hex) are replaced by
`<*>` so that messages of one statement become equal strings. The rules are deliberately
digit-value agnostic: every rule treats all digits alike, which lets callers fold digits to `0`
before de-duplicating (see `fold_digits`) without changing any masked result.
"""

from __future__ import annotations

import polars as pl

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
    # A quantity with its unit is one parameter, with an optional restatement in another unit
    # (`1024 bytes (1.0 KB)`) and an optional `<` bound (`<1 sec`).
    (
        "quantity",
        r"<?\b\d+(?:[.,]\d+)?\s?(?:bytes|[KMGT]i?B|kB|ms|secs?|seconds?|mins?|minutes?|hours?)\b"
        r"(?:\s\(\d+(?:[.,]\d+)?\s?(?:bytes|[KMGT]i?B|kB)\))?",
    ),
    ("key_value", r"\b([A-Za-z_][\w.\-]*)=[^\s,;)\]}\"']+"),
    ("hex_word", r"\b[0-9a-fA-F]{12,}\b"),
    ("token_with_digit", _TOKEN_CHARS + r"*\d" + _TOKEN_CHARS + "*"),
)


# Removed before any rule, in both profiles: a UTF-8 byte-order mark (first line of a file
# written on Windows) and ANSI colour/cursor codes are presentation, never content.
_INVISIBLE = r"\x{feff}|\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]"

# The failure profile, for fingerprints. A failure is identified by what its message says, so
# masking works below the token: only the volatile part of a token goes. Error codes and
# identifiers keep their digits (`TS18047`, `E0425`, `CS1002`, `Sync64Fast`); numbers standing
# alone, after punctuation or ending a lower-case word (`line 12`, `:999:5`, `(0.18s)`,
# `[attempt3]`, the ids of parametrised tests), hashes, hex addresses,
# UUIDs, date-times, durations, URLs and paths go (a path as a whole: checkout directories and
# package prefixes differ between machines and repositories while the failure does not).
_SEG = r"[\w.@+\-$~%]"
FAILURE_RULES: tuple[tuple[str, str, str], ...] = (
    # Where a long line was cut depends on the lengths of the values in it: the token the cut
    # went through and the count of dropped characters go with the marker.
    ("truncated", r"\S*\s*…\[truncated \d+ chars\]$", " …"),
    MASK_RULES[0] + ("<*>",),  # ctime
    MASK_RULES[1] + ("<*>",),  # datetime
    ("time", r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<*>"),
    (
        "uuid",
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        "<*>",
    ),
    ("email", r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", "<*>"),
    ("url", MASK_RULES[2][1], "<*>"),
    ("path", r"(?:\b[A-Za-z]:)?(?:" + _SEG + r"*[\\/])+" + _SEG + r"+[\\/]?", "<*>"),
    # Hex ids and addresses, also glued to a prefix (`evt_8159d2b3…`, `sys-754a2cc3…`); twice,
    # because a match consumes the character after it.
    ("hex", r"(^|[^0-9A-Za-z])(?:0x[0-9a-fA-F]+|[0-9a-fA-F]{7,})($|[^0-9A-Za-z])", "${1}<*>${2}"),
    ("hex_again", r"(^|[^0-9A-Za-z])(?:0x[0-9a-fA-F]+|[0-9a-fA-F]{7,})($|[^0-9A-Za-z])",
     "${1}<*>${2}"),
    (
        "duration",
        r"(^|[^\w.])\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b",
        "${1}<*>",
    ),
    # A number not glued to a capital before it or a letter after it: `line 12`, `:999:5`,
    # `attempt3`, `test_b17`, `worker-0_5` lose theirs; `TS18047`, `E0425`, `Sync64Fast` keep them.
    # Twice, because a match consumes the character after it (`:1:2`).
    ("number", r"(^|[^A-Z\d])\d+(?:[.,]\d+)*($|[^A-Za-z\d])", "${1}<*>${2}"),
    ("number_again", r"(^|[^A-Z\d])\d+(?:[.,]\d+)*($|[^A-Za-z\d])", "${1}<*>${2}"),
    # A list of masked values is one value, however many items it has (`"<*>" "<*>" "<*>"`).
    ("list", r"<\*>(?:[\s,;|\"']+<\*>)+", "<*>"),
)


def _as_series(messages: pl.Series | list[str] | tuple[str, ...]) -> pl.Series:
    if isinstance(messages, pl.Series):
        return messages.cast(pl.String)
    return pl.Series("message", list(messages), dtype=pl.String)


def mask_expr(expr: pl.Expr, *, profile: str = "template") -> pl.Expr:
    """The masking rules as one polars expression, so callers can fuse it into a query.

    `profile="template"` (template mining): every token with a digit becomes `<*>`; digit-value
    agnostic, so callers may fold digits first. `profile="failure"` (fingerprints): only the
    volatile part of a token goes, error codes and identifiers stay (see `FAILURE_RULES`).
    """
    expr = expr.str.replace_all(_INVISIBLE, "")
    if profile == "failure":
        for _name, pattern, replacement in FAILURE_RULES:
            expr = expr.str.replace_all(pattern, replacement)
        return expr.str.replace_all(r"\s+", " ").str.strip_chars()
    if profile != "template":
        raise ValueError(f"unknown masking profile {profile!r} (expected 'template' or 'failure')")
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


def mask_series(
    messages: pl.Series | list[str] | tuple[str, ...], *, profile: str = "template"
) -> pl.Series:
    """Mask every message; vectorised (one regex pass per rule over the whole column)."""
    s = _as_series(messages)
    return pl.select(mask_expr(pl.lit(s), profile=profile).alias(s.name or "masked")).to_series()


def mask(message: str, *, profile: str = "template") -> str:
    """Mask a single message (convenience wrapper over `mask_series`)."""
    return mask_series([message], profile=profile)[0]


def fold_digits(messages: pl.Series) -> pl.Series:
    """Replace every ASCII digit by `0` (length-preserving).

    Because the template masking rules do not depend on digit values, messages equal after
    folding mask identically, so de-duplicating on the folded text first means the regex passes
    only run on distinct shapes.
    """
    return messages.cast(pl.String).str.replace_all("[1-9]", "0")
