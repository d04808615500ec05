"""Excerpting and fingerprinting many failed jobs' logs, on every core."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from followthrough.progress import report
from models.logs import FINGERPRINT_VERSION, Excerpt, excerpt_file, excerpt_many
from models.logs.fingerprint import fingerprint_many
from models.logs.lines import BINARY_SNIFF_BYTES, is_binary

# Logs up to this size are read whole and excerpted many at a time; bigger ones are streamed.
IN_MEMORY_BYTES = 4 * 1024 * 1024


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


def _row(item: FailedLog, size: int | None, ex: Excerpt, notes: list[str],
         used_passing: bool, fp: str | None = None) -> ExcerptRow:
    lines = [
        {"n": line.n, "text": line.text, **({"context": True} if line.context else {})}
        for line in ex.lines
    ]
    return ExcerptRow(
        provider=item.provider,
        job_id=item.job_id,
        log_path=item.log_path,
        log_bytes=size,
        passing_job_id=item.passing_job_id if used_passing else None,
        fingerprint=fp if ex.lines else None,
        fingerprint_version=FINGERPRINT_VERSION,
        excerpt=json.dumps(lines, ensure_ascii=False),
        total_lines=ex.total_lines,
        notes=notes,
    )


def _read_small(path: Path) -> tuple[str | None, int]:
    """Text of a small, non-binary log; None when it must be streamed or is binary."""
    size = path.stat().st_size
    if size > IN_MEMORY_BYTES:
        return None, size
    data = path.read_bytes()
    if is_binary(data[:BINARY_SNIFF_BYTES]):
        return None, size
    return data.decode("utf-8", "replace"), size


def excerpt_one(item: FailedLog, max_lines: int = 40) -> ExcerptRow:
    """One failed job's excerpt, streamed; an unreadable log gives an empty excerpt and a note."""
    return _excerpt_chunk([item], max_lines)[0]


def _excerpt_chunk(items: Sequence[FailedLog], max_lines: int = 40) -> list[ExcerptRow]:
    rows: list[ExcerptRow | None] = [None] * len(items)
    batch: list[tuple[int, str, str | None, int]] = []
    for i, item in enumerate(items):
        path = Path(item.log_path)
        passing = Path(item.passing_path) if item.passing_path else None
        try:
            text, size = _read_small(path)
            pass_text = None
            if passing is not None:
                try:
                    pass_text, _ = _read_small(passing)
                except OSError:
                    passing = None
            if text is not None and (passing is None or pass_text is not None):
                batch.append((i, text, pass_text, size))
                continue
            ex = excerpt_file(path, passing=passing if passing and passing.is_file() else None,
                              max_lines=max_lines)
            notes = list(ex.notes) + ([f"{path}: empty log"] if size == 0 else [])
            fp = fingerprint_many([ex.error_texts])[0]
            rows[i] = _row(item, size, ex, notes, passing is not None, fp)
        except OSError as exc:
            note = f"{path}: cannot read log: {exc.strerror or exc}"
            rows[i] = _row(item, None, Excerpt((), 0, ()), [note], False)
    if batch:
        results = excerpt_many([(t, p) for _, t, p, _ in batch], max_lines=max_lines)
        fps = fingerprint_many([ex.error_texts for ex in results])
        for (i, _, pass_text, size), ex, fp in zip(batch, results, fps, strict=True):
            notes = [f"{items[i].log_path}: empty log"] if size == 0 else list(ex.notes)
            rows[i] = _row(items[i], size, ex, notes, pass_text is not None, fp)
    return [r for r in rows if r is not None]


def _chunk(items: Sequence[FailedLog]) -> list[ExcerptRow]:
    return _excerpt_chunk(items)


def excerpt_failures(items: Iterable[FailedLog], workers: int | None = None) -> list[ExcerptRow]:
    """Excerpt logs in input order, spreading the work over processes when it is worth it."""
    todo = list(items)
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers <= 1 or len(todo) < 400:
        out = []
        for i in range(0, len(todo), 200):
            out.extend(_chunk(todo[i : i + 200]))
            report("excerpt", len(out), len(todo), "logs")
        return out
    size = min(200, max(50, len(todo) // (workers * 4)))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    out: list[ExcerptRow] = []
    # Spawned, not forked: a fork would inherit polars' and DuckDB's thread pools mid-flight
    # and can deadlock in the child.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for rows in pool.map(_chunk, chunks):
            out.extend(rows)
            report("excerpt", len(out), len(todo), "logs")
    return out
