"""Secret redaction, applied to log text before anything is excerpted, hashed or stored.

CI logs routinely echo tokens (`set -x`, verbose HTTP clients, failed `curl` commands), so every
line goes through `redact` first. Each finding becomes `[REDACTED:<kind>]`; the surrounding text
(key names, URL host, PEM armour) stays so the excerpt still reads naturally.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SECRET_NAME = (
    r"(?:[A-Za-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key"
    r"|private[_\-]?key|client[_\-]?secret|credential|passphrase|session[_\-]?key|signature)"
    r"[A-Za-z0-9_.\-]*)"
)

# Order matters: multi-line and structured shapes first, generic key/value pairs last.
_RULES: tuple[tuple[str, re.Pattern[str], int | None], ...] = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)"
        ),
        None,
    ),
    (
        "github_token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
        None,
    ),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b"), None),
    ("slack_token", re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}\b"), None),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+"), None),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b"), None),
    (
        "aws_secret_key",
        re.compile(
            r"(?i)(aws_?secret_?(?:access_?)?key(?:_id)?[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{40})\b"
        ),
        2,
    ),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"), None),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), None),
    ("pypi_token", re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}\b"), None),
    ("stripe_key", re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{20,}\b"), None),
    (
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
        None,
    ),
    (
        "authorization_header",
        re.compile(
            r"(?i)(\bauthorization\s*[:=]\s*(?:bearer|basic|token|digest)?\s*)([^\s\"']{8,})"
        ),
        2,
    ),
    ("bearer_token", re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=\-]{12,})"), 2),
    (
        "connection_string",
        re.compile(
            r"(?i)((?:AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd)\s*=\s*)([^;\s\"']+)"
        ),
        2,
    ),
    (
        "url_password",
        re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"']+:)([^\s@/\"']+)(@)"),
        2,
    ),
    (
        "secret_assignment",
        re.compile(
            r"(?i)(\b" + _SECRET_NAME + r"[\"']?\s*(?:=|:|=>)\s*[\"']?)"
            r"(?!\[REDACTED)(?!\*+(?:\s|$))(?!\d+\b)([^\s\"',;]{6,})"
        ),
        2,
    ),
)


def _replacer(kind: str, group: int | None) -> Callable[[re.Match[str]], str]:
    label = f"[REDACTED:{kind}]"

    def repl(m: re.Match[str]) -> str:
        if group is None:
            return label
        start, end = m.span(group)
        return m.string[m.start() : start] + label + m.string[end : m.end()]

    return repl


_COMPILED = tuple((p, _replacer(kind, group)) for kind, p, group in _RULES)
# A cheap pre-filter: most lines contain none of these and skip all rule passes.
_HINT = re.compile(
    r"(?i)PRIVATE KEY|gh[pousr]_|github_pat_|glpat-|xox[abprs]-|hooks\.slack|A[KS]IA|AGPA|AIDA|AROA"
    r"|ANPA|AIza|npm_|pypi-|[rs]k_(?:live|test)|eyJ|bearer|token|authorization|key|secret|pass"
    r"|pwd|credential|signature|://[^\s/@]+:[^\s/@]+@"
)


def redact(text: str) -> str:
    """Replace secrets in `text` by `[REDACTED:<kind>]` markers."""
    if not text or not _HINT.search(text):
        return text
    for pattern, repl in _COMPILED:
        text = pattern.sub(repl, text)
    return text


def redact_many(texts: list[str]) -> list[str]:
    """`redact` over many lines; the pre-filter runs vectorised, so clean lines cost little."""
    if not texts:
        return []
    import polars as pl

    hints = pl.Series(texts, dtype=pl.String).str.contains(_HINT.pattern).to_list()
    return [redact(t) if hit else t for t, hit in zip(texts, hints, strict=True)]


# Shapes that are secrets wherever they appear (no key name needed): what a stored-data audit
# looks for. RE2/Rust-compatible, so DuckDB and polars can scan stored text with them.
TOKEN_SHAPES: tuple[str, ...] = (
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY",
    r"\bgh[pousr]_[A-Za-z0-9]{36,}",
    r"\bgithub_pat_[A-Za-z0-9_]{22,}",
    r"\bglpat-[A-Za-z0-9_\-]{20,}",
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    r"\bAIza[0-9A-Za-z_\-]{35}",
    r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"']+:[^\s@/\"'\[]+@",
)
