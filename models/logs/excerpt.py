"""Failure excerpts: the few lines of a failing CI log a person needs to read first.

How it works (streaming, so a 500 MB log needs bounded memory):
1. Lines are numbered in batches (see `lines`) without per-line Python work.
2. The last `POOL_LINES` lines of the log (all of a typical CI log) form the pool. Older batches
   are screened with one vectorised regex for failure words; windows around their hits are
   scored by the ranker and the best `EARLY_WINDOWS` join the pool.
3. Pool lines are redacted, cleaned of CI timestamps and ANSI codes, and given per-line
   features (`line_features`): text shape, tool-specific failure shapes, position from the end,
   distance to the last command and to the exit marker, block structure, boiler-plate signs,
   and, with the last passing log of the job, whether the line's masked form is new.
4. The learned ranker (`ranker`, a small tree ensemble shipped as JSON) scores every pool line.
5. Selection takes contiguous windows around the best lines (blank lines and overwritten
   progress segments skipped) until `max_lines` are chosen; a failure line that repeats is
   shown where it first appears (`first_instances`), and a window that starts inside a stack
   trace shows the trace's headline (`_with_headlines`).
6. `signature`: the decisive lines (best failure-shaped lines and the high-scoring lines right
   after them, up to `SIGNATURE_LINES`) by the score computed *without* the passing log, so the same
   failure text gives the same signature whether or not a passing log was available.
"""

from __future__ import annotations

import heapq
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from models.logs.line_features import (
    PREFILTER,
    clean_series_expr,
    feature_frame,
    feature_matrix,
    lines_frame,
    logs_frame,
    shown_overwritten,
)
from models.logs.lines import (
    BINARY_SNIFF_BYTES,
    CHUNK_BYTES,
    LineBatch,
    RawLine,
    is_binary,
    iter_file_batches,
    iter_text_batches,
)
from models.logs.normalise import mask_series
from models.logs.ranker import Ranker, default_ranker, select

DEFAULT_MAX_LINES = 40
# A fifth line is where runs of one failure start to differ (which other tests failed, the tail
# of a list): chosen on the dev half of logchunks-dev (benchmarks/train_signature_model.py).
SIGNATURE_LINES = 4
POOL_LINES = 20_000
EARLY_WINDOWS = 200
_WINDOW = 6
_EARLY_HITS_PER_BATCH = 500
KNOWN_FACTOR = 0.25
_CONTEXT_BELOW = 0.1  # lines chosen with a lower probability are shown for orientation only


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
    # The redacted lines that best state the failure, chosen without the passing log.
    signature: tuple[str, ...] = ()

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    @property
    def error_texts(self) -> list[str]:
        """The lines that describe the failure itself: what fingerprints and clusters use.

        The signature when there is one (it does not depend on the passing log), else the
        excerpt lines not marked as context.
        """
        if self.signature:
            return list(self.signature)
        picked = [line.text for line in self.lines if not line.context]
        return picked or self.texts


def _masked_keys(cleaned: pl.Series) -> pl.Series:
    return mask_series(cleaned).str.strip_chars().hash(seed=7)


def _batch_keys(batch: LineBatch) -> pl.Series:
    return _masked_keys(feature_frame_light(lines_frame([batch])))


def feature_frame_light(frame: pl.DataFrame) -> pl.Series:
    """Cleaned text of a frame of lines (what passing-log keys are computed from)."""
    return frame.select(clean_series_expr(pl.col("t"))).to_series()


def passing_keys(lines: Iterable[RawLine]) -> set[int]:
    """Hashes of the masked lines of a passing log, to tell new lines from routine ones."""
    keys: set[int] = set()
    texts: list[str] = []
    first = 1
    for raw in lines:
        if not texts:
            first = raw.n
        texts.append(raw.text)
        if len(texts) >= 50_000:
            keys.update(_batch_keys(_as_batch(first, texts)).to_list())
            texts = []
    if texts:
        keys.update(_batch_keys(_as_batch(first, texts)).to_list())
    return keys


def _as_batch(first: int, texts: list[str]) -> LineBatch:
    return LineBatch(
        first,
        pl.Series("t", texts, dtype=pl.String),
        pl.Series("ov", [False] * len(texts), dtype=pl.Boolean),
    )


def _keys_of_batches(batches: Iterable[LineBatch]) -> set[int]:
    keys: set[int] = set()
    for batch in batches:
        keys.update(_batch_keys(batch).to_list())
    return keys


