"""`followthrough build`: load an export directory through the raw assets and rebuild what follows.

`build()` is also what `demo`, the tests and the benchmarks call.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from followthrough.progress import EVENTS, Progress, Stage
from models.settings import Settings
from warehouse.db import building, connect, move_aside, warehouse_problem
from warehouse.loader import LoadResult

if TYPE_CHECKING:  # Dagster loads only when a build runs, not for every command's --help
    from models.connectors.config import Config
    from pipelines.run import CheckFailure, PartitionFailure, StepListener

CORE_TABLES = (
    "core.ci_jobs", "core.ci_failures", "core.deployments", "core.tickets",
    "core.ticket_events", "core.incidents", "core.postmortems", "core.action_items",
)


@dataclass
class BuildSummary:
    warehouse: Path
    exports: Path
    seconds: float = 0.0
    loads: list[LoadResult] = field(default_factory=list)
    rebuilt: bool = False
    row_counts: dict[str, int] = field(default_factory=dict)
    failed_checks: list[CheckFailure] = field(default_factory=list)
    quarantined: int = 0
    median_hours_to_ticket: float | None = None
    never_ticketed: int = 0
    action_items: int = 0
    recurrences: tuple[int, int, int] | None = None  # failures recurring, with prior links, fix broke
    stale_items: int | None = None
    fetched: dict[str, str] = field(default_factory=dict)  # raw asset -> what its fetch did
    processes: int = 0  # processes the excerpt stage ran over (0: it had nothing to do)
    failed_partitions: list[PartitionFailure] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"warehouse {self.warehouse} from {self.exports}"]
        for asset, line in self.fetched.items():
            out.append(f"fetched {asset}: {line}")
        loaded = sum(r.files_loaded for r in self.loads)
        seen = sum(r.files_seen for r in self.loads)
        out.append(
            f"files: {loaded} loaded, {seen - loaded} unchanged; "
            f"{self.quarantined} record(s) in raw.quarantine"
        )
        if not self.rebuilt:
            out.append("no new data: core and marts unchanged")
        for name, n in self.row_counts.items():
            out.append(f"  {name:<26} {n:>10,}")
        if self.action_items:
            med = self.median_hours_to_ticket
            med_s = "n/a" if med is None else f"{med:.1f} h ({med / 24:.2f} days)"
            out.append(
                f"time to ticket: median {med_s} over ticketed items; "
                f"{self.never_ticketed} of {self.action_items} never ticketed"
            )
        if self.recurrences is not None:
            n, linked, broken = self.recurrences
            out.append(
                f"recurring CI failures: {n:,} seen before, {linked:,} with an earlier ticket or "
                f"postmortem, {broken:,} after a fix that did not hold"
            )
        if self.stale_items is not None:
            out.append(f"stale action items: {self.stale_items} (see marts.stale_action_items)")
        for check in self.failed_checks:
            out.append(f"check failed: {check.line()}")
        for part in self.failed_partitions:
            out.append(f"partition failed: {part.line()}")
        spread = f", excerpts over {self.processes} process(es)" if self.processes else ""
        out.append(f"built in {self.seconds:.1f} s{spread}")
        return out


class PartitionsFailed(RuntimeError):
    """Partitions of the excerpt stage failed; the build kept everything else (`summary`)."""

    def __init__(self, summary: BuildSummary) -> None:
        self.summary = summary
        parts = "; ".join(p.line() for p in summary.failed_partitions)
        super().__init__(f"{len(summary.failed_partitions)} partition(s) failed: {parts}; their "
                         "failures stay pending and are excerpted by the next build")


def _optional(conn: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    """A summary figure from a table that an older or partial build may not have filled."""
    try:
        return conn.execute(sql).fetchone()
    except duckdb.CatalogException:
        return None


def build(settings: Settings, *, force: bool = False,
          listener: StepListener | None = None, fetch: Collection[str] = (),
          since: str | None = None, config: Config | None = None,
          processes: int | None = None) -> BuildSummary:
    """Load the exports through the raw assets, then rebuild downstream if anything changed.

    The raw assets of the sources in `fetch` first fetch from their APIs into the exports.
    The excerpt stage runs over `processes` processes (None: one per core when it has enough
    logs; 1: all in this process). Raises PartitionsFailed, after finishing everything else,
    when partitions of it failed."""
    from pipelines.run import RAW, materialize, materialize_downstream, raw_run_config
    from warehouse.failures import never_excerpted

    t0 = time.perf_counter()
    summary = BuildSummary(warehouse=settings.warehouse, exports=settings.exports)
    conn = connect(settings.warehouse)  # creates and migrates, so a first run's checks have tables
    try:
        never_built = conn.execute("SELECT count(*) FROM meta.builds WHERE rebuilt").fetchone()[0] == 0
        settings_changed = _thresholds_changed(conn, settings)
        interrupted = _loaded_since_last_rebuild(conn)
        # failures an earlier build could not excerpt (a failed or interrupted partition)
        left_pending = not never_built and never_excerpted(conn)
    finally:
        conn.close()
    raw = materialize(settings, RAW, run_config=raw_run_config(force, fetch, since),
                      listener=listener, label="fetch and load" if fetch else "load",
                      config=config)
    summary.loads = [_load_result(key, meta) for key, meta in sorted(raw.materialized.items())]
    for key, meta in sorted(raw.materialized.items()):
        if "fetched_records" in meta:
            def value(name: str, meta: Mapping[str, object] = meta) -> object:
                v = meta.get(name)
                return getattr(v, "value", v)

            summary.fetched[key] = (
                f"{value('fetched_records'):,} record(s), {value('fetched_files'):,} file(s) "
                f"written, {value('fetch_requests'):,} request(s) in {value('fetch_seconds')} s")
    summary.failed_checks = list(raw.failed_checks)
    changed = [r.source for r in summary.loads if r.changed]
    everything = force or never_built or settings_changed or interrupted or left_pending
    if everything or changed:
        # Only what the changed raw assets feed, unless the warehouse may be behind elsewhere.
        downstream = materialize_downstream(settings, processes=processes, listener=listener,
                                            config=config, changed=None if everything else changed)
        summary.failed_checks += downstream.failed_checks
        summary.processes = downstream.parts.processes
        summary.failed_partitions = list(downstream.parts.failures)
        summary.rebuilt = True
    conn = connect(settings.warehouse)
    try:
        for name in (*CORE_TABLES, "marts.time_to_ticket"):
            summary.row_counts[name] = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        summary.quarantined = conn.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0]
        row = conn.execute(
            "SELECT median(hours_to_ticket), count(*) FILTER (WHERE ticket_key IS NULL), count(*) "
            "FROM marts.time_to_ticket"
        ).fetchone()
        summary.median_hours_to_ticket, summary.never_ticketed, summary.action_items = row
        summary.recurrences = _optional(
            conn,
            "SELECT count(*), count(*) FILTER (WHERE len(prior_ticket_keys) > 0 "
            "OR len(prior_postmortem_ids) > 0), count(*) FILTER (WHERE fix_did_not_hold) "
            "FROM models.recurrences",
        )
        stale = _optional(conn, "SELECT count(DISTINCT action_item_id) FROM marts.stale_action_items")
        summary.stale_items = stale[0] if stale else None
        summary.seconds = time.perf_counter() - t0
        conn.execute(
            "INSERT INTO meta.builds VALUES (now(), ?, ?, ?, ?)",
            [str(settings.exports), sum(r.files_loaded for r in summary.loads), summary.rebuilt,
             summary.seconds],
        )
    finally:
        conn.close()
    if summary.failed_partitions:
        raise PartitionsFailed(summary)
    return summary


class StepProgress(logging.Handler):
    """A build's runs as progress stages: steps done of the run's total, the step running, and
    how far that step got when it reports (files loaded, logs excerpted)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.DEBUG)
        self.progress = progress
        self.stage: Stage | None = None
        self.step = ""
        self.task_started: dict[str, float] = {}
        if progress.enabled:
            EVENTS.setLevel(logging.DEBUG)
            EVENTS.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        task, done, total, unit = getattr(record, "progress", (None, 0, None, ""))
        if self.stage is None or task is None:
            return
        started = self.task_started.setdefault(task, time.perf_counter())
        seconds = time.perf_counter() - started
        count = f"{done:,}" + (f" / {total:,}" if total else "")
        rate = f", {done / seconds:,.0f} {unit}/s" if seconds > 1 and done else ""
        self.stage.note(f"{self.step}: {task} {count} {unit}{rate}")

    def run_started(self, name: str, steps: int) -> None:
        self.stage = self.progress.stage(f"build: {name}", total=steps, unit="steps")
        self.stage.__enter__()

    def step_started(self, step: str) -> None:
        self.step = step.replace("__", "/")
        self.task_started.clear()
        if self.stage is not None:
            self.stage.note(self.step)

    def step_finished(self, step: str, ok: bool) -> None:
        if self.stage is not None:
            self.stage.advance()

    def run_finished(self, name: str, ok: bool) -> None:
        if self.stage is not None:
            self.stage.note(None)
            self.stage.__exit__(None, None, None)
            self.stage = None

    def close(self) -> None:
        EVENTS.removeHandler(self)
        super().close()


