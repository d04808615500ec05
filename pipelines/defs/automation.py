"""The deploy-failure sensor: every failed production deployment gets one incident ticket.

The sensor does the (small) work itself instead of launching a run: evaluating the rule and
sending a few requests takes well under a second, and a run launch would add its own latency to
the "failure to ticket" time. It reports what it did as its skip reason. When an asset run holds
the warehouse's write lock, the DuckDB resource retries the connection with backoff; if the lock
outlives that, the tick is skipped and the next one catches up (the outbox makes every tick
idempotent). Deliveries spooled by `followthrough webhook` are landed and loaded first, by this
tick, so the warehouse keeps one writer.
"""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource
from duckdb import IOException

from followthrough.commands.webhook import drain_spool
from models.automation.config import load_automation
from models.automation.run import run_once
from models.settings import Settings
from pipelines.runtime import warehouse


@dg.sensor(
    name="deploy_failure_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Failed production deployment -> incident ticket (automation.outbox); "
    "dry run unless [automation] targets are live.",
)
def deploy_failure_sensor(context: dg.SensorEvaluationContext,
                          duckdb: DuckDBResource) -> dg.SkipReason:
    cfg = load_automation()
    try:
        # Webhook deliveries first: landed, loaded (the build is the writer), then evaluated.
        drained = drain_spool(cfg, Settings.load(warehouse=duckdb.database))
        with warehouse(duckdb) as conn:
            summary = run_once(conn, cfg)
    except IOException as exc:
        return dg.SkipReason(f"warehouse busy, trying again next tick: {exc}")
    for name, reason in drained.rejected:
        context.log.warning("webhook spool: %s rejected: %s", name, reason)
    for key, error in summary.failed:
        context.log.warning("%s: %s (retried later)", key, error)
    context.update_cursor(str(summary.statuses))
    return dg.SkipReason("; ".join(drained.lines() + summary.lines()))
