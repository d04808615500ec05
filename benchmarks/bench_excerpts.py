"""Excerpt recall on hand-labelled real CI logs vs the last-40-lines baseline; big-log streaming.

Run: .venv/bin/python benchmarks/bench_excerpts.py [--cv] [--big-mb 500] [--hit-every 20]
     .venv/bin/python benchmarks/bench_excerpts.py --many [--code OTHER_CHECKOUT] [--rounds 3]

1. ci-log-breakages (never used for training): marked error lines inside the 40-line excerpt /
   min(marked lines, 40), averaged over logs, with and without the passing log.
2. Real job logs with marked failure lines, never used for training or tuning: GitHub Actions
   (`tests/fixtures/logs/github-actions`) and other CI systems and tools
   (`tests/fixtures/logs/ci-unseen`): the same marked-line recall, and each log judged good
   (every marked line, up to the cap, in the excerpt), partial (some) or missed (none),
   against the last 40 lines.
3. LogChunks dev: chunk recall (labelled chunk lines inside the excerpt / min(chunk lines, 40)).
   The shipped ranker was trained on these logs, so the held-out figure is the cross-validation
   grouped by repository: read from the artefact's provenance, or recomputed with --cv (refits
   the ranker per fold; a few minutes).
4. First, a generated log of --big-mb MB with one real failure at the end is excerpted by
   streaming, reporting time and peak RSS (--hit-every N: every Nth line carries failure words,
   which the screening pass must score).
5. --many: `excerpt_many` milliseconds per log over the CI logs of a generated sample
   organisation (`sampleorg`, scale --many-scale), in chunks of 200 logs as the pipeline's
   failure_excerpts asset does, every other log with a passing log. With --code, the same logs
   are excerpted by another checkout's `models` too (alternating rounds, best of --rounds), and
   the two sets of excerpts are compared.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.logs import excerpt_eval as ev  # noqa: E402
from models.logs.excerpt import excerpt_file, excerpt_many  # noqa: E402
from models.logs.ranker import default_ranker  # noqa: E402

SHARED = Path(os.environ.get("FOLLOWTHROUGH_SHARED", REPO / ".." / "shared"))


def breakages_table(max_lines: int) -> None:
    root = SHARED / ev.BREAKAGES
    cases = sorted(p for p in root.iterdir() if p.is_dir())
    rows = []
    print(f"{'ci-log-breakages':<28} {'ours':>6} {'+pass':>6} {'last40':>7} {'marked':>7}")
    for case in cases:
        lg = ev.LabelledLog(case.name, "", "", frozenset(ev.marked_lines(case / "groundtruth")))
        a = excerpt_file(case / "fail.log", max_lines=max_lines)
        b = excerpt_file(case / "fail.log", passing=case / "pass.log", max_lines=max_lines)
        total = a.total_lines
        tail = range(max(1, total - max_lines + 1), total + 1)
        row = [ev.line_recall(lg, [x.n for x in ex.lines], max_lines) for ex in (a, b)]
        row.append(ev.line_recall(lg, tail, max_lines))
        rows.append(row)
        print(f"{case.name:<28} {row[0]:>6.2f} {row[1]:>6.2f} {row[2]:>7.2f} {len(lg.positive):>7}")
    k = len(rows)
    mean = [sum(r[i] for r in rows) / k for i in range(3)]
    print(f"\n{k} logs, excerpt cap {max_lines} lines; mean recall (/ min(marked, cap)):")
    print(f"  ours (no passing log) {mean[0]:.3f}   ours + passing log {mean[1]:.3f}   "
          f"last {max_lines} lines {mean[2]:.3f}")


# Sets of real job logs with the lines that say why each failed marked before any excerpt was
# made (`tests/fixtures/logs/SOURCES.md`); nothing is trained on them.
MARKED_SETS = {
    "GitHub Actions": REPO / "tests" / "fixtures" / "logs" / "github-actions",
    "other CI systems and tools": REPO / "tests" / "fixtures" / "logs" / "ci-unseen",
}


def marked_set_table(title: str, root: Path, max_lines: int) -> None:
    rows = ev.marked_log_recalls(root, max_lines)
    w = max(34, *(len(r[0].name) for r in rows))
    print(f"\n{title:<{w}} {'lines':>6} {'ours':>6} {'last40':>7} {'marked':>7}")
    ours, tails = [r[2] for r in rows], [r[3] for r in rows]
    for lg, ex, own, tail in rows:
        print(f"{lg.name:<{w}} {ex.total_lines:>6} {own:>6.2f} {tail:>7.2f} "
              f"{len(lg.positive):>7}")

    def verdicts(recalls: list[float]) -> str:
        good = sum(r >= 1.0 for r in recalls)
        missed = sum(r == 0.0 for r in recalls)
        return f"{good} good, {len(recalls) - good - missed} partial, {missed} missed"

    k = len(rows)
    print(f"\n{k} logs, excerpt cap {max_lines} lines; mean recall (/ min(marked, cap)):")
    print(f"  ours {sum(ours) / k:.3f} ({verdicts(ours)})   last {max_lines} lines "
          f"{sum(tails) / k:.3f} ({verdicts(tails)})")


def logchunks_table(max_lines: int, cv: bool) -> None:
    logs = ev.load_logchunks(SHARED / ev.LOGCHUNKS)
    t = time.perf_counter()
    got = excerpt_many([(lg.text, None) for lg in logs], max_lines=max_lines)
    dt = time.perf_counter() - t
    ours = sum(ev.chunk_recall(lg, ex.texts, max_lines) for lg, ex in zip(logs, got, strict=True))
    base = sum(
        ev.chunk_recall(lg, [x for _, x in ev.last_lines(lg.text, max_lines)], max_lines)
        for lg in logs
    )
    k = len(logs)
    prov = default_ranker().provenance
    print(f"\nLogChunks dev, {k} logs of {len({lg.repo for lg in logs})} repositories, chunk recall "
          f"(/ min(chunk lines, {max_lines})):")
    print(f"  held out, {prov.get('cv', 'cross-validation')}: {prov.get('cv_chunk_recall')} "
          f"(artefact provenance)")
    if cv:
        sys.path.insert(0, str(REPO / "benchmarks"))
        import train_excerpt_ranker as tr

        x, y, feats = tr.featurise(logs)
        rec = tr.recalls(logs, feats, tr.grouped_cv(logs, x, y, feats, 5))
        print(f"  held out, recomputed now (5 folds grouped by repository): {rec.mean():.3f}")
    print(f"  shipped model, in-sample: {ours / k:.3f}   last {max_lines} lines {base / k:.3f}")
    print(f"  excerpt_many over all {k} logs: {dt:.1f} s ({1000 * dt / k:.0f} ms a log)")


def big_log(mb: int, hit_every: int = 0) -> None:
    """`hit_every` N > 0: every Nth line is a warning with failure words (screening work)."""
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "huge.log"
        block = "".join(
            f"2025-06-03T14:02:11.1234567Z WARNING: could not resolve optional dep {i}, failed\n"
            if hit_every and i % hit_every == 0
            else f"2025-06-03T14:02:11.1234567Z [INFO] compiling module {i} ok\n"
            for i in range(20000)
        )
        with p.open("w") as fh:
            while fh.tell() < mb * 1024 * 1024:
                fh.write(block)
            fh.write("2025-06-03T14:09:00.0000000Z error: the one real failure\n")
        size = p.stat().st_size / 1024 / 1024
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t = time.perf_counter()
        ex = excerpt_file(p)
        dt = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"\n{size:,.0f} MB log, {ex.total_lines:,} lines: {dt:.1f} s "
            f"({size / dt:,.0f} MB/s), peak RSS {after:,.0f} MB (was {before:,.0f} MB before)"
        )
        print(f"  last excerpt line: {ex.lines[-1].n}: {ex.lines[-1].text}")


_TIMER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from models.logs.excerpt import excerpt, excerpt_many
items = json.load(open(sys.argv[2]))
excerpt_many(items[:20])
t = time.perf_counter()
out = []
for i in range(0, len(items), 200):
    out.extend(excerpt_many(items[i : i + 200]))
dt = time.perf_counter() - t
same = sum(a == excerpt(text, passing=p) for a, (text, p) in zip(out, items)) if sys.argv[3] else -1
print(json.dumps({"s": dt, "same": same, "lines": [[[x.n, x.text] for x in ex.lines] for ex in out]}))
"""


