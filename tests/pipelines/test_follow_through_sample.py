"""The sample organisation's planted truths come back out of the follow-through marts."""

from __future__ import annotations

import json
from datetime import datetime

import dagster as dg
import duckdb
import pytest

from models.analytics.follow_through import FollowThroughSettings
from models.settings import Settings
from pipelines.run import FOLLOW_THROUGH, RAW, materialize, raw_run_config
from sampleorg.generator import generate

# marts.stale_action_items reason -> the generator's name for it
REASON_NAMES = {
    "no_ticket_24h": "no_ticket_24h", "no_owner": "no_owner",
    "no_target_sprint": "no_target_sprint", "open_past_sprint": "ticket_open_past_sprint",
    "no_activity": "no_activity_30d", "p1_unjustified": "p1_past_30d_unjustified",
    "verification_missing": "verification_missing",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("org")
    exports = root / "exports"
    generate(exports, seed=7, scale=0.05)
    truth = json.loads((exports / "groundtruth.json").read_text(encoding="utf-8"))
    # the generator's clock: staleness is judged at the end of its window
    as_of = datetime.fromisoformat(truth["as_of"].replace("Z", "+00:00"))
    settings = Settings(warehouse=root / "w.duckdb", exports=exports,
                        follow_through=FollowThroughSettings(as_of=as_of))
    assert materialize(settings, RAW, run_config=raw_run_config(False)).succeeded
    assert materialize(settings, dg.AssetSelection.groups("core") | FOLLOW_THROUGH).succeeded
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    yield truth, conn
    conn.close()


def test_planted_links_delays_and_never_ticketed(sample: tuple[dict, duckdb.DuckDBPyConnection],
                                                 ) -> None:
    truth, conn = sample
    got = {r[0]: r[1:] for r in conn.execute(
        "SELECT action_item_id, ticket_key, hours_to_ticket FROM marts.time_to_ticket"
    ).fetchall()}
    items = truth["action_items"]
    assert len(got) == len(items)
    for a in items:
        key, hours = got[a["action_item_id"]]
        assert key == a["ticket_key"], a["action_item_id"]
        if a["delay_hours"] is None:
            assert hours is None
        else:
            assert hours == pytest.approx(a["delay_hours"], abs=0.01)
    never = [a for a in items if a["ticket_key"] is None]
    assert never, "the sample should plant never-ticketed items"
    fuzzy_only = [a["action_item_id"] for a in items if a["link_kind"] == "fuzzy"]
    assert fuzzy_only, "the sample should plant tickets that only a fuzzy match can find"
    kinds = dict(conn.execute(
        "SELECT action_item_id, link_kind FROM models.action_item_tickets"
    ).fetchall())
    assert all(kinds.get(a) == "fuzzy" for a in fuzzy_only)
    [(n,)] = conn.execute("SELECT sum(never_ticketed) FROM marts.time_to_ticket_distribution "
                          "WHERE grouping_set = 'team'").fetchall()
    assert n == len(never)


def test_planted_stale_reasons(sample: tuple[dict, duckdb.DuckDBPyConnection]) -> None:
    truth, conn = sample
    mine: dict[str, set[str]] = {}
    for item, reason in conn.execute(
        "SELECT action_item_id, reason FROM marts.stale_action_items "
        "WHERE reason <> 'verification_unchecked'"
    ).fetchall():
        mine.setdefault(item, set()).add(REASON_NAMES[reason])
    for a in truth["action_items"]:
        assert mine.get(a["action_item_id"], set()) == set(a["stale_reasons"]), a["action_item_id"]
    assert sum(bool(a["stale"]) for a in truth["action_items"]) == len(mine)


def test_planted_completion_and_justified_reschedules(
    sample: tuple[dict, duckdb.DuckDBPyConnection],
) -> None:
    truth, conn = sample
    got = {r[0]: r[1:] for r in conn.execute(
        "SELECT a.action_item_id, a.done, a.closed_at, a.justified_reschedules > 0, t.provider "
        "FROM models.action_item_status a LEFT JOIN core.tickets t USING (ticket_key)"
    ).fetchall()}
    checked = 0
    for a in truth["action_items"]:
        done, closed, justified, provider = got[a["action_item_id"]]
        assert done == (a["completed_at"] is not None), a["action_item_id"]
        if done:
            assert closed.isoformat().replace("+00:00", "Z")[:19] == a["completed_at"][:19]
        # Linear comments are not loaded into core.ticket_events, so only Jira can show a reason
        if provider == "jira":
            assert justified == a["rescheduled_with_justification"], a["action_item_id"]
            checked += 1
    assert checked > 0
