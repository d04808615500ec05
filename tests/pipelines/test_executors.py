"""The executor of daemon and webserver runs: chosen by the environment, carried by every job.

No cluster and no broker is needed: the definitions are loaded with each executor configured,
validated the way `dagster definitions validate` does, and each job's run config is resolved the
way a run resolves it when it starts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.system_config.objects import ResolvedRunConfig

from models.settings import Settings
from pipelines.defs.resources import (
    CELERY_BACKEND_VAR,
    CELERY_BROKER_VAR,
    EXECUTOR_VAR,
    MAX_PROCESSES_VAR,
    ExecutorSettingError,
    executor_from_env,
)
from pipelines.run import materialize


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> dg.Definitions:
    for var in (EXECUTOR_VAR, MAX_PROCESSES_VAR, CELERY_BROKER_VAR, CELERY_BACKEND_VAR):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    from pipelines.definitions import defs

    loaded = defs.load_fn()
    dg.Definitions.validate_loadable(loaded)
    return loaded


def _jobs(loaded: dg.Definitions) -> list[dg.JobDefinition]:
    """Every job a run can be launched for: the named ones and the asset job of the UI."""
    return [*loaded.resolve_all_job_defs(), loaded.resolve_implicit_global_asset_job_def()]


def test_runs_use_the_multiprocess_executor_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = _load(monkeypatch, **{MAX_PROCESSES_VAR: "3"})
    jobs = _jobs(loaded)
    assert {job.executor_def.name for job in jobs} == {"multiprocess"}
    config = ResolvedRunConfig.build(jobs[0], {}).execution.execution_engine_config
    assert config["max_concurrent"] == 3
    # Step processes fork from a server that already imported the definitions.
    preloaded = config["start_method"]["forkserver"]["preload_modules"]
    assert {"pipelines.definitions", "pipelines.defs.failures", "pipelines.defs.raw"} <= set(preloaded)


def test_celery_executor_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = "pyamqp://dagster:not-a-real-password@broker.internal:5672//"
    loaded = _load(monkeypatch, **{EXECUTOR_VAR: "celery", CELERY_BROKER_VAR: broker})
    jobs = _jobs(loaded)
    assert {job.executor_def.name for job in jobs} == {"celery"}
    for job in jobs:
        config = ResolvedRunConfig.build(job, {}).execution.execution_engine_config
        assert config["broker"] == broker
        assert config["backend"] == "rpc://"
    # The URL is read from the environment when a run starts, never written into config.
    assert broker not in repr(jobs[0].executor_def.config_schema.as_field().config_type)


def test_in_process_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = _load(monkeypatch, **{EXECUTOR_VAR: "in_process"})
    assert {job.executor_def.name for job in _jobs(loaded)} == {"in_process"}


@pytest.mark.parametrize(("env", "message"), [
    ({EXECUTOR_VAR: "k8s"}, "FOLLOWTHROUGH_EXECUTOR='k8s': expected one of multiprocess"),
    ({MAX_PROCESSES_VAR: "two"}, "FOLLOWTHROUGH_MAX_PROCESSES='two': expected a whole number"),
    ({MAX_PROCESSES_VAR: "-1"}, "FOLLOWTHROUGH_MAX_PROCESSES='-1'"),
])
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ExecutorSettingError, match=message.replace("(", r"\(")):
        executor_from_env(env)


def test_cli_build_runs_in_process_whatever_the_setting(
        monkeypatch: pytest.MonkeyPatch, vendor_dir: Path, tmp_path: Path) -> None:
    """`followthrough build` has no instance to share: with Celery configured and no broker
    anywhere, its run still succeeds, because it never leaves this process."""
    monkeypatch.setenv(EXECUTOR_VAR, "celery")
    monkeypatch.setenv(CELERY_BROKER_VAR, "pyamqp://guest@127.0.0.1:9//")
    exports = tmp_path / "exports"
    (exports / "pagerduty/incidents").mkdir(parents=True)
    shutil.copyfile(vendor_dir / "pagerduty_incidents_list.json",
                    exports / "pagerduty/incidents/2025-06.json")
    settings = Settings(warehouse=tmp_path / "w.duckdb", exports=exports)
    outcome = materialize(settings, dg.AssetSelection.assets(["raw", "pagerduty"]),
                          run_config={"ops": {"raw__pagerduty": {"config": {"force": True}}}})
    assert outcome.succeeded
    assert outcome.materialized["raw/pagerduty"]["files_loaded"].value == 1
