"""Loading export files into `raw`: idempotent by file hash, salvaging what a bad file holds.

A file whose sha256 is already recorded in `raw.files` is skipped, so re-ingesting the same
exports changes nothing. A file whose size and modification time are those recorded when it was
read is skipped without being read at all (a large export is gigabytes to hash), unless that
time was too close to the read to tell a later rewrite apart (`MTIME_TRUST_S`): such a file is
hashed again on the next load. A changed file replaces the rows it loaded before. A record of the
wrong shape, a truncated file or bytes that are not UTF-8 put the offending record (or the file)
in `raw.quarantine` with the reason, and every good record of the same batch still loads.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pyarrow as pa

from followthrough.progress import report
from warehouse.db import transaction

log = logging.getLogger("followthrough.ingest")

Mapped = dict[str, list[Any]]  # table -> records produced from one vendor record
# Key of a Mapped under which a mapper lists the parts of a record it left out (`Skipped`):
# they are quarantined under the record's index while the rest of the record loads.
SKIPPED = "skipped"
# Key of a Mapped holding the vendor record it came from, kept in the `payload` column of the
# source's first table.
PAYLOAD = "payload"
_CONNECTION_KEYS = ("nodes", "edges")
# A file's recorded modification time proves it unchanged only when it is older than the moment
# it was read by more than this: file systems keep mtimes at a coarse granularity (a kernel tick;
# two seconds on FAT), so a rewrite of the same size right after the read can keep the same mtime.
MTIME_TRUST_S = 2.0


@dataclass(frozen=True)
class Source:
    """One kind of export file: where it lives, how to reach its records, how to map them."""

    name: str
    patterns: tuple[str, ...]
    container: tuple[str, ...]  # key path to the record list; () for a top-level array
    tables: tuple[str, ...]
    map_record: Callable[[Any], Mapped]
    key_field: str = "id"
    dated: bool = False  # file names start with YYYY-MM-DD (daily partitions)
    bare_list: bool = False  # also accept the record list stored on its own, without envelope
    bulk: bool = False  # one record per CI job or run: payloads kept only with payloads="all"


@dataclass
class LoadResult:
    source: str
    files_seen: int = 0
    files_loaded: int = 0
    records: int = 0
    quarantined: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.files_loaded > 0


@dataclass(frozen=True)
class Problem:
    index: int
    key: str | None
    reason: str
    snippet: str | None = None


_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def file_date(path: str | Path) -> date | None:
    """Partition date of a dated export: the first YYYY-MM-DD in its name or parent folder."""
    head, name = os.path.split(os.fspath(path))
    for part in (name, os.path.basename(head)):
        m = _DATE_IN_NAME.search(part)
        if m:
            try:
                return date.fromisoformat(m.group(1))
            except ValueError:
                return None
    return None


def _scan(base: str, parts: Sequence[str], rel: str = "") -> Iterator[str]:
    """Files under `base` matching the glob `parts` (no `**`), as paths relative to it: a
    scandir walk that takes file types from the directory entries instead of a stat each."""
    head, rest = parts[0], parts[1:]
    if not glob.has_magic(head):
        path = os.path.join(base, rel, head)
        if rest and os.path.isdir(path):
            yield from _scan(base, rest, f"{rel}{head}/")
        elif not rest and os.path.isfile(path):
            yield f"{rel}{head}"
        return
    try:
        entries = list(os.scandir(os.path.join(base, rel) if rel else base))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if not fnmatch.fnmatchcase(entry.name, head):
            continue
        if rest:
            if entry.is_dir():
                yield from _scan(base, rest, f"{rel}{entry.name}/")
        elif entry.is_file():
            yield f"{rel}{entry.name}"


def discover(root: Path, source: Source, dates: Sequence[date] | None = None) -> list[str]:
    """The files of `source` under `root`, in path order (the order they load in), as path
    strings: a Path per file costs more than the stat that follows for a file left unchanged."""
    found: set[Path] = set()
    rels: set[str] = set()
    for pattern in source.patterns:
        if "**" in pattern:
            found.update(p for p in root.glob(pattern) if p.is_file())
        else:  # a walk of the few folders the pattern names: cheap on 100k log files
            rels.update(_scan(str(root), pattern.split("/")))
    by_parts = {p.relative_to(root).parts: str(p) for p in found}
    base = str(root)
    for rel in rels:
        by_parts.setdefault(tuple(rel.split("/")), f"{base}{os.sep}{rel}")
    # Path's own order (part by part), without its slow comparison
    paths = [p for _, p in sorted(by_parts.items(), key=lambda item: item[0])]
    if dates is not None:
        wanted = set(dates)
        paths = [p for p in paths if file_date(p) in wanted]
    return paths


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _has_surrogates(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_surrogates(k) or _has_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogates(v) for v in value)
    return False


def _snippet(value: Any, limit: int = 200) -> str:
    try:
        s = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        s = repr(value)
    return s.encode("utf-8", "replace").decode("utf-8")[:limit]


def _salvage(
    text: str, container: tuple[str, ...], bare_list: bool = False
) -> tuple[list[Any], Problem]:
    """Records before the point where a truncated/malformed JSON file breaks."""
    patterns = ['"' + re.escape(container[-1]) + r'"\s*:\s*\[' if container else None]
    if len(container) > 1 and container[-1] in _CONNECTION_KEYS:
        # `"issues": {"nodes": [` or `"issues": {"edges": [`, before any nested connection
        parent = '"' + re.escape(container[-2]) + r'"\s*:\s*\{\s*'
        patterns.insert(0, parent + r'"(?:nodes|edges)"\s*:\s*\[')
    start = -1
    for pattern in patterns:
        m = re.search(pattern, text) if pattern else None
        if m:
            start = m.end()
            break
    if start < 0 and (bare_list or not container):
        stripped = text.lstrip()
        start = len(text) - len(stripped) + 1 if stripped.startswith("[") else -1
    if start < 0:
        return [], Problem(-1, None, "not valid JSON and no record list found to salvage")
    decoder = json.JSONDecoder()
    records: list[Any] = []
    pos = start
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            reason = "file ends before the record list is closed (truncated)"
            return records, Problem(len(records), None, reason)
        if text[pos] == "]":
            return records, Problem(-1, None, "malformed JSON after the record list")
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            reason = f"truncated or malformed JSON at byte {exc.pos}: {exc.msg}"
            return records, Problem(len(records), None, reason, text[pos : pos + 120])
        records.append(obj)


def _unwrap(value: Any) -> list[Any] | None:
    """A record list, a GraphQL `{nodes: [...]}` or a Relay `{edges: [{node}]}` connection."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("nodes"), list):
            return value["nodes"]
        edges = value.get("edges")
        if isinstance(edges, list):
            return [e["node"] if isinstance(e, dict) and "node" in e else e for e in edges]
    return None