def _passing_key_frame(passing: list[list[LineBatch] | None]) -> pl.DataFrame | None:
    """`(g, k)`: the masked-line hashes of log g's passing log, for all logs in one pass.

    Each batch is redacted on its own, as `_keys_of_batches` does, so the keys are the same.
    """
    owners = [g for g, batches in enumerate(passing) for _ in (batches or ())]
    if not owners:
        return None
    frame = logs_frame([[b] for batches in passing for b in (batches or ())])
    keys = _masked_keys(feature_frame_light(frame))
    owner = pl.Series("g", owners, dtype=pl.Int32).gather(frame["g"])
    return pl.DataFrame({"g": owner, "k": keys}).unique()


def _seen(feats: pl.DataFrame, known: pl.DataFrame | None) -> np.ndarray | None:
    """Rows of `feats` whose masked line also occurs in the passing log of their log."""
    if known is None:
        return None
    rows = (
        feats.select("g", "c").with_row_index("i")
        .filter(pl.col("g").is_in(known["g"].unique().implode()))
    )
    rows = rows.with_columns(_masked_keys(rows["c"]).alias("k"))
    hit = rows.join(known, on=["g", "k"], how="semi")["i"].to_numpy()
    seen = np.zeros(feats.height, dtype=bool)
    seen[hit] = True
    return seen


class _Pool:
    """The last `POOL_LINES` lines of a log plus the best windows screened from before them."""

    def __init__(self, ranker: Ranker) -> None:
        self.ranker = ranker
        self.tail: deque[LineBatch] = deque()
        self.tail_lines = 0
        self.total = 0
        self.early: list[tuple[float, int, pl.DataFrame]] = []

    def feed(self, batch: LineBatch) -> None:
        if not len(batch):
            return
        self.tail.append(batch)
        self.tail_lines += len(batch)
        self.total = batch.first + len(batch) - 1
        while self.tail_lines - len(self.tail[0]) >= POOL_LINES:
            old = self.tail.popleft()
            self.tail_lines -= len(old)
            self._screen(old)
        if self.tail_lines > 2 * POOL_LINES and len(self.tail) == 1:
            self._split_single()

    def _split_single(self) -> None:
        """A single batch far larger than the pool: screen its head, keep its tail."""
        only = self.tail.popleft()
        cut = len(only) - POOL_LINES
        self._screen(LineBatch(only.first, only.text[:cut], only.overwritten[:cut]))
        self.tail.append(
            LineBatch(only.first + cut, only.text[cut:], only.overwritten[cut:])
        )
        self.tail_lines = POOL_LINES

    def _screen(self, batch: LineBatch) -> None:
        hit = batch.text.str.contains(PREFILTER)
        if not hit.any():
            return
        ov = shown_overwritten(batch.text, batch.overwritten)
        hits = (hit & ~ov).arg_true()
        if hits.len() == 0:
            return
        hits = hits.tail(_EARLY_HITS_PER_BATCH).cast(pl.Int64)
        size = len(batch)
        near = (
            pl.concat([hits + d for d in range(-_WINDOW, _WINDOW + 1)])
            .unique()
            .sort()
        )
        near = near.filter((near >= 0) & (near < size))
        sub = LineBatch(0, batch.text.gather(near), ov.gather(near))
        frame = lines_frame([sub], total=self.total, settled=True).with_columns(
            (near + batch.first).cast(pl.Int64).alias("n")
        )
        # Runs of consecutive line numbers are the windows.
        frame = frame.with_columns(
            (pl.col("n").diff().fill_null(1) != 1).cum_sum().alias("w")
        )
        prob = self.ranker.probability(feature_matrix(feature_frame(frame)))
        frame = frame.with_columns(pl.Series("p", prob))
        for _, win in frame.group_by("w", maintain_order=True):
            item = (float(win["p"].max()), int(win["n"][0]), win.drop("w", "p"))
            if len(self.early) < EARLY_WINDOWS:
                heapq.heappush(self.early, item)
            elif item[:2] > self.early[0][:2]:
                heapq.heapreplace(self.early, item)

    def frame(self, g: int = 0) -> pl.DataFrame:
        """All pool lines in line order, redacted, with the log's final line count."""
        tail = lines_frame(list(self.tail), g=g, total=self.total)
        parts = [win for _, _, win in sorted(self.early, key=lambda x: x[1])]
        if parts:
            early = pl.concat(parts).with_columns(
                pl.lit(g, dtype=pl.Int32).alias("g"), pl.lit(self.total, dtype=pl.Int64).alias("total")
            )
            tail = pl.concat([early.select(tail.columns), tail])
        return tail


