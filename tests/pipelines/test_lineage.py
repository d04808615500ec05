"""Asset inputs come from the SQL itself, and every table an asset reads has an asset behind it."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.lineage import inputs, producer
from warehouse.transform import all_steps, tables_read


@pytest.fixture(scope="module")
def graph() -> dg.AssetGraph:
    from pipelines.definitions import defs

    return defs.load_fn().resolve_asset_graph()


def test_tables_read_ignores_ctes_and_finds_subqueries() -> None:
    sql = ("WITH a AS (SELECT * FROM core.tickets) SELECT * FROM a "
           "JOIN models.x USING (k) WHERE k IN (SELECT k FROM marts.y)")
    assert tables_read(sql) == {"core.tickets", "models.x", "marts.y"}


def test_sql_asset_inputs_are_exactly_the_tables_its_sql_reads(graph: dg.AssetGraph) -> None:
    for step in all_steps():
        key = dg.AssetKey([step.schema, step.table])
        declared = set(graph.get(key).parent_keys)
        assert declared == set(inputs(step.sql, itself=key)), step.qualified
        assert declared, f"{step.qualified} reads no table"


def test_every_table_read_is_written_by_an_asset(graph: dg.AssetGraph) -> None:
    keys = graph.get_all_asset_keys()
    for step in all_steps():
        for table in tables_read(step.sql):
            assert producer(table) in keys, f"{step.qualified} reads {table}, which no asset writes"


def test_raw_tables_belong_to_their_raw_asset() -> None:
    assert producer("raw.github_jobs") == dg.AssetKey(["raw", "github_actions"])
    assert producer("raw.postmortem_documents") == dg.AssetKey(["raw", "postmortems"])
    assert producer("models.fingerprint_clusters") == dg.AssetKey(["models", "failure_clusters"])
    assert producer("core.ci_jobs") == dg.AssetKey(["core", "ci_jobs"])


def test_the_graph_has_no_cycle_and_orders_every_sql_asset(graph: dg.AssetGraph) -> None:
    order = [k for level in graph.toposorted_asset_keys_by_level for k in level]
    position = {k: i for i, k in enumerate(order)}
    for step in all_steps():
        key = dg.AssetKey([step.schema, step.table])
        assert all(position[p] < position[key] for p in graph.get(key).parent_keys)
