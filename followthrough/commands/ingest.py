"""`followthrough ingest`: fetch the configured vendor APIs into the export directory, then load
and rebuild exactly as `build` does (the same raw assets fetch under Dagster's schedules)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from followthrough.commands.build import StepProgress, add_warehouse_arg, build, configure_logging
from followthrough.progress import Progress
from models.connectors.base import FETCH_CHECK, since_time
from models.connectors.config import SOURCE_TYPES, ConfigError, load_config
from models.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest", help="fetch the vendor APIs named in followthrough.toml, then load and rebuild")
    p.add_argument("--source", action="append", choices=sorted(SOURCE_TYPES), default=None,
                   metavar="NAME",
                   help="fetch only this source (repeatable; default: every configured source); "
                        f"one of {', '.join(SOURCE_TYPES)}")
    p.add_argument("--since", default=None,
                   help="where a source with no saved cursor starts: 30d, 12h, 2w or a date "
                        "(default 30d); later runs continue from their cursor")
    p.add_argument("--config", type=Path, default=None,
                   help="sources file (default: $FOLLOWTHROUGH_CONFIG, else ./followthrough.toml)")
    p.add_argument("--exports", type=Path, default=None,
                   help="where fetched pages land and are loaded from "
                        "(default: $FOLLOWTHROUGH_EXPORTS or ./sample-org)")
    add_warehouse_arg(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    configure_logging(args.quiet)
    settings = Settings.load(warehouse=args.warehouse, exports=args.exports)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"followthrough ingest: {exc}", file=sys.stderr)
        return 2
    if config.path is None:
        print("followthrough ingest: no sources file: create followthrough.toml (see the README) "
              "or pass --config FILE", file=sys.stderr)
        return 2
    wanted = args.source or list(config.sources)
    missing = [name for name in wanted if name not in config.sources]
    if missing or not wanted:
        print(f"followthrough ingest: {config.path}: "
              + (f"no [sources.{missing[0]}] section" if missing else "configures no source"),
              file=sys.stderr)
        return 2
    if args.since is not None:
        try:
            since_time(args.since)
        except ValueError as exc:
            print(f"followthrough ingest: {exc}", file=sys.stderr)
            return 2
    for name in wanted:  # a missing token is reported before anything runs
        cfg = config.sources[name]
        for key in ("token_env", "email_env"):
            variable = getattr(cfg, key, "")
            if variable and not _env(variable):
                print(f"followthrough ingest: {name}: environment variable {variable} "
                      f"(sources.{name}.{key} in {config.path}) is not set", file=sys.stderr)
                return 2
    settings.exports.mkdir(parents=True, exist_ok=True)
    summary = build(settings, listener=StepProgress(Progress()), fetch=wanted,
                    since=args.since, config=config)
    print("\n".join(summary.lines()))
    failed = [c for c in summary.failed_checks if c.check == FETCH_CHECK]
    return 1 if failed else 0


def _env(name: str) -> str | None:
    import os

    return os.environ.get(name) or None
