"""The package's shape: parts import only downward (``app.LAYERS``), and nothing imports in a
cycle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import app

ROOT = Path(__file__).resolve().parent.parent


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    """The first-party modules ``path`` imports (``from app import logs`` names ``app.logs``)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in ("app", "analyzers"):
                yield node.module
                yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] in ("app", "analyzers"))


def graph() -> dict[str, set[str]]:
    """Module -> the first-party modules it imports (only names that are modules)."""
    files = {_module(p): p for top in ("app", "analyzers") for p in (ROOT / top).rglob("*.py")}
    return {m: {i for i in _imports(p) if i in files and i != m} for m, p in files.items()}


def _part(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else module


def test_every_part_of_app_has_a_layer() -> None:
    parts = {_part(m) for m in graph() if m.startswith("app.")}
    layered = {part for layer in app.LAYERS for part in layer}
    assert parts == layered


def upward(edges: dict[str, set[str]], layers: tuple[tuple[str, ...], ...]) -> list[str]:
    """The imports of app modules from a part below or beside their own."""
    rank = {part: i for i, layer in enumerate(layers) for part in layer}
    return sorted(
        f"{m} -> {i}"
        for m, imported in edges.items()
        for i in imported
        if m.startswith("app.")
        and i.startswith("app.")
        and _part(i) != _part(m)
        and rank[_part(i)] >= rank[_part(m)]
    )


def test_parts_import_only_the_layers_above_them() -> None:
    assert upward(graph(), app.LAYERS) == []


def test_the_analyzers_import_nothing_of_the_app() -> None:
    wrong = sorted(
        f"{m} -> {i}"
        for m, imported in graph().items()
        if m.startswith("analyzers")
        for i in imported
        if i.startswith("app")
    )
    assert wrong == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: strongly connected components of two modules or more."""
    # Tarjan's strongly connected components, iteratively: a component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_checks_catch_an_upward_import_a_sideways_one_and_a_cycle() -> None:
    edges = graph()
    assert "app.local.run" in edges["app.cli"]  # the graph reads the real imports
    bad = {**edges, "app.review.pipeline": edges["app.review.pipeline"] | {"app.local.repo"}}
    assert upward(bad, app.LAYERS) == ["app.review.pipeline -> app.local.repo"]
    sideways = {**edges, "app.local.run": edges["app.local.run"] | {"app.service.worker"}}
    assert upward(sideways, app.LAYERS) == ["app.local.run -> app.service.worker"]
    loop = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}
    assert cycles(loop) == [["a.x", "a.y", "a.z"]]


def test_no_two_classes_share_a_name() -> None:
    seen: dict[str, list[str]] = {}
    for top in ("app", "analyzers"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.ClassDef):
                    seen.setdefault(node.name, []).append(_module(path))
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}


def test_only_the_store_chooses_the_storage_backend() -> None:
    # The rest reaches storage through app.store's protocols and opens it with app.store.open,
    # so the backends are interchangeable; psycopg is imported only when PostgreSQL is named.
    backends = {"app.store.sqlite", "app.store.postgres"}
    naming = {
        m: sorted(backends & imported)
        for m, imported in graph().items()
        if backends & imported and not m.startswith("app.store")
    }
    assert naming == {}
    assert {m for m, imported in graph().items() if "app.store.postgres" in imported} <= {
        "app.store.open"
    }
