"""`followthrough serve`: run the Streamlit dashboard against a warehouse file."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import dashboards
from dashboards.reads.connection import BUILD_HINT, WAREHOUSE_ENV
from warehouse.db import warehouse_path

APP = Path(dashboards.__file__).resolve().parent / "app.py"


def streamlit_command(host: str, port: int) -> list[str]:
    """The exact command line, kept separate so tests and other commands can reuse it."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # Leadership readers get no "Deploy"/developer menu.
        "--client.toolbarMode",
        "viewer",
    ]


def serve(warehouse: Path, host: str, port: int) -> int:
    """Run the dashboard in the foreground until interrupted; returns Streamlit's exit code.

    The warehouse is handed over through FOLLOWTHROUGH_WAREHOUSE as an absolute path, because
    Streamlit's working directory is not guaranteed to be ours.
    """
    warehouse = warehouse.expanduser().resolve()
    if not warehouse.is_file():
        # Not fatal: the dashboard explains how to build it and picks the file up once it exists.
        print(
            f"followthrough serve: no warehouse at {warehouse} yet. {BUILD_HINT}", file=sys.stderr
        )
    env = {**os.environ, WAREHOUSE_ENV: str(warehouse)}
    print(f"followthrough serve: dashboard on http://{host}:{port} (warehouse {warehouse})")
    proc = subprocess.Popen(streamlit_command(host, port), env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 130


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, got {port}")
    return port


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the leadership dashboard (Streamlit)",
        description="Serve the Streamlit dashboard. The warehouse is opened read-only, one "
        "query at a time, so pipeline runs can keep writing to it.",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help=f"DuckDB warehouse file (default: ${WAREHOUSE_ENV} or ./warehouse.duckdb)",
    )
    parser.add_argument("--port", type=_port, default=8501, help="port (default 8501)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, local only)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return serve(args.warehouse or warehouse_path(), args.host, args.port)