# Shapes that can start a failure block (boiler-plate lines excluded by `err`).
_SEED_FLAGS = ("err", "exit_mark", "frame", "caused_by", "denied", "not_found", "make",
               "assertion", "test_summary", "file_line")


def _eligible(feats: pl.DataFrame) -> np.ndarray:
    """Lines an excerpt may show: not blank, not an overwritten progress segment, not a fold
    marker, and not after the job's final end marker (what follows it is cleanup)."""
    return ~(
        feats["blank"].to_numpy()
        | feats["ov"].to_numpy()
        | feats["fold_start"].to_numpy()
        | feats["fold_end"].to_numpy()
        | feats["after_end"].to_numpy()
    )


def _seedable(feats: pl.DataFrame) -> np.ndarray:
    return feats.select(pl.any_horizontal(_SEED_FLAGS)).to_series().to_numpy()


def _choose(
    prob: np.ndarray, eligible: np.ndarray, max_lines: int, seedable: np.ndarray | None = None
) -> list[int]:
    """Positions (into the log's rows) of the excerpt: windows over the eligible lines."""
    idx = np.flatnonzero(eligible)
    if idx.size == 0:
        return []
    seeds = seedable[idx] if seedable is not None else None
    return idx[select(prob[idx], max_lines, seedable=seeds)].tolist()


_DIGITS = re.compile(r"\d+")
# Lines that only report that a command or the job failed (CI wrappers, make, npm): they say
# that something failed, not what; they are the signature only when a log has nothing else.
_WRAPPER = re.compile(
    r"^Done\. Your build exited with|Process completed with exit code|^ERROR: Job failed"
    r"|^The command \".*\" (?:exited|failed) with|npm ERR!|^error Command failed with exit code"
    r"|make(?:\[\d+\])?: \*\*\*|recipe for target .* failed|returned non-zero exit status"
)
_SIG_FLOOR = 0.1  # a signature line scores at least this ...
_SIG_RELATIVE = 0.3  # ... and at least this fraction of the log's best line
_SIG_LATER = 0.9  # a block after the best enters only when it scores this share of the best seed
# Lines whose shape says they vary between runs of one failure without naming it, in any
# language or tool: stack frames (which frames print depends on how the code was entered),
# progress and separator lines, timing lines, and lines left without a word. A signature block
# ends at the first of them, so the budget is not filled with what differs from run to run.
_FRAME = re.compile(
    r"^\s*at\s+\S.*(?:\(\S*:\d+(?::\d+)?\)|:\d+(?::\d+)?\)?$| in \S+:line \d+$"
    r"|\((?:Native Method|Unknown Source|<anonymous>|native|index \d+)\)$)"  # JS, Java, .NET, Rust
    r"|^\s*at\s+(?:[\w$`<>\[\],|-]+ )*[\w$`<>\[\]|-]+(?:\.[\w$`<>\[\],|-]+)+\(.*\)$"  # .NET, no file
    r"|^\s*(?:from\s+)?\S+:\d+:in\s|^\s*\.\.\. \d+ levels\.\.\.$|^\s*<\w+> at \S+:\d+$"  # Ruby
    r'|^\s*File ".*", line \d+|^\s*(?:<[^>]+>|\S+):\d+: in \S+$'  # Python, pytest's short traces
    r"|^\s*#\d*\s+\S+(?::\d+|\(\d+\):)|^\s*#\d+ (?:\{main\}$|\[internal function\]:)"  # PHP
    r"|^\s*(?:PHP\s+|[\d.]+\s+\d+\s+)\d+\. \S+\(.*\) \S+:\d+$"  # Xdebug
    r"|^\s*#\d+\s+(?:0x[0-9a-fA-F]+\s|.*\(\S+:\d+(?::\d+)?\)$|.* at \S+:\d+$)"  # gdb, ASan, Dart
    r"|^\s*(?:dart|package):\S+ \d+(?::\d+)?\s+\S"  # Dart's terse traces
    r"|^\s*\S+\.\w{1,6}:\d+(?::\d+)?(?:\s+\+0x[0-9a-f]+)?\s*$"  # a bare file:line (PHPUnit, Go)
    r"|^\s*\.\.\.\s?\d+ (?:more|common frames)"
    r"|^goroutine \d+ \[[^\]]+\]:$|^created by \S+"  # Go
    r"|^(?:[\w.-]+/)*[\w-]+(?:\.\(\*?\w+\))?(?:\.[\w-]+)+\((?:0x[0-9a-f]+|\.\.\.|, |\{[^}]*\})*\)$"
    r"|^\s*\d+:\s+(?:0x[0-9a-f]+ - |\S*::\S)"  # Rust
    r"|^\s*\d+\s+(?:\[[\w ]+\]\s+)*(?:\S+\s+)?0x[0-9a-f]+\s|^\s*\*?\s*frame #\d+: 0x"  # Apple, lldb
    r"|^\s*(?:\([\w .-]+\)\s+)?\S+\.(?:exs?|erl):\d+: (?:anonymous fn/\d+ in |\((?:test|module)\)$"
    r'|:?[\w.]+\.(?:"[^"]+"|[\w!?]+)(?:/\d+$|\())|^\s*\([\w .-]+\) expanding macro: '  # Elixir
    r"|^\s*\[?\{[\w']+,[\w']+,\d+,\[\{file,|^\s*in (?:call from|function)\s+\S+:\S+/\d+"  # Erlang
    r"|^\s*At (?:line:\d+|\S.*:\d+) char:\d+$|^\s*at [^,]+, .+: line \d+$"  # PowerShell
    r"|^\s*at line: \d+ in \S"  # Pester
)
# Frames told by their end, looked for only in lines that say "called at" (Haskell, Perl).
_CALLED_AT = re.compile(r", called at \S+:\d+:\d+ in \S+$|\scalled at \S+ line \d+\.?$")
# Words that say something went wrong (`_FAILURE_WORD`, `_KIND_END`).
_FAILURE_STEMS = (
    "fail|error|exception|abort|assert|fatal|panic|denied|cannot|can't|unable"
    "|missing|undefined|expected|invalid"
)
# Searched in the lower-cased line (a case-insensitive pattern is several times slower).
# "assertions", plural, is what a test summary counts, not a failure.
_FAILURE_WORD = re.compile(_FAILURE_STEMS.replace("assert", r"assert(?!ions\b)"))
_DURATION = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds|m|min|mins|minutes|h)\b"
)
_PERCENT = re.compile(r"\d{1,3}(?:\.\d+)?%")
_WORD = re.compile(r"[A-Za-z]{2,}")
_DOTS = re.compile(r"[.FESN*!]+")
_TIMING_WORDS = 6  # a line with a duration and at most this many words reports timing


