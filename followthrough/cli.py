"""The `followthrough` command line: one entry point for every user-facing task."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from models.connectors.config import ConfigError
from models.settings import SettingError

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
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="followthrough",
        description="CI failures, incidents and postmortem action items, followed through.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"followthrough.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Dagster marks the raw asset's single-run backfill policy as beta on every load.
    warnings.filterwarnings("ignore", message="Parameter `backfill_policy`")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (SettingError, ConfigError) as exc:
        print(f"followthrough {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and friends: not an error for the user.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
