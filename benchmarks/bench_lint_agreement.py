"""Agreement of `followthrough lint` with human labels on real postmortems.

Runs the parser and linter over tests/fixtures/postmortems-real (real postmortems published by
other organisations, hand-labelled in labels.json) and reports, per check and overall, how often
the parser agrees with the labels, next to a keyword-matching baseline. Documents are split by
organisation: "dev" organisations were looked at while tuning the parser; the parser's output
on "heldout" organisations was not looked at while tuning (their texts were read to label
them); "blind" organisations were added and labelled after tuning had begun and not parsed
until the final measurement. The held-out and blind figures are the ones to quote.

    .venv/bin/python benchmarks/bench_lint_agreement.py [--misses] [--split dev|heldout|blind|blind2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.postmortems.agreement import CHECKS, Score, score_folder  # noqa: E402

FOLDER = ROOT / "tests" / "fixtures" / "postmortems-real"


def _row(name: str, parser: Score, baseline: Score) -> str:
    return (
        f"{name:<34} {parser.agreed:>4}/{parser.total:<4} {parser.rate:6.3f}"
        f"   {baseline.agreed:>4}/{baseline.total:<4} {baseline.rate:6.3f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--misses", action="store_true", help="list every disagreement")
    ap.add_argument("--split", choices=["dev", "heldout", "blind", "blind2"], help="score only this split")
    args = ap.parse_args()
    splits = [args.split] if args.split else None
    parser, baseline = score_folder(FOLDER, splits)
    total = parser["all"]
    print(f"{'check':<34} {'parser':>16}   {'keyword baseline':>16}")
    for check in CHECKS:
        p = total.per_check.get(check, [0, 0])
        b = baseline["all"].per_check.get(check, [0, 0])
        print(
            f"{check:<34} {p[0]:>4}/{p[1]:<4} {p[0] / max(p[1], 1):6.3f}"
            f"   {b[0]:>4}/{b[1]:<4} {b[0] / max(b[1], 1):6.3f}"
        )
    print()
    for key in ("dev", "heldout", "blind", "blind2", "all"):
        if key in parser:
            docs = parser[key].total // len(CHECKS)
            print(_row(f"overall {key} ({docs} documents)", parser[key], baseline[key]))
    if args.misses:
        print()
        for doc, check, want, got in total.misses:
            print(f"{doc}: {check}: labelled {want!r}, parser {got!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