def _run_varying_kind(
    text: str, *, failure_words: bool = True, frame: re.Pattern[str] = _FRAME
) -> str | None:
    """Which shape that varies between runs of one failure without naming it a line has:
    "frame", "progress" (punctuation, `..F..S..`, a percentage with few words), "timing" (a
    duration with few words: `Finished tests in 0.5s`) or "word-less"; None for any other line.

    Generic shapes only, no tool or repository. With `failure_words` (as the signature uses
    it), a line holding a failure word is a frame or nothing; the study that chose the rule
    (`benchmarks/train_signature_model.py --run-varying`) also measures it without.
    """
    t = text.strip()
    if frame.match(t) or ("called at" in t and _CALLED_AT.search(t)):
        return "frame"
    words = len(_WORD.findall(t))
    if words > _TIMING_WORDS:  # every other shape has at most this many words
        return None
    if failure_words and _FAILURE_WORD.search(t.lower()):
        return None
    dense = "".join(t.split())
    if dense and words <= 1 and sum(not c.isalnum() for c in dense) >= 0.6 * len(dense):
        return "progress"
    if dense.count(".") >= 3 and _DOTS.fullmatch(dense):
        return "progress"
    if words <= 3 and _PERCENT.search(t):
        return "progress"
    if words <= _TIMING_WORDS and _DURATION.search(t):
        return "timing"
    return "word-less" if words == 0 else None


def _run_varying(text: str) -> bool:
    """Whether a signature block ends at this line (`_run_varying_kind`)."""
    return _run_varying_kind(text) is not None


