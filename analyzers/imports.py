"""Modules as Python imports them: dotted names of a repository's files, and what each module
binds at module level (imports resolved to absolute dotted targets, relative ones included).

Shared by the call-site search (which member a use refers to) and the mechanical unification
(where a name is defined, who imports it, whether an import would close a cycle). Pure.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass


class Modules:
    """Dotted module names of a repository's Python files (built once per change)."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.present = frozenset(paths)
        self._names: dict[str, tuple[str, str] | None] = {}
        self._paths: dict[str, str] | None = None

    def name(self, path: str) -> tuple[str, str] | None:
        """(import root folder, dotted module name), or None when the file is not importable.

        The module's package is the outermost parent folder holding an ``__init__.py``, and
        every folder below it (a PEP 420 namespace subpackage such as ``flask/sansio`` needs
        none); the root is the folder above it (so ``src/`` layouts work).
        """
        if path not in self._names:
            self._names[path] = self._name(path)
        return self._names[path]

    def _name(self, path: str) -> tuple[str, str] | None:
        if not path.endswith(".py"):
            return None
        folders = path.split("/")[:-1]
        top = next(
            (
                depth
                for depth in range(len(folders))
                if "/".join([*folders[: depth + 1], "__init__.py"]) in self.present
            ),
            len(folders),
        )
        stem = path.rsplit("/", 1)[-1][:-3]
        dotted = folders[top:] + ([] if stem == "__init__" else [stem])
        if not dotted or not all(p.isidentifier() for p in dotted):
            return None
        return "/".join(folders[:top]), ".".join(dotted)

    def path(self, module: str) -> str | None:
        """The file that defines ``module`` (a package's ``__init__.py``), if any."""
        if self._paths is None:
            self._paths = {}
            for path in sorted(self.present):
                name = self.name(path)
                if name is not None:
                    self._paths.setdefault(name[1], path)
        return self._paths.get(module)


def resolve_from(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute module a ``from`` import names (relative imports resolved)."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([target] if target else [])])


@dataclass(frozen=True)
class Bindings:
    """What a module binds at module level: imports by their target, and everything else."""

    imports: Mapping[str, str]  # bound name -> absolute dotted target ("os.path", "pkg.mod.f")
    defined: frozenset[str]  # names bound by def, class or assignment at module level
    star: bool  # a ``from x import *`` makes the module's names unknowable
    # The modules importing this one runs: ``if TYPE_CHECKING:`` imports are for the type
    # checker only and never run, so they make no import cycle.
    runtime: frozenset[str] = frozenset()


def module_bindings(text: str, module: str, is_package: bool) -> Bindings:
    """The module-level bindings of ``text`` (conditional ones included)."""
    return bindings_of(ast.parse(text), module, is_package)


def bindings_of(tree: ast.Module, module: str, is_package: bool) -> Bindings:
    """The module-level bindings of a parsed module."""
    imports: dict[str, str] = {}
    defined: set[str] = set()
    star = False
    typing_only = {
        id(node)
        for block in module_level(tree.body)
        if isinstance(block, ast.If) and _type_checking(block.test)
        for node in module_level(block.body)
    }
    runtime: set[str] = set()
    for node in module_level(tree.body):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in typing_only:
            if isinstance(node, ast.Import):
                runtime.update(alias.name for alias in node.names)
            else:
                # ``from pkg import mod`` reads ``pkg.mod``; ``from mod import name`` reads
                # ``mod`` (``imported_modules`` tells the two apart); only ``*`` reads ``pkg``.
                source = resolve_from(module, is_package, node.level, node.module)
                runtime.update(
                    source if alias.name == "*" else f"{source}.{alias.name}"
                    for alias in node.names
                )
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imports[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    imports[head] = head
        elif isinstance(node, ast.ImportFrom):
            source = resolve_from(module, is_package, node.level, node.module)
            for alias in node.names:
                if alias.name == "*":
                    star = True
                    continue
                imports[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        else:
            for target in stored_names(node):
                defined.add(target)
    for name in imports:
        defined.discard(name)
    return Bindings(imports, frozenset(defined), star, frozenset(runtime))


def imported_modules(bindings: Bindings, modules: Modules) -> set[str]:
    """The modules a module reads when it runs: ``pkg.mod`` for ``from pkg.mod import f``, the
    module itself for ``from pkg import mod``; not every package above them, which a package
    ``__init__`` re-exporting its modules would otherwise make one cycle of."""
    return {t if modules.path(t) else t.rpartition(".")[0] for t in bindings.runtime}


def _type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    if isinstance(test, ast.Attribute):
        return test.attr == "TYPE_CHECKING"
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def module_level(body: Sequence[ast.stmt]) -> Iterable[ast.stmt]:
    """Module-level statements, looking inside if/try/with blocks (conditional definitions)."""
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.Try | ast.With):
            for block in ("body", "orelse", "finalbody"):
                yield from module_level(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                yield from module_level(handler.body)


def stored_names(node: ast.stmt) -> Iterable[str]:
    """The names an assignment or a ``for`` statement binds."""
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    yield sub.id


def is_package(folder: str, sources: Callable[[str], str | None]) -> bool:
    """A folder holding an ``__init__.py`` (read through ``sources``): a regular package."""
    return sources(f"{folder}/__init__.py" if folder else "__init__.py") is not None
