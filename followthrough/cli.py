"""The `followthrough` command line: one entry point for every user-facing task."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import warnings
from collections.abc import Sequence

# Each module exposes `register(subparsers)`, which adds its sub-command and sets `func`.
COMMANDS: tuple[str, ...] = (
    "generate",
    "lint",
    "excerpt",
    "fingerprint",
    "serve",
    "build",
    "ingest",
    "demo",
    "sql",
    "draft",
    "automate",
    "webhook",
    "bench",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that command's module is imported (a fast start for
    `fingerprint` and `excerpt` in pipes), otherwise every command for the overview help."""
    parser = argparse.ArgumentParser(
        prog="followthrough",
        description="CI failures, incidents and postmortem action items, followed through.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in (only,) if only in COMMANDS else COMMANDS:
        importlib.import_module(f"followthrough.commands.{name}").register(sub)
    return parser


def _user_error(exc: Exception) -> bool:
    """A settings or sources-file error, or failed excerpt partitions (`demo`, `ingest`):
    reported as one line, not a traceback."""
    from followthrough.commands.build import PartitionsFailed
    from models.connectors.config import ConfigError
    from models.settings import SettingError

    return isinstance(exc, SettingError | ConfigError | PartitionsFailed)


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster marks the raw asset's single-run backfill policy as beta on every load.
    warnings.filterwarnings("ignore", message="Parameter `backfill_policy`")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and friends: not an error for the user.
        sys.stderr.close()
        return 0
    except Exception as exc:
        if not _user_error(exc):
            raise
        print(f"followthrough {args.command}: {exc}", file=sys.stderr)
        return 2


def entry() -> None:
    """The console script: main(), then an exit that skips the collector's last walk over
    every object the command loaded (Dagster's definitions, polars, DuckDB; about half a
    second, a tenth of a day's incremental build). Everything is closed by then."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
