"""Carry out a unification as libcst transformations, and validate the result.

Two sources of edits meet here. The model's edits (``UnitOp``: replace, remove or insert a
function, method or class, add an import) are applied as CST transformations; the mechanical
unification of Type-1/2 clones (``mechanical_ops``) is computed here from the code itself: keep
the canonical function, reduce every other copy to a re-export (same parameters) or a thin
delegation (renamed parameters), and point callers' ``from ... import`` at the canonical one.

Everything is checked before it leaves (``validate``): every edited module parses, no name is left
unresolved in an edited module (libcst scope analysis), every name a module stopped binding is not
imported from it anywhere in the repository, and outside the spans an edit declared, every line
of every file is byte for byte what it was.

Pure: texts in, texts out. No disk, no git, no network.
"""

from __future__ import annotations

import ast
import builtins
import copy
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst
from libcst.metadata import (
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    ScopeProvider,
)

from analyzers.imports import (
    Bindings,
    Modules,
    imported_modules,
    module_bindings,
    module_level,
    resolve_from,
    stored_names,
)

OpKind = Literal["replace", "remove", "insert_after", "add_import"]
_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__"}
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


# ----------------------------------------------------------------------------- module names


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


# ----------------------------------------------------------------------------- equivalence


@dataclass(frozen=True)
class Shape:
    """A function reduced to its structure: equal shapes mean equal behaviour up to renaming."""

    dump: str
    params: tuple[str, ...]  # in signature order
    free: frozenset[str]  # names the function reads that it does not bind


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
    """The shape of module-level function ``name`` in ``text`` (None when absent or ambiguous)."""
    tree = ast.parse(text)
    nodes = [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name
    ]
    if len(nodes) != 1:
        return None
    node = nodes[0]
    body = list(node.body)
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
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
    loads = {
        sub.id
        for sub in ast.walk(node)
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load)
    }
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
    renamed = _Alpha(local).visit(clone)
    return Shape(ast.dump(renamed, include_attributes=False), params, frozenset(loads - local))


# ----------------------------------------------------------------------------- mechanical plan


@dataclass(frozen=True)
class Member:
    """A unit of the finding as the planner needs it: where it is and what it is called."""

    path: str
    qualname: str
    kind: str


@dataclass(frozen=True)
class Plan:
    """Per-path operations and redirects of a mechanical unification, or why there is none."""

    ops: Mapping[str, tuple[UnitOp, ...]] = field(default_factory=dict)
    redirects: Mapping[str, tuple[Redirect, ...]] = field(default_factory=dict)
    summary: tuple[str, ...] = ()  # one line per member, for the commit message
    problem: str | None = None


@dataclass(frozen=True)
class Redirect:
    """Point ``from old_module import old_name`` at ``new_module.new_name`` in one module."""

    old_module: str
    old_name: str
    new_module: str
    new_name: str
    keywords: Mapping[str, str] = field(default_factory=dict)  # renamed parameters


# What would make a refused merge possible, in the words of the command line.
_MODEL = (
    ": methods and classes are merged by the model's edits (run with `--llm anthropic` and an "
    "`ANTHROPIC_API_KEY`)"
)


