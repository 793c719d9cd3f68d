"""The layout's rules, checked by parsing every import (``ast``, nothing is imported).

- Imports run one way: ``kernels`` <- ``grammar`` <- ``planners`` <- ``composer``; a package never
  imports one above it (``grammar`` does not import ``composer``, ...).
- No import cycle between modules, counting every import: at the top of a module, inside a
  function (a cycle hidden by importing at call time is still a cycle) and under
  ``TYPE_CHECKING``.
- Build time stays apart: no compose-time module imports ``composer.training`` (corpus reading and
  the training loops); only the CLI and the library API reach it, at call time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("kernels", "grammar", "planners", "composer")  # lowest first
TRAINING_USERS = {"composer.cli", "composer.app.api", "composer.training"}
# The studio (composer/studio/): the ratings store is a leaf any room may read (the reward model
# trains on it); the rest (A/B pairs, the web app) is the edge, reached only from the CLI.
RATINGS = "composer.studio.ratings"
RATING = "composer.studio.rating"  # the record the store keeps: a leaf below it
RATINGS_IMPORTS = {"composer.app.output", "grammar.errors", "kernels.notes", RATING}
STUDIO_USERS = {"composer.cli", "composer.studio"}
# Preferences (composer/preferences/): the listener's personal reward. The search reaches it only
# through the pipeline (a profile in the spec) and the CLI (`compose learn`); it reads the ratings
# store (a leaf) but nothing else of the studio, and never the application edge.
PREFERENCES = "composer.preferences"
PREFERENCES_USERS = {"composer.cli", "composer.pipeline", PREFERENCES}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in LAYERS:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project modules ``name`` imports: ``from a.b import c`` is ``a.b.c`` when that is a
    module, else ``a.b``."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for a in node.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name, path in MODULES.items():
        g.add_node(name)
        g.add_edges_from((name, dep) for dep in _imports(name, path))
    return g


GRAPH = _graph()


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_the_scan_sees_the_project() -> None:
    assert len(MODULES) > 80
    assert ("composer.pipeline", "planners.form") in GRAPH.edges
    assert ("planners.form", "grammar.spec") in GRAPH.edges
    assert ("grammar.meter", "kernels.notes") in GRAPH.edges


def test_imports_run_one_way() -> None:
    upward = sorted((a, b) for a, b in GRAPH.edges if _layer(b) > _layer(a))
    assert upward == [], f"imports of a package above: {upward}"


def test_no_import_cycles() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(GRAPH) if len(c) > 1]
    assert cycles == [], f"import cycles: {cycles}"


def test_build_time_code_is_apart() -> None:
    reach = sorted(
        (a, b)
        for a, b in GRAPH.edges
        if b.startswith("composer.training")
        and not any(a == u or a.startswith(u + ".") for u in TRAINING_USERS)
    )
    assert reach == [], f"compose-time modules importing training code: {reach}"


def test_the_ratings_store_is_a_leaf() -> None:
    assert set(GRAPH.successors(RATINGS)) <= RATINGS_IMPORTS
    assert set(GRAPH.successors(RATING)) <= {"grammar.errors", "kernels.notes"}


def test_only_the_cli_reaches_the_studio() -> None:
    reach = sorted(
        (a, b)
        for a, b in GRAPH.edges
        if b.startswith("composer.studio")
        and b not in (RATINGS, RATING, "composer.studio")
        and not any(a == u or a.startswith(u + ".") for u in STUDIO_USERS)
    )
    assert reach == [], f"modules importing the studio's edge: {reach}"


def test_preferences_are_a_room_of_their_own() -> None:
    inside = [m for m in MODULES if m == PREFERENCES or m.startswith(PREFERENCES + ".")]
    assert len(inside) > 5
    users = sorted(
        (a, b)
        for a, b in GRAPH.edges
        if b in inside and not any(a == u or a.startswith(u + ".") for u in PREFERENCES_USERS)
    )
    assert users == [], f"modules reaching composer.preferences: {users}"
    edges = sorted(
        (a, b)
        for a in inside
        for b in GRAPH.successors(a)
        if b.startswith(("composer.app", "composer.cli"))
        or (b.startswith("composer.studio") and b not in (RATINGS, RATING))
    )
    assert edges == [], f"composer.preferences importing the edge: {edges}"


def test_a_cycle_would_be_found() -> None:
    """The check is not vacuous: an edge back from a module's import closes a cycle."""
    g = GRAPH.copy()
    g.add_edge("kernels.notes", "composer.pipeline")
    assert any(len(c) > 1 for c in nx.strongly_connected_components(g))
