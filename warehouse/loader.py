"""Loading export files into `raw`: idempotent by file hash, salvaging what a bad file holds.

A file whose sha256 is already recorded in `raw.files` is skipped, so re-ingesting the same
exports changes nothing. A changed file replaces the rows it loaded before. A record of the
wrong shape, a truncated file or bytes that are not UTF-8 put the offending record (or the file)
in `raw.quarantine` with the reason, and every good record of the same batch still loads.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

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
# Below this many bytes of a source's files to map, starting worker processes costs more than
# it saves (files whose size and hash are already known are not counted).
PARALLEL_MIN_BYTES = 16 << 20
# One task of a worker: consecutive files up to this many, or this many bytes.
TASK_FILES = 32
TASK_BYTES = 8 << 20


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


def file_date(path: Path) -> date | None:
    """Partition date of a dated export: the first YYYY-MM-DD in its name or parent folder."""
    for part in (path.name, path.parent.name):
        m = _DATE_IN_NAME.search(part)
        if m:
            try:
                return date.fromisoformat(m.group(1))
            except ValueError:
                return None
    return None


def discover(root: Path, source: Source, dates: Sequence[date] | None = None) -> list[Path]:
    found: set[Path] = set()
    for pattern in source.patterns:
        found.update(p for p in root.glob(pattern) if p.is_file())
    paths = sorted(found)
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
        self.files: list[tuple[str, str, str, int, int, int]] = []
        self.quarantine: list[tuple[str, int, str, str | None, str, str | None]] = []
        first = source.tables[0] if source.tables else None
        keep = payloads == "all" or (payloads == "small" and not source.bulk)
        self.payload_table = (first if keep and first and _has_column(conn, first, "payload")
                              else None)
        self.payloads: list[str | None] = []
        self.parts: dict[str, list[pa.Table]] = {t: [] for t in source.tables}
        self.part_rows = 0

    @property
    def pending(self) -> int:
        """Rows waiting for the next flush (bounds memory when files are large)."""
        return sum(len(v) for v in self.rows.values()) + self.part_rows

    def add_tables(self, tables: dict[str, pa.Table]) -> None:
        """Rows a worker mapped to Arrow columns, source_path (and kept payloads) included;
        their files come through `add_file`."""
        for table, t in tables.items():
            self.parts[table].append(t)
            self.part_rows += t.num_rows

    def add(self, path: str, digest: str, size: int, mapped: list[Mapped], problems: list[Problem]):
        for m in mapped:
            payload = m.pop(PAYLOAD, None)
            for table, recs in m.items():
                self.rows[table].extend(recs)
                self.row_paths[table].extend([path] * len(recs))
                if table == self.payload_table:
                    text = _payload_json(payload)
                    self.payloads.extend([text] * len(recs))
        self.add_file(path, digest, size, len(mapped), problems)

    def add_file(self, path: str, digest: str, size: int, records: int,
              problems: list[Problem]) -> None:
        self.files.append((path, self.source.name, digest, size, records, len(problems)))
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
            conn.execute("DELETE FROM raw.quarantine WHERE path IN (SELECT path FROM path_tbl)")
            conn.execute("DELETE FROM raw.files WHERE path IN (SELECT path FROM path_tbl)")
            for table in self.source.tables:
                recs = self.rows[table]
                parts = list(self.parts[table])
                if recs:
                    extra: dict[str, list[Any]] = {"source_path": self.row_paths[table]}
                    if table == self.payload_table:
                        extra["payload"] = self.payloads
                    parts.insert(0, _columns(recs, extra))
                if not parts:
                    continue
                # A column that is empty in one part is typed null there: permissive promotes it.
                arrow = (parts[0] if len(parts) == 1
                         else pa.concat_tables(parts, promote_options="permissive"))
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
                }
            )
            conn.execute(
                "INSERT INTO raw.files SELECT path, source, sha256, bytes, records, quarantined, "
                "loaded_at FROM files_tbl"
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
        self.parts = {t: [] for t in self.source.tables}
        self.part_rows = 0
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


Reader = Callable[[Source, Path, bytes], tuple[list[Mapped], list[Problem]]]


@dataclass
class Prepared:
    """One export file read, hashed and (when its hash is new) mapped."""

    digest: str | None = None
    size: int = 0
    unchanged: bool = False
    mapped: list[Mapped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None  # the file could not be read
    records: int = 0


def prepare(source: Source, path: Path, known: str | None, read: Reader | None,
            payload_table: str | None) -> Prepared:
    """Read, hash and map one file; a file whose hash is `known` is not mapped."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Prepared(error=f"{path}: cannot read file: {exc.strerror or exc}")
    digest = sha256_of(data)
    if known == digest:
        return Prepared(digest=digest, size=len(data), unchanged=True)
    mapped, problems = read(source, path, data) if read is not None else map_file(source, data)
    if payload_table is None:
        for m in mapped:
            m.pop(PAYLOAD, None)
    return Prepared(digest, len(data), False, mapped, problems, records=len(mapped))


