import dagster as dg

from pipelines.io import PolarsIOManager
from pipelines.resources import default_resources
from warehouse.db import warehouse_path


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            **default_resources(),
            # Only the `models` layer hands polars frames between assets through DuckDB.
            "polars_io": PolarsIOManager(database=str(warehouse_path())),
        }
    )
