"""Definitions are found, not listed: a module dropped into assets/ or automation/ needs no other edit."""

import ast
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from cinema_dag.definitions import defs

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cinema_dag"

DROPPED_ASSETS = '''
import dagster as dg

from cinema_dag.partitions import disaster_types


@dg.asset(partitions_def=disaster_types)
def dropped_asset() -> None:
    """Only here to prove that a new asset module is picked up."""


@dg.asset_check(asset=dropped_asset)
def dropped_asset_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)
'''

DROPPED_AUTOMATION = '''
import dagster as dg

dropped_job = dg.define_asset_job("dropped_job", selection=["dropped_asset"])


@dg.sensor(job=dropped_job)
def dropped_sensor(context: dg.SensorEvaluationContext):
    return dg.SkipReason("only here to prove that a new automation module is picked up")


@dg.schedule(job=dropped_job, cron_schedule="0 3 * * *")
def dropped_schedule(context: dg.ScheduleEvaluationContext):
    return dg.SkipReason("never")
'''

LIST_DEFS = textwrap.dedent('''
    import json
    import dagster as dg
    from cinema_dag.definitions import defs
    d = defs()
    dg.Definitions.validate_loadable(d)
    repo = d.get_repository_def()
    print(json.dumps({
        "file": __import__("cinema_dag").__file__,
        "assets": sorted(k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()),
        "checks": sorted(k.name for k in repo.asset_graph.asset_check_keys),
        "jobs": sorted(repo.job_names),
        "schedules": sorted(s.name for s in repo.schedule_defs),
        "sensors": sorted(s.name for s in repo.sensor_defs),
    }))
''')


def test_modules_dropped_into_assets_and_automation_are_loaded(tmp_path):
    """A copy of the project with two new modules: their asset, check, job, sensor and schedule appear."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(PACKAGE, tmp_path / "cinema_dag", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "cinema_dag" / "assets" / "dropped.py").write_text(DROPPED_ASSETS)
    (tmp_path / "cinema_dag" / "automation" / "dropped.py").write_text(DROPPED_AUTOMATION)

    out = subprocess.run([sys.executable, "-c", LIST_DEFS], cwd=tmp_path, env=_env_with_path(tmp_path),
                         capture_output=True, text=True, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])

    assert Path(found["file"]).parent == tmp_path / "cinema_dag"  # the copy, not this tree
    assert "dropped_asset" in found["assets"]
    assert "dropped_asset_check" in found["checks"]
    assert "dropped_job" in found["jobs"]
    assert "dropped_sensor" in found["sensors"]
    assert "dropped_schedule" in found["schedules"]
    assert "cinemagraphs" in found["assets"] and "cinemagraph_job" in found["jobs"]


def test_every_decorated_asset_in_the_source_is_in_the_definitions():
    """Scan the source (no import): each ``@asset``/``@multi_asset``/``@asset_check`` function is loaded."""
    repo = defs().get_repository_def()
    asset_keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    check_names = {k.name for k in repo.asset_graph.asset_check_keys}
    in_source = _decorated(PACKAGE / "assets", {"asset", "asset_check"})
    assert in_source["asset"], "the scan found no asset: it is broken"
    assert in_source["asset"] <= asset_keys
    assert in_source["asset_check"] <= check_names


def test_every_job_schedule_and_sensor_in_the_source_is_in_the_definitions():
    repo = defs().get_repository_def()
    in_source = _decorated(PACKAGE / "automation", {"schedule", "sensor", "asset_sensor", "define_asset_job"})
    assert in_source["define_asset_job"] and in_source["schedule"], "the scan found nothing: it is broken"
    assert in_source["define_asset_job"] <= set(repo.job_names)
    assert in_source["schedule"] <= {s.name for s in repo.schedule_defs}
    assert in_source["sensor"] | in_source["asset_sensor"] <= {s.name for s in repo.sensor_defs}


def _decorated(folder: Path, kinds: set[str]) -> dict[str, set[str]]:
    """Names given by ``@dg.<kind>(name=...)`` or the function name, and ``dg.define_asset_job("name")``."""
    found: dict[str, set[str]] = {kind: set() for kind in kinds}
    jobs = found.get("define_asset_job")
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    kind = _callee(decorator.func if isinstance(decorator, ast.Call) else decorator)
                    if kind in kinds:
                        found[kind].add(_name_keyword(decorator) or node.name)
            elif jobs is not None and isinstance(node, ast.Call) and _callee(node.func) == "define_asset_job":
                first = node.args[0] if node.args else None
                name = _name_keyword(node) or (first.value if isinstance(first, ast.Constant) else None)
                if name:
                    jobs.add(name)
    return found


def _callee(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _name_keyword(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        for keyword in node.keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return keyword.value.value
    return None


def _env_with_path(path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(path), "DAGSTER_DISABLE_TELEMETRY": "1"}
