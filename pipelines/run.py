"""Running the project's assets: the one execution path of `followthrough build`.

The CLI, the tests and the benchmarks run the same Dagster assets and checks that `dg dev` and
the daemon run, so every asset check runs in a command-line build too. A build is the raw loads
(one run over the whole history, not one per day), then, if they changed anything, everything
downstream: one run up to the failure-excerpt stage, one run per pending bucket of that stage
(`materialize_parts`, spread over processes), and one run from the merge of the buckets on.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

import dagster as dg

from models.connectors.config import Config
from models.settings import Settings
from pipelines.lineage import RAW_ASSETS
from pipelines.partitions import DAILY, REPO_BUCKETS
from pipelines.runtime import resources_for

RAW = dg.AssetSelection.groups("raw")
DOWNSTREAM = dg.AssetSelection.all() - RAW
PARTS_KEY = dg.AssetKey(["models", "failure_excerpt_parts"])
PARTS = dg.AssetSelection.assets(PARTS_KEY)
# Everything downstream of the raw loads, split around the partitioned excerpt stage.
BEFORE_PARTS = DOWNSTREAM - PARTS.downstream()
AFTER_PARTS = PARTS.downstream() - PARTS
# The follow-through models and marts: everything after core except the CI-failure analysis.
FOLLOW_THROUGH = dg.AssetSelection.groups("models", "marts") - PARTS.downstream()
# Below this many logs to excerpt, starting worker processes costs more than it saves.
FAN_OUT_MIN_LOGS = 400
_JOB = "followthrough_build"


class StepListener(Protocol):
    """Told what a run is doing, for progress on a terminal."""

    def run_started(self, name: str, steps: int) -> None: ...
    def step_started(self, step: str) -> None: ...
    def step_finished(self, step: str, ok: bool) -> None: ...
    def run_finished(self, name: str, ok: bool) -> None: ...


@dataclass(frozen=True)
class CheckFailure:
    """An asset check that did not pass, with what it found."""

    asset: str
    check: str
    severity: str
    description: str | None
    metadata: Mapping[str, str]

    def line(self) -> str:
        head = f"{self.asset}:{self.check}"
        detail = self.description or ", ".join(
            f"{k}={v}" for k, v in self.metadata.items() if k != "examples")
        examples = self.metadata.get("examples")
        out = f"{head} ({self.severity.lower()}): {detail}" if detail else head
        if examples and examples != "none":
            out += f"; e.g. {examples.strip()}"
        return " ".join(out.split())[:400]


@dataclass
class RunOutcome:
    succeeded: bool
    materialized: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    failed_checks: list[CheckFailure] = field(default_factory=list)


def _metadata_text(value: Any) -> str:
    raw = getattr(value, "value", value)
    if isinstance(raw, (list, tuple)):
        raw = ", ".join(str(v) for v in raw)
    return str(raw).replace("\n- ", "; ").lstrip("- ")


def _progress_logger(listener: StepListener) -> dg.LoggerDefinition:
    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            meta = getattr(record, "dagster_meta", None) or {}
            event = meta.get("dagster_event")
            step = meta.get("step_key")
            if event is None or not step:
                return
            kind = event.event_type_value
            if kind == "STEP_START":
                listener.step_started(step)
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                listener.step_finished(step, kind == "STEP_SUCCESS")

    @dg.logger
    def progress(_: dg.InitLoggerContext) -> logging.Logger:
        log = logging.Logger("followthrough.progress", level=logging.DEBUG)
        log.addHandler(_Handler())
        return log

    return progress


@cache
def _project_definitions() -> dg.Definitions:
    """The code location's definitions, loaded once per process (a build runs two jobs)."""
    from pipelines.definitions import defs

    return defs.load_fn()


