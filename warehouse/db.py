"""Opening the warehouse and keeping its schema current.

Migrations are the numbered `.sql` files in `warehouse/migrations/`; `meta.schema_version`
records which ran, so opening a warehouse written by an older release upgrades it in place.
"""

from __future__ import annotations

import errno
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from models.settings import warehouse_path

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# How long opening for writing waits for another process's lock (a dashboard query, a reader);
# FOLLOWTHROUGH_LOCK_WAIT_S overrides it.
LOCK_WAIT_S = 60.0
_CORRUPT = ("not a valid DuckDB database", "Corrupt database file", "checksum")
_NO_SPACE = ("No space left on device", "Disk quota exceeded")
_NOT_WRITABLE = ("Read-only file system", "Permission denied")
REBUILD_HINT = (
    "the exports are the source of truth: `followthrough build --rebuild` moves the file aside "
    "and rebuilds the warehouse from them"
)


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: readers never see a half-replaced table, a failure leaves the old rows."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every bundled migration, in order."""
    found = []
    for entry in resources.files("warehouse").joinpath("migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def applied_versions(conn: duckdb.DuckDBPyConnection) -> set[int]:
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'meta' AND table_name = 'schema_version'"
    ).fetchone()
    if not exists or not exists[0]:
        return set()
    return {int(v) for (v,) in conn.execute("SELECT version FROM meta.schema_version").fetchall()}


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    return max(applied_versions(conn), default=0)


def pending_migrations(conn: duckdb.DuckDBPyConnection) -> list[int]:
    """Bundled versions not applied yet, lower ones too: a warehouse that a branch upgraded
    with a later migration before an earlier one landed still gets the earlier one."""
    have = applied_versions(conn)
    return [v for v, _, _ in migrations() if v not in have]


def migrate(conn: duckdb.DuckDBPyConnection, target: int | None = None) -> list[int]:
    """Apply pending migrations (each in its own transaction); return the versions applied."""
    applied = []
    have = applied_versions(conn)
    for version, name, sql in migrations():
        if version in have or (target is not None and version > target):
            continue
        with transaction(conn):
            conn.execute(sql)
            conn.execute(
                "INSERT INTO meta.schema_version VALUES (?, ?, now())", [version, name]
            )
        applied.append(version)
    return applied


def connect(path: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection to an up-to-date warehouse (created when missing)."""
    target = warehouse_path(path)
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    conn = _open_waiting(target)
    conn.execute("SET TimeZone = 'UTC'")
    migrate(conn)
    return conn


def lock_wait_seconds(env: Mapping[str, str] = os.environ) -> float:
    """FOLLOWTHROUGH_LOCK_WAIT_S when it is a number >= 0, else LOCK_WAIT_S."""
    try:
        value = float(env.get("FOLLOWTHROUGH_LOCK_WAIT_S", LOCK_WAIT_S))
    except ValueError:
        return LOCK_WAIT_S
    return value if value >= 0 else LOCK_WAIT_S


def _open_waiting(target: Path) -> duckdb.DuckDBPyConnection:
    """Open for writing; while another process holds the file (the dashboard opens it read-only
    for each query), retry for up to `lock_wait_seconds()` rather than fail the build."""
    deadline = time.monotonic() + lock_wait_seconds()
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(target))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


BUILDING_SUFFIX = ".building"
# How long a reader steps aside before each open while a build runs, so that a writer waiting
# for the file finds it free between reads instead of losing every race to a busy dashboard.
READER_YIELD_S = 0.2


def building_marker(path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    return target.with_name(target.name + BUILDING_SUFFIX)


@contextmanager
def building(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Mark the warehouse as being built (the marker holds the builder's pid) for readers that
    call `yield_to_writer`; removed at the end, ignored once its process is gone."""
    marker = building_marker(path)
    if marker.parent and not marker.parent.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(os.getpid()), encoding="ascii")
    try:
        yield marker
    finally:
        marker.unlink(missing_ok=True)


def build_running(path: str | os.PathLike[str]) -> bool:
    """Whether a live process holds the building marker of this warehouse."""
    try:
        pid = int(building_marker(path).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def yield_to_writer(path: str | os.PathLike[str]) -> None:
    """Called by read-only openers: while a build runs, wait a moment before taking the file."""
    if build_running(path):
        time.sleep(READER_YIELD_S)


def warehouse_problem(exc: BaseException, path: str | os.PathLike[str]) -> str | None:
    """One line on what is wrong with the warehouse file and what to do, when `exc` (or what
    caused it, through Dagster's wrappers) is a fault of the file or its disk; None otherwise."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, duckdb.Error | OSError):
            line = _problem_line(cur, Path(path))
            if line:
                return line
        cur = cur.__cause__ or cur.__context__
    return None


def _problem_line(exc: BaseException, path: Path) -> str | None:
    text = " ".join(str(exc).split())
    code = getattr(exc, "errno", None)
    if any(m in text for m in _CORRUPT):
        return f"{path}: the warehouse file is corrupt ({text}); {REBUILD_HINT}"
    if code in (errno.ENOSPC, errno.EDQUOT) or any(m in text for m in _NO_SPACE):
        return (f"{path}: no space left on the device while writing the warehouse ({text}); "
                "the last completed build is intact: free space and run the build again")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or any(m in text for m in _NOT_WRITABLE):
        return (f"{path}: cannot write the warehouse ({text}); make the file and its folder "
                "writable, or choose another with --warehouse")
    if isinstance(exc, duckdb.IOException) and "lock" in text.lower():
        return (f"{path}: another process still holds the warehouse after waiting "
                f"{lock_wait_seconds():g} s ({text}); stop it or wait, then run the build again")
    return None


def move_aside(path: str | os.PathLike[str]) -> Path | None:
    """Rename a warehouse file (and its write-ahead log) to `<name>.moved-<UTC time>`, kept for
    inspection; None when there was no file."""
    target = Path(path)
    if not target.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = target.with_name(f"{target.name}.moved-{stamp}")
    target.rename(moved)
    wal = target.with_name(target.name + ".wal")
    if wal.exists():
        wal.rename(moved.with_name(moved.name + ".wal"))
    return moved


def connect_readonly(path: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    target = warehouse_path(path)
    if not target.exists():
        raise FileNotFoundError(
            f"no warehouse at {target}: build one with `followthrough build` or `make demo`"
        )
    yield_to_writer(target)
    conn = duckdb.connect(str(target), read_only=True)
    conn.execute("SET TimeZone = 'UTC'")
    return conn


@contextmanager
def session(path: str | os.PathLike[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()
