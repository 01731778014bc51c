"""The code a prompt or a plan is grounded in: members, their modules, their callers, history.

Everything here reads the repository at fixed revisions through a ``CodeSource`` and caches what
it read, so one review reads each file once whatever number of findings mention it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from analyzers import (
    CallSite,
    Finding,
    Hotspot,
    Unit,
    find_call_sites,
    is_test_path,
    mentions,
    refers_to,
)
from analyzers.imports import Modules
from app.review.report import Report
from app.review.source import CodeReader
from app.store import Cache

# At most this many files per finding, smallest of a tier first. Chosen when libcst did the search
# (40 files cost ~33 s a repository); ast is ~15x faster now, but the cap also decides which sites
# a plan lists, so raising it changes reports.
MAX_CALLER_FILES = 12
CHARS_PER_TOKEN = 3.0  # conservative for code: real ratios are ~3.5-4 characters per token


def estimate_tokens(text: str) -> int:
    """A conservative token count when the API's counter is not available."""
    return int(len(text) / CHARS_PER_TOKEN) + 1


def numbered(code: str, start: int) -> str:
    """Code with its line numbers, the way the model and a reviewer cite it."""
    lines = code.splitlines()
    width = len(str(start + max(len(lines) - 1, 0)))
    return "\n".join(f"{start + i:>{width}} | {line}" for i, line in enumerate(lines))


@dataclass(frozen=True)
class Snippet:
    """A piece of the repository shown in a prompt: what it is, where, and why it is there."""

    title: str
    path: str
    start: int
    code: str  # numbered
    relevance: float  # higher is kept first when the budget is short

    @property
    def tokens(self) -> int:
        """Estimated prompt tokens."""
        return estimate_tokens(self.title) + estimate_tokens(self.code) + 8


def member_names(finding: Finding) -> dict[str, list[Unit]]:
    """The simple name each member is called by -> the members with that name."""
    names: dict[str, list[Unit]] = {}
    for member in finding.members:
        name = member.unit.qualname.rsplit(".", 1)[-1]
        names.setdefault(name.split("@")[0], []).append(member.unit)
    return names


def dotted(modules: Modules, path: str) -> str:
    """A file's module name as Python imports it; a file outside any package (a script, a
    test folder without ``__init__.py``) by its own name, which is how it imports others."""
    found = modules.name(path)
    return found[1] if found else posixpath.basename(path).removesuffix(".py")


def _sites(
    reader: CodeReader, path: str, module: str, names: frozenset[str], cache: Cache | None
) -> tuple[CallSite, ...]:
    """Call sites of ``names`` in one head file, cached by its blob, its module and the names."""
    digest = hashlib.sha256("\0".join([module, *sorted(names)]).encode()).hexdigest()[:24]
    key = f"uses/2/{reader.head_tree.get(path, '')}/{digest}"
    if cache is not None and (raw := cache.get_value(key)) is not None:
        try:
            return tuple(CallSite(path, *row) for row in json.loads(raw))
        except (ValueError, TypeError):
            pass  # a damaged entry is recomputed
    sites = find_call_sites(path, reader.text(path) or "", names, module)
    if cache is not None and path in reader.head_tree:
        rows = [[s.line, s.caller, s.name, s.kind, s.text, s.target] for s in sites]
        cache.put_value(key, json.dumps(rows).encode())
    return sites


def find_uses(
    reader: CodeReader,
    finding: Finding,
    max_files: int = MAX_CALLER_FILES,
    cache: Cache | None = None,
) -> tuple[dict[str, list[CallSite]], str | None]:
    """Uses of each member in the repository at the head (keyed by ``member_id``), and a note
    if the search was cut.

    A cheap whole-word text test picks the files; ast confirms the uses in at most
    ``max_files`` of them (the members' own files and packages first) and resolves each to
    the member it names. Uses of a member's name that resolve to nothing known (``obj.name``
    on a receiver of unknown type) are kept apart under ``UNRESOLVED``; a use resolved to
    something else (``super().name``, another module's function of that name) is nobody's.
    """
    names = member_names(finding)
    python = [p for p in reader.head_tree if p.endswith(".py")]
    reader.preload(python)
    candidates = [p for p in python if mentions(reader.text(p) or "", names)]
    homes = {posixpath.dirname(m.unit.path) for m in finding.members}
    own = {m.unit.path for m in finding.members}
    candidates.sort(
        key=lambda p: (
            p not in own,
            posixpath.dirname(p) not in homes,
            len(reader.text(p) or ""),
            p,
        )
    )
    note = None
    if len(candidates) > max_files:
        note = (
            f"call sites searched in {max_files} of {len(candidates)} files that mention "
            "the members' names"
        )
        candidates = candidates[:max_files]
    uses: dict[str, list[CallSite]] = {member_id(m.unit): [] for m in finding.members}
    uses[UNRESOLVED] = []
    modules = Modules(reader.head_tree)
    for path in candidates:
        for site in _sites(reader, path, dotted(modules, path), frozenset(names), cache):
            inside_member = any(
                u.path == path and u.start_line <= site.line <= u.end_line
                for units in names.values()
                for u in units
            )
            if inside_member:
                continue
            owners = [
                u
                for u in names[site.name]
                if refers_to(site.target, dotted(modules, u.path), u.qualname)
            ]
            for unit in owners:
                uses[member_id(unit)].append(site)
            if not owners and site.kind != "import" and not site.target:
                uses[UNRESOLVED].append(site)  # ``obj.name``: a receiver of unknown type
    return uses, note


