"""Excerpt recall on the hand-marked CI breakages vs the last-40-lines baseline; big-log streaming.

Run: .venv/bin/python benchmarks/bench_excerpts.py [--big-mb 500]

Recall per log = marked error lines inside the excerpt / min(marked lines, 40) (a 40-line excerpt
cannot hold more than 40), averaged over logs; the uncapped ratio (/ marked lines) is printed too.
Then a generated log of --big-mb MB with one real failure at the end is excerpted by streaming,
reporting time and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.logs.excerpt import excerpt_file  # noqa: E402

SHARED = Path(os.environ.get("FOLLOWTHROUGH_SHARED", REPO / ".." / "shared"))
BREAKAGES = SHARED / "datasets" / "ci-log-breakages"


def marked(groundtruth: Path) -> set[int]:
    out: set[int] = set()
    for line in groundtruth.read_text().splitlines()[1:]:
        m = re.match(r"E (\d+)(?:-(\d+))?", line.strip())
        if m:
            out |= set(range(int(m[1]), int(m[2] or m[1]) + 1))
    return out


def recall_table(max_lines: int) -> None:
    cases = sorted(p for p in BREAKAGES.iterdir() if p.is_dir())
    sums = {
        "ours": 0.0,
        "ours+pass": 0.0,
        "last40": 0.0,
        "ours_raw": 0.0,
        "pass_raw": 0.0,
        "last40_raw": 0.0,
    }
    print(f"{'log':<28} {'ours':>6} {'+pass':>6} {'last40':>7} {'marked':>7}")
    for case in cases:
        e = marked(case / "groundtruth")
        cap = min(len(e), max_lines)
        a = excerpt_file(case / "fail.log", max_lines=max_lines)
        b = excerpt_file(case / "fail.log", passing=case / "pass.log", max_lines=max_lines)
        total = a.total_lines
        tail = set(range(max(1, total - max_lines + 1), total + 1))
        hits = {
            k: len(v & e)
            for k, v in (
                ("ours", {x.n for x in a.lines}),
                ("pass", {x.n for x in b.lines}),
                ("last40", tail),
            )
        }
        sums["ours"] += hits["ours"] / cap
        sums["ours+pass"] += hits["pass"] / cap
        sums["last40"] += hits["last40"] / cap
        sums["ours_raw"] += hits["ours"] / len(e)
        sums["pass_raw"] += hits["pass"] / len(e)
        sums["last40_raw"] += hits["last40"] / len(e)
        print(
            f"{case.name:<28} {hits['ours'] / cap:>6.2f} {hits['pass'] / cap:>6.2f} "
            f"{hits['last40'] / cap:>7.2f} {len(e):>7}"
        )
    k = len(cases)
    print(f"\n{k} logs, excerpt cap {max_lines} lines; mean recall (/ min(marked, cap)):")
    print(
        f"  ours (no passing log) {sums['ours'] / k:.3f}   ours + passing log "
        f"{sums['ours+pass'] / k:.3f}   last {max_lines} lines {sums['last40'] / k:.3f}"
    )
    print(
        f"  uncapped (/ marked):  {sums['ours_raw'] / k:.3f}                      "
        f"{sums['pass_raw'] / k:.3f}                {sums['last40_raw'] / k:.3f}"
    )


def big_log(mb: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "huge.log"
        block = "".join(
            f"2025-06-03T14:02:11.1234567Z [INFO] compiling module {i} ok\n" for i in range(20000)
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-lines", type=int, default=40)
    ap.add_argument("--big-mb", type=int, default=500)
    args = ap.parse_args()
    recall_table(args.max_lines)
    if args.big_mb:
        big_log(args.big_mb)


if __name__ == "__main__":
    main()
