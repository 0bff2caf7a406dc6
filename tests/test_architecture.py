"""The layering of docs/architecture.md holds: import-linter's contracts pass, and fail on an upward import or a cycle."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")  # import-linter's command, beside this Python
if not LINT.exists():
    LINT = Path(shutil.which("lint-imports") or LINT)


def lint(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter's contracts (pyproject.toml of ``root``) on the package found under ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def copy_package(tmp_path: Path) -> Path:
    """The package's Python files and pyproject.toml, copied so that a test may break them."""
    shutil.copytree(REPO / "oralhist", tmp_path / "oralhist",
                    ignore=lambda d, names: [n for n in names if n == "__pycache__"
                                             or ((Path(d) / n).is_file() and not n.endswith(".py"))])
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_line(path: Path, line: str) -> None:
    """Add an import after the module's docstring and ``from __future__`` line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("from __future__"))
    lines.insert(at + 1, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_contracts_kept():
    r = lint(REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout and "Layers: every arrow points down" in r.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    root = copy_package(tmp_path)
    add_line(root / "oralhist" / "records.py", "import oralhist.web.app  # noqa: F401  (on purpose: records -> web)")
    r = lint(root)
    assert r.returncode != 0
    assert "oralhist.records is not allowed to import oralhist.web" in r.stdout, r.stdout


def test_a_cycle_breaks_the_acyclic_contract(tmp_path):
    # view is the read model; topics (text analysis) is below it. topics -> view closes a loop.
    root = copy_package(tmp_path)
    add_line(root / "oralhist" / "editorial" / "topics.py", "from oralhist.editorial import view  # noqa: F401")
    r = lint(root)
    assert r.returncode != 0
    assert "No cycles are allowed in oralhist.editorial" in r.stdout, r.stdout


# ----------------------------------------------------------------- private names
# import-linter checks modules, not names, and ruff's/pylint's import-private-name (PLC2701)
# leave out imports from the same top-level package, which is the case that matters here;
# so this one rule is a short AST pass.


def private_imports(root: Path) -> list[str]:
    """``file:line: from M import _x`` for every private name a module takes from another oralhist module."""
    out = []
    for path in sorted((root / "oralhist").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            mod = node.module or ""
            if node.level == 0 and not mod.startswith("oralhist"):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    out.append(f"{path.relative_to(root)}:{node.lineno}: from {'.' * node.level}{mod} import {alias.name}")
    return out


def test_no_private_name_imported_from_another_module():
    assert private_imports(REPO) == []


def test_the_private_name_check_finds_one(tmp_path):
    root = copy_package(tmp_path)
    add_line(root / "oralhist" / "outputs" / "publish" / "objects.py",
             "from oralhist.editorial.vocab import _private_helper  # noqa: F401")
    found = private_imports(root)
    assert len(found) == 1 and "_private_helper" in found[0]


@pytest.mark.parametrize("layer", ["archive", "recognition", "editorial", "outputs", "jobs", "cli", "web"])
def test_each_layer_folder_is_described_in_the_architecture_map(layer):
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"oralhist/{layer}/" in text