def locate_records(doc: Any, container: tuple[str, ...], bare_list: bool = False) -> list[Any] | None:
    """The record list of a parsed export file, or None when it has none where expected.

    The list is at the `container` key path; other keys of the envelope are ignored. A GraphQL
    connection may be in its `nodes` or `edges` form, and the outer keys may be missing (a
    client storing `issues` without `data`). With `bare_list`, the list itself (or a bare
    connection) is accepted too."""
    keys = tuple(k for k in container if k not in _CONNECTION_KEYS)
    if not keys:
        return doc if isinstance(doc, list) else None
    for start in range(len(keys)):
        cur = doc
        for key in keys[start:]:
            if not isinstance(cur, dict) or key not in cur:
                break
            cur = cur[key]
        else:
            found = _unwrap(cur)
            if found is not None:
                return found
    return _unwrap(doc) if bare_list else None


def read_records(
    data: bytes, container: tuple[str, ...], bare_list: bool = False
) -> tuple[list[Any], list[Problem]]:
    """Records of one export file, and the problems found reading it."""
    problems: list[Problem] = []
    bad_utf8 = False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_utf8 = True
        text = data.decode("utf-8", "surrogateescape")
        log.debug("non-UTF-8 bytes at %d", exc.start)
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        records, problem = _salvage(text, container, bare_list)
        if container and container[-1] in _CONNECTION_KEYS:
            records = _unwrap({"edges": records}) or []
        problems.append(problem)
    else:
        found = locate_records(doc, container, bare_list)
        if found is None:
            where = ".".join(container)
            reason = (
                f"wrong shape: expected an object with '{where}'" if container
                else "wrong shape: top level should be a JSON array"
            )
            problems.append(Problem(-1, None, reason))
            return [], problems
        records = found
    if bad_utf8:
        kept: list[Any] = []
        for i, rec in enumerate(records):
            if _has_surrogates(rec):
                problems.append(Problem(i, None, "record contains bytes that are not UTF-8"))
                kept.append(None)
            else:
                kept.append(rec)
        records = kept
    return records, problems


