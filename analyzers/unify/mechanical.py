"""The mechanical unification of identical copies: keep one, reduce the others to a
re-export or a delegation, or move identical methods into the base class they share."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from analyzers.imports import Bindings, Modules, imported_modules, module_bindings, stored_names
from analyzers.testcode import is_test_path
from analyzers.unify.ops import BUILTINS, UnifyError, UnitOp, read_outside
from analyzers.unify.shape import Shape, def_node, function_shape, module_ref


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
            removed = name.startswith("_") and not read_outside(texts[other.path], name)
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
    node = def_node(ast.parse(texts[canonical.path]).body, canonical.qualname)
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
            if here is None and name not in BUILTINS:
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
        return None if name in BUILTINS and not stars else "cannot be resolved"
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
