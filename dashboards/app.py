"""Leadership dashboard entry point: `followthrough serve` runs this file with Streamlit."""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import dashboards  # noqa: F401
except ImportError:  # running from a source checkout that is not pip-installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from dashboards import ui

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="followthrough", page_icon=":material/task_alt:", layout="wide")

pages = {
    "Action items": [
        st.Page(
            str(HERE / "app_pages" / "overview.py"),
            title="Overview",
            icon=":material/insights:",
            default=True,
        ),
        st.Page(
            str(HERE / "app_pages" / "follow_through.py"),
            title="Follow-through",
            icon=":material/done_all:",
        ),
        st.Page(
            str(HERE / "app_pages" / "stale.py"),
            title="Stale action items",
            icon=":material/hourglass_disabled:",
        ),
        st.Page(
            str(HERE / "app_pages" / "action_items.py"),
            title="Action items",
            icon=":material/checklist:",
        ),
    ],
    "Learning": [
        st.Page(
            str(HERE / "app_pages" / "quality.py"),
            title="Postmortem quality",
            icon=":material/fact_check:",
        ),
        st.Page(
            str(HERE / "app_pages" / "recurring.py"),
            title="Recurring failures",
            icon=":material/repeat:",
        ),
        st.Page(
            str(HERE / "app_pages" / "incidents.py"),
            title="Incidents",
            icon=":material/emergency:",
        ),
        st.Page(
            str(HERE / "app_pages" / "automation.py"),
            title="Automation",
            icon=":material/smart_toy:",
        ),
    ],
}
nav = st.navigation(pages)

ui.show_benchmark()
st.sidebar.caption(f"Warehouse: `{ui.warehouse()}`")
st.sidebar.caption("Data is re-read at most once a minute, or as soon as the file changes.")

nav.run()
