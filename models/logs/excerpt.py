"""Failure excerpts: the few lines of a failing CI log a person needs to read first.

How it works (streaming, so a 500 MB log needs bounded memory):
1. Lines are numbered (see `lines`), redacted, and cleaned of CI timestamps and ANSI codes.
2. Each chunk of lines is scored with vectorised regexes: error shapes of common tools (pytest,
   unittest, jest, go test, JUnit/Maven/Gradle, cargo, npm/yarn, compilers, shell exit codes,
   GitHub annotations) score high; stack frames, indented detail and `Caused by:` lines
   continue the block before them; known boiler-plate (download progress, passing tests) scores
   nothing.
3. Error lines are grouped into blocks (a message with its stack trace or detail lines). Only the
   best-scoring blocks are kept while scanning, plus the last lines of the log.
4. With the last passing log of the same job, lines whose masked form also occurs there lose most
   of their score: what is new in the failing run is the stronger candidate.
5. Blocks are picked by score (later blocks win ties: the failure usually ends the log) until the
   line budget is spent; a block too long for the rest of the budget contributes its head.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from models.logs.lines import (
    BINARY_SNIFF_BYTES,
    CHUNK_BYTES,
    RawLine,
    clean_series,
    is_binary,
    iter_file_lines,
    iter_text_lines,
)
from models.logs.normalise import mask_series
from models.logs.redact import redact_many

DEFAULT_MAX_LINES = 40
_LINES_PER_BATCH = 50_000
_KEEP_BLOCKS = 400
_MAX_BLOCK_LINES = 400
_CONTEXT_LINES = 3


@dataclass(frozen=True, slots=True)
class ExcerptLine:
    n: int
    text: str
    context: bool = False  # shown for orientation only; not part of the failure's identity


@dataclass(frozen=True, slots=True)
class Excerpt:
    lines: tuple[ExcerptLine, ...]
    total_lines: int = 0
    notes: tuple[str, ...] = ()

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    @property
    def error_texts(self) -> list[str]:
        """The lines that describe the failure itself: what fingerprints and clusters use."""
        picked = [line.text for line in self.lines if not line.context]
        return picked or self.texts


# (weight, pattern). Patterns run on cleaned lines; polars (Rust regex) syntax.
_STRONG: tuple[tuple[float, str], ...] = (
    (6.0, r"^##\[error\]|^::error\b"),
    (5.0, r"Traceback \(most recent call last\)|^\s*E {2,}\S|^_{3,} \S.* _{3,}$"),
    (5.0, r"^(?:FAILED|ERROR) \S+::|^=+ .*\b(?:failed|error)s?\b.* =+$"),
    (5.0, r"^\s*--- FAIL:|^FAIL\b|^\s*panic:|^fatal error:|^goroutine \d+ \[running\]"),
    (5.0, r"\bthread '[^']*' panicked at|^error(?:\[E\d{4}\])?:|^\s*-->\s+\S+:\d+:\d+"),
    (5.0, r"\S+:\d+:(?:\d+:)?\s*(?:fatal )?error\b|\berror (?:C|CS|TS|LNK)\d{3,5}\b"),
    (5.0, r"(?i)^\s*(?:npm ERR!|yarn error|error Command failed|ERR_PNPM_)"),
    (5.0, r"^\s*●\s|^\s*✕|^\s*(?:×|✗|✘)\s|\bTests?:\s+\d+ failed"),
    (5.0, r"^\[ERROR\]|^ERROR:|^\[error\]|^\s*ERROR\b|\bFATAL\b|^fatal:"),
    (5.0, r"(?:^|\s)(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Error|Exception|Failure)\b"),
    (
        4.0,
        r"\b[A-Z]\w*(?:Error|Exception)(?::|$)|\bAssertion(?:Error|Failed)\b"
        r"|\bassert(?:ion)? failed",
    ),
    (5.0, r"<(?:failure|error)\b[^>]*(?:message|type)=|<testcase\b[^>]*>\s*<(?:failure|error)\b"),
    (4.0, r"Tests run:.*(?:Failures: [1-9]|Errors: [1-9])|\bTests in error\b|\bFailed tests?:"),
    (4.0, r"(?i)\bBUILD FAIL(?:URE|ED)\b|\bFAILURE:|Failed to execute goal|COMPILATION ERROR"),
    (4.0, r"\bFAILED\b|\bFAILURES?\b|\bERRORS?\b|\bFAIL\b"),
    (4.0, r"(?i)(?:exit(?:ed)? (?:with )?(?:code|status)|returned non-zero exit status)\s*[1-9]"),
    (4.0, r"(?i)make(?:\[\d+\])?: \*\*\*|\bcommand not found\b|Segmentation fault|core dumped"),
    (3.0, r"(?i)\bundefined reference\b|\bcannot find symbol\b|\bno such file or directory\b"),
    (3.0, r"(?i)\b(?:permission denied|timed out|unable to|could not|cannot|can't|killed)\b"),
    (3.0, r"(?i)\btime-?out(?:exception|error| expired| exceeded| reached| after)"),
    (3.0, r"(?i)\berror\b|\bfailed\b|\bfailure\b|\bexception\b"),
    (1.0, r"(?i)\bwarn(?:ing)?\b|\bdeprecat"),
)
# Lines that mention errors but report success or are routine noise.
_QUIET = (
    r"(?i)\b(?:0|no) (?:errors?|failures?|failed)\b|Failures: 0, Errors: 0|(?-i:\bPASS(?:ED)?\b)"
    r"|^\s*ok\b|(?-i:\b(?:Download(?:ing|ed)|Progress)\b)|\berror[_-]?prone\b|-Werror|errors?\.(?:go|py|ts|js)"
)
_INFO_PREFIX = r"^\s*\[?(?:INFO|DEBUG|TRACE)\]?\b"
_LOUD = r"FAIL|ERROR"
# Lines that belong to the block above them.
_CONTINUATION = (
    r"^\s+at\s|^\s*\.\.\. \d+ (?:more|common frames)|^\s*(?:Caused(?: by)?|Also|Suppressed):"
    r"|^During handling of the above exception|^The above exception was the direct cause"
    r"|^\s+File \".*\", line \d+|^\s{2,}\S|^\t|^\s*\||^\s*[~^]+\s*$|^\s*\d+\s*\|"
    r"|^(?:\[ERROR\]|ERROR|E)\s{2,}|^\s*(?:Expected|Received|expected|actual|but was)\b"
    r"|^\s*[-+]\s|^\s*(?:\^|~)"
)
# A stack frame: the line before it belongs to the trace even when it has no error shape.
_FRAME = r"^\s+at\s|^\s+File \".*\", line \d+"
# Annotations that only structure the log.
_STRUCTURE = r"^##\[(?:group|endgroup|section|command|debug)\]|^::(?:group|endgroup|debug)::"


@dataclass(order=True)
class _Block:
    score: float
    end: int
    start: int = field(compare=False)
    lines: list[tuple[int, str]] = field(compare=False, default_factory=list)
    before: list[tuple[int, str]] = field(compare=False, default_factory=list)


def _score_batch(
    texts: list[str], groups: list[int] | None = None
) -> tuple[list[float], list[bool], list[str]]:
    """Vectorised per-line score, continuation flag and cleaned text.

    `groups` tells apart the logs of a multi-log batch, so a stack frame at the top of one log
    does not pull in the last line of the log before it.
    """
    s = clean_series(pl.Series("t", texts, dtype=pl.String))
    frame = pl.DataFrame({"t": s, "g": groups if groups is not None else [0] * len(texts)})
    score = pl.lit(0.0)
    for weight, pattern in _STRONG:
        score = pl.max_horizontal(
            score, pl.when(pl.col("t").str.contains(pattern)).then(weight).otherwise(0.0)
        )
    quiet = pl.col("t").str.contains(_QUIET) | (
        pl.col("t").str.contains(_INFO_PREFIX) & ~pl.col("t").str.contains(_LOUD)
    )
    structure = pl.col("t").str.contains(_STRUCTURE)
    next_is_frame = pl.col("t").str.contains(_FRAME).shift(-1, fill_value=False).over("g")
    out = frame.select(
        pl.when(structure).then(0.0).when(quiet).then(score * 0.2).otherwise(score).alias("score"),
        ((pl.col("t").str.contains(_CONTINUATION) | next_is_frame) & ~structure).alias("cont"),
        pl.col("t"),
    )
    return out["score"].to_list(), out["cont"].to_list(), out["t"].to_list()


def _masked_keys(texts: list[str]) -> list[int]:
    if not texts:
        return []
    return mask_series(pl.Series(texts, dtype=pl.String)).str.strip_chars().hash(seed=7).to_list()


def passing_keys(lines: Iterable[RawLine]) -> set[int]:
    """Hashes of the masked lines of a passing log, to tell new lines from routine ones."""
    keys: set[int] = set()
    for batch in _batches(lines):
        _, _, cleaned = _score_batch(redact_many([r.text for r in batch]))
        keys.update(_masked_keys(cleaned))
    return keys


def _batches(lines: Iterable[RawLine]) -> Iterator[list[RawLine]]:
    batch: list[RawLine] = []
    for raw in lines:
        batch.append(raw)
        if len(batch) >= _LINES_PER_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class _Scanner:
    """Consumes scored lines, forms blocks, keeps the best ones and the tail of the log."""

    def __init__(self, max_lines: int, known: set[int] | None) -> None:
        self.max_lines = max_lines
        self.known = known
        self.heap: list[_Block] = []
        self.tail: deque[tuple[int, str]] = deque(maxlen=max_lines)
        self.recent: deque[tuple[int, str]] = deque(maxlen=_CONTEXT_LINES)
        self.current: _Block | None = None
        self.blank_run = 0
        self.total = 0
        self.seen_blocks: dict[int, int] = {}

    def feed(self, batch: list[RawLine]) -> None:
        texts = redact_many([r.text for r in batch])
        scores, conts, cleaned = _score_batch(texts)
        candidates = [i for i, (sc, c) in enumerate(zip(scores, conts, strict=True)) if sc > 0 or c]
        novelty: dict[int, bool] = {}
        if self.known is not None and candidates:
            keys = _masked_keys([cleaned[i] for i in candidates])
            novelty = {i: k not in self.known for i, k in zip(candidates, keys, strict=True)}
        self.consume(batch, scores, conts, cleaned, novelty)

    def consume(
        self,
        batch: list[RawLine],
        scores: list[float],
        conts: list[bool],
        cleaned: list[str],
        novelty: dict[int, bool],
    ) -> None:
        """Take lines already scored (by `feed`, or by `excerpt_many` for many logs at once)."""
        for i, raw in enumerate(batch):
            self.total = raw.n
            text = cleaned[i]
            if not raw.overwritten:
                self.tail.append((raw.n, text))
            score = 0.0 if raw.overwritten else scores[i]
            if score > 0 and self.known is not None and not novelty.get(i, True):
                score *= 0.25
            is_blank = not text.strip()
            cur = self.current
            if cur is not None:
                if is_blank:
                    self.blank_run += 1
                    if self.blank_run > 1:
                        self._close()
                    continue
                if conts[i] or score >= 3.0:
                    if self.blank_run:
                        cur.lines.append((raw.n - 1, ""))
                    self.blank_run = 0
                    if len(cur.lines) < _MAX_BLOCK_LINES:
                        cur.lines.append((raw.n, text))
                    cur.end = raw.n
                    cur.score = max(cur.score, score)
                    if self.known is not None and novelty.get(i, False):
                        cur.score += 0.05
                    continue
                self._close()
            if score >= 3.0:
                self.current = _Block(score, raw.n, raw.n, [(raw.n, text)], list(self.recent))
                self.blank_run = 0
            elif not raw.overwritten and not is_blank and not text.startswith(("##[", "::")):
                self.recent.append((raw.n, text))

    def _close(self) -> None:
        cur = self.current
        self.current = None
        self.blank_run = 0
        if cur is None:
            return
        # A block repeated verbatim (same failure printed again) is worth less the second time.
        sig = hash(tuple(t for _, t in cur.lines[:5]))
        repeats = self.seen_blocks.get(sig, 0)
        self.seen_blocks[sig] = repeats + 1
        cur.score -= 0.5 * repeats
        heapq.heappush(self.heap, cur)
        if len(self.heap) > _KEEP_BLOCKS:
            heapq.heappop(self.heap)

    def result(self) -> list[ExcerptLine]:
        self._close()
        total = max(self.total, 1)
        ranked = sorted(
            self.heap, key=lambda b: (b.score + 3.0 * b.end / total, b.end), reverse=True
        )
        chosen: dict[int, str] = {}
        context: set[int] = set()
        for block in ranked:
            room = self.max_lines - len(chosen)
            if room <= 0:
                break
            for n, text in block.lines[:room]:
                chosen[n] = text
        # Budget left: the lines just before the chosen blocks (the command or step that failed).
        for block in ranked:
            if len(chosen) >= self.max_lines or not any(n in chosen for n, _ in block.lines[:1]):
                continue
            for n, text in reversed(block.before):
                if len(chosen) >= self.max_lines:
                    break
                if n not in chosen:
                    chosen[n] = text
                    context.add(n)
        if not chosen:
            chosen = dict(self.tail)
        return [ExcerptLine(n, chosen[n], n in context) for n in sorted(chosen)]


def _run(lines: Iterable[RawLine], passing: Iterable[RawLine] | None, max_lines: int) -> Excerpt:
    known = passing_keys(passing) if passing is not None else None
    scanner = _Scanner(max_lines, known)
    for batch in _batches(lines):
        scanner.feed(batch)
    picked = scanner.result()
    notes: tuple[str, ...] = ()
    if scanner.total == 0:
        notes = ("empty log",)
    return Excerpt(tuple(picked), scanner.total, notes)


def excerpt(
    text: str, *, passing: str | None = None, max_lines: int = DEFAULT_MAX_LINES
) -> Excerpt:
    """Excerpt an in-memory failing log, optionally against the last passing log of the job."""
    if max_lines < 1:
        raise ValueError(f"max_lines must be at least 1, got {max_lines}")
    pass_lines = iter_text_lines(passing) if passing is not None else None
    return _run(iter_text_lines(text), pass_lines, max_lines)


def excerpt_many(
    items: list[tuple[str, str | None]], *, max_lines: int = DEFAULT_MAX_LINES
) -> list[Excerpt]:
    """Excerpt many in-memory logs (each with an optional passing log) in one vectorised pass.

    Gives the same result as `excerpt` on each log; scoring all lines of the batch together
    saves the per-call overhead that dominates for the typical small CI log.
    """
    if max_lines < 1:
        raise ValueError(f"max_lines must be at least 1, got {max_lines}")
    logs = [list(iter_text_lines(text)) for text, _ in items]
    known: list[set[int] | None] = [None] * len(items)
    pass_logs = [(i, list(iter_text_lines(p))) for i, (_, p) in enumerate(items) if p is not None]
    if pass_logs:
        texts = redact_many([r.text for _, lines in pass_logs for r in lines])
        groups = [i for i, lines in pass_logs for _ in lines]
        _, _, cleaned = _score_batch(texts, groups)
        keys = _masked_keys(cleaned)
        for i, _ in pass_logs:
            known[i] = set()
        for g, k in zip(groups, keys, strict=True):
            known[g].add(k)  # type: ignore[union-attr]
    texts = redact_many([r.text for lines in logs for r in lines])
    groups = [i for i, lines in enumerate(logs) for _ in lines]
    scores, conts, cleaned = _score_batch(texts, groups) if texts else ([], [], [])
    candidates = [
        j for j, (sc, c) in enumerate(zip(scores, conts, strict=True))
        if (sc > 0 or c) and known[groups[j]] is not None
    ]
    keys = _masked_keys([cleaned[j] for j in candidates])
    offsets = [0]
    for lines in logs:
        offsets.append(offsets[-1] + len(lines))
    novelty_by_log: list[dict[int, bool]] = [{} for _ in logs]
    for j, k in zip(candidates, keys, strict=True):
        g = groups[j]
        novelty_by_log[g][j - offsets[g]] = k not in known[g]  # type: ignore[operator]
    out: list[Excerpt] = []
    for i, lines in enumerate(logs):
        start, end = offsets[i], offsets[i + 1]
        scanner = _Scanner(max_lines, known[i])
        if lines:
            novelty = novelty_by_log[i]
            scanner.consume(lines, scores[start:end], conts[start:end], cleaned[start:end], novelty)
        picked = scanner.result()
        notes: tuple[str, ...] = ("empty log",) if scanner.total == 0 else ()
        out.append(Excerpt(tuple(picked), scanner.total, notes))
    return out


def _sniff(path: Path) -> str | None:
    with path.open("rb") as fh:
        head = fh.read(BINARY_SNIFF_BYTES)
    if is_binary(head):
        return f"{path}: binary file (contains NUL bytes), not excerpted"
    return None


def excerpt_file(
    path: Path,
    *,
    passing: Path | None = None,
    max_lines: int = DEFAULT_MAX_LINES,
    chunk_bytes: int = CHUNK_BYTES,
) -> Excerpt:
    """Excerpt a log file by streaming it in chunks; memory does not grow with file size.

    Undecodable bytes are replaced (U+FFFD); a binary file gives an empty excerpt with a note.
    """
    if max_lines < 1:
        raise ValueError(f"max_lines must be at least 1, got {max_lines}")
    note = _sniff(path)
    if note:
        return Excerpt((), 0, (note,))
    pass_lines: Iterator[RawLine] | None = None
    notes: list[str] = []
    if passing is not None:
        pass_note = _sniff(passing)
        if pass_note:
            notes.append(pass_note + "; excerpted without a passing log")
        else:
            pass_lines = iter_file_lines(passing, chunk_bytes)
    result = _run(iter_file_lines(path, chunk_bytes), pass_lines, max_lines)
    return Excerpt(result.lines, result.total_lines, (*result.notes, *notes))
