"""`followthrough build`: ingest an export directory into the warehouse."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from warehouse.db import warehouse_path


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


def exports_dir(path: Path | None) -> Path:
    return Path(path or os.environ.get("FOLLOWTHROUGH_EXPORTS") or "sample-org")


def configure_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.ERROR if quiet else logging.WARNING,
        format="%(levelname)s %(message)s",
        stream=sys.stderr,
    )


def run(args: argparse.Namespace) -> int:
    from followthrough.build import build

    configure_logging(args.quiet)
    exports = exports_dir(args.exports)
    if not exports.is_dir():
        print(f"followthrough build: export directory {exports} does not exist", file=sys.stderr)
        return 2
    postmortems = args.postmortems or (
        Path(os.environ["FOLLOWTHROUGH_POSTMORTEMS"])
        if os.environ.get("FOLLOWTHROUGH_POSTMORTEMS") else None
    )
    if postmortems is not None and not postmortems.is_dir():
        print(f"followthrough build: postmortem folder {postmortems} does not exist",
              file=sys.stderr)
        return 2
    summary = build(warehouse_path(args.warehouse), exports, force=args.force,
                    postmortems=postmortems)
    print("\n".join(summary.lines()))
    return 0
