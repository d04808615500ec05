"""`followthrough excerpt`: the lines of failing CI logs worth reading first."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from followthrough.progress import Progress, for_output
from models.logs.excerpt import DEFAULT_MAX_LINES, Excerpt, excerpt_file
from models.logs.fingerprint import fingerprint


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "excerpt",
        help="print the error excerpt and fingerprint of failing CI logs",
        description="Print the error excerpt (original 1-based line numbers) and fingerprint of "
        "each failing CI log. Secrets are redacted before anything is printed.",
    )
    p.add_argument("logs", nargs="+", metavar="LOG", type=Path, help="failing log file(s)")
    p.add_argument("--max-lines", type=int, default=DEFAULT_MAX_LINES, help="excerpt line cap")
    p.add_argument("--format", choices=("text", "jsonl"), default="text")
    p.add_argument(
        "--passing",
        type=Path,
        metavar="PASS_LOG",
        help="last passing log of the same job; lines new in the failing log rank higher",
    )
    p.set_defaults(func=run)


def _print(path: Path, ex: Excerpt | None, error: str | None, fmt: str) -> None:
    lines = ex.lines if ex else ()
    fp = fingerprint(ex.error_texts) if ex and lines else None
    notes = list(ex.notes if ex else ())
    if error:
        notes.append(error)
    if fmt == "jsonl":
        obj: dict[str, object] = {
            "path": str(path),
            "fingerprint": fp,
            "lines": [{"n": line.n, "text": line.text} for line in lines],
        }
        # The object keeps exactly the documented keys; notes go to standard error.
        for note in notes:
            sys.stderr.write(f"followthrough excerpt: {path}: {note}\n")
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        return
    header = f"== {path}"
    if ex is not None:
        header += f" ({ex.total_lines} lines, fingerprint {fp or '-'})"
    sys.stdout.write(header + "\n")
    for note in notes:
        sys.stdout.write(f"  note: {note}\n")
    for line in lines:
        sys.stdout.write(f"  {line.n}: {line.text}\n")


def run(args: argparse.Namespace) -> int:
    if args.max_lines < 1:
        print(
            f"followthrough excerpt: --max-lines must be at least 1, got {args.max_lines}",
            file=sys.stderr,
        )
        return 2
    passing: Path | None = args.passing
    if passing is not None and not passing.is_file():
        print(
            f"followthrough excerpt: passing log {passing}: not a readable file; "
            "continuing without it",
            file=sys.stderr,
        )
        passing = None
    failures = 0
    progress = Progress(enabled=for_output(sys.stdout))
    with progress.stage("excerpt", total=len(args.logs), unit="files") as stage:
        for path in args.logs:
            try:
                ex = excerpt_file(path, passing=passing, max_lines=args.max_lines)
            except OSError as exc:
                failures += 1
                reason = exc.strerror or str(exc)
                stage.clear()
                print(f"followthrough excerpt: {path}: {reason}", file=sys.stderr)
                _print(path, None, f"unreadable: {reason}", args.format)
                stage.advance()
                continue
            if ex.notes:
                stage.clear()
            for note in ex.notes:
                print(f"followthrough excerpt: {path}: {note}", file=sys.stderr)
            _print(path, ex, None, args.format)
            stage.advance()
    return 1 if failures == len(args.logs) else 0
