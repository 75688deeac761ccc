"""The RunPod SDK stays inside the worker: imported by facedeck.remote.worker alone, inside a
function, and never by ``--help``; a missing ``worker`` extra is one clear line.

The import-linter contract in pyproject.toml ("only facedeck.remote.worker imports runpod")
covers indirect imports; these tests cover what it cannot see: where the import sits.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "desktop", "remote", "models")
WORKER = REPO / "remote" / "worker.py"

# runpod made unimportable, as in an install without the worker extra
BLOCK_RUNPOD = textwrap.dedent(
    """
    import importlib.abc, sys

    class BlockRunpod(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "runpod":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, BlockRunpod())
    """
)


def runpod_imports(tree: ast.AST) -> list[tuple[ast.stmt, bool]]:
    """Each ``import runpod...`` / ``from runpod... import`` and whether it is at module level."""
    found: list[tuple[ast.stmt, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0:
                names = [child.module or ""]
            if any(name.split(".")[0] == "runpod" for name in names):
                found.append((child, not in_function))  # type: ignore[arg-type]
            function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, in_function or function)

    visit(tree, False)
    return found


def test_only_the_worker_imports_runpod_and_only_inside_a_function():
    sources = [path for package in PACKAGES for path in (REPO / package).rglob("*.py")]
    assert WORKER in sources
    where: dict[Path, list[tuple[ast.stmt, bool]]] = {}
    for path in sources:
        found = runpod_imports(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if found:
            where[path] = found
    assert set(where) == {WORKER}, sorted(str(path.relative_to(REPO)) for path in where)
    at_module_level = [node.lineno for node, top in where[WORKER] if top]
    assert at_module_level == [], f"remote/worker.py imports runpod at module level: {at_module_level}"


def test_the_scanner_sees_module_level_and_nested_imports():
    # guards the test above: a scanner that found nothing would pass it vacuously
    source = "import runpod\nfrom runpod.serverless import start\ndef f():\n    import runpod.serverless\n"
    tree = ast.parse(source)
    assert [top for _, top in runpod_imports(tree)] == [True, True, False]


def python(code: str, *, block_runpod: bool = False) -> subprocess.CompletedProcess:
    script = (BLOCK_RUNPOD if block_runpod else "") + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_help_and_the_worker_module_do_not_import_runpod():
    result = python(
        """
        import contextlib, io, json, sys
        from facedeck.desktop.cli import main
        seen = {}
        for argv in (["--headless", "--help"], ["--headless", "worker", "--help"]):
            with contextlib.redirect_stdout(io.StringIO()) as out:
                try:
                    main(argv)
                except SystemExit:
                    pass
            seen[" ".join(argv)] = [out.getvalue(), "runpod" in sys.modules]
        import facedeck.remote.worker
        seen["import facedeck.remote.worker"] = ["", "runpod" in sys.modules]
        print(json.dumps(seen))
        """
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert "worker" in seen["--headless --help"][0]
    assert "--test_input JSON" in seen["--headless worker --help"][0]
    assert {name: imported for name, (_, imported) in seen.items()} == {
        "--headless --help": False,
        "--headless worker --help": False,
        "import facedeck.remote.worker": False,
    }


def test_missing_worker_extra_is_one_line_naming_the_extra():
    result = python(
        """
        import sys
        from facedeck.desktop.cli import main
        sys.exit(main(["--headless", "worker", "--test_input", '{"input": {"health": true}}']))
        """,
        block_runpod=True,
    )
    assert result.returncode == 5, result.stdout + result.stderr  # runtime_install, as for onnxruntime
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "facedeck: error: the worker needs the RunPod SDK (the worker extra), not installed here: "
        'pip install "facedeck[worker]"'
    ]


def test_in_the_bundle_the_missing_worker_points_at_the_docker_image(tmp_path):
    # nothing can be pip-installed into a PyInstaller bundle (sys.frozen, sys._MEIPASS)
    result = python(
        f"""
        import sys
        sys.frozen, sys._MEIPASS = True, {str(tmp_path)!r}
        from facedeck.desktop.cli import main
        sys.exit(main(["--headless", "worker"]))
        """,
        block_runpod=True,
    )
    assert result.returncode == 5, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "not part of the FaceDeck bundle" in lines[0], lines
    assert "Docker image" in lines[0]
