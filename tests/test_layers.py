"""The package's layers: imports run one way, from configuration up to the command line.

    config -> world -> pay -> behaviour -> model -> metrics -> store -> experiment
           -> sweep -> calibrate -> plots -> report -> cli

A module may import from its own subpackage and from the layers below it, never from a layer
above (docs/development.md). Imports inside functions count too. The model layers below
`metrics` never import pandas, and nothing below `cli` imports click or rich's console.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"
LAYERS = (
    "config",
    "world",
    "pay",
    "behaviour",
    "model",
    "metrics",
    "store",
    "experiment",
    "sweep",
    "calibrate",
    "plots",
    "report",
    "cli",
)
RANK = {name: k for k, name in enumerate(LAYERS)}
#: Third-party packages a layer below the given one must not import.
FORBIDDEN_BELOW = {"pandas": "metrics", "click": "cli"}


def _modules() -> list[Path]:
    return sorted(p for p in SIM.rglob("*.py") if p.parent != SIM)


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            if node.module == "sim":
                out += [(node.lineno, f"sim.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return out


def test_every_subpackage_is_a_layer() -> None:
    pkgs = {p.name for p in SIM.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert pkgs == set(LAYERS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SIM)))
def test_imports_run_one_way(path: Path) -> None:
    layer = path.relative_to(SIM).parts[0]
    bad = []
    for line, mod in _imports(path):
        parts = mod.split(".")
        if parts[0] == "sim" and len(parts) > 1 and parts[1] in RANK:
            if RANK[parts[1]] > RANK[layer]:
                bad.append(f"line {line}: {mod} ({parts[1]} is above {layer})")
        elif parts[0] in FORBIDDEN_BELOW and RANK[layer] < RANK[FORBIDDEN_BELOW[parts[0]]]:
            bad.append(f"line {line}: {mod} (not below {FORBIDDEN_BELOW[parts[0]]})")
    assert not bad, f"{path.relative_to(SIM)} imports upwards:\n" + "\n".join(bad)


def test_packages_reexport_nothing() -> None:
    """A subpackage's __init__ only documents it: names are imported from their home."""
    for init in SIM.glob("*/__init__.py"):
        tree = ast.parse(init.read_text())
        stmts = [n for n in tree.body if not isinstance(n, ast.Expr)]
        assert not stmts, f"{init.relative_to(SIM)} should hold only its docstring"
