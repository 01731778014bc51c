"""What an edit is (``UnitOp``), and applying edits to a module as libcst transformations,
imports added, dropped and kept in order."""

from __future__ import annotations

import ast
import builtins
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, ScopeProvider

OpKind = Literal[
    "replace", "remove", "insert_after", "add_import", "drop_unused_import", "rename_uses"
]


BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__"}


_DefNode = cst.FunctionDef | cst.ClassDef


class UnifyError(Exception):
    """An edit that cannot be applied as asked (the reason is the message)."""


@dataclass(frozen=True)
class UnitOp:
    """One edit of one module, addressed by qualified name rather than by line."""

    kind: OpKind
    target: str = ""  # qualname of the unit replaced/removed/inserted after ("" = module end)
    code: str = ""  # the new code (replace, insert_after, add_import)


@dataclass(frozen=True)
class Applied:
    """A module after its edits, and the line spans of the original the edits covered."""

    text: str
    spans: tuple[tuple[int, int], ...]  # 1-based inclusive spans of the *before* text


def _find(body: Sequence[cst.BaseStatement], qualname: str) -> tuple[list[str], _DefNode]:
    """The definition at ``qualname`` (``Class.method`` descends into classes)."""
    head, _, rest = qualname.partition(".")
    matches = [
        n for n in body if isinstance(n, cst.FunctionDef | cst.ClassDef) and n.name.value == head
    ]
    if len(matches) != 1:
        raise UnifyError(f"`{qualname}` is {'defined more than once' if matches else 'not found'}")
    node = matches[0]
    if not rest:
        return [head], node
    if not isinstance(node, cst.ClassDef) or not isinstance(node.body, cst.IndentedBlock):
        raise UnifyError(f"`{qualname}`: only classes hold other definitions here")
    path, found = _find(node.body.body, rest)
    return [head, *path], found


def _parse_statements(
    code: str, what: str
) -> list[cst.SimpleStatementLine | cst.BaseCompoundStatement]:
    try:
        if code[:1] in (" ", "\t"):
            # Code cut from a class body keeps its indentation, so that the lines of a
            # multi-line string in it stay where they were when it lands in another class.
            wrapper = cst.parse_module(
                "class _:\n" + (code if code.endswith("\n") else code + "\n")
            )
            holder = wrapper.body[0]
            assert isinstance(holder, cst.ClassDef)
            assert isinstance(holder.body, cst.IndentedBlock)
            return [
                s
                for s in holder.body.body
                if isinstance(s, cst.SimpleStatementLine | cst.BaseCompoundStatement)
            ]
        module = cst.parse_module(_dedent(code))
    except cst.ParserSyntaxError as exc:
        raise UnifyError(f"the code for {what} does not parse: {exc.message}") from None
    if not module.body:
        raise UnifyError(f"the code for {what} is empty")
    return list(module.body)


def _dedent(code: str) -> str:
    text = textwrap.dedent(code)
    return text if text.endswith("\n") else text + "\n"


