"""`followthrough generate`: write the bundled sample organisation as an export directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "generate",
        help="generate a seeded sample organisation (CI, deploys, tickets, incidents, "
             "postmortems) plus groundtruth.json",
        description="Write a deterministic sample organisation in the `files` export format.",
    )
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="directory to write into")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="volume multiplier; 1 = ~150k CI jobs, may be fractional (default 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from followthrough.progress import Progress
    from sampleorg import generate

    if args.scale <= 0:
        print(f"followthrough generate: --scale must be positive, got {args.scale}",
              file=sys.stderr)
        return 2
    out: Path = args.out_dir
    if out.exists() and not out.is_dir():
        print(f"followthrough generate: {out} exists and is not a directory", file=sys.stderr)
        return 2
    if out.is_dir() and any(out.iterdir()):
        print(f"followthrough generate: {out} is not empty; choose an empty or new directory",
              file=sys.stderr)
        return 2
    summary = generate(out, seed=args.seed, scale=args.scale, progress=Progress())
    print(summary.line())
    return 0