Batch = tuple[list[tuple[Path, Prepared]], dict[str, pa.Table] | None]


def _prepare_task(source: Source | str, task: list[tuple[Path, str | None]],
                  read: Reader | None, payload_table: str | None) -> Batch:
    """A worker's share: its files prepared, their rows as one Arrow table per raw table
    (source_path and kept payloads included), which is cheap to send back."""
    if isinstance(source, str):
        source = _registered(source)
    rows: dict[str, list[Any]] = {}
    row_paths: dict[str, list[str]] = {}
    payloads: list[str | None] = []
    items = []
    for path, known in task:
        prep = prepare(source, path, known, read, payload_table)
        for m in prep.mapped:
            payload = m.pop(PAYLOAD, None)
            for table, recs in m.items():
                rows.setdefault(table, []).extend(recs)
                row_paths.setdefault(table, []).extend([str(path)] * len(recs))
                if table == payload_table:
                    payloads.extend([_payload_json(payload)] * len(recs))
        prep.mapped = []
        items.append((path, prep))
    tables = {}
    for table, recs in rows.items():
        if recs:
            extra: dict[str, list[Any]] = {"source_path": row_paths[table]}
            if table == payload_table:
                extra["payload"] = payloads
            tables[table] = _columns(recs, extra)
    return items, tables


def _registered(name: str) -> Source:
    from warehouse.sources import ALL_SOURCES  # every export source the project defines

    for s in ALL_SOURCES:
        if s.name == name:
            return s
    raise KeyError(f"no export source named {name}")


def _sendable(source: Source, read: Reader | None) -> Source | str | None:
    """How a worker gets `source`: itself, its registered name (a source whose mapper is a
    closure), or None when the files must be mapped here."""
    if read is not None and not _picklable(read):
        return None
    if _picklable(source):
        return source
    try:
        return source.name if _registered(source.name) is source else None
    except KeyError:
        return None


def available_cores() -> int:
    """Cores this process may run on (a container's limit, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


class MapPool:
    """Worker processes that read, hash and map export files while this process writes.

    Started on first use, so an export with few changed files never starts one, and shared by
    the sources of one ingest. JSON decoding and the vendor mappers are most of a first load's
    time, and each file maps on its own; DuckDB stays single-writer in this process, which
    keeps a core busy, hence one worker fewer than the cores by default.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = available_cores() - 1 if workers is None else workers
        self._executor: ProcessPoolExecutor | None = None
        self.broken = False

    def executor(self) -> ProcessPoolExecutor | None:
        if self.workers < 1 or self.broken:
            return None
        if self._executor is None:
            # Spawned, not forked: a fork would inherit DuckDB's threads mid-flight.
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> MapPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:  # closures, lambdas: such a reader runs in this process
        return False
    return True


def _tasks(paths: list[Path], sizes: list[int], seen: dict[str, str],
           ) -> Iterator[list[tuple[Path, str | None]]]:
    task: list[tuple[Path, str | None]] = []
    size = 0
    for path, n in zip(paths, sizes, strict=True):
        size += n
        task.append((path, seen.get(str(path))))
        if len(task) >= TASK_FILES or size >= TASK_BYTES:
            yield task
            task, size = [], 0
    if task:
        yield task


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # prepare() reports a file it cannot read
        return 0


