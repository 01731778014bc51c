"""Locate every function, method and class of a module with libcst, with exact spans."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from analyzers.model import Unit, UnitKind


class UnitParseError(ValueError):
    """The module does not parse as Python 3."""


class UnitNames:
    """Qualified names of one module's definitions, given in source order.

    A redefinition of a name (``if WIN:``/``else:`` variants, ``@overload`` stubs, a property
    setter) gets its ordinal, ``name@2``, ``name@3``: unlike a line number, it does not move when
    a branch inserts lines above it, so the unit keeps its key and is not taken for new code.
    Nested definitions are named under their parent's own name (``name@2.inner``).
    """

    def __init__(self) -> None:
        self._count: dict[str, int] = {}

    def next(self, parent: str | None, name: str) -> str:
        """The qualified name of the next definition of ``name`` in ``parent`` (None: module)."""
        base = f"{parent}.{name}" if parent else name
        count = self._count.get(base, 0) + 1
        self._count[base] = count
        return base if count == 1 else f"{base}@{count}"


def _trim_end(lines: list[str], start: int, end: int) -> int:
    """Drop trailing comment and blank lines that libcst keeps in an indented block's footer."""
    while end > start:
        text = lines[end - 1].strip()
        if text and not text.startswith("#"):
            break
        end -= 1
    return end


class _UnitVisitor(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, path: str, lines: list[str]) -> None:
        super().__init__()
        self.path = path
        self.lines = lines
        self.units: list[Unit] = []
        self.names = UnitNames()
        # (qualname, is_class) of the enclosing definitions
        self._stack: list[tuple[str, bool]] = []

    def _span(self, node: cst.FunctionDef | cst.ClassDef) -> tuple[int, int]:
        rng: CodeRange = self.get_metadata(PositionProvider, node)
        start = rng.start.line
        if node.decorators:
            start = self.get_metadata(PositionProvider, node.decorators[0]).start.line
        return start, _trim_end(self.lines, start, rng.end.line)

    def _enter(self, node: cst.FunctionDef | cst.ClassDef, kind: UnitKind) -> None:
        parent = self._stack[-1][0] if self._stack else None
        qualname = self.names.next(parent, node.name.value)
        start, end = self._span(node)
        doc = node.get_docstring(clean=True)
        self.units.append(
            Unit(
                path=self.path,
                qualname=qualname,
                kind=kind,
                start_line=start,
                end_line=end,
                docstring=doc or None,
                parent=parent,
            )
        )
        self._stack.append((qualname, isinstance(node, cst.ClassDef)))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        in_class = bool(self._stack) and self._stack[-1][1]
        is_async = node.asynchronous is not None
        kind: UnitKind
        if in_class:
            kind = "async_method" if is_async else "method"
        else:
            kind = "async_function" if is_async else "function"
        self._enter(node, kind)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter(node, "class")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()


def locate_units(source: str, path: str) -> tuple[Unit, ...]:
    """Every function, async function, method, nested function and class of ``source``.

    Spans are 1-based and inclusive, from the first decorator to the last line of code. A
    redefinition of a name is named by its ordinal (``name@2``, see ``UnitNames``).
    Raises ``UnitParseError`` when the module does not parse.
    """
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise UnitParseError(f"syntax error at line {exc.raw_line}: {exc.message}") from exc
    except (RecursionError, MemoryError) as exc:
        raise UnitParseError(f"too deeply nested to parse ({type(exc).__name__})") from exc
    visitor = _UnitVisitor(path, source.splitlines())
    MetadataWrapper(module, unsafe_skip_copy=True).visit(visitor)
    return tuple(visitor.units)
