"""The resources and the executor of the code location, from the environment when it loads.

Runs launched by the webserver or the daemon execute with the executor chosen here: each step in
its own process by default, so the partitioned log stage fans out over the machine's cores;
Celery workers when `FOLLOWTHROUGH_EXECUTOR=celery`. `followthrough build` does not come through
here: it runs the same assets in one process (pipelines/run.py), with no instance to share.
"""

from __future__ import annotations

import os
import pkgutil
from collections.abc import Mapping

import dagster as dg

from models.settings import Settings
from pipelines.runtime import resources_for

EXECUTOR_VAR = "FOLLOWTHROUGH_EXECUTOR"
MAX_PROCESSES_VAR = "FOLLOWTHROUGH_MAX_PROCESSES"
# Celery's own variables, which its workers read too. Read when a run starts, not when the code
# location loads: a broker URL may hold a password, and run config is stored with every run.
CELERY_BROKER_VAR = "CELERY_BROKER_URL"
CELERY_BACKEND_VAR = "CELERY_RESULT_BACKEND"
EXECUTORS = ("multiprocess", "in_process", "celery")


class ExecutorSettingError(ValueError):
    """The environment names an executor this project cannot build."""


def _max_processes(env: Mapping[str, str]) -> int:
    raw = env.get(MAX_PROCESSES_VAR, "").strip()
    if not raw:
        return 0  # Dagster's meaning: one process per CPU
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ExecutorSettingError(
            f"{MAX_PROCESSES_VAR}={raw!r}: expected a whole number >= 0 (0: one per CPU)")
    return value


def preload_modules() -> list[str]:
    """What each step process would import anyway: imported once by the fork server, a step
    starts in a fraction of a second instead of the seconds polars, scipy and the definitions
    take to import (a step of the hourly run is often shorter than that)."""
    import pipelines.defs

    return ["pipelines.definitions",
            *(f"pipelines.defs.{m.name}" for m in pkgutil.iter_modules(pipelines.defs.__path__))]


def executor_from_env(env: Mapping[str, str] | None = None) -> dg.ExecutorDefinition:
    """The executor `FOLLOWTHROUGH_EXECUTOR` names (multiprocess when unset)."""
    env = os.environ if env is None else env
    kind = env.get(EXECUTOR_VAR, "").strip().lower() or "multiprocess"
    if kind == "multiprocess":
        return dg.multiprocess_executor.configured({
            "max_concurrent": _max_processes(env),
            "start_method": {"forkserver": {"preload_modules": preload_modules()}},
        }, name="multiprocess")
    if kind == "in_process":
        return dg.in_process_executor
    if kind == "celery":
        from dagster_celery import celery_executor

        config: dict[str, object] = {}
        if env.get(CELERY_BROKER_VAR):
            config["broker"] = {"env": CELERY_BROKER_VAR}
        if env.get(CELERY_BACKEND_VAR):
            config["backend"] = {"env": CELERY_BACKEND_VAR}
        return celery_executor.configured(config, name="celery")
    raise ExecutorSettingError(
        f"{EXECUTOR_VAR}={kind!r}: expected one of {', '.join(EXECUTORS)}")


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=resources_for(Settings.load()), executor=executor_from_env())
