"""Versioned failure fingerprints: equal for the same failure across runs, machines and releases.

Definition (version 6), documented in docs/logs.md so anyone can recompute it:
    lines_n  = [mask(truncate(clean(redact(l))), profile="failure")[:FAILURE_LINE_CHARS]
                for l in lines], each stripped, empty ones dropped, consecutive duplicates
               collapsed
    payload  = "followthrough-fp:" + FINGERPRINT_VERSION + "\\n" + ["job:" + job + "\\n"]
               + "\\n".join(lines_n)
    fingerprint = sha256(payload.encode("utf-8")).hexdigest()[:32]
The failure profile of `models.logs.normalise.mask` removes what varies between runs of one
failure (numbers standing alone, hashes, UUIDs, hex addresses, date-times, durations, the
directories of a path) and keeps what names it (error codes such as `TS18047`, identifiers,
test and exception names, file names). Change FINGERPRINT_VERSION whenever masking, this
definition or the choice of signature lines (`excerpt._signature`) changes: stored fingerprints
then stop matching on purpose (version 4: signature blocks end at stack frames, progress and
timing lines; version 5: four signature lines, not five, and the stack frames of more
languages end a block; version 6: a block after the best enters only when it scores about
as high, and the blocks that enter are read in log order).

Which lines: a failure's fingerprint must not depend on what else was available when its log was
read (a passing log of the job changes which lines an excerpt shows). `lines_for_fingerprint`
therefore prefers the excerpt's `signature` (the few lines stating the failure, chosen without
the passing log) when the excerpt has one, and its error lines otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from models.logs.lines import clean_series, truncate_expr
from models.logs.normalise import mask_expr
from models.logs.redact import redact_logs

FINGERPRINT_VERSION = "6"
# A failure message says what failed in its first words; what follows (a log file to attach,
# a list of inputs) is where runs of one failure differ. Masked lines are cut here.
FAILURE_LINE_CHARS = 200


def lines_for_fingerprint(excerpt: Any) -> list[str]:
    """The lines an excerpt's fingerprint is computed from: its signature when it has one."""
    signature = getattr(excerpt, "signature", None)
    if signature:
        return list(signature)
    return list(excerpt.error_texts)


def normalised_lines(lines: Iterable[str], *, profile: str = "failure") -> list[str]:
    """The masked form of excerpt lines that the fingerprint hashes (failure profile)."""
    return normalised_lines_many([list(lines)], profile=profile)[0]


def normalised_lines_many(
    excerpts: Sequence[Sequence[str]], *, profile: str = "failure"
) -> list[list[str]]:
    """`normalised_lines` of many excerpts: redaction and masking each in one pass over all.

    `profile="template"` gives the coarser text clustering compares (every token with a digit
    masked, whole paths masked), where failures that differ only in a file or image name meet.
    """
    import polars as pl

    flat = [line for lines in redact_logs([[t or "" for t in ex] for ex in excerpts])
            for line in lines]
    if not flat:
        return [[] for _ in excerpts]
    s = clean_series(pl.Series("l", flat, dtype=pl.String))
    # Overlong lines are cut with the excerpt's marker, which masking then drops together with
    # the token the cut went through (where a cut falls is not part of the failure).
    expr = mask_expr(truncate_expr(pl.lit(s), already=True), profile=profile)
    if profile == "failure":
        expr = expr.str.slice(0, FAILURE_LINE_CHARS)
    masked = pl.select(expr).to_series().to_list()
    result: list[list[str]] = []
    pos = 0
    for lines in excerpts:
        out: list[str] = []
        for line in masked[pos : pos + len(lines)]:
            line = (line or "").strip()
            if line and (not out or out[-1] != line):
                out.append(line)
        pos += len(lines)
        result.append(out)
    return result


def _payload_digest(normalised: list[str], job: str | None) -> str:
    payload = f"followthrough-fp:{FINGERPRINT_VERSION}\n"
    if job is not None:
        payload += f"job:{job.strip()}\n"
    payload += "\n".join(normalised)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _digest(lines: Iterable[str], job: str | None) -> str:
    return _payload_digest(normalised_lines(lines), job)


def fingerprint_many(excerpts: Sequence[Sequence[str]]) -> list[str]:
    """`fingerprint` of many excerpts at once (same values, one masking pass)."""
    return [_payload_digest(n, None) for n in normalised_lines_many(excerpts)]


def fingerprint(lines: Iterable[str]) -> str:
    """Fingerprint of a failure from its lines (text only, no line numbers)."""
    return _digest(lines, None)


def fingerprint_for_job(lines: Iterable[str], job: str) -> str:
    """Fingerprint scoped to one CI job: the same message in two jobs counts as two failures."""
    return _digest(lines, job)


def fingerprint_excerpt(excerpt: Any) -> str:
    """Fingerprint of an `Excerpt`, from `lines_for_fingerprint(excerpt)`."""
    return fingerprint(lines_for_fingerprint(excerpt))
