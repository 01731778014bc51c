"""What each branch changed, which files and symbols several branches changed, and who added what.

Paths are followed forward through later renames so everything is expressed at the batch head.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from analyzers.model import FileChange, Hotspot, SymbolHotspot, Unit

Key = tuple[str, str]


@dataclass(frozen=True)
class BranchChange:
    """One branch of the batch: its file changes and the units of its Python files around it.

    ``before`` maps an old path to its units in the branch's parent; ``after`` maps a new path to
    its units in the branch's merge (or squash) commit. Files that could not be parsed are absent.
    """

    id: str
    files: tuple[FileChange, ...]
    before: Mapping[str, tuple[Unit, ...]] = field(default_factory=dict)
    after: Mapping[str, tuple[Unit, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Overlap:
    """Hotspots, and per unit at the head the branch that introduced it or changed it."""

    hotspots: tuple[Hotspot, ...]
    introduced: Mapping[Key, str]  # unit key at head -> branch that added it
    changed: Mapping[Key, tuple[str, ...]]  # unit key at head -> branches that changed it
    files: Mapping[str, tuple[str, ...]]  # path at head -> branches that changed it


def _innermost(units: Sequence[Unit], line: int) -> Unit | None:
    best: Unit | None = None
    for unit in units:
        if unit.start_line <= line <= unit.end_line and (best is None or unit.lines < best.lines):
            best = unit
    return best


def _forward(branches: Sequence[BranchChange]) -> list[dict[str, str | None]]:
    """For each branch, how a path in its result is named at the head (None once deleted)."""
    later: list[dict[str, str | None]] = [{} for _ in branches]
    moves: dict[str, str | None] = {}
    for i in range(len(branches) - 1, -1, -1):
        later[i] = dict(moves)
        step: dict[str, str | None] = {}
        for change in branches[i].files:
            if change.status == "renamed":
                step[change.old_path] = change.path
            elif change.status == "deleted":
                step[change.old_path] = None
        # Compose: a name in branch i-1's result goes through branch i's step, then later moves.
        composed: dict[str, str | None] = {}
        for old, new in step.items():
            composed[old] = moves.get(new, new) if new is not None else None
        for old, new in moves.items():
            composed.setdefault(old, new)
        moves = composed
    return later


def analyse_overlap(branches: Sequence[BranchChange]) -> Overlap:
    """Hotspots (files and symbols changed by two or more branches) and attribution, at the head."""
    forward = _forward(branches)
    file_branches: dict[str, list[str]] = defaultdict(list)
    symbol_branches: dict[Key, list[str]] = defaultdict(list)
    introduced: dict[Key, str] = {}

    for branch, moves in zip(branches, forward, strict=True):

        def at_head(path: str, moves: dict[str, str | None] = moves) -> str | None:
            return moves.get(path, path)

        touched_symbols: set[Key] = set()
        for change in branch.files:
            head_path = at_head(change.display_path) if change.path else None
            report_path = head_path or change.display_path
            if branch.id not in file_branches[report_path]:
                file_branches[report_path].append(branch.id)
            before = branch.before.get(change.old_path, ()) if change.old_path else ()
            after = branch.after.get(change.path, ()) if change.path else ()
            before_names = {u.qualname for u in before}
            for line in change.added_lines:
                unit = _innermost(after, line)
                if unit is not None:
                    touched_symbols.add((report_path, unit.qualname))
            for line in change.removed_lines:
                unit = _innermost(before, line)
                if unit is not None:
                    touched_symbols.add((report_path, unit.qualname))
            if head_path is None:
                continue
            for unit in after:
                if unit.qualname not in before_names:
                    introduced[(head_path, unit.qualname)] = branch.id
                    touched_symbols.add((head_path, unit.qualname))
        for key in touched_symbols:
            symbol_branches[key].append(branch.id)

    hotspots: list[Hotspot] = []
    for path, ids in sorted(file_branches.items()):
        if len(ids) < 2:
            continue
        symbols = tuple(
            SymbolHotspot(qualname=qual, branches=tuple(sym_ids))
            for (sym_path, qual), sym_ids in sorted(symbol_branches.items())
            if sym_path == path and len(sym_ids) >= 2
        )
        hotspots.append(Hotspot(path=path, branches=tuple(ids), symbols=symbols))
    return Overlap(
        hotspots=tuple(hotspots),
        introduced=introduced,
        changed={k: tuple(v) for k, v in symbol_branches.items()},
        files={k: tuple(v) for k, v in file_branches.items()},
    )