def _signature(
    prob: np.ndarray, eligible: np.ndarray, seedable: np.ndarray, texts: list[str]
) -> tuple[str, ...]:
    """The decisive lines of the failure, in log order, chosen without the passing log.

    Seeds are the failure-shaped lines that are not mere wrappers and score near the best;
    each seed brings the lines right after it that score as high (a compiler message's body,
    an assertion's expected/actual). The best block enters, and another only when it scores
    about as high (`_SIG_LATER`): which weaker failure lines a run also prints (a skipped
    test, a later error) is where runs of one failure differ. The blocks that enter are tied,
    so they fill the budget in log order, each read from its start: which lines make it then
    depends on where blocks start, not on small differences between similar scores.
    Lines scoring far below the best are left out: boiler-plate that happens to contain
    "error" must not enter in one run and leave in the next. A block ends at its first
    run-varying line (`_run_varying`: a stack frame, progress, timing) and such a line starts
    none, unless no block is left without them. Lines equal but for their digits count once.
    """
    n = len(texts)
    wrapper = np.zeros(n, dtype=bool)
    checked = np.zeros(n, dtype=bool)
    varying: dict[int, bool] = {}  # only the few lines blocks reach are looked at

    def is_varying(i: int) -> bool:
        if i not in varying:
            varying[i] = _run_varying(texts[i])
        return varying[i]

    def not_wrapper(mask: np.ndarray) -> np.ndarray:
        # The wrapper regex runs only on the few lines a step looks at, never on the whole log.
        todo = np.flatnonzero(mask & ~checked)
        for i in todo:
            wrapper[i] = _WRAPPER.search(texts[i]) is not None
        checked[todo] = True
        return mask & ~wrapper

    shown = eligible  # eligible lines are never blank
    present: np.ndarray | None = None

    def any_present() -> np.ndarray:
        nonlocal present
        if present is None:
            present = np.fromiter((bool(t.strip()) for t in texts), dtype=bool, count=n)
        return present

    # Failure-shaped lines the excerpt may show, then those after the job's end marker; then
    # wrappers; then any line.
    tiers: tuple[Callable[[], tuple[np.ndarray, np.ndarray]], ...] = (
        lambda: (not_wrapper(shown & seedable), shown),
        lambda: (not_wrapper(any_present() & seedable), any_present()),
        lambda: (shown & seedable, shown),
        lambda: (any_present() & seedable, any_present()),
        lambda: (shown, shown),
        lambda: (any_present(), any_present()),
    )
    seeds = scope = None
    for tier in tiers:
        seeds, scope = tier()
        if seeds.any():
            break
    if seeds is None or scope is None or not seeds.any():
        return ()
    top = float(prob[seeds].max())
    floor = min(max(_SIG_FLOOR, _SIG_RELATIVE * top), top)
    keep = seeds & (prob >= floor)
    follow = not_wrapper(scope & (prob >= floor))
    # Blocks: a kept seed and the lines right after it that score as high, in log order.
    idx = np.flatnonzero(scope)
    starts = np.flatnonzero(keep[idx]).tolist()
    blocks = _blocks(idx, starts, keep | follow, prob, is_varying) or _blocks(
        idx, starts, keep | follow, prob, None
    )
    # The best block and those about as strong, in log order (-b[1] is where a block starts).
    best = max(blocks, default=None)
    blocks = sorted((b for b in blocks if b is best or b[0] >= _SIG_LATER * top),
                    key=lambda b: -b[1])
    picked: list[int] = []
    seen: set[str] = set()
    for _, _, members in blocks:
        for i in members:
            if len(picked) >= SIGNATURE_LINES:
                break
            key = _DIGITS.sub("0", texts[i].strip())
            if key not in seen:
                seen.add(key)
                picked.append(i)
    return tuple(texts[i] for i in sorted(picked))


def _blocks(
    idx: np.ndarray, starts: list[int], member: np.ndarray, prob: np.ndarray,
    ends: Callable[[int], bool] | None,
) -> list[tuple[float, int, list[int]]]:
    """Blocks of `_signature`: from each start (a position in `idx`), the lines right after it
    that are members, up to the first line `ends` (when given) calls run-varying."""
    blocks: list[tuple[float, int, list[int]]] = []
    done = -1  # position in idx up to which lines already belong to a block
    for k in starts:
        if k <= done or (ends is not None and ends(int(idx[k]))):
            continue
        members = [int(idx[k])]
        k += 1
        while k < idx.size and member[idx[k]]:
            if ends is not None and ends(int(idx[k])):
                break
            members.append(int(idx[k]))
            k += 1
        done = k - 1
        blocks.append((float(prob[members].max()), -members[0], members))
    return blocks


def _with_context(chosen: list[int], eligible: np.ndarray, max_lines: int) -> tuple[list[int], set[int]]:
    """Budget left goes to the lines just before each window (the command or test that failed)
    and the line just after it; they are marked as context."""
    have = set(chosen)
    extra: set[int] = set()
    idx = np.flatnonzero(eligible)
    where = {int(r): k for k, r in enumerate(idx)}
    starts = [r for r in chosen if where[r] == 0 or int(idx[where[r] - 1]) not in have]
    ends = [r for r in chosen if where[r] == idx.size - 1 or int(idx[where[r] + 1]) not in have]
    wanted = [(r, -d) for r in starts for d in (1, 2)] + [(r, 1) for r in ends]
    wanted.sort(key=lambda rd: (abs(rd[1]), -rd[0]))
    for r, d in wanted:
        if len(have) >= max_lines:
            break
        k = where[r] + d
        if 0 <= k < idx.size and int(idx[k]) not in have:
            if d == -2 and int(idx[k + 1]) not in have:
                continue
            have.add(int(idx[k]))
            extra.add(int(idx[k]))
    return sorted(have), extra


