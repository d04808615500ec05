"""Assets whose body is one SQL file of warehouse/sql, rebuilt whenever an input changes."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.lineage import inputs
from pipelines.runtime import warehouse
from warehouse.transform import Step, all_steps, rebuild


def sql_asset(s: Step) -> dg.AssetsDefinition:
    first_line = s.sql.strip().splitlines()[0].lstrip("- ").strip()

    @dg.asset(
        key=[s.schema, s.table],
        deps=inputs(s.sql, itself=dg.AssetKey([s.schema, s.table])),
        kinds={"duckdb", "sql"},
        group_name=s.schema,
        description=first_line,
        automation_condition=dg.AutomationCondition.eager(),
    )
    def _asset(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with warehouse(duckdb) as conn:
            rows = rebuild(conn, s)
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    return _asset


def sql_assets() -> list[dg.AssetsDefinition]:
    """One asset per file of warehouse/sql/{core,models,marts}."""
    return [sql_asset(s) for s in all_steps()]
