"""Repeat-failure alerts (a sensor) and the weekly digest of stale action items (a schedule).

Like `deploy_failure_sensor`, the repeat sensor does its small amount of work in the tick and
reports it as the skip reason. The digest schedule launches one `weekly_digest` run per ISO week
(the run key). The outbox keys make both idempotent, so they can run next to
`followthrough automate --once` from cron without sending anything twice. The digest's day,
hour and time zone are read from `[automation.digest]` when the code location loads.
"""


import logging
import os
from datetime import datetime

import dagster as dg
from dagster_duckdb import DuckDBResource
from duckdb import IOException

from models.automation import outbox
from models.automation.config import WEEKDAYS, AutomationConfig, load_automation
from models.automation.digest import due, enqueue_digests
from models.automation.repeats import enqueue_repeats
from models.automation.run import RunSummary, send_due
from models.connectors.config import ConfigError
from pipelines.runtime import warehouse

log = logging.getLogger("followthrough.automation")


def _digest_settings() -> AutomationConfig:
    """The config when the code location loads; a broken file falls back to the defaults here
    (the tick itself loads the config again and reports the error)."""
    try:
        return load_automation()
    except ConfigError as exc:
        log.warning("weekly digest schedule uses the default time: %s", exc)
        return AutomationConfig()


def digest_cron(cfg: AutomationConfig) -> str:
    """`0 8 * * 1` for Monday 08:00 (cron counts Sunday as 0)."""
    return f"0 {cfg.digest.hour} * * {(WEEKDAYS.index(cfg.digest.weekday) + 1) % 7}"


def _report(context: dg.SensorEvaluationContext | dg.OpExecutionContext,
            enqueued: dict[str, int], summary: RunSummary, conn: object) -> str:
    for key, error in summary.failed:
        context.log.warning("%s: %s (retried later)", key, error)
    summary.enqueued = {k: n for k, n in enqueued.items() if n}
    summary.statuses = outbox.counts(conn)  # type: ignore[arg-type]
    added = ", ".join(f"{n} {k}(s)" for k, n in sorted(summary.enqueued.items())) or "nothing"
    return (f"enqueued {added}; sent {summary.sent}, failed {len(summary.failed)}; outbox: "
            + ", ".join(f"{s} {n}" for s, n in sorted(summary.statuses.items())))


@dg.sensor(
    name="repeat_failure_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="A new CI failure joining a cluster with a prior ticket or postmortem -> alert "
    "to the owning team and its EM; a failure after the linked fix closed -> reopen or "
    "comment on the ticket (automation.outbox; dry run unless targets are live).",
)
def repeat_failure_sensor(context: dg.SensorEvaluationContext,
                          duckdb: DuckDBResource) -> dg.SkipReason:
    cfg = load_automation()
    now = outbox.now_utc()
    summary = RunSummary()
    try:
        with warehouse(duckdb) as conn:
            enqueued = enqueue_repeats(conn, cfg, os.environ, now)
            send_due(conn, cfg, os.environ, now, summary)
            message = _report(context, enqueued, summary, conn)
    except IOException as exc:
        return dg.SkipReason(f"warehouse busy, trying again next tick: {exc}")
    context.update_cursor(str(summary.statuses))
    return dg.SkipReason(message)


_CFG = _digest_settings()
DIGEST_AT_TAG = "followthrough/digest_at"


@dg.op(description="Queue this week's digests (one per recipient) and send what is due.")
def send_weekly_digest(context: dg.OpExecutionContext, duckdb: DuckDBResource) -> None:
    cfg = load_automation()
    at = context.run.tags.get(DIGEST_AT_TAG)
    now = datetime.fromisoformat(at) if at else outbox.now_utc()
    summary = RunSummary()
    with warehouse(duckdb) as conn:
        enqueued = enqueue_digests(conn, cfg, os.environ, now)
        send_due(conn, cfg, os.environ, outbox.now_utc(), summary)
        context.log.info(_report(context, enqueued, summary, conn))


@dg.job(name="weekly_digest", description="The weekly digest of stale action items.")
def weekly_digest_job() -> None:
    send_weekly_digest()


@dg.schedule(
    name="weekly_digest_schedule",
    job=weekly_digest_job,
    cron_schedule=digest_cron(_CFG),
    execution_timezone=_CFG.digest.timezone,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Stale action items, with the reason each is stale, to each owner and their "
    "engineering manager: one message per recipient per week (automation.outbox).",
)
def weekly_digest_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """One run per ISO week (the run key); the run's digests are keyed by week and recipient."""
    at = context.scheduled_execution_time or outbox.now_utc()
    week, _ = due(load_automation(), at)
    return dg.RunRequest(run_key=f"digest-{week}",
                         tags={DIGEST_AT_TAG: at.isoformat(), "followthrough/week": week})
