import ast
import pathlib

import cinema_dag.cinemagraph as engine

PACKAGE = pathlib.Path(engine.__file__).parent


def test_public_api_is_exported():
    for name in engine.__all__:
        assert hasattr(engine, name), name
    for name in ("render_cinemagraph", "build_ldi", "motion_field", "loop_seam_ratio", "write_mp4", "save_ply"):
        assert name in engine.__all__


def test_the_engine_never_imports_dagster():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "dagster" for n in names), f"{path.name} imports dagster"
