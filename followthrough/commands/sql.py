"""`followthrough sql`: ad-hoc, read-only SQL on the warehouse."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from followthrough.commands.build import add_warehouse_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sql",
        help="run read-only SQL on the warehouse",
        description="Run SELECT/EXPLAIN SQL on the warehouse. Writes, ATTACH, COPY, INSTALL/LOAD "
        "and reading local files are refused. See docs/warehouse.md for tables and examples.",
    )
    p.add_argument("query", help="SQL text, or - to read it from standard input")
    add_warehouse_arg(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--max-rows", type=int, default=200, help="rows shown in table format")
    p.set_defaults(func=run)


def _plain(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


def _cell(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    return str(_plain(v)).replace("\n", " ")


def render_table(columns: list[str], rows: list[tuple[Any, ...]], max_rows: int) -> str:
    shown = [[_cell(v)[:60] for v in row] for row in rows[:max_rows]]
    widths = [len(c) for c in columns]
    for row in shown:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in shown]
    more = f" (showing {max_rows})" if len(rows) > max_rows else ""
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{more})")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from warehouse.readonly import SqlRefused, query

    text = sys.stdin.read() if args.query == "-" else args.query
    try:
        result = query(text, args.warehouse)
    except SqlRefused as exc:
        print(f"followthrough sql: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"followthrough sql: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # duckdb errors: show the database's own message
        print(f"followthrough sql: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        for row in result.rows:
            print(json.dumps({c: _plain(v) for c, v in zip(result.columns, row, strict=True)}))
    elif args.format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(result.columns)
        w.writerows([[_plain(v) for v in row] for row in result.rows])
    else:
        print(render_table(result.columns, result.rows, args.max_rows))
    return 0
