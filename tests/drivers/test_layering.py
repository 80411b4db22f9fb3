"""The package layers: model <- parsers/drivers <- plan <- deploy. A module may import its own layer and the
ones below it, never one above (at run time: imports under `if TYPE_CHECKING:` are types only).

Read from the source (AST), so a lazy import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
# Modules every layer may use: they import nothing of netchange but each other.
FOUNDATION = {"errors", "names", "addresses", "safefiles", "yamlio", "devregex", "cmdgate"}
# What each package may import besides itself and FOUNDATION.
ALLOWED = {
    "model": set(),
    "parsers": {"model", "inventory"},
    "drivers": {"model", "parsers", "inventory", "templates"},
    "plan": {"model", "parsers", "drivers", "inventory", "project", "connect"},
}


def runtime_imports(path: Path, root: Path = PIPELINE) -> list[tuple[int, str]]:
    """(line, top-level netchange module) of every import in *path* that runs (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(), str(path))
    package = path.relative_to(root).parts[:-1]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] != "pipeline":
                    continue
                target = parts[1:]
            else:
                base = list(package[: len(package) - node.level + 1])
                target = base + (node.module.split(".") if node.module else [])
            if not target:  # `from .. import safefiles`
                target = [node.names[0].name]
            found.append((node.lineno, target[0]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "pipeline" and len(parts) > 1:
                    found.append((node.lineno, parts[1]))
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_no_layer_imports_one_above_it(layer):
    bad = []
    for path in sorted((PIPELINE / layer).rglob("*.py")):
        if path.name == "cli.py":  # a package's command line is an entry point: it wires the layers together
            continue
        for line, target in runtime_imports(path):
            if target not in {layer, *FOUNDATION, *ALLOWED[layer]}:
                bad.append(f"{path.relative_to(PIPELINE.parent)}:{line} imports pipeline.{target}")
    assert not bad, "\n".join(bad)


def test_the_check_sees_lazy_relative_and_absolute_imports(tmp_path):
    """The walker itself: an import inside a function counts, one under TYPE_CHECKING does not."""
    pkg = tmp_path / "pipeline" / "model"
    pkg.mkdir(parents=True)
    f = pkg / "x.py"
    f.write_text("from typing import TYPE_CHECKING\nfrom ..plan.diff import a\nimport pipeline.deploy.device\n"
                 "if TYPE_CHECKING:\n    from ..inventory import Host\n"
                 "def g():\n    from .. import telemetry\n    from .policy import P\n")
    assert sorted(runtime_imports(f, tmp_path / "pipeline")) == [(2, "plan"), (3, "deploy"), (7, "telemetry"), (8, "model")]
