"""Fingerprints on real failures: same-failure pair precision and recall on logchunks-dev.

Run: .venv/bin/python benchmarks/bench_fingerprints.py [--show-errors N]

Input: the hand-labelled chunk of each of the 289 failing Travis logs (29 repositories), split
into lines the way the pipeline splits a log (`models.logs.lines`), overwritten progress segments
dropped. Each chunk is fingerprinted with `models.logs.fingerprint.fingerprint`.

Truth ("same failure"): two chunks of one repository describe the same failure when their text
is equal after a reference normalisation written here, independently of the production masking:
ANSI codes removed, each line cut to the text after its last carriage return, trimmed, blank
lines dropped, runs of spaces collapsed; then these volatile values replaced by one placeholder:
date-times and times of day, UUIDs, hex runs of 7+ characters containing a digit (hashes,
addresses), IPv4 addresses with optional port, durations (`2.63s`, `120ms`, `3 min`) and
numbers (a digit run not preceded by a capital letter and not followed by a letter, so
`line 12`, `:999:5`, `(0.18s)`, `1 error`, `[attempt3]` lose their numbers while `TS2532`,
`E0425`, `Sync64Fast` keep theirs); URLs and paths (anything with a slash) as a whole.

A second figure runs the whole path instead: the pipeline's excerpt of each raw log (no passing
log; the excerpt's `signature` when it has one), fingerprinted, against the same truth; then
the same pairs by cluster, per similarity threshold (chosen on dev); then the CPU cost per log
of reading and redacting the logs one at a time and all in one pass.

Pairs are formed within each repository only. The repositories are split in two halves by a
fixed hash of their name: "dev" (looked at while choosing the masking rules) and "held-out"
(not looked at); both halves are reported, held-out is the figure that counts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.logs.fingerprint import (  # noqa: E402
    fingerprint_many,
    lines_for_fingerprint,
    normalised_lines_many,
)
from models.logs.lines import iter_text_lines  # noqa: E402

SHARED = Path(os.environ.get("FOLLOWTHROUGH_SHARED", REPO / ".." / "shared"))
LOGCHUNKS = SHARED / "datasets" / "logchunks-dev"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]")
_REFERENCE = (
    (r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?", "<T>"),
    (r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<T>"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<U>"),
    (r"(?<![0-9A-Za-z])(?:0x)?(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{7,}(?![0-9A-Za-z])", "<H>"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<IP>"),
    (r"[A-Za-z][A-Za-z0-9+.-]*://\S+", "<P>"),
    (r"(?:[A-Za-z]:)?(?:[\w.@+~$%-]*[\\/])+[\w.@+~$%-]+", "<P>"),
    (r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds|m|min|mins|minutes|h)\b", "<D>"),
    (r"(?<![A-Z\d])\d+(?:[.,]\d+)*(?![A-Za-z\d])", "<N>"),
)
_REFERENCE_RES = tuple((re.compile(p), r) for p, r in _REFERENCE)


def reference_form(chunk: str) -> str:
    """The chunk as the truth compares it (see the module docstring)."""
    out = []
    for raw in chunk.split("\n"):
        line = _ANSI.sub("", raw).split("\r")[-1].replace("\ufeff", "").strip()
        if not line:
            continue
        for pattern, repl in _REFERENCE_RES:
            line = pattern.sub(repl, line)
        out.append(" ".join(line.split()))
    return "\n".join(out)


def chunk_lines(chunk: str) -> list[str]:
    """The chunk's lines as the pipeline sees them (progress segments a terminal overwrites go)."""
    return [r.text for r in iter_text_lines(chunk) if not r.overwritten]


def held_out(repo: str) -> bool:
    return hashlib.sha256(repo.encode()).digest()[0] % 2 == 1


def pair_scores(rows: list[dict], fps: list[str]) -> dict[str, tuple[float, float, int, int]]:
    by_repo: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_repo[r["repo"]].append(i)
    truth = [reference_form(r["chunk"]) for r in rows]
    counts = {"dev": [0, 0, 0], "held-out": [0, 0, 0]}  # tp, predicted, true
    for repo, idx in by_repo.items():
        c = counts["held-out" if held_out(repo) else "dev"]
        for a, b in combinations(idx, 2):
            same_true = truth[a] == truth[b]
            same_pred = fps[a] == fps[b]
            c[0] += same_true and same_pred
            c[1] += same_pred
            c[2] += same_true
    out = {}
    for split, (tp, pred, true) in counts.items():
        out[split] = (tp / pred if pred else 1.0, tp / true if true else 1.0, pred, true)
    return out


# Cluster similarity thresholds tried; the one kept is chosen on the dev repositories only.
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.01)


