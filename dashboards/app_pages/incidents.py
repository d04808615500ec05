"""Incidents: volume per month and service, for context around the action items."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, ui
from dashboards.formatting import format_hours, format_share
from dashboards.reads.core_incidents import month_table, monthly_rows, summary_row

ALL_SERVICES = "All services"

st.title("Incidents")

summary = ui.incident_summary()
monthly = ui.incidents_monthly()
if summary is None or monthly is None:
    st.stop()
overall = summary_row(summary, None)
if overall is None or not overall["incidents"]:
    st.info("`core.incidents` is empty: no incidents ingested yet.")
    st.stop()

services = sorted(summary.loc[summary["grouping_set"] == "service", "service"])
picked = st.columns([2, 3])[0].selectbox("Service", [ALL_SERVICES, *services])
service = None if picked == ALL_SERVICES else picked
row = summary_row(summary, service)

c1, c2, c3, c4 = st.columns(4)
c1.metric("Incidents", f"{int(row['incidents']):,}")
c2.metric(
    "Services affected",
    f"{int(row['services']):,}",
    help="Distinct named services; incidents without a service are not counted here.",
)
c3.metric(
    "Median time to resolve",
    format_hours(row["median_hours_to_resolve"]),
    help="Over resolved incidents only.",
)
c4.metric(
    "With a postmortem",
    format_share(row["share_with_postmortem"]),
    help=f"{int(row['with_postmortem']):,} of {int(row['incidents']):,} incidents are referenced "
    "by a postmortem.",
)

counts = monthly_rows(monthly, service)
st.subheader("Incidents per month and service")
if counts.empty:
    st.info("No incident has a creation date.")
else:
    st.altair_chart(charts.incidents_chart(counts), width="stretch")
    st.dataframe(month_table(monthly, service), width="stretch")
