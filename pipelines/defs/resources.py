"""The resources of the code location, from the settings in the environment when it loads."""

import dagster as dg

from models.settings import Settings
from pipelines.runtime import resources_for


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=resources_for(Settings.load()))
