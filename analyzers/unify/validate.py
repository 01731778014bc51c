"""Everything a change must pass before it leaves: it parses, no name is left unresolved or
imported from where it no longer is, and nothing outside its spans moved."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Mapping, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, ScopeProvider

from analyzers.imports import Bindings, Modules, module_bindings, module_level, stored_names
from analyzers.unify.ops import BUILTINS


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
            if name not in BUILTINS:
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
