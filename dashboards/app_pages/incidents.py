"""Incidents: volume per month and service, for context around the action items."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, ui
from dashboards.formatting import NO_SERVICE, format_hours, format_share
from dashboards.reads.core_incidents import incidents_per_month_service

st.title("Incidents")

incidents = ui.incidents()
if incidents is None:
    st.stop()
if incidents.empty:
    st.info("`core.incidents` is empty: no incidents ingested yet.")
    st.stop()

services = sorted(incidents["service"].fillna(NO_SERVICE).unique())
chosen = st.columns([2, 3])[0].multiselect("Service", services, placeholder="All services")
shown = (
    incidents[incidents["service"].fillna(NO_SERVICE).isin(chosen)] if chosen else incidents
)

resolve_hours = (shown["resolved_at"] - shown["created_at"]).dt.total_seconds() / 3600.0
with_pm = ui.postmortem_incident_ids()

c1, c2, c3, c4 = st.columns(4)
c1.metric("Incidents", f"{len(shown):,}")
c2.metric(
    "Services affected",
    f"{shown['service'].nunique():,}",
    help="Distinct named services; incidents without a service are not counted here.",
)
c3.metric(
    "Median time to resolve",
    format_hours(resolve_hours.median() if resolve_hours.notna().any() else None),
    help="Over resolved incidents only.",
)
if with_pm is None:
    c4.metric("With a postmortem", "—", help="core.postmortems is not built yet.")
else:
    covered = int(shown["incident_id"].astype(str).isin(with_pm).sum())
    c4.metric(
        "With a postmortem",
        format_share(covered / len(shown) if len(shown) else None),
        help=f"{covered:,} of {len(shown):,} incidents are referenced by a postmortem.",
    )

counts = incidents_per_month_service(shown)
st.subheader("Incidents per month and service")
if counts.empty:
    st.info("No incident has a creation date.")
else:
    st.altair_chart(charts.incidents_chart(counts), width="stretch")
    pivot = (
        counts.assign(month=counts["month"].dt.strftime("%Y-%m"))
        .pivot_table(index="month", columns="service", values="incidents", fill_value=0)
        .astype(int)
    )
    pivot["total"] = pivot.sum(axis=1)
    st.dataframe(pivot, width="stretch")
