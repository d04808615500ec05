"""`followthrough fingerprint`: group log messages by the statement that printed them.

Reads one message per line and writes `group_id<TAB>template` per line, in input order. Input is
processed in batches against a persistent template table, so memory stays flat for any input size
and a template keeps its id from the first batch it appears in.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from followthrough.progress import Progress, for_output
from models.logs.lines import truncate
from models.logs.redact import redact
from models.logs.templates import TemplateStore

BATCH_LINES = 250_000


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "fingerprint",
        help="template id and template for each log message (one per input line)",
        description="Read log messages (one per line) from FILE or stdin ('-' or no argument) and "
        "print 'group_id<TAB>template' for each, in input order.",
    )
    p.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    p.add_argument("--batch-lines", type=int, default=BATCH_LINES, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _batches(stream: BinaryIO, size: int) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None)
    batch: list[str] = []
    for line in text:
        batch.append(truncate(line.rstrip("\n")))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run(args: argparse.Namespace) -> int:
    if args.file == "-":
        stream: BinaryIO = sys.stdin.buffer
    else:
        path = Path(args.file)
        try:
            stream = path.open("rb")
        except OSError as exc:
            print(f"followthrough fingerprint: {path}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    store = TemplateStore()
    out = sys.stdout
    progress = Progress(enabled=for_output(out))
    try:
        with progress.stage("fingerprint", unit="lines") as stage:
            for batch in _batches(stream, max(1, args.batch_lines)):
                mined = store.add_batch([redact(m) for m in batch])
                out.write("".join(f"{gid}\t{tmpl}\n" for gid, tmpl in mined.iter_rows()))
                stage.advance(len(batch))
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return 0
