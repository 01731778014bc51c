"""Where a repository uses given names: calls, other references and imports, located with ast.

Used to ground a unification plan: the call sites a redundant member has are the ones to
redirect to the canonical member, and how many there are says which member the code relies on.
Each use is resolved, where the module says, to the dotted name it refers to (through the
module's imports, relative ones included, its own top-level definitions, and ``self``/``cls``
inside a class), so that two members sharing a name do not share their callers, a
``super().name`` call is nobody's use, and ``obj.name`` on a receiver of unknown type is not
counted as a use of a method.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from analyzers.imports import bindings_of

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
    target: str = ""  # the dotted name it refers to (``src.pkg.mod.Class.name``); "" unknown


def refers_to(target: str, module: str, qualname: str) -> bool:
    """Whether a resolved use names the unit ``qualname`` of the dotted ``module``, directly or
    through a package that re-exports it (``from flask import Flask``: ``flask.Flask`` names
    ``Flask`` of ``flask.app``)."""
    if not target or not module:
        return False
    own = qualname.split("@")[0]
    full = f"{module}.{own}"
    # Folders above the outermost ``__init__.py`` may still be imported through (a root
    # namespace package): ``pkg.text.slugify`` names ``slugify`` of ``pkg/text.py``.
    if target == full or target.endswith("." + full):
        return True
    head = target.removesuffix("." + own)
    return head != target and module.startswith(head + ".")


def mentions(source: str, names: Iterable[str]) -> bool:
    """A cheap textual test: does ``source`` contain any of ``names`` as a whole word?"""
    wanted = [n for n in names if n]
    # A substring search is ~50x faster than the regex and rules out most files.
    if not any(n in source for n in wanted):
        return False
    pattern = r"\b(?:" + "|".join(re.escape(n) for n in wanted) + r")\b"
    return re.search(pattern, source) is not None


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class _Finder:
    """One module's uses of ``names``, with the caller each sits in.

    Names a definition or a parameter only binds are not uses; every other place the name
    appears as a name is: loads and stores, attributes, keyword arguments, ``global``
    statements, ``except ... as`` targets and the parts of a ``from`` module path. (These are
    the places the earlier libcst visitor recorded; ``tests/test_callsites.py`` keeps them equal.)
    """

    def __init__(self, path: str, module: str, names: frozenset[str], lines: list[str]) -> None:
        self.path = path
        self.names = names
        self.lines = lines
        self.sites: list[tuple[int, int, CallSite]] = []
        self.used = False  # a Name, Attribute or import of a name: the file really uses one
        self.module = module
        self.bound: Mapping[str, str] = {}  # local name -> dotted name it was imported as
        self.defined: frozenset[str] = frozenset()  # names the module binds itself

    def _record(
        self, node: ast.AST, line: int, caller: str, name: str, kind: UseKind, target: str = ""
    ) -> None:
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        col = getattr(node, "col_offset", 0)
        site = CallSite(self.path, line, caller, name, kind, text, target)
        self.sites.append((line, col, site))

    def _name(self, name: str) -> str:
        if name in self.bound:
            return self.bound[name]
        if name in self.defined:
            return f"{self.module}.{name}"
        return ""

    def _attribute(self, node: ast.Attribute, cls: str) -> str:
        """``base.attr`` resolved when the base is a module, a class or ``self``/``cls``."""
        base = node.value
        if isinstance(base, ast.Name):
            if base.id in ("self", "cls"):
                return f"{self.module}.{cls}.{node.attr}" if cls else ""
            owner = self._name(base.id)
            return f"{owner}.{node.attr}" if owner else ""
        if isinstance(base, ast.Attribute):
            root: ast.expr = base
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in ("self", "cls"):
                return ""  # self.client.name: an attribute's value, of unknown type
            owner = self._attribute(base, cls)
            return f"{owner}.{node.attr}" if owner else ""
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name):
            if base.func.id == "super":
                return f"super().{node.attr}"  # the parent's method: no member's use
        return ""  # a call's result, a subscript: a receiver of unknown type

    def run(self, tree: ast.Module) -> None:
        names = self.names
        if self.module:
            bindings = bindings_of(tree, self.module, self.path.endswith("__init__.py"))
            self.bound, self.defined = bindings.imports, bindings.defined
        skip: set[int] = set()  # attribute nodes already recorded as the callee of a call
        # (node, enclosing definition's qualified name, enclosing class's qualified name)
        stack: list[tuple[ast.AST, str, str]] = [(tree, "", "")]
        while stack:
            node, caller, cls = stack.pop()
            inner, inner_cls = caller, cls
            if isinstance(node, ast.Name):
                if node.id in names:
                    self.used = True
                    if id(node) not in skip:
                        target = self._name(node.id)
                        self._record(node, node.lineno, caller, node.id, "reference", target)
            elif isinstance(node, ast.Attribute):
                if node.attr in names:
                    self.used = True
                    if id(node) not in skip:
                        target = self._attribute(node, cls)
                        self._record(node, node.lineno, caller, node.attr, "reference", target)
            elif isinstance(node, ast.Call):
                func = node.func
                callee = func.attr if isinstance(func, ast.Attribute) else None
                if isinstance(func, ast.Name):
                    callee = func.id
                if callee is not None and callee in names:
                    target = (
                        self._attribute(func, cls)
                        if isinstance(func, ast.Attribute)
                        else self._name(callee)
                    )
                    self._record(node, node.lineno, caller, callee, "call", target)
                    skip.add(id(func))
                    self.used = True
            elif isinstance(node, _DEFS):
                inner = f"{caller}.{node.name}" if caller else node.name
                # Methods see their class through self/cls; a nested function keeps it.
                inner_cls = inner if isinstance(node, ast.ClassDef) else cls
            elif isinstance(node, ast.keyword):
                if node.arg is not None and node.arg in names:
                    self._record(node, node.lineno, caller, node.arg, "reference")
            elif isinstance(node, ast.alias):
                last = node.name.rsplit(".", 1)[-1]
                if last in names:
                    self.used = True
                    if last != "*":  # ``from m import *`` names nothing
                        target = self.bound.get(node.asname or node.name, "")
                        self._record(node, node.lineno, caller, last, "import", target)
            elif isinstance(node, ast.ImportFrom):
                for part in (node.module or "").split("."):
                    if part and part in names:
                        self._record(node, node.lineno, caller, part, "reference")
            elif isinstance(node, ast.Global | ast.Nonlocal):
                for name in node.names:
                    if name in names:
                        self._record(node, node.lineno, caller, name, "reference")
            elif isinstance(node, ast.ExceptHandler):
                if node.name is not None and node.name in names:
                    line = node.type.end_lineno or node.lineno if node.type else node.lineno
                    self._record(node, line, caller, node.name, "reference")
            elif isinstance(node, ast.MatchAs | ast.MatchStar):
                if node.name is not None and node.name in names:
                    self._record(node, node.lineno, caller, node.name, "reference")
            elif isinstance(node, ast.MatchMapping):
                if node.rest is not None and node.rest in names:
                    self._record(
                        node, node.end_lineno or node.lineno, caller, node.rest, "reference"
                    )
            elif isinstance(node, ast.MatchClass):
                for attr, pattern in zip(node.kwd_attrs, node.kwd_patterns, strict=True):
                    if attr in names:
                        self._record(pattern, pattern.lineno, caller, attr, "reference")
            stack.extend((child, inner, inner_cls) for child in ast.iter_child_nodes(node))


def find_call_sites(
    path: str, source: str, names: Iterable[str], module: str = ""
) -> tuple[CallSite, ...]:
    """Every call of, reference to and import of ``names`` in one module.

    Definitions and parameters that merely share a name are not uses, and a module that only
    names them that way (or in keyword arguments, comments or strings) has none. A module that
    does not parse has no call sites (the scan already reported it as skipped). ``module`` is
    its dotted name (``analyzers.imports.Modules``); without it nothing is resolved.
    """
    wanted = frozenset(names)
    if not wanted or not mentions(source, wanted):
        return ()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return ()
    finder = _Finder(path, module, wanted, source.splitlines())
    finder.run(tree)
    if not finder.used:
        return ()
    found = sorted(finder.sites, key=lambda s: (s[0], s[2].name, s[2].kind, s[1]))
    return tuple(site for _, _, site in found)
