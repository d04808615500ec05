"""`followthrough bench`: time a full build, a one-day incremental build, fingerprinting against
drain3 and the dashboard's reads on a sample organisation of N CI jobs; write the figures as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure build, incremental build, fingerprinting and dashboard reads at N jobs",
        description="Generate (or reuse) a sample organisation of N CI jobs under --workdir and "
        "measure it; every build and fingerprint run is a whole process. Writes JSON to --out.",
    )
    p.add_argument("--jobs", type=int, default=150_000, help="CI jobs in the sample org "
                   "(default 150,000; the targets are set for 1,000,000)")
    p.add_argument("--seed", type=int, default=7, help="sample organisation seed (default 7)")
    p.add_argument("--workdir", type=Path, default=Path("bench-work"),
                   help="where organisations are generated and reused (default ./bench-work)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.json")
    p.add_argument("--fingerprint-lines", type=int, default=400_000,
                   help="log lines fingerprinted by both tools, 3 alternating rounds "
                        "(default 400,000)")
    p.add_argument("--repeats", type=int, default=20,
                   help="times each dashboard read runs (default 20)")
    p.add_argument("--build-option", action="append", default=[], metavar="OPTION",
                   help="extra option for both `followthrough build` runs (repeatable), "
                   "e.g. --build-option=--processes=2")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from followthrough.benchrun import BenchError, bench

    for name in ("jobs", "fingerprint_lines", "repeats"):
        if getattr(args, name) < 1:
            print(f"followthrough bench: --{name.replace('_', '-')} must be at least 1",
                  file=sys.stderr)
            return 2
    if args.out.parent and not args.out.parent.is_dir():
        print(f"followthrough bench: folder {args.out.parent} for --out does not exist",
              file=sys.stderr)
        return 2

    def log(line: str) -> None:
        print(f"bench: {line}", file=sys.stderr, flush=True)

    try:
        result = bench(args.jobs, args.seed, args.workdir, fingerprint_lines=args.fingerprint_lines,
                       repeats=args.repeats, build_options=args.build_option, log=log)
    except BenchError as exc:
        print(f"followthrough bench: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for key in ("full_materialize_s", "incremental_day_s", "fingerprint_lines_per_s",
                "drain3_lines_per_s", "dashboard_query_p95_ms", "peak_rss_mb"):
        value = result.get(key)
        met = result["targets"].get(key, {}).get("met")
        shown = "null" if value is None else f"{value:,.1f}"
        print(f"{key:<26} {shown:>12}" + ("" if met is None else f"  target {'met' if met else 'MISSED'}"))
    ratio = result.get("fingerprint_vs_drain3")
    if ratio is not None:
        print(f"{'fingerprint_vs_drain3':<26} {ratio:>12,.1f}  target "
              f"{'met' if result['targets']['fingerprint_vs_drain3']['met'] else 'MISSED'}")
    print(f"wrote {args.out}")
    return 0
