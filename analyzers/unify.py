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
import sys
import textwrap
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
from analyzers.profile import docstring_node
from analyzers.testcode import is_test_path

OpKind = Literal[
    "replace", "remove", "insert_after", "add_import", "drop_unused_import", "rename_uses"
]
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
    node = _def_node(ast.parse(text).body, name)
    return None if node is None else _shape(node)


def _def_node(
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
        return _def_node(node.body, rest)
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


# ----------------------------------------------------------------------------- mechanical plan


@dataclass(frozen=True)
class UnitRef:
    """A unit of the finding as the planner needs it: where it is and what it is called."""

    path: str
    qualname: str
    kind: str


@dataclass(frozen=True)
class Unification:
    """Per-path operations and redirects of a mechanical unification, or why there is none."""

    ops: Mapping[str, tuple[UnitOp, ...]] = field(default_factory=dict)
    redirects: Mapping[str, tuple[Redirect, ...]] = field(default_factory=dict)
    summary: tuple[str, ...] = ()  # one line per member, for the commit message
    problem: str | None = None
    hosts: tuple[str, ...] = ()  # files edited that hold no member: a shared base's module


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


def mechanical_plan(
    texts: Mapping[str, str], canonical: UnitRef, others: Sequence[UnitRef]
) -> Unification:
    """The mechanical unification of clones of ``canonical``, or one carrying the reason not.

    ``texts`` holds every Python file of the repository at the head (path -> text).
    """
    modules = Modules(texts)
    if all(_is_method(m) for m in (canonical, *others)):
        return method_plan(texts, canonical, others)
    if "." in canonical.qualname or "@" in canonical.qualname or "function" not in canonical.kind:
        return Unification(problem=f"{canonical.qualname} is not a module-level function{_MODEL}")
    c_mod = modules.name(canonical.path)
    if c_mod is None:
        return Unification(problem=f"{canonical.path} is not an importable module")
    c_shape = function_shape(texts[canonical.path], canonical.qualname)
    if c_shape is None:
        return Unification(
            problem=f"{canonical.qualname} is defined more than once in {canonical.path}"
        )
    ops: dict[str, list[UnitOp]] = {}
    redirects: dict[str, list[Redirect]] = {}
    summary: list[str] = []
    for other in others:
        where = f"{other.path}::{other.qualname}"
        if "." in other.qualname or "@" in other.qualname or "function" not in other.kind:
            return Unification(problem=f"{where} is not a module-level function{_MODEL}")
        o_mod = modules.name(other.path)
        if o_mod is None or o_mod[0] != c_mod[0]:
            return Unification(
                problem=f"{other.path} cannot import {canonical.path} (another import root)"
            )
        shape = function_shape(texts[other.path], other.qualname)
        if shape is None:
            return Unification(
                problem=f"{other.qualname} is defined more than once in {other.path}"
            )
        if shape.dump != c_shape.dump:
            return Unification(
                problem=f"{where} differs from {canonical.qualname} beyond names "
                "(literals, structure or the names it calls): the merge needs a person or the model"
            )
        o_bind = _bindings(texts, other.path, o_mod[1])
        for name in sorted(c_shape.free):
            same = _same_binding(texts, modules, name, c_mod[1], o_mod[1])
            if same is not None:
                return Unification(problem=f"{where}: `{name}` {same}")
        if other.path != canonical.path and _imports_reach(texts, modules, c_mod[1], o_mod[1]):
            return Unification(
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
                    return Unification(problem=f"{where} comes before {cname} in the same module")
            summary.append(f"{where}: now {'delegates to' if keywords else 'an alias of'} {cname}")
        else:
            # A private function its module no longer calls: nothing to re-export.
            removed = name.startswith("_") and not _read_outside(texts[other.path], name)
            if keywords:
                imported = o_bind.imports.get(cname)
                if cname in o_bind.defined or imported not in (None, f"{c_mod[1]}.{cname}"):
                    return Unification(problem=f"{other.path} already binds another `{cname}`")
                file_ops.append(UnitOp("replace", name, _delegation(texts, other, canonical)))
                if imported is None:
                    file_ops.append(UnitOp("add_import", code=f"from {source} import {cname}\n"))
                summary.append(f"{where}: now a thin delegation to {c_mod[1]}.{cname}")
            elif removed:
                file_ops.append(UnitOp("remove", name))
                file_ops.extend(_drops(texts, modules, o_mod[1], shape))
                summary.append(f"{where}: removed (callers use {c_mod[1]}.{cname})")
            elif (
                name.startswith("_")
                and name != cname
                and o_bind.imports.get(cname) == f"{c_mod[1]}.{cname}"
                and cname not in o_bind.defined
            ):
                # The module imports the original already: its calls of the copy call it.
                file_ops.append(UnitOp("remove", name))
                file_ops.append(UnitOp("rename_uses", name, cname))
                file_ops.extend(_drops(texts, modules, o_mod[1], shape))
                summary.append(f"{where}: removed; its module calls {cname}, imported already")
            else:
                as_part = "" if name == cname else f" as {name}"
                file_ops.append(UnitOp("remove", name))
                file_ops.append(
                    UnitOp("add_import", code=f"from {source} import {cname}{as_part}\n")
                )
                file_ops.extend(_drops(texts, modules, o_mod[1], shape))
                summary.append(f"{where}: removed, re-exported from {c_mod[1]}.{cname}")
            for path in _importers(texts, modules, o_mod[1], name):
                if path in (other.path, canonical.path):
                    continue
                if is_test_path(path) and (keywords or not removed):
                    continue  # the copy's tests keep testing it: the name still works there
                redirects.setdefault(path, []).append(
                    Redirect(o_mod[1], name, c_mod[1], cname, keywords)
                )
    return Unification(
        ops={p: tuple(o) for p, o in ops.items()},
        redirects={p: tuple(r) for p, r in redirects.items()},
        summary=tuple(summary),
    )


def _is_method(member: UnitRef) -> bool:
    """A method of a module-level class (``Class.method``), not redefined (no ``@``)."""
    return (
        "method" in member.kind and member.qualname.count(".") == 1 and "@" not in member.qualname
    )


# Bases that say how a class is built; they hold none of the methods a repository writes.
_BUILDING_BASES = frozenset({"object", "typing.Generic", "abc.ABC", "typing.Protocol"})


@dataclass(frozen=True)
class _Class:
    """A module-level class of the repository: its module, path, name and syntax."""

    module: str
    path: str
    name: str
    node: ast.ClassDef

    def defines(self, name: str) -> bool:
        """The class body binds ``name`` (a method, or an attribute assigned in the body)."""
        for stmt in self.node.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if stmt.name == name:
                    return True
            elif name in stored_names(stmt):
                return True
        return False


def _class_at(texts: Mapping[str, str], modules: Modules, module: str, name: str) -> _Class | None:
    path = modules.path(module)
    if path is None or path not in texts:
        return None
    found = [
        n for n in ast.parse(texts[path]).body if isinstance(n, ast.ClassDef) and n.name == name
    ]
    return _Class(module, path, name, found[0]) if len(found) == 1 else None


def beside(base_path: str, paths: Iterable[str]) -> bool:
    """Whether a shared base lives in the package of one of the classes that derive from it:
    a method can move up into it. A base in another package is another layer (flask's
    ``sansio/Scaffold``, without I/O): a method copied into ``Flask`` and ``Blueprint`` stays
    on their side of that line."""
    return base_path.rpartition("/")[0] in {p.rpartition("/")[0] for p in paths}


def _member_class(texts: Mapping[str, str], modules: Modules, member: UnitRef) -> _Class | None:
    """The module-level class a method member (``Class.method``) is defined in."""
    mod = modules.name(member.path)
    return _class_at(texts, modules, mod[1], member.qualname.split(".")[0]) if mod else None


def _ancestors(
    texts: Mapping[str, str], modules: Modules, cls: _Class
) -> tuple[list[_Class], list[str]]:
    """The repository's classes ``cls`` derives from, nearest first (breadth first), and the
    bases it derives from that the repository does not define (``dotted`` names)."""
    found: list[_Class] = []
    outside: list[str] = []
    todo = [cls]
    while todo:
        current = todo.pop(0)
        for base in current.node.bases:
            while isinstance(base, ast.Subscript):  # Generic[T], Base[T]
                base = base.value
            dotted = ast.unparse(base)
            head, _, rest = dotted.partition(".")
            target = _target(texts, modules, current.module, head)
            target = f"{target}.{rest}" if target and rest else target
            module, _, name = (target or dotted).rpartition(".")
            parent = _class_at(texts, modules, module, name) if target else None
            if parent is None:
                if (target or dotted) not in _BUILDING_BASES:
                    outside.append(target or dotted)
            elif all(parent.path != c.path or parent.name != c.name for c in found):
                found.append(parent)
                todo.append(parent)
    return found, outside


def _nearest_shared(lineages: Sequence[tuple[list[_Class], list[str]]]) -> _Class | None:
    """The first ancestor of the first class that every other class derives from too."""
    for a in lineages[0][0]:
        if all(any(a.path == b.path and a.name == b.name for b in up) for up, _ in lineages[1:]):
            return a
    return None


def shared_base(texts: Mapping[str, str], members: Sequence[UnitRef]) -> tuple[str, str] | None:
    """(path, class name) of the nearest class of the repository that the classes of
    ``members`` (methods, ``Class.method``) all derive from; None when there is none."""
    modules = Modules(texts)
    lineages = []
    for m in members:
        cls = _member_class(texts, modules, m) if _is_method(m) else None
        if cls is None:
            return None
        lineages.append(_ancestors(texts, modules, cls))
    base = _nearest_shared(lineages) if lineages else None
    return None if base is None else (base.path, base.name)


def _unsafe_to_move(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """Why a method's body would mean something else in another class, if it would."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in ("super", "__class__"):
            return f"it calls `{sub.id}`, which is bound to the class it is written in"
        if (
            isinstance(sub, ast.Attribute)
            and sub.attr.startswith("__")
            and not sub.attr.endswith("__")
        ):
            return f"it reads `{sub.attr}`, a name mangled with its class's name"
    return None


def method_plan(
    texts: Mapping[str, str], canonical: UnitRef, others: Sequence[UnitRef]
) -> Unification:
    """Identical methods of several classes moved into the nearest base class they share.

    Sound when the copies are one body up to local names, with one name and one signature;
    the shared base is the repository's own and neither it, its ancestors nor a class between
    it and a member defines that name (so every class that had a copy finds the moved one,
    and no other class loses a definition it had); and every module-level name the body reads
    means the same in the base's module (imported there when it is not bound yet, unless the
    import would close a cycle). Other subclasses of the base inherit the method too: the
    summary names them. Callers do not change: they reach the method through their object.
    """
    modules = Modules(texts)
    members = [canonical, *others]
    method = canonical.qualname.split(".")[1]
    if any(m.qualname.split(".")[1] != method for m in members):
        return Unification(
            problem=f"the copies have different names; moving one into a base class "
            f"would change the others' callers{_MODEL}"
        )
    classes: list[_Class] = []
    shapes: list[Shape] = []
    for m in members:
        cls = _member_class(texts, modules, m)
        shape = function_shape(texts[m.path], m.qualname) if m.path in texts else None
        if cls is None or shape is None:
            return Unification(
                problem=f"{m.path}::{m.qualname} is not one method of one module-level class"
            )
        classes.append(cls)
        shapes.append(shape)
    where = f"{canonical.path}::{canonical.qualname}"
    for m, shape in zip(others, shapes[1:], strict=True):
        if shape.dump != shapes[0].dump or shape.params != shapes[0].params:
            return Unification(
                problem=f"{m.path}::{m.qualname} differs from {where} beyond local "
                "names: the merge needs a person or the model"
            )
    node = _def_node(ast.parse(texts[canonical.path]).body, canonical.qualname)
    assert node is not None
    unsafe = _unsafe_to_move(node)
    if unsafe:
        return Unification(problem=f"{where} cannot move into a base class: {unsafe}")
    lineages = [_ancestors(texts, modules, cls) for cls in classes]
    base = _nearest_shared(lineages)
    if base is None:
        return Unification(
            problem=f"the classes of {method} share no base class of the repository; a "
            f"mixin or a module-level function both call is a design choice{_MODEL}"
        )
    if not beside(base.path, [c.path for c in classes]):
        return Unification(
            problem=f"their shared base {base.name} is in another package "
            f"({base.path.rpartition('/')[0]}): moving {method} there changes what that layer "
            f"does; a mixin beside the classes is a design choice{_MODEL}"
        )
    above, outside = _ancestors(texts, modules, base)
    if base.defines(method) or any(a.defines(method) for a in above):
        return Unification(
            problem=f"{base.name} or a class above it already defines {method}: moving "
            "the copies there would change what its other subclasses run"
        )
    if outside:
        return Unification(
            problem=f"{base.name} derives from {outside[0]}, which is not in the "
            f"repository and may define {method}"
        )
    above_keys = {(a.path, a.name) for a in (base, *above)}
    for cls, (up, _) in zip(classes, lineages, strict=True):
        between = [a for a in up if (a.path, a.name) not in above_keys]
        if any(a.defines(method) for a in between):
            return Unification(
                problem=f"a class between {cls.name} and {base.name} defines {method}"
            )
    last = [s for s in base.node.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not last:
        return Unification(problem=f"{base.name} has no method to place {method} beside")
    imports: list[UnitOp] = []
    # The moved method keeps its annotations: what they name must exist in its new module too.
    for name in sorted(shapes[0].free | shapes[0].typing):
        here = _target(texts, modules, classes[0].module, name)
        there = _target(texts, modules, base.module, name)
        if here == there:
            if here is None and name not in _BUILTINS:
                return Unification(problem=f"{where}: `{name}` cannot be resolved")
            continue
        if here is None or there is not None:
            return Unification(
                problem=f"`{name}` means {here or 'a builtin'} in {canonical.path} and "
                f"{there or 'a builtin'} in {base.path}"
            )
        line = _import_line(texts, modules, base, name, here)
        source = here if modules.path(here) else here.rpartition(".")[0]
        if source == base.module or _imports_reach(texts, modules, source, base.module):
            return Unification(
                problem=f"{base.path} would import {source}, which imports it: an import cycle"
            )
        imports.append(UnitOp("add_import", code=line))
    code = _source_segment(texts[canonical.path], node)
    ops: dict[str, list[UnitOp]] = {
        base.path: [UnitOp("insert_after", f"{base.name}.{last[-1].name}", code), *imports]
    }
    for m, cls in zip(members, classes, strict=True):
        alone = len(cls.node.body) == 1  # no docstring, no other statement: ``pass`` remains
        op = UnitOp("replace", m.qualname, "pass\n") if alone else UnitOp("remove", m.qualname)
        ops.setdefault(m.path, []).append(op)
        ops[m.path].extend(_drops(texts, modules, cls.module, shapes[0]))
    heirs = sorted(
        c.name
        for c in _subclasses(texts, modules, base)
        if all((c.path, c.name) != (k.path, k.name) for k in classes) and not c.defines(method)
    )
    summary = [
        f"{base.path}::{base.name}.{method}: the one implementation, moved from {where}",
        *(f"{m.path}::{m.qualname}: removed, inherited from {base.name}" for m in members),
    ]
    if heirs:
        summary.append(f"{base.name}'s other subclasses now inherit it too: {', '.join(heirs)}")
    return Unification(
        ops={p: tuple(o) for p, o in ops.items()}, summary=tuple(summary), hosts=(base.path,)
    )


def _source_segment(text: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The definition's own lines, decorators included, indented as they are."""
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    assert node.end_lineno is not None
    return "".join(text.splitlines(keepends=True)[start - 1 : node.end_lineno])


def _subclasses(texts: Mapping[str, str], modules: Modules, base: _Class) -> list[_Class]:
    """Every module-level class of the repository that derives from ``base``."""
    out: list[_Class] = []
    for path, text in sorted(texts.items()):
        mod = modules.name(path)
        if base.name not in text or mod is None:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef) and stmt.bases:
                cls = _Class(mod[1], path, stmt.name, stmt)
                up, _ = _ancestors(texts, modules, cls)
                if any((a.path, a.name) == (base.path, base.name) for a in up):
                    out.append(cls)
    return out


def _drops(texts: Mapping[str, str], modules: Modules, module: str, shape: Shape) -> list[UnitOp]:
    """The imports only a removed copy read go with it (applied only when nothing else in the
    module reads them), unless another module imports the name from this one."""
    return [
        UnitOp("drop_unused_import", name)
        for name in sorted(shape.free | shape.typing)
        if not _importers(texts, modules, module, name)
    ]


def _import_line(
    texts: Mapping[str, str], modules: Modules, base: _Class, name: str, target: str
) -> str:
    """The import that binds ``name`` to ``target`` in ``base``'s module, in its own style."""
    if modules.path(target) is not None or "." not in target:
        # A module (``import os``, ``import typing as t``).
        return f"import {target}\n" if target == name else f"import {target} as {name}\n"
    source, _, attr = target.rpartition(".")
    ref = source
    if modules.path(source) is not None:
        ref = module_ref(texts[base.path], base.module, base.path.endswith("__init__.py"), source)
    alias = "" if attr == name else f" as {name}"
    return f"from {ref} import {attr}{alias}\n"


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


def _delegation(texts: Mapping[str, str], other: UnitRef, canonical: UnitRef) -> str:
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


def _read_outside(text: str, name: str) -> bool:
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