UNRESOLVED = ""  # the key of uses that name a member's name on a receiver of unknown type


def member_id(unit: Unit) -> str:
    """The key of one member's uses: ``path::qualname``."""
    return f"{unit.path}::{unit.qualname}"


def _imports(text: str) -> tuple[int, str] | None:
    """The module's import block (first to last top-level import line), numbered."""
    lines = text.splitlines()
    idx = [i for i, line in enumerate(lines) if re.match(r"(import|from)\s+\S", line)]
    if not idx:
        return None
    first, last = idx[0], min(idx[-1], idx[0] + 40)
    return first + 1, numbered("\n".join(lines[first : last + 1]), first + 1)


def context_snippets(
    reader: CodeReader,
    units: Iterable[Unit],
    uses: Iterable[CallSite],
) -> list[Snippet]:
    """Context for a prompt: each member module's imports, then its callers' code."""
    snippets: list[Snippet] = []
    seen_paths: set[str] = set()
    for unit in units:
        if unit.path in seen_paths:
            continue
        seen_paths.add(unit.path)
        text = reader.text(unit.path)
        block = _imports(text or "")
        if block:
            snippets.append(Snippet(f"imports of {unit.path}", unit.path, block[0], block[1], 0.9))
    taken: set[tuple[str, str]] = set()
    member_paths = {u.path for u in units}
    for site in uses:
        enclosing = _enclosing(reader, site)
        key = (site.path, enclosing.qualname if enclosing else str(site.line))
        if key in taken:
            continue
        taken.add(key)
        if enclosing is not None and enclosing.lines <= 60:
            start, end, what = enclosing.start_line, enclosing.end_line, enclosing.qualname
        else:
            start, end, what = max(site.line - 3, 1), site.line + 3, "module level"
        code = numbered(reader.lines(site.path, start, end), start)
        relevance = 0.5 if is_test_path(site.path) else 0.8 if site.path in member_paths else 0.7
        title = f"{site.kind} of `{site.name}` in {what} ({site.path}:{site.line})"
        snippets.append(Snippet(title, site.path, start, code, relevance))
    return snippets


def _enclosing(reader: CodeReader, site: CallSite) -> Unit | None:
    best: Unit | None = None
    for unit in reader.units(site.path):
        if unit.kind != "class" and unit.start_line <= site.line <= unit.end_line:
            if best is None or unit.lines < best.lines:
                best = unit
    return best


@dataclass(frozen=True)
class SymbolChange:
    """What one branch did to one symbol of a hotspot."""

    branch: str
    qualname: str
    before: str  # the symbol's code before the branch ("" when the branch added it)
    after: str  # ... and after it ("" when the branch removed it)

    @property
    def diff(self) -> str:
        """A unified diff of the symbol, as the branch changed it."""
        return "\n".join(
            difflib.unified_diff(
                self.before.splitlines(),
                self.after.splitlines(),
                f"{self.qualname} before {self.branch}",
                f"{self.qualname} after {self.branch}",
                lineterm="",
            )
        )


def symbol_changes(reader: CodeReader, report: Report, hotspot: Hotspot) -> list[SymbolChange]:
    """For each symbol of the hotspot, each branch's version of it before and after the branch."""
    changes: list[SymbolChange] = []
    for symbol in hotspot.symbols:
        for branch_id in symbol.branches:
            branch = report.branch(branch_id)
            if branch is None:
                continue
            change = next((c for c in branch.files if c.path == hotspot.path), None)
            old_path = change.old_path if change and change.old_path else hotspot.path
            before = _unit_code(reader, old_path, branch.parent_sha, symbol.qualname)
            after = _unit_code(reader, hotspot.path, branch.merge_sha, symbol.qualname)
            changes.append(SymbolChange(branch_id, symbol.qualname, before, after))
    return changes


def _unit_code(reader: CodeReader, path: str, rev: str, qualname: str) -> str:
    unit = next((u for u in reader.units(path, rev) if u.qualname == qualname), None)
    return reader.lines(path, unit.start_line, unit.end_line, rev) if unit else ""


def fit_snippets(
    snippets: list[Snippet], budget: int, count: Callable[[list[Snippet]], int]
) -> tuple[list[Snippet], list[str]]:
    """The most relevant snippets whose total stays within ``budget``; the titles left out."""
    ordered = sorted(snippets, key=lambda s: (-s.relevance, s.path, s.start))
    kept: list[Snippet] = []
    omitted: list[str] = []
    for snippet in ordered:
        if count([*kept, snippet]) <= budget:
            kept.append(snippet)
        else:
            omitted.append(snippet.title)
    return kept, omitted
