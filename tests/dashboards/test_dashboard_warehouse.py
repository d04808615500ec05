"""The dashboard's readers: read-only, never holding the file, explaining what is missing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from dashboards.reads import connection, core_incidents
from dashboards.reads.time_to_ticket import load_time_to_ticket


def test_loads_every_item_including_never_ticketed(
    warehouse: Path, fixture_items: list[tuple], expected: dict[str, float]
) -> None:
    df = load_time_to_ticket(warehouse)
    assert len(df) == len(fixture_items)
    assert int((~df["ticketed"]).sum()) == expected["never"]
    assert str(df["identified_at"].dt.tz) == "UTC"


def test_missing_file_is_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(connection.WarehouseMissing):
        load_time_to_ticket(tmp_path / "nope.duckdb")
    assert not (tmp_path / "nope.duckdb").exists(), "a read must never create the file"


def test_missing_table_names_the_table(build_warehouse: Callable[..., Path]) -> None:
    path = build_warehouse("w.duckdb", items=False)
    with pytest.raises(connection.TableMissing) as err:
        load_time_to_ticket(path)
    assert err.value.table.startswith("marts.time_to_ticket")
    assert core_incidents.load_incident_summary(path)["incidents"].max() == 5


def test_reader_does_not_keep_the_file_locked(warehouse: Path) -> None:
    load_time_to_ticket(warehouse)
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
        with pytest.raises(connection.WarehouseBusy):
            load_time_to_ticket(warehouse)
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_warehouse_file_follows_the_one_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard resolves the file like every command: warehouse.db.warehouse_path."""
    monkeypatch.delenv(connection.WAREHOUSE_ENV, raising=False)
    assert connection.warehouse() == Path("warehouse.duckdb")
    monkeypatch.setenv(connection.WAREHOUSE_ENV, "/data/w.duckdb")
    assert connection.warehouse() == Path("/data/w.duckdb")
