"""The IO manager that hands polars frames between `models`/`marts` assets through DuckDB.

dagster-duckdb-polars skips writing an empty frame (so a downstream asset then fails to find
the table) and reads through `connection.arrow()`, which duckdb 2.0 removed; this handler
creates the table for an empty frame too and reads through a relation.
"""

from collections.abc import Sequence

import dagster as dg
import polars as pl
from dagster._core.storage.db_io_manager import DbTypeHandler, TableSlice
from dagster_duckdb.io_manager import DuckDbClient
from dagster_duckdb_polars import DuckDBPolarsIOManager, DuckDBPolarsTypeHandler


class PolarsTypeHandler(DuckDBPolarsTypeHandler):
    def handle_output(
        self, context: dg.OutputContext, table_slice: TableSlice, obj: pl.DataFrame, connection
    ) -> None:
        if not obj.is_empty():
            super().handle_output(context, table_slice, obj, connection)
            return
        frame = obj.to_arrow()  # noqa: F841 - read by name in the SQL below
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table_slice.schema}")
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {table_slice.schema}.{table_slice.table} AS "
            "SELECT * FROM frame"
        )
        context.add_output_metadata({"row_count": 0})

    def load_input(
        self, context: dg.InputContext, table_slice: TableSlice, connection
    ) -> pl.DataFrame:
        if table_slice.partition_dimensions and len(context.asset_partition_keys) == 0:
            return pl.DataFrame()
        return connection.sql(DuckDbClient.get_select_statement(table_slice=table_slice)).pl()


class PolarsIOManager(DuckDBPolarsIOManager):
    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [PolarsTypeHandler()]