def many(scale: float, other: Path | None, rounds: int) -> None:
    """`excerpt_many` ms per log, each checkout timed in its own fresh process."""
    import json
    import subprocess

    from sampleorg import generate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "org", seed=7, scale=scale)
        files = sorted((root / "org").rglob("logs/*/*.txt"))
        texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
        items = [(t, texts[i - 1] if i % 2 else None) for i, t in enumerate(texts)]
        (root / "items.json").write_text(json.dumps(items))
        lines = sum(t.count("\n") for t in texts)
        print(f"\nexcerpt_many: {len(items)} logs of a generated org (scale {scale}), "
              f"{lines / len(items):.0f} lines a log on average, half with a passing log")
        codes = {"this checkout": REPO, **({f"{other}": other} if other else {})}
        best: dict[str, float] = {}
        got: dict[str, list] = {}
        same_as_one = -1
        for k in range(rounds):
            for name, code in codes.items():
                check = "1" if k == 0 and code == REPO else ""
                run = subprocess.run(
                    [sys.executable, "-c", _TIMER, str(code), str(root / "items.json"), check],
                    capture_output=True, text=True, check=True,
                )
                res = json.loads(run.stdout)
                best[name] = min(best.get(name, float("inf")), res["s"])
                got[name] = res["lines"]
                same_as_one = max(same_as_one, res["same"])
        for name, secs in best.items():
            print(f"  {name}: {1000 * secs / len(items):.2f} ms a log (best of {rounds})")
        print(f"  this checkout, excerpt_many == excerpt on each log: {same_as_one} of {len(items)}")
        if other:
            same = sum(a == b for a, b in zip(*got.values(), strict=True))
            print(f"  same lines as {other} (differs where the models differ): {same} of {len(items)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-lines", type=int, default=40)
    ap.add_argument("--big-mb", type=int, default=500)
    ap.add_argument("--cv", action="store_true", help="recompute the grouped cross-validation")
    ap.add_argument("--hit-every", type=int, default=0,
                    help="big log: every Nth line carries failure words (0: none)")
    ap.add_argument("--many", action="store_true",
                    help="only time excerpt_many on a generated org's logs")
    ap.add_argument("--many-scale", type=float, default=0.05)
    ap.add_argument("--code", type=Path, help="--many: also time this other checkout")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.many:
        many(args.many_scale, args.code, args.rounds)
        return
    if args.big_mb:  # first, so peak RSS is the big log's own
        big_log(args.big_mb, args.hit_every)
    breakages_table(args.max_lines)
    for title, root in MARKED_SETS.items():
        if root.exists():
            marked_set_table(title, root, args.max_lines)
    logchunks_table(args.max_lines, args.cv)


if __name__ == "__main__":
    main()
