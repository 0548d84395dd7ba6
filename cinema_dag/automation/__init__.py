"""Jobs, schedules and sensors, and the default executor: :func:`defs` collects every one defined in a
module of this package, so a new module needs no list edited.

The dg defs folder of the project is ``cinema_dag/assets/`` (the layout keeps assets, resources and
automation apart), so this package is collected here, with public Dagster types only, and merged
with the defs folder and the resources in :mod:`cinema_dag.definitions`.
"""

import importlib
import inspect
import pkgutil

import dagster as dg

# define_asset_job returns an UnresolvedAssetJobDefinition, a class dagster does not export: take it
# from the public function's signature (were it ever a string, isinstance below would fail loudly).
_ASSET_JOB = inspect.signature(dg.define_asset_job).return_annotation
_KINDS: dict[str, tuple[type, ...]] = {
    "jobs": (dg.JobDefinition, _ASSET_JOB),
    "schedules": (dg.ScheduleDefinition,),
    "sensors": (dg.SensorDefinition,),
}


@dg.definitions
def defs() -> dg.Definitions:
    """Every job, schedule and sensor at module level in ``cinema_dag/automation/``, and the default
    executor (:func:`cinema_dag.automation.executors.default_executor`)."""
    from cinema_dag.automation.executors import default_executor

    found: dict[str, dict[int, object]] = {kind: {} for kind in _KINDS}
    for info in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            for kind, types in _KINDS.items():
                if isinstance(value, types):
                    found[kind][id(value)] = value  # a job imported by another module counts once
    return dg.Definitions(
        jobs=list(found["jobs"].values()),  # type: ignore[arg-type]
        schedules=list(found["schedules"].values()),  # type: ignore[arg-type]
        sensors=list(found["sensors"].values()),  # type: ignore[arg-type]
        executor=default_executor(),
    )
