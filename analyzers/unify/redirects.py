"""Point callers' ``from ... import`` at the kept copy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider, ScopeProvider

from analyzers.imports import resolve_from
from analyzers.unify.mechanical import Redirect
from analyzers.unify.ops import Applied
from analyzers.unify.shape import module_ref


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
