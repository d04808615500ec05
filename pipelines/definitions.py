"""Dagster entry point: everything under pipelines/defs is discovered and loaded.

The component tree is built from the package itself rather than found through pyproject.toml, so
the definitions load the same from a checkout and from an installed package (`pip install .`,
the deployment image), where no pyproject.toml sits beside the code.
"""

import warnings
from pathlib import Path

import dagster as dg

# The name deploy/workspace.yaml and `[tool.dagster]` give the code location.
CODE_LOCATION = "followthrough"


@dg.definitions
def defs() -> dg.Definitions:
    import pipelines.defs

    tree = dg.ComponentTree(defs_module=pipelines.defs, project_root=Path(__file__).parent.parent,
                            code_location_name=CODE_LOCATION)
    with warnings.catch_warnings():
        # What dg.load_from_defs_folder silences too: its module loaders are marked preview.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return tree.build_defs()