def mechanical_plan(texts: Mapping[str, str], canonical: Member, others: Sequence[Member]) -> Plan:
    """The mechanical unification of clones of ``canonical``, or a Plan carrying the reason not.

    ``texts`` holds every Python file of the repository at the head (path -> text).
    """
    modules = Modules(texts)
    if "." in canonical.qualname or "@" in canonical.qualname or "function" not in canonical.kind:
        return Plan(problem=f"{canonical.qualname} is not a module-level function{_MODEL}")
    c_mod = modules.name(canonical.path)
    if c_mod is None:
        return Plan(problem=f"{canonical.path} is not an importable module")
    c_shape = function_shape(texts[canonical.path], canonical.qualname)
    if c_shape is None:
        return Plan(problem=f"{canonical.qualname} is defined more than once in {canonical.path}")
    ops: dict[str, list[UnitOp]] = {}
    redirects: dict[str, list[Redirect]] = {}
    summary: list[str] = []
    for other in others:
        where = f"{other.path}::{other.qualname}"
        if "." in other.qualname or "@" in other.qualname or "function" not in other.kind:
            return Plan(problem=f"{where} is not a module-level function{_MODEL}")
        o_mod = modules.name(other.path)
        if o_mod is None or o_mod[0] != c_mod[0]:
            return Plan(
                problem=f"{other.path} cannot import {canonical.path} (another import root)"
            )
        shape = function_shape(texts[other.path], other.qualname)
        if shape is None:
            return Plan(problem=f"{other.qualname} is defined more than once in {other.path}")
        if shape.dump != c_shape.dump:
            return Plan(
                problem=f"{where} differs from {canonical.qualname} beyond names "
                "(literals, structure or the names it calls): the merge needs a person or the model"
            )
        o_bind = _bindings(texts, other.path, o_mod[1])
        for name in sorted(c_shape.free):
            same = _same_binding(texts, modules, name, c_mod[1], o_mod[1])
            if same is not None:
                return Plan(problem=f"{where}: `{name}` {same}")
        if other.path != canonical.path and _imports_reach(texts, modules, c_mod[1], o_mod[1]):
            return Plan(
                problem=f"{canonical.path} already imports {other.path}: importing back would "
                "create an import cycle"
            )
        keywords = {o: c for o, c in zip(shape.params, c_shape.params, strict=True) if o != c}
        source = module_ref(
            texts[other.path], o_mod[1], other.path.endswith("__init__.py"), c_mod[1]
        )
        name, cname = other.qualname, canonical.qualname
        file_ops = ops.setdefault(other.path, [])
        if other.path == canonical.path:
            if keywords:
                file_ops.append(UnitOp("replace", name, _delegation(texts, other, canonical)))
            else:
                file_ops.append(UnitOp("replace", name, f"{name} = {cname}\n"))
                if _defined_after(texts[other.path], cname, name):
                    return Plan(problem=f"{where} comes before {cname} in the same module")
            summary.append(f"{where}: now {'delegates to' if keywords else 'an alias of'} {cname}")
        else:
            if keywords:
                imported = o_bind.imports.get(cname)
                if cname in o_bind.defined or imported not in (None, f"{c_mod[1]}.{cname}"):
                    return Plan(problem=f"{other.path} already binds another `{cname}`")
                file_ops.append(UnitOp("replace", name, _delegation(texts, other, canonical)))
                if imported is None:
                    file_ops.append(UnitOp("add_import", code=f"from {source} import {cname}\n"))
                summary.append(f"{where}: now a thin delegation to {c_mod[1]}.{cname}")
            else:
                as_part = "" if name == cname else f" as {name}"
                file_ops.append(UnitOp("remove", name))
                file_ops.append(
                    UnitOp("add_import", code=f"from {source} import {cname}{as_part}\n")
                )
                summary.append(f"{where}: removed, re-exported from {c_mod[1]}.{cname}")
            for path in _importers(texts, modules, o_mod[1], name):
                if path in (other.path, canonical.path):
                    continue
                redirects.setdefault(path, []).append(
                    Redirect(o_mod[1], name, c_mod[1], cname, keywords)
                )
    return Plan(
        ops={p: tuple(o) for p, o in ops.items()},
        redirects={p: tuple(r) for p, r in redirects.items()},
        summary=tuple(summary),
    )


def _bindings(texts: Mapping[str, str], path: str, module: str) -> Bindings:
    return module_bindings(texts[path], module, path.endswith("__init__.py"))


