"""How the dashboard reads the warehouse file.

The fixture warehouse and its hand-worked figures are the `build_dashboard_warehouse` and
`dashboard_expected` fixtures in conftest.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dashboards import data


@pytest.fixture
def warehouse(build_dashboard_warehouse, tmp_path: Path) -> Path:
    return build_dashboard_warehouse(tmp_path / "warehouse.duckdb")


def test_loads_every_item_including_never_ticketed(dashboard_expected, warehouse: Path) -> None:
    df = data.load_time_to_ticket(warehouse)
    assert len(df) == dashboard_expected["total"]
    assert int(df["hours_to_ticket"].isna().sum()) == dashboard_expected["never"]
    assert str(df["identified_at"].dt.tz) == "UTC"


def test_missing_file_is_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(data.WarehouseMissing):
        data.load_time_to_ticket(tmp_path / "nope.duckdb")
    assert not (tmp_path / "nope.duckdb").exists(), "a read must never create the file"


def test_missing_table_names_the_table(build_dashboard_warehouse, tmp_path: Path) -> None:
    path = build_dashboard_warehouse(tmp_path / "w.duckdb", items=False)
    with pytest.raises(data.TableMissing) as err:
        data.load_time_to_ticket(path)
    assert err.value.table == "marts.time_to_ticket"
    assert data.load_postmortem_incident_ids(path) == {"INC-1", "INC-3"}


def test_absent_postmortems_give_no_coverage_rather_than_zero(
    build_dashboard_warehouse, tmp_path: Path
) -> None:
    path = build_dashboard_warehouse(tmp_path / "w.duckdb", postmortems=False)
    assert data.load_postmortem_incident_ids(path) is None


def test_reader_does_not_keep_the_file_locked(warehouse: Path) -> None:
    data.load_time_to_ticket(warehouse)
    # A writer must be able to open the file right after a dashboard query.
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE marts.writer_was_here (x INTEGER)")
    con.close()


def test_file_locked_by_a_writer_process_is_busy(warehouse: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"c = duckdb.connect({str(warehouse)!r})\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(data.WarehouseBusy):
            data.load_time_to_ticket(warehouse)
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_warehouse_path_and_benchmark_from_environment() -> None:
    assert data.warehouse_path({}) == Path("warehouse.duckdb")
    assert data.warehouse_path({data.WAREHOUSE_ENV: "/data/w.duckdb"}) == Path("/data/w.duckdb")
    assert data.default_benchmark_days({}) == 4.3
    assert data.default_benchmark_days({data.BENCHMARK_ENV: "7"}) == 7.0
    assert data.default_benchmark_days({data.BENCHMARK_ENV: "soon"}) == 4.3
    assert data.default_benchmark_days({data.BENCHMARK_ENV: "-1"}) == 4.3
