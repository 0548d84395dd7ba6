"""The core never imports Dagster: only the Dagster layer (assets, resources, automation, definitions,
partitions, a dg ``defs`` folder) may. Checked on every core module there is, new ones included."""

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import cinema_dag

PACKAGE = Path(cinema_dag.__file__).parent
DAGSTER_LAYER = {"assets", "resources", "automation", "defs", "definitions", "partitions"}


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="cinema_dag."):
        top = info.name.split(".")[1]
        if top not in DAGSTER_LAYER and not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(names)


def source_of(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_the_walk_finds_the_core():
    modules = core_modules()
    for expected in ("cinema_dag.storage", "cinema_dag.vision.depth", "cinema_dag.cinemagraph.animate",
                     "cinema_dag.scraping.pipelines", "cinema_dag.text.lora", "cinema_dag.models.registry"):
        assert expected in modules
    assert not any(m.startswith(("cinema_dag.assets", "cinema_dag.resources")) for m in modules)


def test_no_core_module_mentions_dagster_in_an_import():
    """Also imports inside functions, which importing the module would not run."""
    offenders = []
    for module in core_modules():
        tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "dagster" or n.startswith(("dagster.", "dagster_")) for n in names):
                offenders.append(f"{module}:{node.lineno}")
    assert offenders == [], f"core modules import Dagster: {offenders}"


def test_importing_every_core_module_loads_no_dagster():
    """In a fresh interpreter, so that nothing this test session imported hides a transitive import."""
    code = (
        "import importlib, json, sys\n"
        f"modules = {core_modules()!r}\n"
        "culprit = None\n"
        "for name in modules:\n"
        "    importlib.import_module(name)\n"
        "    if culprit is None and 'dagster' in sys.modules:\n"
        "        culprit = name\n"
        "print(json.dumps({'culprit': culprit, 'imported': len(modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["imported"] >= 40
    assert report["culprit"] is None, f"importing {report['culprit']} loaded dagster"
