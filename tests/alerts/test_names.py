"""Each default and each file name of the alert code is defined once and referenced elsewhere."""

import ast
from pathlib import Path

from cinema_dag import artefacts
from cinema_dag.alerts.render import AlertRenderSettings
from cinema_dag.alerts.sources import DEFAULT_SETTLE_SECONDS, FolderSource
from cinema_dag.defaults import DEFAULT_BOX_THRESHOLD, DEFAULT_TEXT_THRESHOLD

ROOT = Path(__file__).resolve().parents[2]
ALERT_CODE = [*sorted((ROOT / "cinema_dag" / "alerts").glob("*.py")),
              *(ROOT / p for p in ("cinema_dag/assets/alerts.py", "cinema_dag/assets/catalogue.py",
                                   "cinema_dag/automation/sensors.py", "cinema_dag/resources/alerts.py",
                                   "benchmarks/alert_latency.py"))]
FILE_NAMES = {name: getattr(artefacts, name) for name in
              ("VIDEO_FILE", "POSTER_FILE", "SPEECH_FILE", "CAP_OUT_FILE", "LINEAGE_FILE", "CATALOGUE_FILE")}


def _string_constants(path: Path) -> set[str]:
    """String literals of a module's code (docstrings excluded: they may name a file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}


def test_file_names_come_from_artefacts():
    assert len(set(FILE_NAMES.values())) == len(FILE_NAMES)
    for path in ALERT_CODE:
        spelled = _string_constants(path) & set(FILE_NAMES.values())
        assert not spelled, f"{path.relative_to(ROOT)} spells {spelled}: use cinema_dag.artefacts' names"


def _defaults_named(path: Path, owner: str) -> dict[str, str]:
    """Field or keyword parameter → the name its default refers to, in class ``owner`` (or method
    ``"Class.method"``); ``Field(default=NAME)`` counts as ``NAME``, a literal as ``"<literal>"``."""
    node: ast.AST = ast.parse(path.read_text(encoding="utf-8"))
    for part in owner.split("."):
        [node] = [n for n in node.body if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == part]

    def named(value: ast.expr | None) -> str:
        if isinstance(value, ast.Call):
            value = next((k.value for k in value.keywords if k.arg == "default"), None)
        return value.id if isinstance(value, ast.Name) else "<literal>"

    if isinstance(node, ast.FunctionDef):
        args = node.args
        return {a.arg: named(d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None}
    return {n.target.id: named(n.value) for n in node.body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.value is not None}


def test_thresholds_and_settle_time_defined_once():
    settings = AlertRenderSettings()
    assert (settings.box_threshold, settings.text_threshold) == (DEFAULT_BOX_THRESHOLD, DEFAULT_TEXT_THRESHOLD)
    render = _defaults_named(ROOT / "cinema_dag/alerts/render.py", "AlertRenderSettings")
    assert (render["box_threshold"], render["text_threshold"]) == ("DEFAULT_BOX_THRESHOLD", "DEFAULT_TEXT_THRESHOLD")
    from cinema_dag.resources.alerts import AlertSources

    assert AlertSources().settle_seconds == FolderSource(ROOT).settle_seconds == DEFAULT_SETTLE_SECONDS
    folder = _defaults_named(ROOT / "cinema_dag/alerts/sources.py", "FolderSource.__init__")
    resource = _defaults_named(ROOT / "cinema_dag/resources/alerts.py", "AlertSources")
    assert folder["settle_seconds"] == resource["settle_seconds"] == "DEFAULT_SETTLE_SECONDS"


def test_asset_modules_import_no_asset_module():
    for path in (ROOT / "cinema_dag" / "assets").glob("*.py"):
        if path.name not in ("alerts.py", "catalogue.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not {m for m in modules if m.startswith("cinema_dag.assets.") and m != "cinema_dag.assets._common"}, \
            f"{path.name} imports {modules}: shared asset keys live in cinema_dag/assets/_common.py"
