"""Assets whose body is one SQL file of warehouse/sql, rebuilt whenever an input changes."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.resources import warehouse
from warehouse.transform import Step, rebuild, step


def sql_asset(s: Step, inputs: list[list[str]]) -> dg.AssetsDefinition:
    first_line = s.sql.strip().splitlines()[0].lstrip("- ").strip()

    @dg.asset(
        key=[s.schema, s.table],
        deps=[dg.AssetKey(k) for k in inputs],
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


def sql_assets(inputs: dict[str, list[list[str]]]) -> list[dg.AssetsDefinition]:
    """One asset per `schema.table` named in `inputs` (table -> the assets it reads)."""
    return [sql_asset(step(name), deps) for name, deps in inputs.items()]
