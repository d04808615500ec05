"""Each dashboard page rendered by Streamlit's AppTest against a fixture warehouse file."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import charts
from dashboards.formatting import format_hours
from dashboards.reads.connection import WAREHOUSE_ENV
from dashboards.reads.time_to_ticket import load_histogram
from followthrough.commands import serve

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
BENCHMARK_ENV = "FOLLOWTHROUGH_BENCHMARK_DAYS"


def _app(monkeypatch: pytest.MonkeyPatch, warehouse: Path, **env: str) -> AppTest:
    monkeypatch.setenv(WAREHOUSE_ENV, str(warehouse))
    monkeypatch.delenv(BENCHMARK_ENV, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_headline(
    monkeypatch: pytest.MonkeyPatch, warehouse: Path, expected: dict[str, float]
) -> None:
    at = _app(monkeypatch, warehouse)
    assert _metrics(at) == {
        "Action items": "10",
        "Ticketed": "70%",
        "Median time to ticket": "36.0 h · 1.5 d",
        "Never ticketed": "3",
        "Ticketed within 24 h": "30%",
        "Beyond 4.3 days": "50%",
    }
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["Never ticketed"] == "30% of items"
    assert deltas["Beyond 4.3 days"] == "5 items"
    note = at.warning[0].value
    assert "Never ticketed: 3 (30%)" in note
    assert format_hours(expected["km_median_hours"]) in note  # Kaplan–Meier median
    captions = " ".join(c.value for c in at.caption)
    assert "4.3 days — vendor-reported industry figure" in captions
    assert "1 item without an identification date" in captions


@pytest.mark.parametrize(("bench", "beyond"), [(1.0, "70%"), (2.0, "60%"), (4.3, "50%")])
def test_benchmark_is_the_builds(
    monkeypatch: pytest.MonkeyPatch,
    build_warehouse: Callable[..., Path],
    bench: float,
    beyond: str,
) -> None:
    """The dashboard shows the benchmark stored by the build, whatever the environment says."""
    path = build_warehouse(benchmark_days=bench)
    at = _app(monkeypatch, path, **{BENCHMARK_ENV: "9"})
    # 1 day: ticketed after 36, 50, 120, 200 h plus 3 never ticketed = 7 of 10;
    # 2 days: 50, 120, 200 h plus 3 never ticketed = 6 of 10.
    assert _metrics(at)[f"Beyond {bench:g} days"] == beyond
    assert f"**Benchmark:** {bench:g} days" in [m.value for m in at.sidebar.markdown]
    assert f"{bench:g} days — vendor-reported industry figure" in " ".join(
        c.value for c in at.caption
    )
    assert not at.sidebar.number_input  # no what-if input: the marts hold the build's value


def test_action_items_page_filters(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> None:
    at = _app(monkeypatch, warehouse)
    at.switch_page("app_pages/action_items.py").run()
    assert not at.exception
    assert at.markdown[0].value.startswith("**10** of 10 action items shown · **3** never")
    table = at.dataframe[0].value
    assert len(table) == 10
    assert set(table["ticket link"].dropna()) == {
        f"https://example.atlassian.net/browse/OPS-{100 + n}" for n in (1, 2, 3, 5, 6, 8, 10)
    }

    at.radio(key="status").set_value("never ticketed").run()
    assert at.markdown[0].value.startswith("**3** of 10 action items shown · **3** never")
    assert at.dataframe[0].value["ticket"].isna().all()

    at.radio(key="status").set_value("all").run()
    at.multiselect[0].set_value(["search"]).run()  # team
    at.checkbox(key="beyond").check().run()
    shown = at.dataframe[0].value
    assert sorted(shown["action item"]) == [
        "Add alerting for failure mode 6",
        "Add alerting for failure mode 7",
    ]
    assert at.markdown[0].value.startswith("**2** of 10 action items shown · **1** never")


def test_incidents_page(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> None:
    at = _app(monkeypatch, warehouse)
    at.switch_page("app_pages/incidents.py").run()
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Incidents"] == "5"
    assert metrics["Median time to resolve"] == "4.0 h · 0.2 d"  # 1, 3, 5, 8 h
    assert metrics["With a postmortem"] == "40%"  # INC-1 and INC-3
    pivot = at.dataframe[0].value
    assert list(pivot["total"]) == [3, 1, 1]


def test_incidents_page_without_tables(
    monkeypatch: pytest.MonkeyPatch, build_warehouse: Callable[..., Path]
) -> None:
    path = build_warehouse("w.duckdb", incidents=False, postmortems=False)
    at = _app(monkeypatch, path)
    assert _metrics(at)["Action items"] == "10"  # the overview does not need them
    at.switch_page("app_pages/incidents.py").run()
    assert not at.exception
    assert "marts.incident_summary" in at.warning[0].value
    assert "followthrough build" in at.warning[0].value


def test_missing_warehouse_explains_how_to_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _app(monkeypatch, tmp_path / "absent.duckdb")
    assert not at.metric
    text = at.warning[0].value
    assert "No warehouse at" in text and "followthrough build" in text and "make demo" in text
    at.switch_page("app_pages/action_items.py").run()
    assert not at.exception and "followthrough build" in at.warning[0].value


def test_missing_table_explains_how_to_build(
    monkeypatch: pytest.MonkeyPatch, build_warehouse: Callable[..., Path]
) -> None:
    at = _app(monkeypatch, build_warehouse("w.duckdb", items=False))
    assert "marts.time_to_ticket" in at.warning[0].value
    assert "followthrough build" in at.warning[0].value


def test_empty_mart_says_so(
    monkeypatch: pytest.MonkeyPatch, build_warehouse: Callable[..., Path]
) -> None:
    at = _app(monkeypatch, build_warehouse("w.duckdb", no_items=True))
    assert not at.metric
    assert "no postmortem action items yet" in at.info[0].value
    at.switch_page("app_pages/action_items.py").run()
    assert not at.exception and not at.dataframe
    assert "no postmortem action items yet" in at.info[0].value


def test_locked_warehouse_shows_retry_message(
    monkeypatch: pytest.MonkeyPatch, warehouse: Path
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            f"c = duckdb.connect({str(warehouse)!r})\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        at = _app(monkeypatch, warehouse)
        assert "being rebuilt" in at.info[0].value
        assert "retry in a moment" in at.info[0].value.lower()
        assert not at.metric
    finally:
        holder.kill()
        holder.wait(timeout=10)
    at.button[0].click().run()  # the writer is done: Retry shows the numbers
    assert _metrics(at)["Action items"] == "10"


def test_distribution_chart_carries_benchmark_label(warehouse: Path) -> None:
    spec = str(charts.distribution_chart(load_histogram(warehouse), 4.3).to_dict())
    assert "4.3 days — vendor-reported industry figure" in spec


def test_serve_parser_and_command(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    serve.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--warehouse", str(tmp_path / "w.duckdb")])
    assert (args.port, args.host, args.func) == (8501, "127.0.0.1", serve.run)
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--port", "70000"])
    cmd = serve.streamlit_command("127.0.0.1", 9999)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(cmd[4]) == APP
    assert cmd[cmd.index("--server.port") + 1] == "9999"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