class _Editor(cst.CSTTransformer):
    """Applies replace/remove/insert ops to the definitions they name, in one pass."""

    def __init__(self, targets: Mapping[int, list[UnitOp]]) -> None:
        self.targets = targets  # id(original node) -> ops on it

    def _block(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        # A class whose first method went opens on the next one, not on its blank lines.
        if not original_node.body or not updated_node.body:
            return updated_node
        was, first = original_node.body[0], updated_node.body[0]
        if (
            id(was) in self.targets
            and isinstance(was, cst.SimpleStatementLine | cst.BaseCompoundStatement)
            and not was.leading_lines
            and isinstance(first, cst.SimpleStatementLine | cst.BaseCompoundStatement)
        ):
            body = [first.with_changes(leading_lines=()), *updated_node.body[1:]]
            return updated_node.with_changes(body=body)
        return updated_node

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        if isinstance(original_node, cst.IndentedBlock):
            assert isinstance(updated_node, cst.IndentedBlock)
            return self._block(original_node, updated_node)
        todo = self.targets.get(id(original_node))
        if not todo:
            return updated_node
        assert isinstance(updated_node, cst.FunctionDef | cst.ClassDef)
        out: list[cst.CSTNode] = [updated_node]
        for op in todo:
            if op.kind == "remove":
                out = [n for n in out if n is not updated_node]
            elif op.kind == "replace":
                new = _parse_statements(op.code, f"`{op.target}`")
                new[0] = new[0].with_changes(leading_lines=updated_node.leading_lines)
                position = out.index(updated_node) if updated_node in out else 0
                out[position : position + 1] = new
            elif op.kind == "insert_after":
                new = _parse_statements(op.code, f"the code after `{op.target}`")
                if not new[0].leading_lines:
                    # PEP 8: one blank line between methods, two between top-level definitions.
                    blank = cst.EmptyLine(indent=False)
                    lines = (blank,) if "." in op.target else (blank, blank)
                    new[0] = new[0].with_changes(leading_lines=lines)
                out.extend(new)
        if not out:
            return cst.RemoveFromParent()
        if len(out) == 1:
            return out[0]
        return cst.FlattenSentinel(out)


def apply_ops(text: str, ops: Sequence[UnitOp]) -> Applied:
    """Apply ``ops`` to one module's text; raise ``UnifyError`` when one cannot be applied."""
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise UnifyError(f"the module does not parse before editing: {exc.message}") from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    spans: list[tuple[int, int]] = []
    targets: dict[int, list[UnitOp]] = {}
    imports: list[UnitOp] = []
    tail: list[UnitOp] = []
    drops = {op.target for op in ops if op.kind == "drop_unused_import"}
    renames: dict[int, str] = {}  # id(Name node) -> new name
    for op in ops:
        if op.kind == "rename_uses":
            for use in _module_uses(wrapper, module, op.target):
                renames[id(use)] = op.code
                line = positions[use].start.line
                spans.append((line, line))
    if renames:
        # Renaming keeps every line where it is: rename first, then edit the renamed text.
        renamed = module.visit(_Renamer(renames)).code
        rest = apply_ops(renamed, [op for op in ops if op.kind != "rename_uses"])
        return Applied(rest.text, tuple(sorted({*spans, *rest.spans})))
    for op in ops:
        if op.kind == "add_import":
            imports.append(op)
            continue
        if op.kind in ("drop_unused_import", "rename_uses"):
            continue
        if op.kind == "insert_after" and not op.target:
            tail.append(op)
            continue
        _, node = _find(module.body, op.target)
        targets.setdefault(id(node), []).append(op)
        pos = positions[node]
        start = pos.start.line - len(node.leading_lines)
        if op.kind == "insert_after":
            spans.append((pos.end.line, pos.end.line + 1))
        else:
            spans.append((start, pos.end.line))
    edited = module.visit(_Editor(targets)) if targets else module
    assert isinstance(edited, cst.Module)
    body = list(edited.body)
    if imports:
        at = _import_anchor(module)
        line = positions[module.body[at - 1]].end.line if at else 0
        # Unit ops never touch the leading imports, so the edited module's anchor is the same
        # place; it is looked up again because ops before it may have changed the count.
        new_at = _import_anchor(edited)
        docstring_only = new_at == 1 and not _has_import(edited.body[0])
        pending: list[tuple[int, int, list[cst.SimpleStatementLine | cst.BaseCompoundStatement]]]
        pending = []
        for seq, op in enumerate(imports):
            stmts = _parse_statements(op.code, "an import")
            if _already_imported(edited, stmts):
                continue
            if docstring_only:  # PEP 8: a blank line between the docstring and the imports
                stmts[0] = stmts[0].with_changes(leading_lines=(cst.EmptyLine(),))
                docstring_only = False
                slot = new_at
            else:
                slot = _import_slot(edited, edited.body[:new_at], stmts[0], new_at)
            pending.append((slot, seq, stmts))
            # The leading imports are the original's, untouched by unit ops: same indices.
            after_line = positions[module.body[slot - 1]].end.line if slot else 0
            spans.append((after_line, after_line + 1))
        for slot, _, stmts in sorted(pending, key=lambda p: (p[0], p[1]), reverse=True):
            body[slot:slot] = stmts
        spans.append((line, line + 1))
    for op in tail:
        stmts = _parse_statements(op.code, "the code at the module end")
        blank = cst.EmptyLine()
        stmts[0] = stmts[0].with_changes(leading_lines=(blank, blank))
        body.extend(stmts)
        last = len(text.splitlines())
        spans.append((last, last + 1))
    out = edited.with_changes(body=body).code
    if drops:
        unused: set[str] = set()
        while more := (drops - unused) - _read_names(out):
            # Until nothing changes: a removed ``if TYPE_CHECKING:`` block stops reading ``t``.
            unused |= more
            out = _drop_imports(cst.parse_module(out), unused).code
        for i, stmt in enumerate(module.body):
            if _binds_any(stmt, unused):
                # Up to the next statement: the blank lines it opens on may change too.
                start = positions[stmt].start.line - len(stmt.leading_lines)
                nxt = module.body[i + 1] if i + 1 < len(module.body) else None
                end = positions[nxt].start.line if nxt is not None else positions[stmt].end.line
                spans.append((start, end))
    return Applied(out, tuple(sorted(spans)))


def _module_uses(wrapper: MetadataWrapper, module: cst.Module, name: str) -> list[cst.Name]:
    """The names that read the module-level binding ``name`` (libcst's scope analysis)."""
    scopes = wrapper.resolve(ScopeProvider)
    scope = scopes[module]
    if scope is None:
        return []
    found: list[cst.Name] = []
    for assignment in scope.assignments[name]:
        for access in assignment.references:
            if isinstance(access.node, cst.Name):
                found.append(access.node)
    return found


class _Renamer(cst.CSTTransformer):
    """Renames the ``Name`` nodes it is given (by identity)."""

    def __init__(self, renames: Mapping[int, str]) -> None:
        self.renames = renames

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.renames.get(id(original_node))
        return updated_node if new is None else updated_node.with_changes(value=new)


def read_outside(text: str, name: str) -> bool:
    """Whether the module reads ``name`` anywhere but in its own definition of it."""
    tree = ast.parse(text)
    inside = {
        id(sub)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
        for sub in ast.walk(node)
    }
    return any(
        isinstance(n, ast.Name) and n.id == name and id(n) not in inside for n in ast.walk(tree)
    ) or any(isinstance(n, ast.Constant) and n.value == name for n in ast.walk(tree))


def _read_names(text: str) -> set[str]:
    """Every name a module reads (and every string, for ``__all__``): what an import serves."""
    tree = ast.parse(text)
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    read |= {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    return read


def _bound_by(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return cst.Module([]).code_for_node(alias.name).split(".")[0]


def _binds_any(stmt: cst.CSTNode, names: set[str]) -> bool:
    """A module-level statement (or an ``if`` block of them) importing one of ``names``."""
    for node in _walk_imports(stmt):
        if not isinstance(node.names, cst.ImportStar) and any(
            _bound_by(a) in names for a in node.names
        ):
            return True
    return False


def _walk_imports(stmt: cst.CSTNode) -> Iterable[cst.Import | cst.ImportFrom]:
    if isinstance(stmt, cst.SimpleStatementLine):
        yield from (s for s in stmt.body if isinstance(s, cst.Import | cst.ImportFrom))
    elif isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock):
        for inner in stmt.body.body:
            yield from _walk_imports(inner)


def _drop_imports(module: cst.Module, names: set[str]) -> cst.Module:
    """``module`` without its module-level imports of ``names`` (an explicit re-export,
    ``import x as x``, stays), and without an ``if TYPE_CHECKING:`` block left empty. The
    blank lines that set a removed import's group apart stay with what follows it."""
    return module.with_changes(body=_drop_in(list(module.body), names))


def _drop_in(
    body: list[cst.BaseStatement] | list[cst.BaseCompoundStatement | cst.SimpleStatementLine],
    names: set[str],
) -> list[cst.BaseStatement]:
    out: list[cst.BaseStatement] = []
    carried: list[Sequence[cst.EmptyLine]] = []  # leading lines of the statements removed
    for stmt in body:
        new = _dropped(stmt, names)
        if new is None:
            if isinstance(stmt, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                carried.append(stmt.leading_lines)
            continue
        if carried and isinstance(new, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            lines = max([*carried, new.leading_lines], key=len) if out else ()
            new = new.with_changes(leading_lines=lines)
        carried = []
        out.append(new)
    return out


def _dropped(stmt: cst.BaseStatement, names: set[str]) -> cst.BaseStatement | None:
    """The statement without its imports of ``names``; None when nothing of it is left."""
    if isinstance(stmt, cst.If) and isinstance(stmt.body, cst.IndentedBlock):
        if not any(_binds_any(s, names) for s in stmt.body.body):
            return stmt
        inner = _drop_in(list(stmt.body.body), names)
        if not inner:
            return (
                None
                if stmt.orelse is None
                else stmt.with_changes(
                    body=stmt.body.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
                )
            )
        return stmt.with_changes(body=stmt.body.with_changes(body=inner))
    if not isinstance(stmt, cst.SimpleStatementLine) or not _binds_any(stmt, names):
        return stmt
    small: list[cst.BaseSmallStatement] = []
    for node in stmt.body:
        if isinstance(node, cst.Import | cst.ImportFrom) and not isinstance(
            node.names, cst.ImportStar
        ):
            keep = [a for a in node.names if not _goes(a, names)]
            if not keep:
                continue
            if len(keep) < len(node.names):
                keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                node = node.with_changes(names=keep)
        small.append(node)
    return stmt.with_changes(body=small) if small else None


def _goes(alias: cst.ImportAlias, names: set[str]) -> bool:
    name = _bound_by(alias)
    explicit = alias.asname is not None and cst.Module([]).code_for_node(alias.name) == name
    return name in names and not explicit


def _import_key(module: cst.Module, stmt: cst.BaseStatement) -> tuple[int, str] | None:
    """Where an import sorts (isort's sections, then the module): ``__future__``, the standard
    library, other absolute imports, relative imports; None for anything but an import."""
    if not isinstance(stmt, cst.SimpleStatementLine) or not _has_import(stmt):
        return None
    node = stmt.body[0]
    if isinstance(node, cst.ImportFrom):
        dots = "." * len(node.relative)
        name = dots + (module.code_for_node(node.module) if node.module else "")
    elif isinstance(node, cst.Import):
        name = module.code_for_node(node.names[0].name)
    else:
        return None
    top = name.split(".")[0]
    if name.startswith("."):
        return (3, name)
    if top == "__future__":
        return (0, name)
    return (1 if top in sys.stdlib_module_names else 2, name)


def _import_slot(
    module: cst.Module, leading: Sequence[cst.BaseStatement], new: cst.BaseStatement, end: int
) -> int:
    """The index among the leading statements where ``new`` keeps the imports sorted: after the
    last import that sorts before it (or at the end when none is known)."""
    key = _import_key(module, new)
    keyed = [(i, _import_key(module, s)) for i, s in enumerate(leading)]
    imports = [(i, k) for i, k in keyed if k is not None]
    if key is None or not imports:
        return end
    before = [i for i, k in imports if k <= key]
    return before[-1] + 1 if before else imports[0][0]


def _import_anchor(module: cst.Module) -> int:
    """Index in the module body after which a new import goes: after the last leading import."""
    at = 0
    for i, stmt in enumerate(module.body):
        if isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, cst.Import | cst.ImportFrom | cst.Expr) for s in stmt.body
        ):
            if any(isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body) or i == 0:
                at = i + 1
            continue
        break
    return at


def _has_import(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and any(
        isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body
    )


def _already_imported(module: cst.Module, stmts: Sequence[cst.BaseStatement]) -> bool:
    have = {module.code_for_node(s).strip() for s in module.body}
    return all(module.code_for_node(s).strip() in have for s in stmts)
