"""Automation: the incident tickets and alerts followthrough opened (or, in dry run, would open)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards import ui
from dashboards.reads import automation as reads


@st.cache_data(ttl=ui.CACHE_TTL_SECONDS, show_spinner=False)
def _outbox(path: str, mtime: int) -> pd.DataFrame:
    return reads.load_outbox(Path(path))


st.title("Automation")
st.caption(
    "Every failed production deployment becomes one incident ticket (and, above the severity "
    "threshold, a Slack alert) through `automation.outbox`. Targets are dry run until "
    "`live = true` and their credentials are set; a dry-run row shows exactly what would be sent."
)

df = ui._load(_outbox, ui.warehouse())
if df is None:
    st.stop()
if df.empty:
    st.info("The outbox is empty: run `followthrough automate --once` or start the "
            "`deploy_failure_sensor`.")
    st.stop()

head = reads.headline(df)
c1, c2, c3, c4, c5 = st.columns(5, border=True)
c1.metric("Incident tickets", f"{head.tickets:,}",
          delta=f"{head.tickets_sent:,} created", delta_color="off", delta_arrow="off")
c2.metric("Dry run", f"{head.dry_run:,}", help="Rows kept as what would have been sent.")
c3.metric("Waiting or failed", f"{head.waiting:,}",
          delta=f"{head.failed:,} failed, retried later", delta_color="off", delta_arrow="off")
c4.metric("Alerts sent", f"{head.alerts_sent:,}",
          help="Slack channel alerts, EM messages (Slack DM or email), digests "
          "and comments on tickets whose fix did not hold.")
med = head.median_minutes_to_ticket
c5.metric("Median failure → ticket", "—" if med is None else f"{med:.1f} min",
          help="From the deployment failing to the ticket existing, over tickets really created "
          "(dry-run rows have no creation time).")

st.subheader("Outbox by status")
st.dataframe(reads.by_status(df), hide_index=True)

st.subheader("Waiting or failed")
pending = reads.waiting(df)
if pending.empty:
    st.success("Nothing is waiting: every row was sent or is a dry run.")
else:
    st.dataframe(pending, hide_index=True)

st.subheader("Tickets")
tickets = df[df["kind"] == "ticket"][
    ["idempotency_key", "severity", "rule", "target", "status", "external_key", "external_url",
     "event_at", "sent_at"]]
st.dataframe(tickets, hide_index=True,
             column_config={"external_url": st.column_config.LinkColumn("ticket")})