def materialize(
    settings: Settings,
    selection: dg.AssetSelection,
    *,
    run_config: Mapping[str, Any] | None = None,
    listener: StepListener | None = None,
    label: str | None = None,
    config: Config | None = None,
) -> RunOutcome:
    """Materialize `selection` (and its checks) of the project's definitions in this process.

    A selection with the daily-partitioned raw asset runs its latest partition; the raw load
    config (`raw_run_config`) makes that one run load every export file, whatever its date.
    """
    loaded = _project_definitions()
    loggers: dict[str, dg.LoggerDefinition] = {"console": dg.default_loggers()["console"]}
    if listener:
        loggers["progress"] = _progress_logger(listener)
    resources = resources_for(settings, config)
    job_defs = dg.Definitions(
        assets=list(loaded.assets or []),
        asset_checks=list(loaded.asset_checks or []),
        jobs=[dg.define_asset_job(_JOB, selection=selection)],
        resources=resources,
        loggers=loggers,
    )
    partitions_def = job_defs.resolve_job_def(_JOB).partitions_def
    partition = None
    if partitions_def is not None:
        if partitions_def != DAILY:
            raise ValueError("the selection holds the bucket-partitioned excerpt stage: run it "
                             "with materialize_parts (materialize_downstream does)")
        partition = DAILY.get_last_partition_key()
    config: dict[str, Any] = dict(run_config or {})
    config["loggers"] = {"console": {"config": {"log_level": "ERROR"}},
                         **{name: {} for name in loggers if name != "console"}}
    job = job_defs.resolve_job_def(_JOB)
    name = label or "run"
    if listener:
        listener.run_started(name, len(job.graph.nodes))
    # One connection held open for the run: every step's own connection then joins the open
    # database (instead of opening a large file and checkpointing it on close, ~0.1 s a step).
    with resources["duckdb"].get_connection():
        result = job.execute_in_process(
            run_config=config, instance=dg.DagsterInstance.ephemeral(), partition_key=partition,
        )
    if listener:
        listener.run_finished(name, result.success)
    outcome = RunOutcome(succeeded=result.success)
    for event in result.get_asset_materialization_events():
        mat = getattr(event.event_specific_data, "materialization", None)
        if mat is not None:
            outcome.materialized[mat.asset_key.to_user_string()] = mat.metadata
    for ev in result.get_asset_check_evaluations():
        if ev.passed:
            continue
        outcome.failed_checks.append(CheckFailure(
            asset=ev.asset_check_key.asset_key.to_user_string(),
            check=ev.asset_check_key.name,
            severity=ev.severity.value,
            description=ev.description,
            metadata={k: _metadata_text(v) for k, v in ev.metadata.items()},
        ))
    return outcome


def selection_has_partitions(job_defs: dg.Definitions) -> bool:
    job = job_defs.resolve_job_def(_JOB)
    return job.partitions_def is not None


@dataclass(frozen=True)
class PartitionResult:
    partition: str
    succeeded: bool
    metadata: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class PartitionFailure:
    """A partition of the excerpt stage that did not finish; the others' rows were kept."""

    asset: str
    partition: str
    repos: tuple[str, ...]
    error: str

    def line(self) -> str:
        shown = ", ".join(self.repos[:5]) + (", ..." if len(self.repos) > 5 else "")
        return (f"{self.asset} partition {self.partition} (repositories: {shown or 'none'}) "
                f"failed: {self.error}")


@dataclass
class PartsOutcome:
    processes: int = 0
    pending_logs: int = 0
    results: list[PartitionResult] = field(default_factory=list)
    failures: list[PartitionFailure] = field(default_factory=list)


@cache
def _parts_job(database: str) -> dg.JobDefinition:
    """A job of the excerpt stage alone: what a partition's process loads (not the whole
    code location, so a worker starts in about a second)."""
    from dagster_duckdb import DuckDBResource

    from pipelines.defs.failures import failure_excerpt_parts

    defs = dg.Definitions(
        assets=[failure_excerpt_parts],
        jobs=[dg.define_asset_job("failure_excerpt_parts", selection=PARTS)],
        resources={"duckdb": DuckDBResource(database=database)},
        loggers={"console": dg.default_loggers()["console"]},
    )
    return defs.resolve_job_def("failure_excerpt_parts")


@cache
def _instance() -> dg.DagsterInstance:
    """One in-memory instance per process for the partition runs (creating one costs more
    than a small partition's run)."""
    return dg.DagsterInstance.ephemeral()


# Run tags of a run over a range of partitions (dagster's own names for them).
_RANGE_START = "dagster/asset_partition_range_start"
_RANGE_END = "dagster/asset_partition_range_end"


def run_partition(database: str, partition: str) -> PartitionResult:
    """One partition of the excerpt stage as its own Dagster run, in this process."""
    return run_partitions(database, [partition])[0]


