"""The code location: every asset, check, job, schedule and sensor, with the default resources.

Nothing here lists definitions by name, so a module added to ``cinema_dag/assets/`` or
``cinema_dag/automation/`` is picked up as it is:

- ``cinema_dag/assets/`` is the project's dg defs folder (``[tool.dg.project] defs_module`` in
  ``pyproject.toml``): :func:`dagster.load_from_defs_folder` imports every module in it and collects
  its assets and asset checks;
- :data:`cinema_dag.automation.defs` collects the jobs, schedules and sensors of every module in
  ``cinema_dag/automation/``, and the default executor;
- :data:`cinema_dag.resources.defs` holds the resources.

Loading this module imports no torch, transformers, diffusers, scrapy or open3d: assets import
the core inside their bodies, so the UI, ``dg check defs`` and ``dagster definitions validate``
start in seconds.
"""

from pathlib import Path

import dagster as dg

from cinema_dag import automation, resources


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        automation.defs(),
        resources.defs(),
    )
