"""Recurring failures: CI failure clusters that keep coming back, and fixes that did not hold."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, ui
from dashboards.formatting import format_share
from dashboards.reads import failure_clusters as rc
from dashboards.reads.connection import BUILD_HINT

st.title("Recurring failures")
st.caption(
    "CI failures grouped into clusters of the same failure. A cluster that keeps failing after "
    "its ticket was resolved is a fix that did not hold."
)

totals = ui.table("marts.recurring_failure_summary", "no CI failures have been clustered yet")
if totals is None:
    st.stop()
sizes = ui.table("marts.failure_cluster_sizes", "no CI failures have been clustered yet")
if sizes is None:
    st.stop()
fixes = ui.table("marts.fixes_not_held", "no fix that did not hold", quiet=True)
recurrences_built = fixes is not None or ui.built("models.recurrences")

repos = sorted(totals.loc[totals["grouping_set"] == "repo", "repo"].unique())
f1, f2 = st.columns([3, 1])
chosen = f1.selectbox(
    "Repository",
    [None, *repos],
    format_func=lambda r: "All repositories" if r is None else r,
    key="rc_repo",
)
min_failures = int(
    f2.number_input("At least N failures", min_value=1, value=2, step=1, key="rc_min")
)
summary = ui.read(
    rc.load_cluster_summary, chosen, what="No CI failure clusters in this repository."
)
if summary is None or summary.empty:
    st.stop()
top = summary[summary["failures"] >= min_failures]
size = rc.at_least(rc.scoped(sizes, chosen), min_failures)
total = rc.scoped(totals, chosen).iloc[0]
broken = rc.scoped(fixes, chosen) if fixes is not None else None
if broken is None and recurrences_built:  # built, and no fix failed to hold
    broken = pd.DataFrame()

quiet = {"delta_color": "off", "delta_arrow": "off"}
c1, c2, c3, c4 = st.columns(4, border=True)
c1.metric(
    "Clustered CI failures",
    f"{int(total['failures']):,}",
    delta=f"{int(total['clusters']):,} clusters",
    **quiet,
)
c2.metric(
    f"Clusters with ≥ {min_failures} failures",
    f"{0 if size is None else int(size['clusters']):,}",
    delta=f"{format_share(0.0 if size is None else size['share_of_failures'])} of failures",
    **quiet,
)
c3.metric(
    "Linked clusters",
    f"{0 if size is None else int(size['linked_clusters']):,}",
    delta=f"of {0 if size is None else int(size['clusters']):,} clusters",
    help="Clusters a ticket, postmortem or incident cites (by run or job URL, commit or key): "
    "someone has looked at them.",
    **quiet,
)
if broken is None:
    c4.metric("Fix did not hold", "—", help="models.recurrences is not built yet.")
else:
    c4.metric(
        "Fix did not hold",
        f"{int(total['fix_clusters']):,} clusters",
        delta=f"{int(total['failures_after_fix']):,} failures after a fix",
        help="Failures of a cluster after one of its linked tickets was resolved.",
        **quiet,
    )

st.subheader("Top recurring clusters")
if top.empty:
    st.info(f"No cluster has {min_failures} or more failures with these filters.")
else:
    st.dataframe(
        top.assign(
            first_seen=top["first_seen"].dt.tz_convert("UTC").dt.tz_localize(None),
            last_seen=top["last_seen"].dt.tz_convert("UTC").dt.tz_localize(None),
        )[
            [
                "signature",
                "failures",
                "repos",
                "first_seen",
                "last_seen",
                "failures_after_fix",
                "tickets",
                "postmortems",
                "incidents",
                "cluster_id",
                "repo_list",
            ]
        ],
        hide_index=True,
        width="stretch",
        placeholder="—",
        height=min(38 + 35 * len(top), 460),
        column_config={
            "cluster_id": st.column_config.TextColumn("Cluster", width="small"),
            "signature": st.column_config.TextColumn(
                "Failure (masked)", width="large", help="First line of the cluster's excerpt."
            ),
            "failures": st.column_config.NumberColumn("Failures"),
            "repos": st.column_config.NumberColumn("Repos"),
            "first_seen": st.column_config.DatetimeColumn("First seen", format="YYYY-MM-DD"),
            "last_seen": st.column_config.DatetimeColumn("Last seen", format="YYYY-MM-DD"),
            "tickets": "Tickets",
            "postmortems": "Postmortems",
            "incidents": "Incidents",
            "failures_after_fix": st.column_config.NumberColumn(
                "After a fix", help="Failures after a linked ticket was resolved."
            ),
            "repo_list": st.column_config.TextColumn("Repositories", width="medium"),
        },
    )

st.subheader("Fixes that did not hold")
if broken is None:
    st.info(f"`models.recurrences` is not built yet. {BUILD_HINT}")
elif broken.empty:
    st.success("No cluster failed again after its fix ticket was resolved.")
else:
    st.dataframe(
        broken.rename(columns={"signature": "failure"}).assign(
            fix_resolved_at=broken["fix_resolved_at"].dt.tz_convert("UTC").dt.tz_localize(None),
            first_after_fix=broken["first_after_fix"].dt.tz_convert("UTC").dt.tz_localize(None),
            last_after_fix=broken["last_after_fix"].dt.tz_convert("UTC").dt.tz_localize(None),
        ),
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_order=(
            "failure",
            "fix_ticket_key",
            "ticket_url",
            "ticket_title",
            "fix_resolved_at",
            "failures_after_fix",
            "first_after_fix",
            "last_after_fix",
            "repos",
            "cluster_id",
        ),
        column_config={
            "cluster_id": "Cluster",
            "failure": st.column_config.TextColumn("Failure (masked)", width="medium"),
            "fix_ticket_key": "Fix ticket",
            "ticket_url": st.column_config.LinkColumn("Link", display_text="open ↗"),
            "ticket_title": st.column_config.TextColumn("Ticket title", width="medium"),
            "fix_resolved_at": st.column_config.DatetimeColumn("Resolved", format="YYYY-MM-DD"),
            "failures_after_fix": st.column_config.NumberColumn("Failures since"),
            "first_after_fix": st.column_config.DatetimeColumn(
                "First failure after", format="YYYY-MM-DD"
            ),
            "last_after_fix": st.column_config.DatetimeColumn("Latest", format="YYYY-MM-DD"),
            "repos": "Repositories",
        },
    )

# --- Drill-down ------------------------------------------------------------------------------
st.subheader("One cluster")
options = list(top["cluster_id"]) if not top.empty else list(summary["cluster_id"])
labels = summary.set_index("cluster_id")
cluster_id = st.selectbox(
    "Cluster",
    options,
    format_func=lambda c: f"{c} · {labels.at[c, 'failures']} failures · {labels.at[c, 'signature']}",
    key="rc_cluster",
)
if cluster_id is not None:
    row = labels.loc[cluster_id]
    latest = ui.read(rc.load_latest_failure, cluster_id, chosen, quiet=True)
    d1, d2, d3 = st.columns(3, border=True)
    d1.metric("Failures", f"{int(row['failures']):,}", delta=f"in {int(row['repos'])} repos", **quiet)
    d2.metric("First seen", f"{row['first_seen']:%Y-%m-%d}")
    d3.metric("Last seen", f"{row['last_seen']:%Y-%m-%d}")
    if latest is not None and not latest.empty:
        last = latest.iloc[0]
        message = last["message"] if isinstance(last["message"], str) else None
        where = f"{last['repo']} · {last['job_name']} · {last['failed_at']:%Y-%m-%d %H:%M} UTC"
        if message:
            st.info(f"**Latest failure** ({where}): {message}", icon=":material/history:")
        else:
            st.info(f"**Latest failure**: {where}", icon=":material/history:")
        if isinstance(last["url"], str) and last["url"]:
            st.markdown(f"[Open the failed job ↗]({last['url']})")
        got = ui.excerpt(last["provider"], int(last["job_id"]))
        if got is not None:
            lines, total_lines = got
            if lines:
                of = f" of {total_lines:,}" if total_lines else ""
                st.caption(
                    f"Log excerpt of the latest failure: {len(lines):,} lines{of}, secrets "
                    "already redacted. Lines marked › were picked as the failure; lines marked "
                    "· are context kept around them."
                )
                st.code(rc.format_excerpt(lines), language=None, line_numbers=False)
            else:
                st.caption("The latest failure's log gave no excerpt (empty or binary log).")
    weekly = ui.read(rc.load_weekly, cluster_id, chosen, quiet=True)
    if weekly is not None and not weekly.empty:
        st.caption("Failures of this cluster per week, all repositories together.")
        st.altair_chart(charts.weekly_failures_chart(weekly), width="stretch")
    mine = ui.read(rc.load_cluster_links, cluster_id, quiet=True)
    if mine is not None:
        if not mine.empty:
            st.dataframe(
                pd.DataFrame(
                    {
                        "type": mine["link_type"],
                        "id": mine["target_id"],
                        "link": mine["url"].where(mine["link_type"] == "ticket"),
                        "evidence": mine["evidence"],
                        "linked": mine["linked_at"].dt.tz_convert("UTC").dt.tz_localize(None),
                    }
                ),
                hide_index=True,
                width="stretch",
                placeholder="—",
                column_config={
                    "link": st.column_config.LinkColumn("Link", display_text="open ↗"),
                    "evidence": st.column_config.TextColumn(
                        "Found by", help="run_url, job_url, commit_sha, ticket_key, time_window"
                    ),
                    "linked": st.column_config.DatetimeColumn("Since", format="YYYY-MM-DD"),
                },
            )
        else:
            st.caption("No ticket, postmortem or incident cites this cluster's failures.")

# --- Repeat incidents --------------------------------------------------------------------------
repeats = ui.table("marts.repeat_incidents", "no repeat incidents", quiet=True)
if repeats is not None:
    st.subheader("Repeat incidents")
    st.caption(
        "Incidents whose cluster (same service and normalised title) already had a postmortem. "
        "“Fix did not hold”: every prior action item was done and it happened again; otherwise "
        "the repeat is a follow-through failure."
    )
    st.dataframe(
        repeats.assign(created_at=repeats["created_at"].dt.tz_convert("UTC").dt.tz_localize(None))[
            [
                "created_at",
                "title",
                "service",
                "team",
                "previous_postmortem_id",
                "days_since_postmortem",
                "prior_items",
                "prior_items_done",
                "fix_did_not_hold",
            ]
        ],
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_config={
            "created_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD"),
            "service": "Service",
            "team": "Team",
            "title": st.column_config.TextColumn("Incident", width="medium"),
            "previous_postmortem_id": "Earlier postmortem",
            "days_since_postmortem": st.column_config.NumberColumn("Days after it", format="%.0f"),
            "prior_items": st.column_config.NumberColumn("Its items"),
            "prior_items_done": st.column_config.NumberColumn("Done before"),
            "fix_did_not_hold": st.column_config.CheckboxColumn("Fix did not hold"),
        },
    )