def _columns(table_records: list[Any], extra: dict[str, Any]) -> pa.Table:
    first = table_records[0]
    names = [f.name for f in fields(first)]
    cols: dict[str, list[Any]] = {n: [] for n in names}
    for rec in table_records:
        for n in names:
            cols[n].append(getattr(rec, n))
    for k, v in extra.items():
        cols[k] = v
    return pa.table(cols)


class RawWriter:
    """Batches mapped records and replaces a set of files' rows in one transaction."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, source: Source,
                 payloads: str = "small") -> None:
        self.conn = conn
        self.source = source
        self.rows: dict[str, list[Any]] = {t: [] for t in source.tables}
        self.row_paths: dict[str, list[str]] = {t: [] for t in source.tables}
        self.files: list[tuple[str, str, str, int, int, int, int | None, datetime]] = []
        self.quarantine: list[tuple[str, int, str, str | None, str, str | None]] = []
        first = source.tables[0] if source.tables else None
        keep = payloads == "all" or (payloads == "small" and not source.bulk)
        self.payload_table = (first if keep and first and _has_column(conn, first, "payload")
                              else None)
        self.payloads: list[str | None] = []

    @property
    def pending(self) -> int:
        """Rows waiting for the next flush (bounds memory when files are large)."""
        return sum(len(v) for v in self.rows.values())

    def add(self, path: str, digest: str, size: int, mapped: list[Mapped], problems: list[Problem],
            mtime_ns: int | None = None, checked_at: datetime | None = None) -> None:
        for m in mapped:
            payload = m.pop(PAYLOAD, None)
            for table, recs in m.items():
                self.rows[table].extend(recs)
                self.row_paths[table].extend([path] * len(recs))
                if table == self.payload_table:
                    text = _payload_json(payload)
                    self.payloads.extend([text] * len(recs))
        self.files.append((path, self.source.name, digest, size, len(mapped), len(problems),
                           mtime_ns, checked_at or datetime.now(UTC)))
        for p in problems:
            self.quarantine.append((path, p.index, self.source.name, p.key, p.reason, p.snippet))

    def flush(self) -> None:
        if not self.files:
            return
        conn = self.conn
        paths = [f[0] for f in self.files]
        now = datetime.now(UTC)
        with transaction(conn):
            path_tbl = pa.table({"path": paths})  # noqa: F841 - referenced by name in SQL
            for table in self.source.tables:
                conn.execute(f"DELETE FROM {table} WHERE source_path IN (SELECT path FROM path_tbl)")
            conn.execute("INSERT OR REPLACE INTO meta.reloaded_files SELECT path, ? FROM raw.files "
                         "WHERE path IN (SELECT path FROM path_tbl)", [now])
            conn.execute("DELETE FROM raw.quarantine WHERE path IN (SELECT path FROM path_tbl)")
            conn.execute("DELETE FROM raw.files WHERE path IN (SELECT path FROM path_tbl)")
            for table in self.source.tables:
                recs = self.rows[table]
                if not recs:
                    continue
                extra: dict[str, list[Any]] = {"source_path": self.row_paths[table]}
                if table == self.payload_table:
                    extra["payload"] = self.payloads
                arrow = _columns(recs, extra)
                cols = ", ".join(arrow.column_names)
                conn.execute(f"INSERT OR REPLACE INTO {table} ({cols}) SELECT {cols} FROM arrow")
            files_tbl = pa.table(  # noqa: F841
                {
                    "path": paths,
                    "source": [f[1] for f in self.files],
                    "sha256": [f[2] for f in self.files],
                    "bytes": [f[3] for f in self.files],
                    "records": [f[4] for f in self.files],
                    "quarantined": [f[5] for f in self.files],
                    "loaded_at": [now] * len(paths),
                    "mtime_ns": pa.array([f[6] for f in self.files], pa.int64()),
                    "checked_at": [f[7] for f in self.files],
                }
            )
            conn.execute(
                "INSERT INTO raw.files BY NAME SELECT path, source, sha256, bytes, records, "
                "quarantined, loaded_at, mtime_ns, checked_at FROM files_tbl"
            )
            if self.quarantine:
                q = self.quarantine
                q_tbl = pa.table(  # noqa: F841
                    {
                        "path": [r[0] for r in q],
                        "record_index": [r[1] for r in q],
                        "source": [r[2] for r in q],
                        "record_key": [r[3] for r in q],
                        "reason": [r[4] for r in q],
                        "snippet": [r[5] for r in q],
                        "quarantined_at": [now] * len(q),
                    }
                )
                conn.execute(
                    "INSERT OR REPLACE INTO raw.quarantine SELECT path, record_index, source, "
                    "record_key, reason, snippet, quarantined_at FROM q_tbl"
                )
        self.rows = {t: [] for t in self.source.tables}
        self.row_paths = {t: [] for t in self.source.tables}
        self.payloads = []
        self.files = []
        self.quarantine = []


def _has_column(conn: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    schema, name = table.split(".", 1)
    return bool(conn.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? AND column_name = ?",
        [schema, name, column]).fetchone()[0])


def _payload_json(record: Any) -> str | None:
    if record is None:
        return None
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def known_digests(conn: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    return dict(conn.execute("SELECT path, sha256 FROM raw.files WHERE source = ?", [source]).fetchall())


class Recorded(NamedTuple):
    """What raw.files holds about a file as it was last read; `mtime_ns` only when it was
    well before the read (`MTIME_TRUST_S`), so that size and mtime can prove it unchanged."""

    sha256: str
    size: int
    mtime_ns: int | None

    def unchanged(self, st: os.stat_result) -> bool:
        return self.mtime_ns == st.st_mtime_ns and self.size == st.st_size


def recorded_files(conn: duckdb.DuckDBPyConnection, source: str) -> dict[str, Recorded]:
    rows = conn.execute(
        "SELECT path, sha256, bytes, CASE WHEN mtime_ns < "
        "CAST(epoch_us(checked_at) AS HUGEINT) * 1000 - ? THEN mtime_ns END "
        "FROM raw.files WHERE source = ?", [int(MTIME_TRUST_S * 1e9), source]).fetchall()
    return {p: Recorded(d, b, m) for p, d, b, m in rows}


def _mark_checked(conn: duckdb.DuckDBPyConnection,
                  checked: list[tuple[str, int, datetime]]) -> None:
    """Record the stat of files hashed again and found unchanged, so the next load trusts it."""
    if not checked:
        return
    tbl = pa.table({"path": [c[0] for c in checked],  # noqa: F841
                    "mtime_ns": pa.array([c[1] for c in checked], pa.int64()),
                    "checked_at": [c[2] for c in checked]})
    conn.execute("UPDATE raw.files f SET mtime_ns = t.mtime_ns, checked_at = t.checked_at "
                 "FROM tbl t WHERE f.path = t.path")


def map_file(source: Source, data: bytes) -> tuple[list[Mapped], list[Problem]]:
    from models.sources.common import RecordError

    records, problems = read_records(data, source.container, source.bare_list)
    mapped: list[Mapped] = []
    bad = {p.index for p in problems}
    for i, rec in enumerate(records):
        if rec is None or i in bad:
            continue
        key = rec.get(source.key_field) if isinstance(rec, dict) else None
        try:
            m = source.map_record(rec)
        except (RecordError, TypeError, ValueError, AttributeError) as exc:
            problems.append(
                Problem(i, None if key is None else str(key), str(exc), _snippet(rec))
            )
            continue
        skipped = m.pop(SKIPPED, None)
        m[PAYLOAD] = rec
        mapped.append(m)
        if skipped:
            # One quarantine row per record (its index is the row's key): every part left out.
            problems.append(
                Problem(
                    i,
                    None if key is None else str(key),
                    "; ".join(s.reason for s in skipped),
                    _snippet(skipped[0].part),
                )
            )
    return mapped, problems


def load_files(
    conn: duckdb.DuckDBPyConnection,
    source: Source,
    paths: Iterable[str | Path],
    *,
    read: Callable[[Source, Path, bytes], tuple[list[Mapped], list[Problem]]] | None = None,
    batch_files: int = 200,
    batch_records: int = 20_000,
    force: bool = False,
    payloads: str = "small",
) -> LoadResult:
    """Load the given files of one source; unchanged files are skipped unless `force`.

    A file is unchanged when its size and modification time are those recorded (trusted only
    when that time was well before the read, `MTIME_TRUST_S`), or else when its sha256 is."""
    result = LoadResult(source.name)
    seen = {} if force else recorded_files(conn, source.name)
    writer = RawWriter(conn, source, payloads)
    checked: list[tuple[str, int, datetime]] = []
    paths = list(paths)
    for path in paths:
        result.files_seen += 1
        report(f"load {source.name}", result.files_seen, len(paths), "files")
        key = os.fspath(path)  # absolute: discover() globs under a resolved root
        before = seen.get(key)
        try:
            checked_ns = time.time_ns()  # before the stat: a later rewrite has a later mtime
            st = os.stat(key)
            if before is not None and before.unchanged(st):
                continue
            path = Path(key)
            data = path.read_bytes()
        except OSError as exc:
            msg = f"{key}: cannot read file: {exc.strerror or exc}"
            result.problems.append(msg)
            log.warning(msg)
            continue
        checked_at = datetime.fromtimestamp(checked_ns / 1e9, UTC)
        digest = sha256_of(data)
        if before is not None and before.sha256 == digest:
            checked.append((key, st.st_mtime_ns, checked_at))  # trusted next time if old enough
            continue
        if read is not None:
            mapped, problems = read(source, path, data)
        else:
            mapped, problems = map_file(source, data)
        writer.add(key, digest, len(data), mapped, problems, st.st_mtime_ns, checked_at)
        result.files_loaded += 1
        result.records += sum(1 for _ in mapped)
        result.quarantined += len(problems)
        for p in problems:
            where = "whole file" if p.index < 0 else f"record {p.index}"
            if p.key:
                where += f" (id {p.key})"
            msg = f"{key}: {where}: {p.reason}"
            result.problems.append(msg)
            log.warning("quarantined %s", msg)
        if len(writer.files) >= batch_files or writer.pending >= batch_records:
            writer.flush()
    writer.flush()
    _mark_checked(conn, checked)
    return result


def iter_dates(start: date, end: date) -> Iterator[date]:
    """Every day from start to end, inclusive."""
    cur = start
    while cur <= end:
        yield cur
        cur = date.fromordinal(cur.toordinal() + 1)
