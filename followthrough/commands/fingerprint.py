"""`followthrough fingerprint`: group log messages by the statement that printed them.

Reads one message per line and writes `group_id<TAB>template` per line, in input order. Input is
processed in batches against a persistent template table, so memory stays flat for any input size
and a template keeps its id from the first batch it appears in.

Speed: every step is vectorised over a batch. Lines are split out of the raw bytes by polars (no
Python string per line); exact duplicates are folded first, so every later step runs once per
distinct line; secrets are redacted by one Rust-regex pre-filter plus exact
rules on the few lines it flags, mining works on distinct masked shapes, and the output is
assembled and written by polars. Heavy imports happen inside `run`, so `--help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    import polars as pl

    from models.logs.redact import Redactor

BATCH_LINES = 250_000
_READ_BYTES = 4 * 1024 * 1024


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "fingerprint",
        help="template id and template for each log message (one per input line)",
        description="Read log messages (one per line) from FILE or stdin ('-' or no argument) and "
        "print 'group_id<TAB>template' for each, in input order. Secrets are redacted first.",
    )
    p.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    p.add_argument("--batch-lines", type=int, default=BATCH_LINES, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _lines_of(buf: bytes) -> pl.Series:
    """The lines of `buf` (which ends with a newline) as a string column, without a Python loop.

    Polars' CSV reader splits the buffer on all cores: one column (NUL as the separator, no
    quoting), `\r\n` and `\n` end a line, undecodable bytes become U+FFFD, an empty line is an
    empty message. A NUL byte in a line is replaced first, so it cannot split the line.
    """
    import io

    import polars as pl

    if b"\x00" in buf:
        buf = buf.replace(b"\x00", "\ufffd".encode())
    frame = pl.read_csv(
        io.BytesIO(buf),
        has_header=False,
        separator="\x00",
        quote_char=None,
        encoding="utf8-lossy",
        new_columns=["message"],
        infer_schema=False,
    )
    return frame.to_series().fill_null("")


def _truncate(lines: pl.Series, limit: int) -> pl.Series:
    """`models.logs.lines.truncate` over a column (a visible marker says how much was cut)."""
    import polars as pl

    if lines.len() == 0 or (lines.str.len_bytes().max() or 0) <= limit:
        return lines
    n = pl.col("m").str.len_chars()
    return (
        pl.DataFrame({"m": lines})
        .select(
            pl.when(n > limit)
            .then(
                pl.concat_str(
                    pl.col("m").str.slice(0, limit),
                    pl.lit(" …[truncated "),
                    (n - limit).cast(pl.String),
                    pl.lit(" chars]"),
                )
            )
            .otherwise(pl.col("m"))
            .alias("message")
        )
        .to_series()
    )


def _batches(stream: BinaryIO, max_lines: int) -> Iterator[pl.Series]:
    """Batches of at most `max_lines` lines, each line ending at `\\n` (a final line need not)."""
    pending = b""
    read_bytes = max(_READ_BYTES, min(max_lines * 64, 64 * 1024 * 1024))
    while True:
        block = stream.read(read_bytes)
        if not block:
            if pending:
                yield _lines_of(pending + b"\n")
            return
        data = pending + block if pending else block
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
            continue
        pending = data[cut + 1 :]
        lines = _lines_of(data[: cut + 1])
        for start in range(0, lines.len(), max_lines):
            yield lines.slice(start, max_lines)


def _distinct_redacted(
    lines: pl.Series, redactor: Redactor
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Distinct redacted lines of a batch: (each line's distinct id, distinct lines, counts).

    Redaction is per line except inside a private key printed over several lines, so distinct
    lines are redacted on their own unless the batch opens (or continues) such a block; then the
    batch is redacted in order first.
    """
    from models.logs.lines import MAX_LINE_CHARS
    from models.logs.redact import opens_key_block
    from models.logs.templates import distinct_rows

    row_id, rep, w = distinct_rows(lines)
    distinct = _truncate(lines.gather(rep), MAX_LINE_CHARS)
    if redactor.in_key_block or opens_key_block(distinct):
        redacted = redactor.series(_truncate(lines, MAX_LINE_CHARS))
        row_id, rep, w = distinct_rows(redacted)
        return row_id, redacted.gather(rep), w
    return row_id, redactor.series(distinct), w


def _write(out: TextIO, lines: pl.Series) -> None:
    """Print one output line per element; polars writes straight to the binary stream."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write("".join(f"{line}\n" for line in lines.to_list()))
        return
    out.flush()
    lines.to_frame("o").write_csv(buffer, include_header=False, quote_style="never")
    buffer.flush()


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
    import polars as pl

    from followthrough.progress import Progress, for_output
    from models.logs.redact import Redactor
    from models.logs.templates import TemplateStore

    store = TemplateStore()
    redactor = Redactor()
    out = sys.stdout
    progress = Progress(enabled=for_output(out))
    try:
        with progress.stage("fingerprint", unit="lines") as stage:
            for batch in _batches(stream, max(1, args.batch_lines)):
                row_id, distinct, weights = _distinct_redacted(batch, redactor)
                mined = store.add_batch(distinct, weights)
                per_line = mined.select(
                    pl.concat_str(pl.col("group_id"), pl.lit("\t"), pl.col("template"))
                    .gather(row_id)
                ).to_series()
                _write(out, per_line)
                stage.advance(batch.len())
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command without the rest of the CLI (`python -m followthrough.commands.fingerprint`)."""
    parser = argparse.ArgumentParser(prog="followthrough")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["fingerprint", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
