"""Follow-through analytics: settings, fuzzy ticket links, per-item status and the marts.

The SQL models and marts are assets made from `warehouse/sql` (pipelines/defs/transform.py);
here are the Python ones: the settings row, the fuzzy candidates, the Kaplan–Meier distributions.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from models.analytics import follow_through_summary, time_to_ticket
from models.analytics.distribution import (
    CURVE_SCHEMA,
    DISTRIBUTION_SCHEMA,
    DONE_CURVE_SCHEMA,
    curves,
    distribution,
    done_curves,
    prepare,
)
from models.analytics.follow_through import AS_OF_SQL, FollowThroughSettings
from models.analytics.ticket_matching import CANDIDATE_SCHEMA, fuzzy_candidates
from pipelines.check_report import describe, metadata, offenders
from pipelines.lineage import inputs
from pipelines.runtime import SettingsResource, warehouse
from warehouse.db import transaction

SETTINGS_KEY = ["models", "follow_through_settings"]

SETTINGS_COLUMNS = (
    "as_of", "as_of_source", "benchmark_days", "benchmark_source", "slo_priority_weeks",
    "slo_other_weeks", "slo_source", "done_within_days", "p1_within_days", "ticket_grace_hours",
    "inactivity_days", "verification_days", "verification_window_days", "min_ci_runs",
    "justification_hours", "fuzzy_window_days", "fuzzy_threshold",
)


def write_settings(conn: duckdb.DuckDBPyConnection, settings: FollowThroughSettings) -> dict:
    """Store the settings row; `as_of` is the setting, else the latest event in the data."""
    if settings.as_of is not None:
        as_of, source = settings.as_of, "setting FOLLOWTHROUGH_AS_OF"
    else:
        found = conn.execute(AS_OF_SQL).fetchone()
        as_of = found[0] if found and found[0] is not None else None
        source = "latest event in the data"
        if as_of is None:
            as_of = conn.execute("SELECT now()").fetchone()[0]
            source = "clock (the warehouse holds no events)"
    row = settings.row(as_of, source)
    with transaction(conn):
        conn.execute("DELETE FROM models.follow_through_settings")
        conn.execute(
            f"INSERT INTO models.follow_through_settings ({', '.join(SETTINGS_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in SETTINGS_COLUMNS)})",
            [row[c] for c in SETTINGS_COLUMNS],
        )
    return row


CANDIDATE_ITEMS_SQL = (
    "SELECT action_item_id, team, text, owner, ticket_ref, identified_at "
    "FROM core.action_items ORDER BY action_item_id"
)
CANDIDATE_TICKETS_SQL = (
    "SELECT ticket_key, project, title, assignee, created_at, labels FROM core.tickets"
)


def candidate_frame(conn: duckdb.DuckDBPyConnection,
                    settings: FollowThroughSettings) -> pl.DataFrame:
    items = conn.execute(CANDIDATE_ITEMS_SQL).pl()
    tickets = conn.execute(CANDIDATE_TICKETS_SQL).pl()
    return fuzzy_candidates(items, tickets, window_days=settings.fuzzy_window_days,
                            threshold=settings.fuzzy_threshold).select(list(CANDIDATE_SCHEMA))


# The polars marts written from models.action_item_status, marts.time_to_ticket and
# marts.follow_through, in the order `distribution_frames` returns them.
DISTRIBUTION_TABLES: dict[str, dict] = {
    "marts.time_to_ticket_distribution": DISTRIBUTION_SCHEMA,
    "marts.time_to_ticket_curves": CURVE_SCHEMA,
    "marts.time_to_done_curves": DONE_CURVE_SCHEMA,
    "marts.time_to_ticket_summary": time_to_ticket.SUMMARY_SCHEMA,
    "marts.time_to_ticket_ages": time_to_ticket.AGES_SCHEMA,
    "marts.time_to_ticket_histogram": time_to_ticket.HISTOGRAM_SCHEMA,
    "marts.follow_through_summary": follow_through_summary.SCHEMA,
}


SETTINGS_SQL = "SELECT as_of, benchmark_days FROM models.follow_through_settings LIMIT 1"
STATUS_SQL = (
    "SELECT action_item_id, team, service, identified_at, ticket_created_at, "
    "hours_to_ticket, done, canceled, closed_at, slo_weeks FROM models.action_item_status"
)
TICKETS_SQL = (
    "SELECT action_item_id, team, identified_at, ticket_key, hours_to_ticket "
    "FROM marts.time_to_ticket"
)
FOLLOW_SQL = (
    f"SELECT team, month, {', '.join(follow_through_summary.COUNT_COLUMNS)} "
    "FROM marts.follow_through"
)


def distribution_frames(conn: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """Every table of DISTRIBUTION_TABLES as a frame, computed with the stored settings."""
    s = conn.execute(SETTINGS_SQL).fetchone()
    if s is None:
        return {name: pl.DataFrame(schema=schema) for name, schema in DISTRIBUTION_TABLES.items()}
    as_of, bench = s[0], float(s[1])
    prepared = prepare(conn.execute(STATUS_SQL).pl(), as_of)
    tickets = conn.execute(TICKETS_SQL).pl()
    follow = conn.execute(FOLLOW_SQL).pl()
    frames = {
        "marts.time_to_ticket_distribution": distribution(prepared, bench),
        "marts.time_to_ticket_curves": curves(prepared),
        "marts.time_to_done_curves": done_curves(prepared),
        "marts.time_to_ticket_summary": time_to_ticket.summary(tickets, as_of, bench),
        "marts.time_to_ticket_ages": time_to_ticket.ages(tickets, as_of, bench),
        "marts.time_to_ticket_histogram": time_to_ticket.histogram(tickets),
        "marts.follow_through_summary": follow_through_summary.summary(follow),
    }
    return {name: frames[name].select(list(schema)) for name, schema in DISTRIBUTION_TABLES.items()}


# ---------------------------------------------------------------- Dagster assets


@dg.asset(
    key=SETTINGS_KEY,
    deps=inputs(AS_OF_SQL),
    kinds={"duckdb"},
    group_name="models",
    automation_condition=dg.AutomationCondition.eager(),
    description="The thresholds and as-of time every follow-through mart was computed with "
    "(FOLLOWTHROUGH_* settings, read once per run).",
)
def follow_through_settings(duckdb: DuckDBResource,
                            settings: SettingsResource) -> dg.MaterializeResult:
    with warehouse(duckdb) as conn:
        row = write_settings(conn, settings.get().follow_through)
    return dg.MaterializeResult(metadata={
        "as_of": str(row["as_of"]), "as_of_source": row["as_of_source"],
        "benchmark_days": row["benchmark_days"], "done_within_days": row["done_within_days"],
    })


@dg.asset(
    key=["models", "action_item_ticket_candidates"],
    deps=inputs(CANDIDATE_ITEMS_SQL, CANDIDATE_TICKETS_SQL),
    io_manager_key="polars_io",
    kinds={"polars", "duckdb"},
    group_name="models",
    automation_condition=dg.AutomationCondition.eager(),
    description="Fuzzy ticket candidates per action item (rapidfuzz title score, assignee, "
    "time proximity) at or above FOLLOWTHROUGH_FUZZY_THRESHOLD.",
)
def action_item_ticket_candidates(duckdb: DuckDBResource,
                                  settings: SettingsResource) -> pl.DataFrame:
    with warehouse(duckdb) as conn:
        return candidate_frame(conn, settings.get().follow_through)


def _out(table: str, description: str) -> dg.AssetOut:
    return dg.AssetOut(
        key=table.split("."), io_manager_key="polars_io", kinds={"polars", "duckdb"},
        group_name="marts", automation_condition=dg.AutomationCondition.eager(),
        description=description)


@dg.multi_asset(
    outs={
        "time_to_ticket_distribution": _out(
            "marts.time_to_ticket_distribution",
            "Kaplan–Meier time to ticket (median, p75, p90, shares within 24 h and "
            "beyond the benchmark) and time to done per org, team, service and month."),
        "time_to_ticket_curves": _out(
            "marts.time_to_ticket_curves",
            "Kaplan–Meier survival curves of time to ticket per org, team, service and month."),
        "time_to_done_curves": _out(
            "marts.time_to_done_curves",
            "Kaplan–Meier survival curves of time to done per org, team, service and month."),
        "time_to_ticket_summary": _out(
            "marts.time_to_ticket_summary",
            "Time to ticket over all action items per org, team and month: counts, plain and "
            "Kaplan–Meier medians, shares within 24 h and beyond the benchmark."),
        "time_to_ticket_ages": _out(
            "marts.time_to_ticket_ages",
            "Per action item: ticketed, hours waited so far, beyond the benchmark."),
        "time_to_ticket_histogram": _out(
            "marts.time_to_ticket_histogram", "Ticketed items per bin of hours to ticket."),
        "follow_through_summary": _out(
            "marts.follow_through_summary",
            "marts.follow_through summed per org, team and team x month, with shares."),
    },
    deps=inputs(SETTINGS_SQL, STATUS_SQL, TICKETS_SQL, FOLLOW_SQL),
)
def time_to_ticket_distribution(duckdb: DuckDBResource):  # one frame per out, in order
    with warehouse(duckdb) as conn:
        return tuple(distribution_frames(conn).values())


# ---------------------------------------------------------------- checks

STALE_REASONS = ("no_ticket_24h", "no_owner", "no_target_sprint", "open_past_sprint",
                 "no_activity", "p1_unjustified", "verification_missing",
                 "verification_unchecked")


@dg.asset_check(asset=dg.AssetKey(["models", "action_item_status"]),
                description="One row per action item, and ticketed exactly when a link exists.")
def action_item_status_covers_every_item(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as conn:
        items, rows, links, ticketed = conn.execute(
            "SELECT (SELECT count(*) FROM core.action_items), "
            "(SELECT count(*) FROM models.action_item_status), "
            "(SELECT count(*) FROM models.action_item_tickets), "
            "(SELECT count(ticket_key) FROM models.action_item_status)"
        ).fetchone()
        missing = offenders(
            conn, "items_without_status", "action item(s) without a status row",
            "SELECT action_item_id AS label, action_item_id AS sort_key FROM core.action_items "
            "WHERE action_item_id NOT IN (SELECT action_item_id FROM models.action_item_status)",
        )
        doubled = offenders(
            conn, "items_with_several_rows", "action item(s) with several status rows",
            "SELECT action_item_id AS label, action_item_id AS sort_key "
            "FROM models.action_item_status GROUP BY ALL HAVING count(*) > 1",
        )
        unlinked = offenders(
            conn, "ticketed_without_link", "status row(s) whose ticket is not their link",
            "SELECT s.action_item_id || ' (' || coalesce(s.ticket_key, 'no ticket') || ')' AS label, "
            "s.action_item_id AS sort_key FROM models.action_item_status s "
            "FULL JOIN models.action_item_tickets t USING (action_item_id) "
            "WHERE s.ticket_key IS DISTINCT FROM t.ticket_key",
        )
    return dg.AssetCheckResult(
        passed=items == rows and links == ticketed,
        description=describe(missing, doubled, unlinked),
        metadata=metadata(missing, doubled, unlinked, action_items=items, rows=rows, links=links,
                          ticketed=ticketed),
    )


@dg.asset_check(asset=dg.AssetKey(["marts", "stale_action_items"]),
                description="Every stale row has a known reason, a detail and an open item.")
def stale_rows_are_explained(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    allowed = ", ".join(f"'{r}'" for r in STALE_REASONS)
    with warehouse(duckdb) as conn:
        bad = offenders(
            conn, "unexplained_rows", "stale row(s) without a known reason or a detail",
            "SELECT action_item_id || ' (' || coalesce(reason, 'no reason') || ')' AS label, "
            f"action_item_id AS sort_key FROM marts.stale_action_items WHERE reason NOT IN ({allowed}) "
            "OR reason IS NULL OR detail IS NULL OR detail = ''",
        )
    return dg.AssetCheckResult(passed=bad.count == 0, description=describe(bad),
                               metadata=metadata(bad))


@dg.asset_check(asset=dg.AssetKey(["marts", "checklist_compliance"]),
                description="What the data cannot show is never reported as passed.")
def checklist_never_passes_the_unknowable(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as conn:
        bad = offenders(
            conn, "bad_rows", "checklist row(s) passing what the data cannot show, or of no known result",
            "SELECT postmortem_id || '/' || check_id || ' (' || coalesce(result, 'no result') || ')' "
            "AS label, postmortem_id || '/' || check_id AS sort_key FROM marts.checklist_compliance "
            "WHERE (check_id IN ('em_notified', 'timeline_populating', 'impact_drafted') "
            "AND result = 'passed') "
            "OR result NOT IN ('passed', 'failed', 'unknown', 'pending', 'not_applicable') "
            "OR result IS NULL",
        )
    return dg.AssetCheckResult(passed=bad.count == 0, description=describe(bad),
                               metadata=metadata(bad))


@dg.asset_check(asset=dg.AssetKey(["marts", "follow_through"]),
                description="Counts add up: done within the window never exceeds matured items.")
def follow_through_counts_add_up(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as conn:
        items, status = conn.execute(
            "SELECT coalesce(sum(items), 0), (SELECT count(*) FROM models.action_item_status "
            "WHERE identified_at IS NOT NULL) FROM marts.follow_through"
        ).fetchone()
        bad = offenders(
            conn, "bad_rows", "team-month(s) whose counts do not add up",
            "SELECT coalesce(team, '(no team)') || ' ' || left(month::VARCHAR, 7) AS label, "
            "coalesce(team, '') || month::VARCHAR AS sort_key FROM marts.follow_through "
            "WHERE done_within > matured OR matured > items "
            "OR p1_resolved_within + p1_rescheduled_justified > p1_matured OR slo_met > slo_matured",
        )
    sums = "" if items == status else (
        f"; the months count {items} item(s) but {status} identified item(s) have a status"
    )
    return dg.AssetCheckResult(passed=bad.count == 0 and items == status,
                               description=describe(bad) + sums,
                               metadata=metadata(bad, items=items, status_rows=status))
