"""Hand-labelled failing CI logs and the recall measures excerpts are judged by.

Two reference sets (read-only, in shared/): LogChunks (`logchunks-dev`: Travis logs, each with
the labelled chunk of text that explains the failure) and `ci-log-breakages` (failing logs with
a passing log of the same job and the line numbers of the error lines); and, in the repository,
real job logs with the lines that say why the job failed (`tests/fixtures/logs/github-actions`,
`tests/fixtures/logs/ci-unseen`; never used for training). Training, the benchmark
and the tests all read them through this module, so every figure uses the same definitions.
`another_run` rewrites a log as another run of the same failure could print it, for the
fingerprint's stability checks.

LogChunks labels are text, not line numbers: a chunk line counts as found when an excerpt line
equals it after stripping ANSI codes, keeping the text after the last carriage return and
trimming whitespace (the data set's own rule). A chunk may start or end inside a log line, so
its first line may also be the end of an excerpt line and its last line the start of one.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models.logs.lines import _ANSI as _ANSI_PATTERN
from models.logs.lines import iter_text_lines

if TYPE_CHECKING:
    from models.logs.excerpt import Excerpt

LOGCHUNKS = "datasets/logchunks-dev"
BREAKAGES = "datasets/ci-log-breakages"
_ANSI = re.compile(_ANSI_PATTERN)


@dataclass(frozen=True, slots=True)
class LabelledLog:
    """One failing log with the line numbers a reader needs (`positive`)."""

    name: str
    repo: str
    text: str
    positive: frozenset[int]
    chunk: tuple[str, ...] = ()  # LogChunks: the labelled lines, normalised
    passing: str | None = None


def norm(text: str) -> str:
    """A line as LogChunks compares it: no ANSI codes, text after the last `\\r`, trimmed."""
    return _ANSI.sub("", text).rsplit("\r", 1)[-1].strip()


def chunk_lines(chunk: str) -> tuple[str, ...]:
    return tuple(x for x in (norm(line) for line in re.split(r"\r\n|\n", chunk)) if x)


def _first_matches(first: str, line: str) -> bool:
    # A chunk cut inside a line, or inside an escape sequence (`\x1b=` leaves a stray `=`).
    return line == first or line.endswith(first) or (len(line) >= 10 and first.endswith(line))


def _locate(lines: list[str], chunk: Sequence[str]) -> set[int]:
    """Line numbers (1-based) of the best in-order match of the chunk's lines in the log."""
    if not chunk:
        return set()
    first, last = chunk[0], chunk[-1]
    starts = [i for i, t in enumerate(lines) if t and _first_matches(first, t)]
    if not starts:
        second = chunk[min(1, len(chunk) - 1)]
        starts = [i for i, t in enumerate(lines) if t == second]
    best: set[int] = set()
    for s in starts:
        got = {s + 1}
        j, k = s + 1, 1
        while k < len(chunk) and j < len(lines) and j - s < 4 * len(chunk) + 20:
            t = lines[j]
            if t == chunk[k] or (k == len(chunk) - 1 and t.startswith(last)):
                got.add(j + 1)
                k += 1
            elif t and chunk[k] != t and k + 1 < len(chunk) and t == chunk[k + 1]:
                got.add(j + 1)
                k += 2
            j += 1
        # Ties go to the later match: the failure that ended the build is usually the last one.
        if len(got) >= len(best):
            best = got
    return best


def load_logchunks(root: Path) -> list[LabelledLog]:
    out = []
    for row in map(json.loads, (root / "labels.jsonl").read_text().splitlines()):
        text = (root / row["log"]).read_bytes().decode("utf-8", "replace")
        chunk = chunk_lines(row["chunk"])
        lines = [norm(r.text) for r in iter_text_lines(text)]
        out.append(
            LabelledLog(row["log"], row["repo"], text, frozenset(_locate(lines, chunk)), chunk)
        )
    return out


def marked_lines(groundtruth: Path) -> set[int]:
    """`E a-b` / `E n` error lines of a ci-log-breakages groundtruth file."""
    out: set[int] = set()
    for line in groundtruth.read_text().splitlines()[1:]:
        m = re.match(r"E (\d+)(?:-(\d+))?", line.strip())
        if m:
            out |= set(range(int(m[1]), int(m[2] or m[1]) + 1))
    return out