def _batches(source: Source, paths: list[Path], seen: dict[str, str], read: Reader | None,
             payload_table: str | None, pool: MapPool | None) -> Iterator[Batch]:
    """The files, in the order given, prepared: by worker processes a task at a time (with
    their rows as Arrow tables) when `pool` has them and the source has enough to map, else
    here one file at a time (rows as records). A bounded number of tasks is in flight, so
    memory does not grow with the export."""
    executor = None
    sent = None
    sizes: list[int] = []
    if pool is not None and pool.workers > 0 and not pool.broken:
        sizes = [_size(p) for p in paths]
        new = sum(n for p, n in zip(paths, sizes, strict=True) if str(p) not in seen)
        sent = _sendable(source, read) if new >= PARALLEL_MIN_BYTES else None
        if sent is not None:
            executor = pool.executor()
    if executor is None or pool is None:
        for path in paths:
            yield [(path, prepare(source, path, seen.get(str(path)), read, payload_table))], None
        return
    tasks = _tasks(paths, sizes, seen)
    inflight: deque[tuple[list[tuple[Path, str | None]], Future[Batch]]] = deque()

    def submit() -> bool:
        task = next(tasks, None)
        if task is None:
            return False
        inflight.append((task, executor.submit(_prepare_task, sent, task, read, payload_table)))
        return True

    while len(inflight) < 2 * pool.workers + 1 and submit():
        pass
    while inflight:
        task, future = inflight.popleft()
        try:
            batch = future.result()
        except BrokenProcessPool:
            # A worker died (out of memory, killed): this process maps the rest itself.
            pool.broken = True
            rest = [task, *(t for t, _ in inflight), *tasks]
            for _, f in inflight:
                f.cancel()
            inflight.clear()
            for t in rest:
                for path, known in t:
                    yield [(path, prepare(source, path, known, read, payload_table))], None
            return
        submit()
        yield batch


def load_files(
    conn: duckdb.DuckDBPyConnection,
    source: Source,
    paths: Iterable[Path],
    *,
    read: Reader | None = None,
    batch_files: int = 200,
    batch_records: int = 20_000,
    force: bool = False,
    payloads: str = "small",
    pool: MapPool | None = None,
) -> LoadResult:
    """Load the given files of one source; unchanged files are skipped unless `force`.

    With a `pool`, files are read and mapped in its worker processes (in order, same rows)."""
    result = LoadResult(source.name)
    seen = {} if force else known_digests(conn, source.name)
    writer = RawWriter(conn, source, payloads)
    paths = list(paths)
    for items, tables in _batches(source, paths, seen, read, writer.payload_table, pool):
        for path, prep in items:
            result.files_seen += 1
            report(f"load {source.name}", result.files_seen, len(paths), "files")
            key = str(path)  # absolute: discover() globs under a resolved root
            if prep.error is not None:
                result.problems.append(prep.error)
                log.warning(prep.error)
                continue
            if prep.unchanged:
                continue
            problems = prep.problems
            if tables is None:
                writer.add(key, prep.digest or "", prep.size, prep.mapped, problems)
            else:
                writer.add_file(key, prep.digest or "", prep.size, prep.records, problems)
            result.files_loaded += 1
            result.records += prep.records
            result.quarantined += len(problems)
            for p in problems:
                where = "whole file" if p.index < 0 else f"record {p.index}"
                if p.key:
                    where += f" (id {p.key})"
                msg = f"{key}: {where}: {p.reason}"
                result.problems.append(msg)
                log.warning("quarantined %s", msg)
        if tables:
            writer.add_tables(tables)
        if len(writer.files) >= batch_files or writer.pending >= batch_records:
            writer.flush()
    writer.flush()
    return result


def iter_dates(start: date, end: date) -> Iterator[date]:
    """Every day from start to end, inclusive."""
    cur = start
    while cur <= end:
        yield cur
        cur = date.fromordinal(cur.toordinal() + 1)
