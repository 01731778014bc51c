"""Where a repository uses given names: calls, other references and imports, located with libcst.

Used to ground a unification plan: the call sites a redundant member has are the ones to
redirect to the canonical member, and how many there are says which member the code relies on.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

UseKind = Literal["call", "reference", "import"]


@dataclass(frozen=True)
class CallSite:
    """One use of a name: where, inside which definition, and the line as written."""

    path: str
    line: int
    caller: str  # qualified name of the enclosing function or class, "" at module level
    name: str
    kind: UseKind
    text: str


def _uses_any(source: str, names: frozenset[str]) -> bool:
    """Whether ``ast`` sees any of ``names`` used (not only defined, or named in a string).

    ast parses ~40x faster than libcst with positions, so files whose only mention is a
    definition, a comment or a string never reach libcst.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if isinstance(node, ast.Attribute) and node.attr in names:
            return True
        if isinstance(node, ast.alias) and node.name.rsplit(".", 1)[-1] in names:
            return True
    return False


def mentions(source: str, names: Iterable[str]) -> bool:
    """A cheap textual test: does ``source`` contain any of ``names`` as a whole word?"""
    wanted = [re.escape(n) for n in names if n]
    if not wanted:
        return False
    return re.search(r"\b(?:" + "|".join(wanted) + r")\b", source) is not None


class _UseVisitor(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, path: str, names: frozenset[str], lines: list[str]) -> None:
        super().__init__()
        self.path = path
        self.names = names
        self.lines = lines
        self.sites: list[CallSite] = []
        self._stack: list[str] = []
        self._seen: set[int] = set()  # Name nodes already accounted for (definitions, attrs)

    def _record(self, node: cst.CSTNode, name: str, kind: UseKind) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        caller = ".".join(self._stack)
        self.sites.append(CallSite(self.path, line, caller, name, kind, text))

    def _enter(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        self._seen.add(id(node.name))
        self._stack.append(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()

    def visit_Param(self, node: cst.Param) -> None:
        self._seen.add(id(node.name))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        target = node.name
        last = target.attr if isinstance(target, cst.Attribute) else target
        if isinstance(last, cst.Name) and last.value in self.names:
            self._record(node, last.value, "import")
        for sub in _names_in(node):
            self._seen.add(id(sub))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, cst.Attribute) else func
        if isinstance(name, cst.Name) and name.value in self.names:
            self._record(node, name.value, "call")
            self._seen.add(id(name))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in self.names and id(node.attr) not in self._seen:
            self._record(node, node.attr.value, "reference")
        self._seen.add(id(node.attr))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names and id(node) not in self._seen:
            self._record(node, node.value, "reference")


def _names_in(node: cst.CSTNode) -> Iterable[cst.Name]:
    if isinstance(node, cst.Name):
        yield node
    for child in node.children:
        yield from _names_in(child)


def find_call_sites(path: str, source: str, names: Iterable[str]) -> tuple[CallSite, ...]:
    """Every call of, reference to and import of ``names`` in one module.

    Definitions and parameters that merely share a name are not uses. A module that does not
    parse has no call sites (the scan already reported it as skipped).
    """
    wanted = frozenset(names)
    if not wanted or not mentions(source, wanted) or not _uses_any(source, wanted):
        return ()
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError):
        return ()
    visitor = _UseVisitor(path, wanted, source.splitlines())
    MetadataWrapper(module, unsafe_skip_copy=True).visit(visitor)
    return tuple(sorted(visitor.sites, key=lambda s: (s.line, s.name, s.kind)))
