"""Dependencies are declared as used: what the code imports is pinned in pyproject.toml, and what is
pinned there is imported (or listed below with the reason it is needed without an import)."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

#: Runtime dependencies that no module imports, and why they are needed all the same.
NEEDED_WITHOUT_IMPORT = {
    "dagster-webserver": "the UI that `dagster dev` / `dg dev` serve",
    "accelerate": "diffusers and transformers load weights with low_cpu_mem_usage only when it is installed",
    "safetensors": "weights load only as safetensors (use_safetensors=True)",
    "defusedxml": "parses external alert XML safely (cinema_dag/alerts, issue #10)",
    "s3fs": "fsspec's implementation of s3:// artefact-store roots (loaded by protocol name)",
    "elementpath": "xmlschema's XPath engine (CAP schema validation), pinned together with xmlschema",
    "dagster-postgres": "the production instance's storage (deploy/dagster.yaml names its classes)",
    "psycopg2-binary": "the PostgreSQL driver dagster-postgres connects with",
    "celery": "the workers of dagster-celery's executor (automation/executors.py)",
    "kombu": "celery's messaging, pinned with it",
    "redis": "the Redis broker client of the Celery executor",
}

#: Imported only behind a guard that reports the feature unavailable without them; not installable
#: beside the CPU torch wheel here, so not declared.
OPTIONAL_IMPORTS = {
    "torchvision": "LPIPS's ImageNet backbone (cinema_dag/evaluation/lpips.py reports LPIPS unavailable without it)",
}


def _distribution(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, f"cannot read a distribution name from {requirement!r} in pyproject.toml"
    return _normalise(match.group(0))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imports(folder: Path) -> dict[str, set[str]]:
    """Top-level names of absolute imports (including those inside functions) -> files importing them."""
    local = {p.stem for p in folder.rglob("*.py")} | {p.name for p in folder.rglob("*") if p.is_dir()}
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if (top in sys.stdlib_module_names or top in {"__future__", "cinema_dag", "tests"} or top in local
                        or top in OPTIONAL_IMPORTS):
                    continue
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _undeclared(folder: str, declared: set[str]) -> list[str]:
    providers = importlib.metadata.packages_distributions()
    problems = []
    for name, files in sorted(_imports(ROOT / folder).items()):
        dists = {_normalise(d) for d in providers.get(name, [])}
        if not dists:
            problems.append(f"{name} (imported by {sorted(files)}) is provided by no installed distribution")
        elif not dists & declared:
            problems.append(f"{name} (imported by {sorted(files)}) comes from {sorted(dists)}, not declared")
    return problems


def _runtime() -> set[str]:
    return {_distribution(r) for r in PYPROJECT["project"]["dependencies"]}


def _dev() -> set[str]:
    return {_distribution(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]}


def test_every_package_the_code_imports_is_a_runtime_dependency():
    assert _undeclared("cinema_dag", _runtime()) == []


def test_every_package_tests_and_benchmarks_import_is_declared():
    declared = _runtime() | _dev()
    assert _undeclared("tests", declared) + _undeclared("benchmarks", declared) == []


def test_every_runtime_dependency_is_imported_or_needed_for_a_stated_reason():
    providers = importlib.metadata.packages_distributions()
    imported = {_normalise(d) for name in _imports(ROOT / "cinema_dag") for d in providers.get(name, [])}
    unused = _runtime() - imported - set(NEEDED_WITHOUT_IMPORT)
    assert unused == set(), f"declared in pyproject.toml but never imported by cinema_dag: {sorted(unused)}"


def test_every_dependency_is_pinned():
    """One consistent set: an unpinned Dagster or torch backtracks for minutes or pulls a CUDA build."""
    loose = [r for r in PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["dev"]
             if not re.search(r"==|>=", r)]
    assert loose == []