def _loaded_since_last_rebuild(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether raw files were loaded after the last completed rebuild: a build that was killed or
    failed between its loads and the end of its rebuild left core and marts behind raw."""
    row = conn.execute(
        "SELECT (SELECT max(loaded_at) FROM raw.files) > "
        "(SELECT max(built_at) FROM meta.builds WHERE rebuilt)").fetchone()
    return bool(row and row[0])


def _carry_outbox(moved: Path, warehouse: Path) -> str:
    """Copy the automation outbox (what was already sent; no export holds it) from a warehouse
    moved aside into the rebuilt one, so a later `automate` does not send anything twice."""
    conn = connect(warehouse)
    try:
        conn.execute(f"ATTACH '{str(moved).replace(chr(39), chr(39) * 2)}' AS old (READ_ONLY)")
        try:
            conn.execute("INSERT INTO automation.outbox BY NAME SELECT * FROM old.automation.outbox")
            n = conn.execute("SELECT count(*) FROM automation.outbox").fetchone()[0]
        finally:
            conn.execute("DETACH old")
    except duckdb.Error as exc:
        return (f"could not copy automation.outbox from {moved} ({' '.join(str(exc).split())}): "
                "messages it recorded as sent may be sent again by `followthrough automate`")
    finally:
        conn.close()
    return f"automation.outbox: {n} message(s) copied from {moved}"


def _thresholds_changed(conn: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """Whether the follow-through thresholds differ from those the marts were built with."""
    wanted = asdict(settings.follow_through)
    if wanted["as_of"] is None:
        del wanted["as_of"]  # resolved from the data at build time
    cols = list(wanted)
    try:
        stored = conn.execute(
            f"SELECT {', '.join(cols)} FROM models.follow_through_settings LIMIT 1").fetchone()
    except duckdb.Error:
        return True
    return stored is None or dict(zip(cols, stored, strict=True)) != wanted


def _load_result(asset: str, meta: Mapping[str, object]) -> LoadResult:
    def number(key: str) -> int:
        value = meta.get(key)
        return int(getattr(value, "value", value) or 0)

    return LoadResult(source=asset, files_seen=number("files_seen"),
                      files_loaded=number("files_loaded"), records=number("records"),
                      quarantined=number("quarantined"))


def add_warehouse_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="DuckDB warehouse file (default: $FOLLOWTHROUGH_WAREHOUSE or ./warehouse.duckdb)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="ingest an export directory and rebuild core and marts")
    p.add_argument(
        "--exports",
        type=Path,
        default=None,
        help="export directory (default: $FOLLOWTHROUGH_EXPORTS or ./sample-org)",
    )
    p.add_argument(
        "--postmortems",
        type=Path,
        default=None,
        help="postmortem folder or repository checkout (default: $FOLLOWTHROUGH_POSTMORTEMS, "
        "else EXPORTS/postmortems)",
    )
    add_warehouse_arg(p)
    p.add_argument("--force", action="store_true", help="reload every file even if unchanged")
    p.add_argument("--rebuild", action="store_true",
                   help="move the warehouse file aside (kept as WAREHOUSE.moved-TIME) and rebuild "
                   "it from the exports, e.g. after it was reported corrupt")
    add_processes_arg(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


def processes_count(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def add_processes_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--processes",
        type=processes_count,
        default=None,
        metavar="N",
        help="processes that excerpt failed logs side by side, this one included (default: one "
        "per core when there are enough logs; 1: everything in this process)",
    )


def configure_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.ERROR if quiet else logging.WARNING,
        format="%(levelname)s %(message)s",
        stream=sys.stderr,
    )


def run(args: argparse.Namespace) -> int:
    configure_logging(args.quiet)
    settings = Settings.load(warehouse=args.warehouse, exports=args.exports,
                             postmortems=args.postmortems)
    if not settings.exports.is_dir():
        print(f"followthrough build: export directory {settings.exports} does not exist",
              file=sys.stderr)
        return 2
    if settings.postmortems is not None and not settings.postmortems.is_dir():
        print(f"followthrough build: postmortem folder {settings.postmortems} does not exist",
              file=sys.stderr)
        return 2
    notes: list[str] = []
    try:
        with building(settings.warehouse):
            moved = move_aside(settings.warehouse) if args.rebuild else None
            if moved is not None:
                print(f"moved {settings.warehouse} aside to {moved}", file=sys.stderr)
            summary = build(settings, force=args.force or args.rebuild,
                            listener=StepProgress(Progress()), processes=args.processes)
            if moved is not None:
                notes.append(_carry_outbox(moved, settings.warehouse))
    except PartitionsFailed as exc:
        print("\n".join(exc.summary.lines()))
        print(f"followthrough build: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        problem = warehouse_problem(exc, settings.warehouse)
        if problem is None:
            raise
        print(f"followthrough build: {problem}", file=sys.stderr)
        return 1
    print("\n".join(summary.lines() + notes))
    return 0
