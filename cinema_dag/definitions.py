"""The code location: every asset, check, job, schedule and sensor, with the default resources.

Loading this module imports no torch, transformers, diffusers, scrapy or open3d: assets import
the core inside their bodies, so the UI and ``dagster definitions validate`` start in seconds.
"""

import dagster as dg

from cinema_dag import assets
from cinema_dag.automation import executors, jobs, schedules, sensors
from cinema_dag.resources import default_resources


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_package_module(assets),
        asset_checks=dg.load_asset_checks_from_package_module(assets),
        jobs=[*jobs.ALL_JOBS, *executors.EXECUTOR_JOBS],
        schedules=schedules.ALL_SCHEDULES,
        sensors=sensors.ALL_SENSORS,
        resources=default_resources(),
        executor=executors.default_executor(),
    )