def _command_left(feats: pl.DataFrame) -> np.ndarray:
    """Per row: lines after it in its command block, when the block ends with a command's end
    marker (`The command "…" exited with N.`, `exit code N`, …); 0 otherwise."""
    marked = feats["blk_bad"].to_numpy() != 0.5
    return np.where(marked, feats["blk_to_end"].to_numpy(), 0)


def _to_command_end(
    chosen: list[int], extra: set[int], prob: np.ndarray, eligible: np.ndarray, left: np.ndarray,
    max_lines: int,
) -> tuple[list[int], set[int]]:
    """Budget left after the windows and their context goes to the rest of the best window's
    command output, up to that command's end marker: what a failing command prints after its
    first error (a summary, the failed targets, the status) reads as one block with it. Only
    blocks closed by an end marker run on, so the budget stays a ceiling elsewhere; the lines
    added are context."""
    if not chosen or len(chosen) >= max_lines:
        return chosen, extra
    have = set(chosen)
    idx = np.flatnonzero(eligible)
    best = max(chosen, key=lambda r: prob[r])
    hi = int(np.searchsorted(idx, best))
    while hi + 1 < idx.size and int(idx[hi + 1]) in have:
        hi += 1
    while len(have) < max_lines and hi + 1 < idx.size and left[int(idx[hi])] > 0:
        hi += 1
        row = int(idx[hi])
        if row not in have:
            have.add(row)
            extra.add(row)
    return sorted(have), extra


# A failure line's kind: its masked text up to the end of its first failure word, so the
# 26 violations of one linter, or a compiler's errors in different files, are one kind.
# (polars' regex engine has no look-ahead, so "assertions" is a kind like any other word).
_KIND_END = rf"(?i)^(.*?(?:{_FAILURE_STEMS})\w*)"


def selection_scores(
    prob_plain: np.ndarray, eligible: np.ndarray, seedable: np.ndarray, seen: np.ndarray | None,
    texts: pl.Series, g: np.ndarray,
) -> np.ndarray:
    """The scores selection works on, for every log of a frame: a line also in the passing log
    (`seen`) is routine and keeps a fraction of its probability, so what is new in the failing
    run ranks first; then the first new line of each kind of failure line ranks with the best
    of its kind (`first_instances`). Training evaluates its folds on these same scores."""
    candidates = eligible & seedable
    prob = prob_plain
    if seen is not None:
        prob = np.where(seen, prob_plain * KNOWN_FACTOR, prob_plain)
        candidates = candidates & ~seen
    return first_instances(prob, candidates, texts, g)


def first_instances(
    prob: np.ndarray, candidates: np.ndarray, texts: pl.Series, g: np.ndarray
) -> np.ndarray:
    """`prob` with the first failure line of each kind in each log (`g`) raised to the best
    score of its kind there, among the `candidates` rows (lines that may seed a window and are
    not routine: a line also in the passing log does not count); one vectorised pass over all
    logs of a frame.

    When one kind of failure line repeats (a linter's violations, a test runner's "Dubious"
    lines, a compiler's errors then its summary), the first instance is usually the cause and
    the later ones its echoes; the ranker, which favours the end of a log, would show the echoes.
    """
    rows = np.flatnonzero(candidates)
    if rows.size < 2:
        return prob
    masked = mask_series(texts.gather(rows)).str.strip_chars()
    kinds = pl.DataFrame(
        {"g": g[rows], "k": masked.str.extract(_KIND_END, 1).fill_null(masked),
         "r": rows, "p": prob[rows]}
    ).group_by("g", "k").agg(pl.col("r").min(), pl.col("p").max())
    first, top = kinds["r"].to_numpy(), kinds["p"].to_numpy()
    up = top > prob[first]
    if not up.any():
        return prob
    out = prob.copy()
    out[first[up]] = top[up]
    return out


# Lines that open a stack trace without being a frame (Rust, Python, and the generic ones).
_TRACE_HEAD = re.compile(
    r"(?i)^(?:stack backtrace:|traceback \(most recent call last\):|stack trace:|backtrace:)$"
)
_HEADLINE_REACH = 50  # frames looked through, upwards, for a trace's headline