def cluster_figures(rows: list[dict], excerpts: list, fps: list[str]) -> None:
    """Pairs in one cluster (as the pipeline forms them: one item per distinct fingerprint with
    the excerpt's own lines, oldest first) against the same truth, per threshold.

    A cluster gathers a family of failures (one rate limit hit while pulling different images),
    so it is expected to trade precision for recall against this strict truth. The threshold is
    chosen on the dev repositories (best F1), then read off the held-out ones.
    """
    from models.logs.clusters import DEFAULT_THRESHOLD, FailureItem, assign_clusters

    items: list[FailureItem] = []
    seen: set[str] = set()
    for ex, fp in zip(excerpts, fps, strict=True):
        if fp in seen:
            continue
        seen.add(fp)
        core = [line.text for line in ex.lines if not line.context] or ex.texts
        items.append(FailureItem(fp, tuple(core)))
    print("\nclusters (same cluster = same failure), by similarity threshold:")
    best: tuple[float, float] = (-1.0, DEFAULT_THRESHOLD)
    table = {}
    for t in THRESHOLDS:
        assignments, _ = assign_clusters(items, [], threshold=t)
        of = {a.fingerprint: a.cluster_id for a in assignments}
        scores = pair_scores(rows, [of[fp] for fp in fps])
        table[t] = scores
        p, r = scores["dev"][:2]
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        best = max(best, (f1, t))
        cells = "  ".join(f"{k} P {v[0]:.3f} R {v[1]:.3f}" for k, v in scores.items())
        print(f"  {t:>5.2f}{' (default)' if t == DEFAULT_THRESHOLD else '          '}  {cells}")
    chosen = best[1]
    p, r = table[chosen]["held-out"][:2]
    print(f"  chosen on dev (best F1): {chosen:.2f}; held-out precision {p:.3f} recall {r:.3f}")


def reading_cost(paths: list[Path], rounds: int = 7) -> None:
    """CPU time per log of reading lines and redacting them: one log at a time (one polars call
    per log and step) against all logs in one pass (`text_batches_many`, `redact_logs`).
    CPU seconds of this process, median of `rounds`, so a busy machine shifts both alike."""
    import time

    import polars as pl

    from models.logs.lines import iter_text_batches, text_batches_many
    from models.logs.redact import redact_logs, redact_many

    texts = [p.read_bytes().decode("utf-8", "replace") for p in paths]
    logs = [pl.concat([b.text for b in bs]).to_list() if bs else []
            for bs in text_batches_many(texts)]
    steps = {
        "lines, one log at a time": lambda: [list(iter_text_batches(t)) for t in texts],
        "lines, all logs in one pass": lambda: text_batches_many(texts),
        "redaction, one log at a time": lambda: [redact_many(log) for log in logs],
        "redaction, all logs in one pass": lambda: redact_logs(logs),
    }
    took: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            t = time.process_time()
            step()
            took[name].append(time.process_time() - t)
    print(f"\nreading {len(texts)} logs ({sum(map(len, logs)):,} lines), CPU ms per log:")
    for name, secs in took.items():
        print(f"  {name:<34} {sorted(secs)[len(secs) // 2] / len(texts) * 1000:6.2f}")


def show_errors(rows: list[dict], lines: list[list[str]], fps: list[str], limit: int) -> None:
    """Print up to `limit` pairs of one dev repository where fingerprint and truth disagree,
    with the masked lines each fingerprint hashed (held-out repositories are never shown)."""
    norm = normalised_lines_many(lines)
    truth = [reference_form(r["chunk"]) for r in rows]
    shown = 0
    for a, b in combinations(range(len(rows)), 2):
        ra, rb = rows[a], rows[b]
        if ra["repo"] != rb["repo"] or held_out(ra["repo"]):
            continue
        same = truth[a] == truth[b]
        if same != (fps[a] == fps[b]) and shown < limit:
            shown += 1
            print(f"\n== {'missed' if same else 'merged'} {ra['repo']}: {ra['log']} / {rb['log']}")
            print("A:", norm[a][:6])
            print("B:", norm[b][:6])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show-errors", type=int, default=0,
                    help="print N disagreeing pairs of dev repositories (from the excerpts' "
                    "signatures unless --skip-excerpts, then from the labelled chunks)")
    ap.add_argument("--skip-excerpts", action="store_true", help="labelled chunks only")
    ap.add_argument("--skip-reading", action="store_true", help="no reading-cost figures")
    args = ap.parse_args()
    labels = LOGCHUNKS / "labels.jsonl"
    if not labels.exists():
        raise SystemExit(f"no labels at {labels}")
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()]
    chunks = [chunk_lines(r["chunk"]) for r in rows]
    fps = fingerprint_many(chunks)
    shown_lines, shown_fps = chunks, fps
    repos = sorted({r["repo"] for r in rows})
    n_held = sum(held_out(r) for r in repos)
    print(f"{len(rows)} labelled chunks, {len(repos)} repositories "
          f"({len(repos) - n_held} dev, {n_held} held-out)")
    for split, (p, r, pred, true) in pair_scores(rows, fps).items():
        print(f"{split:<9} precision {p:.3f}  recall {r:.3f}  "
              f"(predicted same {pred}, truly same {true})")
    if not args.skip_excerpts:
        # End to end: the pipeline's own excerpt of the raw log (no passing log), fingerprinted.
        from models.logs.excerpt import excerpt_file

        excerpts = [excerpt_file(LOGCHUNKS / r["log"]) for r in rows]
        signatures = [lines_for_fingerprint(ex) for ex in excerpts]
        ex_fps = fingerprint_many(signatures)
        shown_lines, shown_fps = signatures, ex_fps
        print("from the pipeline's excerpt of each raw log (same truth):")
        for split, (p, r, pred, true) in pair_scores(rows, ex_fps).items():
            print(f"{split:<9} precision {p:.3f}  recall {r:.3f}  "
                  f"(predicted same {pred}, truly same {true})")
        cluster_figures(rows, excerpts, ex_fps)
    if not args.skip_reading:
        reading_cost([LOGCHUNKS / r["log"] for r in rows])
    if args.show_errors:
        show_errors(rows, shown_lines, shown_fps, args.show_errors)


if __name__ == "__main__":
    main()
