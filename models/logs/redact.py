"""Secret redaction, applied to log text before anything is excerpted, hashed or stored.

CI logs routinely echo tokens (`set -x`, verbose HTTP clients, failed `curl` commands), so every
line goes through redaction first. Each finding becomes `[REDACTED:<kind>]`; the surrounding text
(key names, URL host, PEM armour) stays so the excerpt still reads naturally.

Cost: one vectorised pre-filter (a single Rust regex over the whole batch, in polars) picks the
few lines that can hold a secret; only those run the exact rules in Python. Lines are judged
with their neighbours: a private key printed over many lines (PEM armour, base64 body) is
redacted from its BEGIN line to its END line, across batches when a `Redactor` is reused.

Key/value pairs (`password=…`) are where false positives come from, because source code printed
in a log (compiler errors, stack traces, `set -x`) is full of names like `private_key` and
`token`. A value counts as a secret unless it reads as code: a call, a path expression, a type,
a reference to another variable (`$X`, `${{ secrets.X }}`), a keyword or an identifier.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

_SECRET_WORDS = (
    r"password|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key"
    r"|client[_\-]?secret|credential|passphrase|session[_\-]?key|signature"
)
_SECRET_NAME = r"(?:[A-Za-z0-9_.\-]*(?:" + _SECRET_WORDS + r")[A-Za-z0-9_.\-]*)"

# Context-free token shapes: (kind, Python regex). Each is also RE2/Rust compatible.
_TOKENS: tuple[tuple[str, str], ...] = (
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ("gitlab_token", r"\b(?:glpat|gldt|glrt|glptt|glcbt)-[A-Za-z0-9_\-]{20,}"),
    ("slack_token", r"\bxox[abposre]-[A-Za-z0-9\-]{10,}"),
    ("slack_webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+"),
    ("aws_access_key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("google_oauth_token", r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi_token", r"\bpypi-[A-Za-z0-9_\-]{50,}"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{20,}\b|\bwhsec_[A-Za-z0-9]{24,}\b"),
    ("twilio_key", r"\bSK[0-9a-fA-F]{32}\b"),
    ("sendgrid_key", r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b"),
    ("heroku_key", r"\bHRKU-[A-Za-z0-9_\-]{20,}"),
    ("digitalocean_token", r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
    ("azure_client_secret", r"\b[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}"),
    ("openai_key", r"\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-)?[A-Za-z0-9_\-]{32,}"),
    ("huggingface_token", r"\bhf_[A-Za-z]{34}\b"),
    ("shopify_token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    ("dockerhub_token", r"\bdckr_pat_[A-Za-z0-9_\-]{27,}"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
)

# Rules that keep part of the match: (kind, regex, group holding the secret).
_KEYED: tuple[tuple[str, re.Pattern[str], int], ...] = (
    (
        "aws_secret_key",
        re.compile(
            r"(?i)(aws_?secret_?(?:access_?)?key(?:_id)?[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
        2,
    ),
    (
        "authorization_header",
        re.compile(
            r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|token|digest)?\s*)"
            r"(?!\[REDACTED)(?!\$)([^\s\"']{8,})"
        ),
        2,
    ),
    ("bearer_token", re.compile(r"(?i)(\bbearer\s+)(?!\[REDACTED)([A-Za-z0-9._~+/=\-]{12,})"), 2),
    (
        "connection_string",
        re.compile(
            r"(?i)(\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*|(?<=;)\s*(?:Password|Pwd)\s*=\s*)"
            r"(?!\[REDACTED)(?!\$)([^;\s\"']+)"
        ),
        2,
    ),
    (
        "url_password",
        re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"'$]+:)(?!\[REDACTED)([^\s@/\"'$]+)(@)"),
        2,
    ),
)

_PEM_BEGIN = re.compile(r"-{4,5} ?BEGIN ((?:[A-Z0-9]+ )*(?:PRIVATE KEY|PRIVATE KEY BLOCK)) ?-{4,5}")
_PEM_INLINE = re.compile(
    r"(-{4,5} ?BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?) ?-{4,5})"
    r"(.*?)(-{4,5} ?END \2 ?-{4,5}|$)"
)
_PEM_END = re.compile(r"-{4,5} ?END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}")
# A line inside a PEM body: optional CI prefix / indentation / quote, then base64 (or an
# RFC 1421 header such as `Proc-Type:`), optionally ending in an escaped newline and a quote.
_PEM_HEADERS = r"(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset|MessageID): .*"
_PEM_BODY = re.compile(
    r"^(?P<lead>(?:[^\t\n]*\t[^\t\n]*\t)?(?:\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-][\d:]+)?\s)?"
    r"[\s\"'>|+]*)(?P<body>[A-Za-z0-9+/]+={0,2}(?:\\n)?|" + _PEM_HEADERS + r")[\"',]?\s*$"
)

_ASSIGN = re.compile(
    r"(?i)(?<![\w$])(" + _SECRET_NAME + r")([\"']?\s*(?:=>|=(?!=)|:(?![:=]))\s*)"
    r"(?:([\"'])((?:(?!\3).){1,400})\3|([^\s\"',;]+))"
)

_KEYWORDS = frozenset((
    "none", "null", "nil", "true", "false", "undefined", "any", "object", "str", "string",
    "bytes", "int", "bool", "boolean", "void", "required", "optional", "bearer", "basic", "token",
    "password", "secret", "redacted", "masked", "hidden", "float", "number", "double", "char",
    "integer",
))
_CODE_VALUE = re.compile(
    r"[()\[\]{}<>]|::|->|\?\.|^[$%&*@!#]|^\\|^\.\.|\.\.\.$"  # calls, types, refs, masks
)
_IDENT_CHAIN = re.compile(r"^[A-Za-z_][A-Za-z_]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*$")


def _is_secret_value(name: str, value: str, quoted: bool, sep: str) -> bool:
    """Whether an assigned value reads as a secret rather than as code or a placeholder."""
    v = value.strip()
    if len(v) < 6 or v.startswith("[REDACTED") or set(v) <= {"*", "x", "X", "#", "•", "-"}:
        return False
    if v.isdigit() or v.lower() in _KEYWORDS:
        return False
    if v.startswith(("$", "%(", "{{", "<", "${")):
        return False
    if quoted:
        return True
    v = v.rstrip(":.")
    if v.startswith(("/", "./", "../", "~/")) or re.match(r"[A-Za-z]:\\", v):
        return False  # a path (`PWD=/home/runner/work`), not a secret
    if _CODE_VALUE.search(v) or re.search(r":\w", v):
        return False  # code, or coordinates/times such as `group:artifact:1.0`
    if _IDENT_CHAIN.match(v):
        # An identifier: a variable, type or attribute, unless assigned to an env-style
        # UPPER_CASE name (`DB_PASSWORD=hunterhunter`), where a plain word is the value itself.
        env_style = name.upper() == name and any(c.isalpha() for c in name)
        code_like = (
            "=" in sep  # `secret = params`: code assigns variables
            or ":" in sep  # `token: unexpected status`: prose; `token: str`: a type
            or "." in v
            or "_" in v
            or v[0].isupper()
            or any(c.isupper() for c in v[1:])
            or v.lower() in name.lower()
        )
        return env_style or not code_like
    return True


def _assign_repl(m: re.Match[str]) -> str:
    name, sep = m.group(1), m.group(2)
    quote, qval, bare = m.group(3), m.group(4), m.group(5)
    value = qval if quote else bare
    if value is None or not _is_secret_value(name, value, bool(quote), sep):
        return m.group(0)
    kind = "private_key" if re.search(r"(?i)private[_\-]?key", name) else "secret_assignment"
    if quote:
        return f"{name}{sep}{quote}[REDACTED:{kind}]{quote}"
    return f"{name}{sep}[REDACTED:{kind}]"


def _keyed_repl(kind: str, group: int) -> Callable[[re.Match[str]], str]:
    label = f"[REDACTED:{kind}]"

    def repl(m: re.Match[str]) -> str:
        start, end = m.span(group)
        return m.string[m.start() : start] + label + m.string[end : m.end()]

    return repl


def _pem_inline_repl(m: re.Match[str]) -> str:
    if not m.group(4) and not m.group(3).strip(" \t\"',"):
        return m.group(0)  # armour alone: the body follows on the next lines
    return m.group(1) + "[REDACTED:private_key]" + m.group(4)


_TOKEN_RULES = tuple((re.compile(p), f"[REDACTED:{kind}]") for kind, p in _TOKENS)
_KEYED_RULES = tuple((p, _keyed_repl(kind, g)) for kind, p, g in _KEYED)

# The pre-filter: a line matching none of this cannot be changed by any rule (every rule needs
# one of these substrings), so it is not looked at again. Rust-regex syntax for polars.
HINT = (
    r"-{4,5} ?BEGIN |(?i:(?:" + _SECRET_WORDS + r")[\w.\-]*[\"']?\s*(?:=|:[^:])"
    r"|authorization[\"']?\s*[:=]|bearer\s|accountkey|sharedaccess)"
    r"|://[^\s/@]+:[^\s/@]+@|gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt|cbt)-|xox[abposre]-"
    r"|hooks\.slack\.com|A[KS]IA|AGPA|AIDA|AROA|ANPA|ABIA|ACCA|AIza|ya29\.|npm_|pypi-"
    r"|[srp]k_(?:live|test)_|whsec_|SK[0-9a-fA-F]{32}|SG\.|HRKU-|do[opr]_v1_|\dQ~|sk-|hf_"
    r"|shp(?:at|ca|pa|ss)_|dckr_pat_|eyJ"
)
_HINT_RE = re.compile(HINT)
# Below this many lines a log's pre-filter runs in Python (`Redactor.lines`); from it on, in polars.
_SMALL = 64


def _redact_line(text: str) -> str:
    """All single-line rules on one line (the pre-filter already matched)."""
    if "BEGIN" in text:
        text = _PEM_INLINE.sub(_pem_inline_repl, text)
    for pattern, label in _TOKEN_RULES:
        text = pattern.sub(label, text)
    for pattern, repl in _KEYED_RULES:
        text = pattern.sub(repl, text)
    return _ASSIGN.sub(_assign_repl, text)


class Redactor:
    """Redacts a stream of lines; keeps the state of an open private-key block between calls."""

    def __init__(self) -> None:
        self._in_key = False

    @property
    def in_key_block(self) -> bool:
        """Whether the last line seen left a private key open (its body may follow)."""
        return self._in_key

    def _key_body(self, text: str) -> tuple[str, bool]:
        """One line inside an open key block: (redacted line, block still open)."""
        end = _PEM_END.search(text)
        if end:
            head = text[: end.start()]
            m = _PEM_BODY.match(head) if head.strip() else None
            if m and m.group("body"):
                head = m.group("lead") + "[REDACTED:private_key]"
            return head + text[end.start() :], False
        if not text.strip():
            return text, True
        m = _PEM_BODY.match(text)
        if m is None:
            return text, False  # not base64: the key was cut short; judge the line normally
        return m.group("lead") + "[REDACTED:private_key]", True

    def _walk(self, get: Callable[[int], str], n: int, hits: list[int]) -> dict[int, str]:
        """Changed lines by index; only pre-filter hits and lines of open key blocks are read."""
        changed: dict[int, str] = {}
        i_hit = 0
        i = 0
        while i < n:
            if self._in_key:
                text = get(i) or ""
                redacted, self._in_key = self._key_body(text)
                if self._in_key or redacted != text or _PEM_END.search(text):
                    if redacted != text:
                        changed[i] = redacted
                    i += 1
                    continue
                # the block ended on a line that is not part of it: judge that line normally
            else:
                while i_hit < len(hits) and hits[i_hit] < i:
                    i_hit += 1
                if i_hit >= len(hits):
                    break
                i = hits[i_hit]
            text = get(i) or ""
            if _HINT_RE.search(text):
                redacted = _redact_line(text)
                if redacted != text:
                    changed[i] = redacted
                begins = list(_PEM_BEGIN.finditer(text))
                if begins and not _PEM_END.search(text, begins[-1].end()):
                    self._in_key = True
            i += 1
        return changed

    def lines(self, texts: Sequence[str]) -> list[str]:
        """Redact lines in order; the result has one line per input line."""
        out = list(texts)
        if not out:
            return out
        if len(out) < _SMALL:
            hits = [i for i, t in enumerate(out) if t and _HINT_RE.search(t)]
        else:
            hits = _hint_positions(_series(out))
        for i, text in self._walk(out.__getitem__, len(out), hits).items():
            out[i] = text
        return out

    def series(self, lines: pl.Series) -> pl.Series:
        """`lines` for a polars column: the pre-filter runs in Rust, the rest on the few hits."""
        if lines.len() == 0:
            return lines
        hits = _hint_positions(lines)
        if not hits and not self._in_key:
            return lines
        changed = self._walk(lines.__getitem__, lines.len(), hits)
        if not changed:
            return lines
        import polars as pl

        idx = pl.Series("i", list(changed), dtype=pl.UInt32)
        return lines.scatter(idx, pl.Series(list(changed.values()), dtype=pl.String))


def opens_key_block(lines: pl.Series) -> bool:
    """Whether any line could open a multi-line private key (vectorised check)."""
    return bool(lines.str.contains(_PEM_BEGIN.pattern).any())


def _series(texts: Sequence[str]) -> pl.Series:
    import polars as pl

    return pl.Series(texts, dtype=pl.String)


def _hint_positions(lines: pl.Series) -> list[int]:
    """Indices of lines the pre-filter matches, in one vectorised pass over the column."""
    return lines.str.contains(HINT).fill_null(False).arg_true().to_list()


_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def redact(text: str) -> str:
    """Replace secrets in `text` (one line or many) by `[REDACTED:<kind>]` markers."""
    if not text:
        return text
    if "\n" not in text and "\r" not in text:
        if not _HINT_RE.search(text):
            return text
        return Redactor().lines([text])[0]
    parts = _LINE_BREAK.split(text)
    body = Redactor().lines(parts[0::2])
    parts[0::2] = body
    return "".join(parts)


def redact_many(texts: Sequence[str]) -> list[str]:
    """Redact consecutive lines of one log (a key split over lines is caught); same length out."""
    return Redactor().lines(texts)


def redact_logs(logs: Sequence[Sequence[str]]) -> list[list[str]]:
    """`redact_many` of every log, with one pre-filter pass over all their lines.

    The pre-filter's cost per polars call (the pattern is large) is what dominates for small
    logs; here it runs once for a whole batch of logs. Each log still starts with no key block
    open, so a key cut short at the end of one log never swallows lines of the next.
    """
    big = [i for i, log in enumerate(logs) if len(log) >= _SMALL]
    flat: list[str] = []
    starts: list[int] = []
    for i in big:
        starts.append(len(flat))
        flat.extend(logs[i])
    hits_all = _hint_positions(_series(flat)) if flat else []
    hits_of: dict[int, list[int]] = {}
    k = 0
    for j, i in enumerate(big):
        lo, hi = starts[j], starts[j] + len(logs[i])
        while k < len(hits_all) and hits_all[k] < lo:
            k += 1
        mine: list[int] = []
        while k < len(hits_all) and hits_all[k] < hi:
            mine.append(hits_all[k] - lo)
            k += 1
        hits_of[i] = mine
    out: list[list[str]] = []
    for i, log in enumerate(logs):
        lines = list(log)
        if i in hits_of:
            changed = Redactor()._walk(lines.__getitem__, len(lines), hits_of[i])
            for pos, text in changed.items():
                lines[pos] = text
        else:
            lines = Redactor().lines(lines)
        out.append(lines)
    return out


def redact_series_by_log(lines: pl.Series, sizes: Sequence[int]) -> pl.Series:
    """`redact_many` of consecutive logs stored in one column (`sizes[k]` lines for log k).

    One pre-filter pass over the whole column; each log starts with no key block open. Only
    the lines the pre-filter flags (and the lines of open key blocks) are read in Python.
    """
    if sum(sizes) != lines.len():
        raise ValueError(f"sizes add up to {sum(sizes)} lines, the column has {lines.len()}")
    if lines.len() == 0:
        return lines
    hits_all = _hint_positions(lines)
    changed_all: dict[int, str] = {}
    k = 0
    start = 0
    for size in sizes:
        end = start + size
        mine: list[int] = []
        while k < len(hits_all) and hits_all[k] < end:
            mine.append(hits_all[k] - start)
            k += 1
        base = start

        def get(i: int, base: int = base) -> str:
            return lines[base + i] or ""

        if size < _SMALL:
            # As `Redactor.lines` does for a small log: the Python pattern picks the lines.
            mine = [i for i in range(size) if _HINT_RE.search(get(i))]
        if mine:
            for i, text in Redactor()._walk(get, size, mine).items():
                changed_all[base + i] = text
        start = end
    if not changed_all:
        return lines
    import polars as pl

    idx = pl.Series("i", list(changed_all), dtype=pl.UInt32)
    return lines.scatter(idx, pl.Series(list(changed_all.values()), dtype=pl.String))


def redact_series(lines: pl.Series) -> pl.Series:
    """`redact_many` for a polars column of consecutive lines (no Python list is built)."""
    return Redactor().series(lines)


# Shapes that are secrets wherever they appear (no key name needed): what a stored-data audit
# looks for. RE2/Rust-compatible, so DuckDB and polars can scan stored text with them.
TOKEN_SHAPES: tuple[str, ...] = (
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:\s|\\+n)*[A-Za-z0-9+/]{16}",
    r"\bgh[pousr]_[A-Za-z0-9]{36,}",
    r"\bgithub_pat_[A-Za-z0-9_]{22,}",
    r"\bglpat-[A-Za-z0-9_\-]{20,}",
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    r"\bAIza[0-9A-Za-z_\-]{35}",
    r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"'$]+:[^\s@/\"'\[$]+@",
    r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b",
    r"\bnpm_[A-Za-z0-9]{36}\b",
    r"\bpypi-[A-Za-z0-9_\-]{50,}",
)
