"""One settings object: every FOLLOWTHROUGH_* variable parsed in one place, with clear errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from models.settings import SettingError, Settings, warehouse_path


def test_defaults_without_environment() -> None:
    s = Settings.load({})
    assert s.warehouse == Path("warehouse.duckdb") and s.exports == Path("sample-org")
    assert s.postmortems is None and s.start_date == date(2025, 1, 1)
    assert s.follow_through.benchmark_days == 4.3 and s.follow_through.as_of is None


def test_values_from_environment_and_flags_on_top() -> None:
    env = {"FOLLOWTHROUGH_WAREHOUSE": "/data/w.duckdb", "FOLLOWTHROUGH_EXPORTS": "/data/x",
           "FOLLOWTHROUGH_DONE_WITHIN_DAYS": "45", "FOLLOWTHROUGH_SLO_OTHER_WEEKS": "6",
           "FOLLOWTHROUGH_AS_OF": "2026-03-01T00:00:00Z", "FOLLOWTHROUGH_START_DATE": "2025-05-01",
           "FOLLOWTHROUGH_MIN_CI_RUNS": " 12 ", "FOLLOWTHROUGH_POSTMORTEMS": ""}
    s = Settings.load(env, warehouse=Path("other.duckdb"), exports=None)
    assert s.warehouse == Path("other.duckdb")  # the flag wins
    assert s.exports == Path("/data/x")  # no flag given: the environment
    assert s.postmortems is None  # empty means unset
    ft = s.follow_through
    assert (ft.done_within_days, ft.slo_other_weeks, ft.min_ci_runs) == (45.0, 6.0, 12)
    assert ft.as_of == datetime(2026, 3, 1, tzinfo=UTC)
    assert s.start_date == date(2025, 5, 1)


@pytest.mark.parametrize("name", ["BENCHMARK_DAYS", "DONE_WITHIN_DAYS", "P1_WITHIN_DAYS",
                                  "INACTIVITY_DAYS", "VERIFICATION_DAYS",
                                  "VERIFICATION_WINDOW_DAYS", "FUZZY_WINDOW_DAYS"])
def test_fractional_days_are_valid_wherever_days_are(name: str) -> None:
    s = Settings.load({f"FOLLOWTHROUGH_{name}": "4.3"})
    assert getattr(s.follow_through, name.lower()) == 4.3


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("BENCHMARK_DAYS", "abc", "a number >= 0"),
    ("BENCHMARK_DAYS", "-1", "a number >= 0"),
    ("BENCHMARK_DAYS", "nan", "a number >= 0"),
    ("DONE_WITHIN_DAYS", "soon", "a number >= 0"),
    ("MIN_CI_RUNS", "2.5", "a whole number"),
    ("FUZZY_THRESHOLD", "1.5", "a number in (0, 1]"),
    ("FUZZY_THRESHOLD", "0", "a number in (0, 1]"),
    ("AS_OF", "last tuesday", "an ISO-8601 timestamp"),
    ("START_DATE", "2025-13-01", "a date YYYY-MM-DD"),
])
def test_bad_value_names_variable_value_and_expected_form(name: str, value: str,
                                                         expected: str) -> None:
    with pytest.raises(SettingError) as err:
        Settings.load({f"FOLLOWTHROUGH_{name}": value})
    message = str(err.value)
    assert message.startswith(f"FOLLOWTHROUGH_{name}={value!r}: expected ")
    assert expected in message and "\n" not in message


def test_only_reads_the_variables_a_command_needs() -> None:
    env = {"FOLLOWTHROUGH_WAREHOUSE": "w.duckdb", "FOLLOWTHROUGH_BENCHMARK_DAYS": "abc"}
    assert warehouse_path(env=env) == Path("w.duckdb")
    assert warehouse_path("given.duckdb", env=env) == Path("given.duckdb")
    with pytest.raises(SettingError):
        Settings.load(env)


def test_environment_round_trip() -> None:
    """What the CLI hands to a Dagster run or the dashboard parses back to the same settings."""
    s = Settings.load({"FOLLOWTHROUGH_BENCHMARK_DAYS": "2.5",
                       "FOLLOWTHROUGH_AS_OF": "2026-03-01T12:30:00+02:00",
                       "FOLLOWTHROUGH_POSTMORTEMS": "pm"}, warehouse=Path("/abs/w.duckdb"))
    assert Settings.load(s.environment()) == s
