"""`followthrough build`: ingest an export directory into the warehouse."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from models.settings import Settings


def add_warehouse_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="DuckDB warehouse file (default: $FOLLOWTHROUGH_WAREHOUSE or ./warehouse.duckdb)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="ingest an export directory and rebuild core and marts")
    p.add_argument(
        "--exports",
        type=Path,
        default=None,
        help="export directory (default: $FOLLOWTHROUGH_EXPORTS or ./sample-org)",
    )
    p.add_argument(
        "--postmortems",
        type=Path,
        default=None,
        help="postmortem folder or repository checkout (default: $FOLLOWTHROUGH_POSTMORTEMS, "
        "else EXPORTS/postmortems)",
    )
    add_warehouse_arg(p)
    p.add_argument("--force", action="store_true", help="reload every file even if unchanged")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


def configure_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.ERROR if quiet else logging.WARNING,
        format="%(levelname)s %(message)s",
        stream=sys.stderr,
    )


def run(args: argparse.Namespace) -> int:
    from followthrough.build import StepProgress, build
    from followthrough.progress import Progress

    configure_logging(args.quiet)
    settings = Settings.load(warehouse=args.warehouse, exports=args.exports,
                             postmortems=args.postmortems)
    if not settings.exports.is_dir():
        print(f"followthrough build: export directory {settings.exports} does not exist",
              file=sys.stderr)
        return 2
    if settings.postmortems is not None and not settings.postmortems.is_dir():
        print(f"followthrough build: postmortem folder {settings.postmortems} does not exist",
              file=sys.stderr)
        return 2
    summary = build(settings, force=args.force, listener=StepProgress(Progress()))
    print("\n".join(summary.lines()))
    return 0
