"""Equivalence of two functions up to renaming, and how one module names another."""

from __future__ import annotations

import ast
import copy
from collections.abc import Sequence
from dataclasses import dataclass

from analyzers.imports import module_level
from analyzers.profile import docstring_node


def module_ref(text: str, module: str, is_package: bool, target: str) -> str:
    """How ``module`` should name ``target`` in a new import: relatively when it already imports
    relatively (the module's own style) and both share a top package, else absolutely."""
    tree = ast.parse(text)
    relative = any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in module_level(tree.body))
    base = module.split(".") if is_package else module.split(".")[:-1]
    parts = target.split(".")
    common = 0
    while common < min(len(base), len(parts)) and base[common] == parts[common]:
        common += 1
    if not relative or common == 0:
        return target
    return "." * (len(base) - common + 1) + ".".join(parts[common:])


@dataclass(frozen=True)
class Shape:
    """A function reduced to its structure: equal shapes mean equal behaviour up to renaming."""

    dump: str  # without the docstring and the annotations: they do not change behaviour
    params: tuple[str, ...]  # in signature order
    free: frozenset[str]  # names the function reads when it runs that it does not bind
    typing: frozenset[str] = frozenset()  # names only its annotations read


class _Alpha(ast.NodeTransformer):
    """Renames a function's own name, parameters and locals to placeholders, in visit order."""

    def __init__(self, local: set[str]) -> None:
        self.local = local
        self.names: dict[str, str] = {}

    def _rename(self, name: str) -> str:
        if name not in self.local:
            return name
        return self.names.setdefault(name, f"_v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(id=self._rename(node.id), ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        self.generic_visit(node)
        node.arg = self._rename(node.arg)
        return node


def function_shape(text: str, name: str) -> Shape | None:
    """The shape of function ``name`` in ``text``, a module-level function or a method
    (``Class.method``); None when absent or ambiguous."""
    node = def_node(ast.parse(text).body, name)
    return None if node is None else _shape(node)


def def_node(
    body: Sequence[ast.stmt], qualname: str
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The one definition at ``qualname`` (``Class.method`` descends into a class)."""
    head, _, rest = qualname.partition(".")
    kinds = (ast.ClassDef,) if rest else (ast.FunctionDef, ast.AsyncFunctionDef)
    nodes = [n for n in body if isinstance(n, kinds) and n.name == head]
    if len(nodes) != 1:
        return None
    node = nodes[0]
    if rest:
        assert isinstance(node, ast.ClassDef)
        return def_node(node.body, rest)
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    return node


def _shape(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Shape:
    body = list(node.body)
    if docstring_node(node) is not None:
        body = body[1:] or [ast.Pass()]
    declared: set[str] = set()
    stored: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Global | ast.Nonlocal):
            declared.update(sub.names)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
            stored.add(sub.id)
        elif isinstance(sub, ast.arg):
            stored.add(sub.arg)
        elif (
            isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and sub is not node
        ):
            stored.add(sub.name)
        elif isinstance(sub, ast.alias):
            stored.add((sub.asname or sub.name).split(".")[0])
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            stored.add(sub.name)
    local = stored - declared
    annotations = [
        a.annotation
        for a in ast.walk(node.args)
        if isinstance(a, ast.arg) and a.annotation is not None
    ] + ([node.returns] if node.returns is not None else [])
    in_annotations = {id(n) for a in annotations for n in ast.walk(a)}
    loads = {
        sub.id
        for sub in ast.walk(node)
        if isinstance(sub, ast.Name)
        and isinstance(sub.ctx, ast.Load)
        and id(sub) not in in_annotations
    }
    typed = {n.id for a in annotations for n in ast.walk(a) if isinstance(n, ast.Name)} - loads
    params = tuple(
        a.arg
        for a in (
            *node.args.posonlyargs,
            *node.args.args,
            *([node.args.vararg] if node.args.vararg else []),
            *node.args.kwonlyargs,
            *([node.args.kwarg] if node.args.kwarg else []),
        )
    )
    clone = copy.copy(node)  # the tree is this call's own: renaming in place is harmless
    clone.name = "_"
    clone.body = body
    clone.returns = None
    for a in ast.walk(clone.args):
        if isinstance(a, ast.arg):
            a.annotation = None
    renamed = _Alpha(local).visit(clone)
    return Shape(
        ast.dump(renamed, include_attributes=False),
        params,
        frozenset(loads - local),
        frozenset(typed - local),
    )