def _same_binding(
    texts: Mapping[str, str], modules: Modules, name: str, left: str, right: str
) -> str | None:
    """None when ``name`` means the same thing in modules ``left`` and ``right``, else why not.

    A name means the same thing when both modules bind it to the same object: the same import
    target, or one module's own definition that the other imports (re-exports inside the
    repository are followed), or the same builtin when neither binds it.
    """
    targets = [_target(texts, modules, module, name) for module in (left, right)]
    if targets[0] is None and targets[1] is None:
        stars = any(
            _bindings(texts, path, m).star
            for m in (left, right)
            if (path := modules.path(m)) is not None and path in texts
        )
        return None if name in _BUILTINS and not stars else "cannot be resolved"
    if targets[0] == targets[1]:
        return None
    if targets[0] is not None and targets[1] is not None:
        return f"refers to {targets[0]} in one module and to {targets[1]} in the other"
    return "is a name of one module only (the other reads a builtin or nothing)"


def _target(
    texts: Mapping[str, str], modules: Modules, module: str, name: str, hops: int = 8
) -> str | None:
    """The dotted object ``name`` is bound to at module level in ``module`` (None: unbound)."""
    path = modules.path(module)
    if path is None or path not in texts:
        return f"{module}.{name}"  # outside the repository: its own name is all there is
    bindings = _bindings(texts, path, module)
    if name in bindings.defined:
        return f"{module}.{name}"
    target = bindings.imports.get(name)
    if target is None:
        return None
    source, _, attr = target.rpartition(".")
    if not source or modules.path(target) is not None or hops == 0:
        return target  # a module, or as far as re-exports are followed
    return _target(texts, modules, source, attr, hops - 1) or target


