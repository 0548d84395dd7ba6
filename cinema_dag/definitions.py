"""The code location: every asset, check, job, schedule and sensor, with the default resources.

Nothing here lists definitions by name, so a module added to ``cinema_dag/assets/`` or
``cinema_dag/automation/`` is picked up as it is:

- ``cinema_dag/assets/`` is the project's dg defs folder (``[tool.dg.project] defs_module`` in
  ``pyproject.toml``): :func:`dagster.load_from_defs_folder` imports every module in it and collects
  its assets and asset checks;
- ``cinema_dag/automation/`` is scanned for jobs, schedules and sensors;
- :data:`cinema_dag.resources.defs` holds the resources;
- :func:`cinema_dag.automation.executors.default_executor` is the default executor.

Loading this module imports no torch, transformers, diffusers, scrapy or open3d: assets import
the core inside their bodies, so the UI, ``dg check defs`` and ``dagster definitions validate``
start in seconds.
"""

import warnings
from pathlib import Path

import dagster as dg

from cinema_dag import automation, resources
from cinema_dag.automation.executors import default_executor


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        _automation_definitions(),
        resources.defs(),
        dg.Definitions(executor=default_executor()),
    )


def _automation_definitions() -> dg.Definitions:
    # The module scanner is marked preview in 1.13; it is the one load_from_defs_folder itself runs on
    # every defs module (with Dagster's warnings suppressed), so silence only that warning, only here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.load_definitions_from_package_module(automation)