def run_partitions(database: str, partitions: Sequence[str]) -> list[PartitionResult]:
    """Partitions of the excerpt stage as one Dagster run over the range they span, in this
    process; the run's outcome is each partition's."""
    job = _parts_job(database)
    first, last = min(partitions), max(partitions)
    key = {"partition_key": first} if first == last else {
        "tags": {_RANGE_START: first, _RANGE_END: last}}
    try:
        result = job.execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            instance=_instance(), **key,
        )
    except Exception as exc:  # the step's own error, reported against its partitions
        from pipelines.defs.failures import BucketsFailed

        cause = getattr(exc, "user_exception", None) or exc
        if isinstance(cause, BucketsFailed):  # the other buckets of the range staged theirs
            return [PartitionResult(p, p not in cause.errors, error=cause.errors.get(p))
                    for p in partitions]
        return [PartitionResult(p, False, error=f"{type(cause).__name__}: {cause}")
                for p in partitions]
    meta = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        meta = {k: _metadata_text(v) for k, v in mat.metadata.items()}
    return [PartitionResult(p, result.success, meta) for p in partitions]


def _fan_out(database: str, partitions: Sequence[str], processes: int,
             started: Callable[[str], None],
             done: Callable[[PartitionResult], None]) -> list[PartitionResult]:
    """Run `partitions` (in the order given) over `processes` processes: this one and workers.

    Each worker process is fed by a thread of this process, so this process excerpts too. A
    worker that dies fails the partitions running in the pool at that moment (they are not
    retried here: whatever killed it would kill this process too); the rest finish here.
    """
    todo = deque(partitions)
    lock = threading.Lock()
    results: list[PartitionResult] = []

    def take() -> str | None:
        with lock:
            if not todo:
                return None
            partition = todo.popleft()
            started(partition)
            return partition

    def finish(result: PartitionResult) -> None:
        with lock:
            results.append(result)
            done(result)

    def feed(pool: ProcessPoolExecutor) -> None:
        while (partition := take()) is not None:
            try:
                future = pool.submit(run_partition, database, partition)
            except BrokenProcessPool:  # not started: this process takes it
                with lock:
                    todo.appendleft(partition)
                return
            try:
                finish(future.result())
            except BrokenProcessPool as exc:
                finish(PartitionResult(
                    partition, False, error=f"a worker process died while it ran ({exc})"))
                return

    threads: list[threading.Thread] = []
    pool = None
    if processes > 1:
        # Spawned, not forked: a fork would inherit polars' and DuckDB's thread pools
        # mid-flight and can deadlock in the child.
        pool = ProcessPoolExecutor(max_workers=processes - 1,
                                   mp_context=multiprocessing.get_context("spawn"))
        threads = [threading.Thread(target=feed, args=(pool,), daemon=True)
                   for _ in range(processes - 1)]
        for t in threads:
            t.start()
    try:
        while (partition := take()) is not None:
            finish(run_partition(database, partition))
        for t in threads:
            t.join()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return results