def _defined_after(text: str, first: str, second: str) -> bool:
    """True when ``first`` is defined after ``second`` at module level."""
    lines = {
        n.name: n.lineno
        for n in ast.parse(text).body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    return lines.get(first, 0) > lines.get(second, 0)


def _delegation(texts: Mapping[str, str], other: Member, canonical: Member) -> str:
    """A thin function with ``other``'s signature that calls ``canonical``."""
    node = _function_node(texts[other.path], other.qualname)
    target = _function_node(texts[canonical.path], canonical.qualname)
    args = node.args
    call: list[str] = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg:
        call.append(f"*{args.vararg.arg}")
    # Keyword-only parameters must be passed under the canonical function's names.
    call.extend(
        f"{c.arg}={o.arg}" for o, c in zip(args.kwonlyargs, target.args.kwonlyargs, strict=True)
    )
    if args.kwarg:
        call.append(f"**{args.kwarg.arg}")
    bare = copy.copy(node)
    bare.body, bare.decorator_list = [ast.Pass()], []
    header = ast.unparse(bare).splitlines()[0]
    is_async = isinstance(node, ast.AsyncFunctionDef)
    doc = (ast.get_docstring(node) or "").strip().splitlines()
    summary = doc[0].rstrip(".") if doc else "Kept for its callers"
    lines = [
        header,
        f'    """{summary} (delegates to ``{canonical.qualname}``)."""',
        f"    return {'await ' if is_async else ''}{canonical.qualname}({', '.join(call)})",
    ]
    return "\n".join(lines) + "\n"


def _function_node(text: str, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    raise UnifyError(f"`{name}` is not a module-level function")


def _importers(texts: Mapping[str, str], modules: Modules, module: str, name: str) -> list[str]:
    """Paths whose module-level ``from ... import`` brings ``module.name`` in."""
    wanted = f"{module}.{name}"
    out: list[str] = []
    for path, text in texts.items():
        if name not in text or "import" not in text:
            continue
        mod = modules.name(path)
        if mod is None:
            continue
        try:
            bindings = _bindings(texts, path, mod[1])
        except SyntaxError:
            continue
        if wanted in bindings.imports.values():
            out.append(path)
    return sorted(out)


def _imports_reach(texts: Mapping[str, str], modules: Modules, start: str, goal: str) -> bool:
    """Whether ``start`` imports ``goal`` at run time, directly or through other modules
    (``imported_modules``: not ``if TYPE_CHECKING:`` imports, not the packages above)."""
    todo = [start]
    seen: set[str] = set()
    while todo:
        current = todo.pop()
        path = modules.path(current)
        if current in seen or path is None:
            continue
        seen.add(current)
        if current == goal:
            return True
        try:
            bindings = _bindings(texts, path, current)
        except SyntaxError:
            continue
        todo.extend(imported_modules(bindings, modules))
    return False


# ----------------------------------------------------------------------------- applying ops


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
        module = cst.parse_module(_dedent(code))
    except cst.ParserSyntaxError as exc:
        raise UnifyError(f"the code for {what} does not parse: {exc.message}") from None
    if not module.body:
        raise UnifyError(f"the code for {what} is empty")
    return list(module.body)


def _dedent(code: str) -> str:
    import textwrap

    text = textwrap.dedent(code)
    return text if text.endswith("\n") else text + "\n"


class _Editor(cst.CSTTransformer):
    """Applies replace/remove/insert ops to the definitions they name, in one pass."""

    def __init__(self, targets: Mapping[int, list[UnitOp]]) -> None:
        self.targets = targets  # id(original node) -> ops on it

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
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
                    blank = cst.EmptyLine()
                    new[0] = new[0].with_changes(leading_lines=(blank, blank))
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
    for op in ops:
        if op.kind == "add_import":
            imports.append(op)
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
        for op in imports:
            stmts = _parse_statements(op.code, "an import")
            if _already_imported(edited, stmts):
                continue
            if docstring_only:  # PEP 8: a blank line between the docstring and the imports
                stmts[0] = stmts[0].with_changes(leading_lines=(cst.EmptyLine(),))
                docstring_only = False
            body[new_at:new_at] = stmts
            new_at += len(stmts)
        spans.append((line, line + 1))
    for op in tail:
        stmts = _parse_statements(op.code, "the code at the module end")
        blank = cst.EmptyLine()
        stmts[0] = stmts[0].with_changes(leading_lines=(blank, blank))
        body.extend(stmts)
        last = len(text.splitlines())
        spans.append((last, last + 1))
    out = edited.with_changes(body=body).code
    return Applied(out, tuple(sorted(spans)))


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


# ----------------------------------------------------------------------------- redirects


def apply_redirects(
    text: str, redirects: Sequence[Redirect], module: str, is_package: bool
) -> Applied:
    """Point the module-level ``from`` imports of ``redirects`` at their new home.

    A name imported without ``as`` is renamed at every use libcst's scope analysis ties to that
    import (keyword arguments of renamed parameters follow); when the new name is taken in the
    module, or the old one is listed in a string (``__all__``), the import keeps the old name
    as an alias instead.
    """
    tree = cst.parse_module(text)
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    scopes = wrapper.resolve(ScopeProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    global_scope = scopes[tree]
    assert global_scope is not None
    spans: list[tuple[int, int]] = []
    renames: dict[int, str] = {}  # id(Name node) -> new name
    keyword_maps: dict[int, Mapping[str, str]] = {}  # id(Call) -> keyword renames
    stmt_changes: dict[int, list[cst.SimpleStatementLine | cst.BaseCompoundStatement]] = {}
    for index, stmt in enumerate(tree.body):
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        node = stmt.body[0]
        if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
            continue
        level = len(node.relative)
        target = cst.helpers.get_full_name_for_node(node.module) if node.module else None
        source = resolve_from(module, is_package, level, target)
        kept: list[cst.ImportAlias] = []
        added: list[str] = []
        for alias in node.names:
            name = cst.helpers.get_full_name_for_node(alias.name)
            hit = next(
                (r for r in redirects if r.old_module == source and r.old_name == name), None
            )
            if hit is None:
                kept.append(alias)
                continue
            asname = (
                cst.helpers.get_full_name_for_node(alias.asname.name)
                if alias.asname is not None
                else None
            )
            bound = asname or hit.old_name
            taken = hit.new_name != bound and (
                hit.new_name in global_scope or f'"{bound}"' in text or f"'{bound}'" in text
            )
            home = module_ref(text, module, is_package, hit.new_module)
            if asname is not None or taken or bound == hit.new_name:
                added.append(
                    f"from {home} import {hit.new_name}"
                    + ("" if bound == hit.new_name else f" as {bound}")
                )
                continue
            added.append(f"from {home} import {hit.new_name}")
            for assignment in global_scope.assignments[bound]:
                for access in assignment.references:
                    ref = access.node
                    if isinstance(ref, cst.Name):
                        renames[id(ref)] = hit.new_name
                        parent = parents.get(ref)
                        if isinstance(parent, cst.Call) and parent.func is ref and hit.keywords:
                            keyword_maps[id(parent)] = hit.keywords
                        line = positions[ref].start.line
                        spans.append((line, positions[parent].end.line if parent else line))
        if not added:
            continue
        pos = positions[stmt]
        spans.append((pos.start.line, pos.end.line))
        new: list[cst.SimpleStatementLine | cst.BaseCompoundStatement] = []
        if kept:
            # In parentheses every kept name keeps its comma and comments (a trailing comma is
            # valid there); without them the last kept name must lose its comma.
            fixed = list(kept)
            last = fixed[-1]
            if node.lpar is None:
                fixed[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
            elif isinstance(last.comma, cst.Comma) and isinstance(
                last.comma.whitespace_after, cst.ParenthesizedWhitespace
            ):
                # Its line break stays (with its comment); the indentation it carried was for
                # the name that is gone, and would now sit before the closing parenthesis.
                after = last.comma.whitespace_after.with_changes(
                    indent=False, last_line=cst.SimpleWhitespace("")
                )
                fixed[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=after))
            new.append(stmt.with_changes(body=[node.with_changes(names=fixed)]))
        for i, line_code in enumerate(added):
            parsed = cst.parse_statement(line_code + "\n")
            if not kept and i == 0:
                parsed = parsed.with_changes(leading_lines=stmt.leading_lines)
            new.append(parsed)
        stmt_changes[index] = new

    class _Rename(cst.CSTTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            new_name = renames.get(id(original))
            return updated.with_changes(value=new_name) if new_name else updated

        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
            mapping = keyword_maps.get(id(original))
            if not mapping:
                return updated
            args = [
                a.with_changes(keyword=cst.Name(mapping[a.keyword.value]))
                if a.keyword is not None and a.keyword.value in mapping
                else a
                for a in updated.args
            ]
            return updated.with_changes(args=args)

    body: list[cst.SimpleStatementLine | cst.BaseCompoundStatement] = []
    for index, stmt in enumerate(tree.body):
        body.extend(stmt_changes.get(index, [stmt]))
    edited = tree.with_changes(body=body)
    if renames or keyword_maps:
        renamed = edited.visit(_Rename())
        assert isinstance(renamed, cst.Module)
        edited = renamed
    return Applied(edited.code, tuple(sorted(spans)))


# ----------------------------------------------------------------------------- validation


def unresolved_names(text: str) -> set[str]:
    """Names read in ``text`` that nothing binds (libcst scope analysis); empty with ``*``."""
    module = cst.parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scopes = wrapper.resolve(ScopeProvider)
    out: set[str] = set()
    seen: set[int] = set()
    for scope in scopes.values():
        if scope is None or id(scope) in seen:
            continue
        seen.add(id(scope))
        for access in scope.accesses:
            if access.referents or not isinstance(access.node, cst.Name):
                continue
            name = access.node.value
            if name not in _BUILTINS:
                out.add(name)
    if "import *" in text:
        return set()
    return out


def changed_outside(before: str, after: str, spans: Sequence[tuple[int, int]]) -> list[int]:
    """Lines of ``before`` (1-based) that changed although no span declared them.

    A diff may align a removed block one blank line off (blank lines are all alike), so blank
    lines in a hunk that overlaps a declared span count as part of the edit.
    """
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)

    def inside(line: int) -> bool:
        return any(s - 1 <= line <= e + 1 for s, e in spans)

    outside: list[int] = []
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        lines = list(range(i1 + 1, i2 + 1)) or [i1]  # an insertion sits after line i1
        touches = any(inside(line) for line in lines)
        for line in lines:
            blank = 0 < line <= len(old) and not old[line - 1].strip()
            if not inside(line) and not (touches and blank):
                outside.append(line)
    return outside


def validate(
    before: Mapping[str, str],
    after: Mapping[str, str],
    spans: Mapping[str, Sequence[tuple[int, int]]],
    *,
    allowed: Iterable[str],
    repo_texts: Mapping[str, str],
) -> list[str]:
    """Every reason the change must not be delivered; empty when it is sound.

    ``before``/``after`` hold the edited files; ``repo_texts`` every Python file at the head.
    """
    problems: list[str] = []
    allowed_set = set(allowed)
    modules = Modules([*repo_texts, *after])
    for path in sorted(after):
        if path not in allowed_set:
            problems.append(f"{path}: outside the finding's files and their callers")
        new = after[path]
        old = before.get(path, "")
        try:
            ast.parse(new)
            cst.parse_module(new)
        except (SyntaxError, cst.ParserSyntaxError) as exc:
            problems.append(f"{path}: does not parse after the change ({_brief(exc)})")
            continue
        if new == old:
            continue
        dangling = unresolved_names(new) - (unresolved_names(old) if old else set())
        if dangling:
            problems.append(
                f"{path}: unresolved name(s) after the change: {', '.join(sorted(dangling))}"
            )
        outside = changed_outside(old, new, spans.get(path, ()))
        if old and outside:
            problems.append(f"{path}: lines outside the edited spans changed ({_ranges(outside)})")
        mod = modules.name(path)
        if mod is None or not old:
            continue
        gone = _top_names(old) - _top_names(new)
        if not gone:
            continue
        merged = {**repo_texts, **after}
        for other_path, other_text in merged.items():
            if not any(name in other_text for name in gone):
                continue
            other_mod = modules.name(other_path)
            if other_mod is None:
                continue
            try:
                bindings = module_bindings(
                    other_text, other_mod[1], other_path.endswith("__init__.py")
                )
            except SyntaxError:
                continue
            for name in sorted(gone):
                if f"{mod[1]}.{name}" in bindings.imports.values():
                    problems.append(
                        f"{other_path} imports `{name}` from {path}, which no longer defines it"
                    )
                elif _attribute_use(other_text, bindings, mod[1], name):
                    problems.append(f"{other_path} uses `{mod[1]}.{name}`, which no longer exists")
    return problems


def _top_names(text: str) -> set[str]:
    tree = ast.parse(text)
    names: set[str] = set()
    for node in module_level(tree.body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            names.update(stored_names(node))
    return names


def _attribute_use(text: str, bindings: Bindings, module: str, name: str) -> bool:
    aliases = {bound for bound, target in bindings.imports.items() if target == module}
    if not aliases and module.split(".")[0] in bindings.imports:
        dotted = module
    else:
        dotted = ""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Attribute) and node.attr == name:
            base = ast.unparse(node.value)
            if base in aliases or (dotted and base == dotted):
                return True
    return False


def _brief(exc: BaseException) -> str:
    if isinstance(exc, cst.ParserSyntaxError):
        return f"line {exc.raw_line}: {exc.message}"
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}"
    return str(exc)


def _ranges(lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in sorted(set(lines))[:8])
    return f"line {shown}" + (" ..." if len(set(lines)) > 8 else "")
