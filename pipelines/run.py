"""Running the project's assets in-process: the one execution path of `followthrough build`.

The CLI, the tests and the benchmarks run the same Dagster assets and checks that `dg dev` and
the daemon run, so every asset check runs in a command-line build too. A build is two runs: the
raw loads (one run over the whole history, not one per day), then, if they changed anything,
everything downstream.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

import dagster as dg

from models.connectors.config import Config
from models.settings import Settings
from pipelines.lineage import RAW_ASSETS
from pipelines.partitions import DAILY
from pipelines.runtime import resources_for

RAW = dg.AssetSelection.groups("raw")
DOWNSTREAM = dg.AssetSelection.all() - RAW
# The follow-through models and marts: everything after core except the CI-failure analysis.
FOLLOW_THROUGH = (
    dg.AssetSelection.groups("models", "marts")
    - dg.AssetSelection.assets(["models", "failure_excerpts"]).downstream()
)
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
    job_defs = dg.Definitions(
        assets=list(loaded.assets or []),
        asset_checks=list(loaded.asset_checks or []),
        jobs=[dg.define_asset_job(_JOB, selection=selection)],
        resources=resources_for(settings, config),
        loggers=loggers,
    )
    partition = DAILY.get_last_partition_key() if selection_has_partitions(job_defs) else None
    config: dict[str, Any] = dict(run_config or {})
    config["loggers"] = {"console": {"config": {"log_level": "ERROR"}},
                         **{name: {} for name in loggers if name != "console"}}
    job = job_defs.resolve_job_def(_JOB)
    name = label or "run"
    if listener:
        listener.run_started(name, len(job.graph.nodes))
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