def _in_trace(text: str) -> bool:
    t = text.strip()
    return bool(_FRAME.match(t) or _TRACE_HEAD.match(t))


def _with_headlines(
    core: list[int], eligible: np.ndarray, texts: Sequence[str], max_lines: int
) -> list[int]:
    """A window that starts inside a stack trace also shows the trace's headline, the first
    line above its run of frames: the exception or panic message says what the frames are
    about. Each takes one line of the budget, in log order; when none is left, the headline
    takes the place of its window's last line (the deepest frame shown)."""
    if not core:
        return core
    idx = np.flatnonzero(eligible)
    have = set(core)
    heads = []
    for r in core:
        k = int(np.searchsorted(idx, r))
        if (k > 0 and int(idx[k - 1]) in have) or not _in_trace(texts[r]):
            continue
        j = k - 1
        while j >= 0 and k - j <= _HEADLINE_REACH and _in_trace(texts[int(idx[j])]):
            j -= 1
        if j >= 0 and k - j <= _HEADLINE_REACH and int(idx[j]) not in have:
            heads.append((int(idx[j]), k))
    for head, k in heads:
        if len(have) >= max_lines:
            end = k
            while end + 1 < idx.size and int(idx[end + 1]) in have:
                end += 1
            if end == k:
                continue
            have.discard(int(idx[end]))
        have.add(head)
    return sorted(have)


def pick_lines(
    prob: np.ndarray, eligible: np.ndarray, seedable: np.ndarray, left: np.ndarray,
    texts: Sequence[str], max_lines: int,
) -> tuple[list[int], set[int]]:
    """Rows of one log's excerpt and the subset shown as context: windows around the best
    lines (`ranker.select`), the headline of a trace a window starts inside, the lines around
    each window, then the best window's command output up to its end marker. Training
    evaluates its folds with this same function, on `selection_scores` as `_excerpts` does."""
    core = _with_headlines(_choose(prob, eligible, max_lines, seedable), eligible, texts, max_lines)
    chosen, extra = _with_context(core, eligible, max_lines)
    return _to_command_end(chosen, extra, prob, eligible, left, max_lines)


def _excerpts(
    frame: pl.DataFrame,
    logs: int,
    max_lines: int,
    ranker: Ranker,
    known: pl.DataFrame | None = None,
) -> list[Excerpt]:
    """Score and excerpt every log (`g` = 0..logs-1) of a frame of pool lines: one feature pass
    and one model evaluation for all of them. `known`: passing-log keys (`_passing_key_frame`)."""
    feats = feature_frame(frame)
    eligible = _eligible(feats)
    # Only lines an excerpt may show are scored: nothing reads the others' probability.
    prob_plain = np.zeros(feats.height)
    prob_plain[eligible] = ranker.probability(feature_matrix(feats.filter(pl.Series(eligible))))
    seedable = _seedable(feats)
    prob = selection_scores(
        prob_plain, eligible, seedable, _seen(feats, known), feats["c"], feats["g"].to_numpy()
    )
    left = _command_left(feats)
    texts = feats["c"].to_list()
    ns = feats["n"].to_numpy()
    totals = feats["total"].to_numpy()
    bounds = np.searchsorted(feats["g"].to_numpy(), np.arange(logs + 1))
    out = []
    for g in range(logs):
        a, b = bounds[g], bounds[g + 1]
        if a == b:
            out.append(Excerpt((), 0, ("empty log",)))
            continue
        chosen, extra = pick_lines(
            prob[a:b], eligible[a:b], seedable[a:b], left[a:b], texts[a:b], max_lines
        )
        lines = tuple(
            ExcerptLine(
                int(ns[a + i]), texts[a + i], i in extra or bool(prob[a + i] < _CONTEXT_BELOW)
            )
            for i in chosen
        )
        sig = _signature(prob_plain[a:b], eligible[a:b], seedable[a:b], texts[a:b])
        out.append(Excerpt(lines, int(totals[a]), (), sig))
    return out


def _run(
    batches: Iterable[LineBatch], known: set[int] | None, max_lines: int
) -> Excerpt:
    ranker = default_ranker()
    pool = _Pool(ranker)
    for batch in batches:
        pool.feed(batch)
    if pool.total == 0:
        return Excerpt((), 0, ("empty log",))
    keys = None
    if known is not None:
        keys = pl.DataFrame(
            {"g": pl.Series([0] * len(known), dtype=pl.Int32),
             "k": pl.Series(sorted(known), dtype=pl.UInt64)}
        )
    return _excerpts(pool.frame(), 1, max_lines, ranker, keys)[0]


