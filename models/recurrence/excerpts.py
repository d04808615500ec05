"""Excerpting and fingerprinting many failed jobs' logs, on every core."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from models.logs import FINGERPRINT_VERSION, excerpt_file, fingerprint


@dataclass(frozen=True, slots=True)
class FailedLog:
    provider: str
    job_id: int
    log_path: str
    passing_job_id: int | None = None
    passing_path: str | None = None


@dataclass(frozen=True, slots=True)
class ExcerptRow:
    provider: str
    job_id: int
    log_path: str
    log_bytes: int | None
    passing_job_id: int | None
    fingerprint: str | None
    fingerprint_version: str
    excerpt: str
    total_lines: int
    notes: list[str]


def excerpt_one(item: FailedLog, max_lines: int = 40) -> ExcerptRow:
    """One failed job's excerpt; an unreadable log gives an empty excerpt with a note."""
    path = Path(item.log_path)
    passing = Path(item.passing_path) if item.passing_path else None
    try:
        size: int | None = path.stat().st_size
        if passing is not None and not passing.is_file():
            passing = None
        ex = excerpt_file(path, passing=passing, max_lines=max_lines)
        lines = [{"n": line.n, "text": line.text} for line in ex.lines]
        notes = list(ex.notes)
        fp = fingerprint(ex.texts) if ex.lines else None
        total = ex.total_lines
    except OSError as exc:
        size, lines, fp, total = None, [], None, 0
        notes = [f"{path}: cannot read log: {exc.strerror or exc}"]
    if size == 0:
        notes.append(f"{path}: empty log")
    return ExcerptRow(
        provider=item.provider,
        job_id=item.job_id,
        log_path=item.log_path,
        log_bytes=size,
        passing_job_id=item.passing_job_id if passing is not None else None,
        fingerprint=fp,
        fingerprint_version=FINGERPRINT_VERSION,
        excerpt=json.dumps(lines, ensure_ascii=False),
        total_lines=total,
        notes=notes,
    )


def _chunk(items: Sequence[FailedLog]) -> list[ExcerptRow]:
    return [excerpt_one(i) for i in items]


def excerpt_many(items: Iterable[FailedLog], workers: int | None = None) -> list[ExcerptRow]:
    """Excerpt logs in input order, spreading the work over processes when it is worth it."""
    todo = list(items)
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers <= 1 or len(todo) < 64:
        return _chunk(todo)
    size = max(16, len(todo) // (workers * 8))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    out: list[ExcerptRow] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for rows in pool.map(_chunk, chunks):
            out.extend(rows)
    return out
