"""Versioned failure fingerprints: equal for the same failure across runs, machines and releases.

Definition (version 1), documented in docs/logs.md so anyone can recompute it:
    lines_n  = [mask(l) for l in excerpt lines], each stripped, empty ones dropped,
               consecutive duplicates collapsed
    payload  = "followthrough-fp:" + FINGERPRINT_VERSION + "\\n" + ["job:" + job + "\\n"]
               + "\\n".join(lines_n)
    fingerprint = sha256(payload.encode("utf-8")).hexdigest()[:32]
`mask` is `models.logs.normalise.mask`: numbers, ids, hashes, UUIDs, paths, URLs, IPs, dates and
durations become `<*>`, so two runs of the same failure hash equal. Change FINGERPRINT_VERSION
whenever masking or this definition changes: stored fingerprints then stop matching on purpose.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from models.logs.lines import MAX_LINE_CHARS, clean_line
from models.logs.normalise import mask_series
from models.logs.redact import redact

FINGERPRINT_VERSION = "1"


def normalised_lines(lines: Iterable[str]) -> list[str]:
    """The masked form of excerpt lines that the fingerprint hashes."""
    return normalised_lines_many([list(lines)])[0]


def normalised_lines_many(excerpts: Sequence[Sequence[str]]) -> list[list[str]]:
    """`normalised_lines` of many excerpts, masked in one vectorised pass."""
    cleaned = [clean_line(redact(line))[:MAX_LINE_CHARS] for lines in excerpts for line in lines]
    masked = mask_series(cleaned).to_list() if cleaned else []
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
    """Fingerprint of a failure from its excerpt lines (text only, no line numbers)."""
    return _digest(lines, None)


def fingerprint_for_job(lines: Iterable[str], job: str) -> str:
    """Fingerprint scoped to one CI job: the same message in two jobs counts as two failures."""
    return _digest(lines, job)