def _check(max_lines: int) -> None:
    if max_lines < 1:
        raise ValueError(f"max_lines must be at least 1, got {max_lines}")


def excerpt(
    text: str, *, passing: str | None = None, max_lines: int = DEFAULT_MAX_LINES
) -> Excerpt:
    """Excerpt an in-memory failing log, optionally against the last passing log of the job."""
    _check(max_lines)
    known = _keys_of_batches(iter_text_batches(passing)) if passing is not None else None
    return _run(iter_text_batches(text), known, max_lines)


def _line_count(text: str) -> int:
    """Lines of a text ending with a line break, as the line reader numbers them."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _split_many(texts: list[str]) -> list[list[LineBatch]]:
    """The lines of many in-memory logs, exactly as `iter_text_batches` gives them for each.

    A text shorter than one chunk that ends with a line break is one batch of complete lines,
    so the concatenation of such texts splits into exactly their lines one after the other:
    one split per group of up to `CHUNK_BYTES` characters, then each log's rows are sliced
    out (numbered from 1). Other texts are split on their own.
    """
    out: list[list[LineBatch]] = [[] for _ in texts]
    group: list[int] = []
    size = 0
    for i, t in enumerate(texts):
        if not t:
            continue
        if not t.endswith("\n") or len(t) >= CHUNK_BYTES:
            out[i] = list(iter_text_batches(t))
            continue
        if size + len(t) > CHUNK_BYTES:
            _split_group(texts, group, out)
            group, size = [], 0
        group.append(i)
        size += len(t)
    _split_group(texts, group, out)
    return out


def _split_group(texts: list[str], group: list[int], out: list[list[LineBatch]]) -> None:
    if not group:
        return
    batches = list(iter_text_batches("".join(texts[i] for i in group)))
    text = pl.concat([b.text for b in batches])
    ov = pl.concat([b.overwritten for b in batches])
    sizes = [_line_count(texts[i]) for i in group]
    if sum(sizes) != text.len():  # the line reader counts differently: split one by one
        for i in group:
            out[i] = list(iter_text_batches(texts[i]))
        return
    at = 0
    for i, size in zip(group, sizes, strict=True):
        out[i] = [LineBatch(1, text.slice(at, size), ov.slice(at, size))]
        at += size


def excerpt_many(
    items: list[tuple[str, str | None]], *, max_lines: int = DEFAULT_MAX_LINES
) -> list[Excerpt]:
    """Excerpt many in-memory logs (each with an optional passing log) in one vectorised pass.

    Gives the same result as `excerpt` on each log. The lines of all small logs form one frame
    (log id `g`): one redaction pre-filter, one feature pass, one model evaluation and one passing-log
    join for the whole batch, so the per-call overhead of polars and numpy is paid once, not
    once per log. Logs longer than the pool are streamed one at a time as `excerpt` does.
    """
    _check(max_lines)
    out: list[Excerpt | None] = [None] * len(items)
    small: list[list[LineBatch]] = []
    passing_of: list[list[LineBatch] | None] = []
    where: list[int] = []
    split = iter(_split_many([t for t, _ in items] + [p for _, p in items if p is not None]))
    failing = [next(split) for _ in items]
    for i, ((_, passing), batches) in enumerate(zip(items, failing, strict=True)):
        pass_batches = next(split) if passing is not None else None
        lines = sum(len(b) for b in batches)
        if lines > POOL_LINES:
            keys = _keys_of_batches(pass_batches) if pass_batches is not None else None
            out[i] = _run(batches, keys, max_lines)
        elif lines == 0:
            out[i] = Excerpt((), 0, ("empty log",))
        else:
            small.append(batches)
            passing_of.append(pass_batches)
            where.append(i)
    if small:
        done = _excerpts(logs_frame(small), len(small), max_lines, default_ranker(),
                         _passing_key_frame(passing_of))
        for i, ex in zip(where, done, strict=True):
            out[i] = ex
    return [ex for ex in out if ex is not None]


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
    _check(max_lines)
    note = _sniff(path)
    if note:
        return Excerpt((), 0, (note,))
    known: set[int] | None = None
    notes: list[str] = []
    if passing is not None:
        pass_note = _sniff(passing)
        if pass_note:
            notes.append(pass_note + "; excerpted without a passing log")
        else:
            known = _keys_of_batches(iter_file_batches(passing, chunk_bytes))
    result = _run(iter_file_batches(path, chunk_bytes), known, max_lines)
    return Excerpt(result.lines, result.total_lines, (*result.notes, *notes), result.signature)