def load_breakages(root: Path) -> list[LabelledLog]:
    out = []
    for case in sorted(p for p in root.iterdir() if p.is_dir()):
        text = (case / "fail.log").read_bytes().decode("utf-8", "replace")
        passing = (case / "pass.log").read_bytes().decode("utf-8", "replace")
        repo = case.name.rsplit("_", 1)[0]
        out.append(
            LabelledLog(case.name, repo, text, frozenset(marked_lines(case / "groundtruth")),
                        passing=passing)
        )
    return out


def load_marked_logs(root: Path) -> list[LabelledLog]:
    """A set of marked real job logs (`tests/fixtures/logs/github-actions`, `ci-unseen`):
    `labels.jsonl` names each log and its `failure` line ranges."""
    out = []
    labels = root / "labels.jsonl"
    for k, line in enumerate(labels.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            spans = [(int(a), int(b)) for a, b in row["failure"]]
            text = (root / row["log"]).read_bytes().decode("utf-8", "replace")
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise ValueError(f"{labels}:{k}: {exc!r}") from exc
        positive = frozenset(n for a, b in spans for n in range(a, b + 1))
        out.append(LabelledLog(row["log"], str(row.get("source", "")), text, positive))
    return out


def marked_log_recalls(
    root: Path, max_lines: int = 40
) -> list[tuple[LabelledLog, Excerpt, float, float]]:
    """Per log of a marked set (`load_marked_logs`): the log, its excerpt (no passing log),
    the excerpt's marked-line recall and that of the last `max_lines` lines, side by side."""
    from models.logs.excerpt import excerpt_file

    out = []
    for lg in load_marked_logs(root):
        ex = excerpt_file(root / lg.name, max_lines=max_lines)
        tail = range(max(1, ex.total_lines - max_lines + 1), ex.total_lines + 1)
        out.append((lg, ex, line_recall(lg, [x.n for x in ex.lines], max_lines),
                    line_recall(lg, tail, max_lines)))
    return out


def chunk_recall(log: LabelledLog, texts: Iterable[str], cap: int = 40) -> float:
    """LogChunks recall: chunk lines found among the excerpt's texts / min(chunk lines, cap)."""
    got = [norm(t) for t in texts]
    have = set(got)
    found = 0
    for k, line in enumerate(log.chunk):
        first = k == 0 and any(t and _first_matches(line, t) for t in got)
        last = k == len(log.chunk) - 1 and any(t.startswith(line) for t in got)
        if line in have or first or last:
            found += 1
    return min(found, cap) / min(len(log.chunk), cap) if log.chunk else 0.0


def line_recall(log: LabelledLog, numbers: Iterable[int], cap: int = 40) -> float:
    """Marked lines inside the excerpt / min(marked lines, cap)."""
    if not log.positive:
        return 0.0
    return len(log.positive & set(numbers)) / min(len(log.positive), cap)


def last_lines(text: str, k: int = 40) -> list[tuple[int, str]]:
    """The baseline: the last `k` lines of the log."""
    lines = [(r.n, r.text) for r in iter_text_lines(text)]
    return lines[-k:]


_CLOCK = re.compile(r"(?<!\d)([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d+))?")
_DATE = re.compile(r"(?<!\d)20\d\d-(?:0[1-9]|1[0-2])-[0-3]\d(?=[T ])")
_NUMBER = re.compile(r"(?<![\w.:/-])\d+(?:\.\d+)?(?![\w:/-])")


def another_run(text: str, seed: str) -> str:
    """The log as another run of the same failure could print it: other times of day, dates,
    counts, durations and sizes (valid ones: a clock stays a clock). Identifiers with digits
    (`TS2532`, `E0425`, `python3.11`, paths) stay: they name the failure or its setting."""
    rng = random.Random(seed)

    def clock(m: re.Match[str]) -> str:
        out = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        frac = m.group(4)
        return out + ("." + "".join(rng.choice("0123456789") for _ in frac) if frac else "")

    def number(m: re.Match[str]) -> str:
        s = m.group(0)
        if "." in s:
            return f"{rng.random() * 100:.{len(s.split('.')[1])}f}"
        return str(rng.randrange(10 ** min(len(s) + 1, 9)))

    text = _CLOCK.sub(clock, text)
    text = _DATE.sub(lambda _: f"20{rng.randrange(10, 30)}-{rng.randrange(1, 13):02d}-"
                     f"{rng.randrange(1, 29):02d}", text)
    return _NUMBER.sub(number, text)