def available_cores() -> int:
    """Cores this process may run on (a container's limit, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def materialize_parts(settings: Settings, *, processes: int | None = None,
                      listener: StepListener | None = None) -> PartsOutcome:
    """Run every partition of the excerpt stage that has logs to excerpt.

    `processes`: how many processes excerpt at once (this one included); None: one per core
    when there are at least FAN_OUT_MIN_LOGS logs, else 1 (1 runs everything in this process).
    """
    from warehouse.failures import pending_by_bucket, reading, repos_in_bucket

    database = str(settings.warehouse)
    with reading(database) as conn:
        pending = pending_by_bucket(conn, REPO_BUCKETS)
    outcome = PartsOutcome(pending_logs=sum(pending.values()))
    partitions = [f"{b:02d}" for b in sorted(pending, key=lambda b: (-pending[b], b))]
    if processes is None:
        processes = available_cores() if outcome.pending_logs >= FAN_OUT_MIN_LOGS else 1
    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    outcome.processes = max(1, min(processes, len(partitions)))
    if not partitions:
        return outcome
    name = f"excerpts over {outcome.processes} process(es)"
    if listener:
        listener.run_started(name, 1 if outcome.processes == 1 else len(partitions))

    def step(partition: str) -> str:
        return f"{PARTS_KEY.to_python_identifier()}[{partition}]"

    def started(partition: str) -> None:
        if listener:
            listener.step_started(step(partition))

    def done(result: PartitionResult) -> None:
        if listener:
            listener.step_finished(step(result.partition), result.succeeded)

    if outcome.processes == 1:
        # One run over every pending bucket: one warehouse read and one run's overhead.
        name_all = f"{PARTS_KEY.to_python_identifier()}[{min(partitions)}...{max(partitions)}]"
        if listener:
            listener.step_started(name_all)
        results = run_partitions(database, partitions)
        if listener:
            listener.step_finished(name_all, all(r.succeeded for r in results))
    else:
        results = _fan_out(database, partitions, outcome.processes, started, done)
    outcome.results = sorted(results, key=lambda r: r.partition)
    if listener:
        listener.run_finished(name, all(r.succeeded for r in outcome.results))
    failed = [r for r in outcome.results if not r.succeeded]
    if failed:
        with reading(database) as conn:
            outcome.failures = [
                PartitionFailure(PARTS_KEY.to_user_string(), r.partition,
                                 tuple(repos_in_bucket(conn, int(r.partition), REPO_BUCKETS)),
                                 r.error or "the run did not succeed")
                for r in failed
            ]
    return outcome


@dataclass
class DownstreamOutcome:
    runs: list[RunOutcome] = field(default_factory=list)
    parts: PartsOutcome = field(default_factory=PartsOutcome)

    @property
    def failed_checks(self) -> list[CheckFailure]:
        return [c for run in self.runs for c in run.failed_checks]


def downstream_of(changed: Collection[str] | None) -> dg.AssetSelection:
    """What the raw assets in `changed` (keys as `raw/NAME`) feed; None: everything downstream."""
    if changed is None:
        return DOWNSTREAM
    keys = [dg.AssetKey.from_user_string(k) for k in changed]
    return dg.AssetSelection.assets(*keys).downstream() - RAW


def _resolves_empty(selection: dg.AssetSelection) -> bool:
    return not selection.resolve(_project_definitions().resolve_asset_graph())


def materialize_downstream(settings: Settings, *, processes: int | None = None,
                           listener: StepListener | None = None,
                           config: Config | None = None,
                           changed: Collection[str] | None = None) -> DownstreamOutcome:
    """Everything after the raw loads: up to the excerpt stage, its partitions side by side,
    then the merge of what they staged and what follows it.

    `changed` names the raw assets (`raw/NAME`) whose loads changed something: only what they
    feed runs (None: everything). A partition that fails leaves the others' rows: they are
    merged and analysed, and the failure is returned (its logs stay pending, so the next build
    excerpts them).
    """
    out = DownstreamOutcome()
    wanted = downstream_of(changed)
    before = BEFORE_PARTS if changed is None else BEFORE_PARTS & wanted
    after = AFTER_PARTS if changed is None else AFTER_PARTS & wanted
    if changed is None or not _resolves_empty(before):
        out.runs.append(materialize(settings, before, listener=listener, label="rebuild",
                                    config=config))
    if changed is None or not _resolves_empty(PARTS & wanted):
        out.parts = materialize_parts(settings, processes=processes, listener=listener)
    if changed is None or not _resolves_empty(after):
        out.runs.append(materialize(settings, after, listener=listener,
                                    label="failure analysis", config=config))
    return out


def connector_of(raw_asset: str) -> str:
    """The `[sources.NAME]` that feeds a raw asset."""
    return {"github_actions": "github"}.get(raw_asset, raw_asset)


def raw_run_config(force: bool, fetch: Collection[str] = (), since: str | None = None,
                   ) -> dict[str, Any]:
    """Every raw asset loads every file of the export (`force`: even unchanged ones); the raw
    assets of the sources in `fetch` first fetch from their APIs (from `since` on a first run)."""
    ops: dict[str, Any] = {}
    for name in RAW_ASSETS:
        cfg: dict[str, Any] = {"force": force, "fetch": connector_of(name) in fetch}
        if since:
            cfg["since"] = since
        ops[f"raw__{name}"] = {"config": cfg}
    ops["raw__github_actions"]["config"]["whole_history"] = True
    return {"ops": ops}
