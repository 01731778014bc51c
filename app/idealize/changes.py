"""From a review's findings to validated changes: the model's edits, or the mechanical merge.

For each finding, the model's concrete edits (draft-PR mode, ``IdealizedChange``) are applied
when it gave them; otherwise Type-1/2 clones get the mechanical unification of
``analyzers.unify`` (the canonical member is the one the offline plan keeps). Either way the
result is validated before it becomes a ``ChangeSet``; a finding that cannot be carried out
gets the reason instead, and nothing is delivered for it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from analyzers import Finding
from analyzers.edits import ChangeSet, FileEdit
from analyzers.imports import Modules
from analyzers.unify import (
    Redirect,
    UnifyError,
    UnitOp,
    UnitRef,
    apply_ops,
    apply_redirects,
    mechanical_plan,
    validate,
)
from app.idealize.context import find_uses, member_names
from app.idealize.offline import choose_canonical, member_facts
from app.review.answer import IdealizedChange
from app.review.report import Report
from app.review.source import CodeReader
from app.store import Cache

MECHANICAL_TYPES = ("type-1", "type-2")


@dataclass(frozen=True)
class ChangeOutcome:
    """What became of one finding: a validated change, or why there is none."""

    finding_id: str
    change: ChangeSet | None
    problem: str | None = None
    source: str = "mechanical"  # "model" when the model's edits were applied


class RepoTexts:
    """Every Python file of the head, read once; later findings see earlier findings' edits."""

    def __init__(self, reader: CodeReader) -> None:
        paths = sorted(p for p in reader.head_tree if p.endswith(".py"))
        reader.preload(paths)
        self.texts: dict[str, str] = {}
        for path in paths:
            text = reader.text(path)
            if text is not None:
                self.texts[path] = text

    def commit(self, change: ChangeSet) -> None:
        """Make ``change`` part of what the next finding is computed on."""
        for edit in change.edits:
            if edit.after is None:
                self.texts.pop(edit.path, None)
            else:
                self.texts[edit.path] = edit.after


def review_fingerprint(report: Report, finding_ids: list[str]) -> str:
    """The fingerprint of a local ``--apply`` branch: the head and the findings it carries."""
    material = "\n".join([report.repo, report.head_sha, *sorted(finding_ids)])
    return hashlib.sha256(material.encode()).hexdigest()[:12]


def plan_changes(
    report: Report,
    reader: CodeReader,
    *,
    cumulative: bool,
    store: Cache | None = None,
) -> list[ChangeOutcome]:
    """A validated change (or the reason there is none) for every finding of ``report``.

    ``cumulative``: each change is computed on the texts the previous ones left (one branch
    with a commit per finding); otherwise every change starts from the head (one pull request
    per finding).
    """
    texts = RepoTexts(reader)
    outcomes: list[ChangeOutcome] = []
    for finding in report.findings:
        outcome = change_for(report, finding, reader, texts.texts, store)
        outcomes.append(outcome)
        if cumulative and outcome.change is not None:
            texts.commit(outcome.change)
    return outcomes


def change_for(
    report: Report,
    finding: Finding,
    reader: CodeReader,
    texts: Mapping[str, str],
    store: Cache | None = None,
) -> ChangeOutcome:
    """The validated change of one finding, on ``texts`` (path -> text of every Python file)."""
    ideal = report.idealized.get(finding.id)
    if ideal is not None and isinstance(ideal.answer, IdealizedChange):
        ops: dict[str, list[UnitOp]] = {}
        for edit in ideal.answer.edits:
            ops.setdefault(edit.path, []).append(UnitOp(edit.action, edit.target, edit.code))
        subject = f"Unify {ideal.answer.concept} ({finding.id})"
        body = "\n".join(f"- {step}" for step in ideal.answer.plan)
        return _build(finding, texts, ops, {}, subject, body, source="model")
    exact = exact_partners(finding)
    if len(exact) < 2:
        return ChangeOutcome(
            finding.id,
            None,
            f"a {finding.clone_type} finding needs the model's edits: run with `--llm "
            "anthropic` and an `ANTHROPIC_API_KEY` (the App: `mode: draft_pr`); without the "
            "model only Type-1 and Type-2 copies are merged",
        )
    uses, _ = find_uses(reader, finding, cache=store)
    facts = [f for f in member_facts(reader, finding, uses) if f.member.unit.key in exact]
    keep = choose_canonical(facts).member.unit
    canonical = UnitRef(keep.path, keep.qualname, keep.kind)
    others = [
        UnitRef(m.unit.path, m.unit.qualname, m.unit.kind)
        for m in finding.members
        if m.unit.key != keep.key and m.unit.key in exact
    ]
    neighbours = [m.unit.qualname for m in finding.members if m.unit.key not in exact]
    plan = mechanical_plan(texts, canonical, others)
    if plan.problem is not None:
        return ChangeOutcome(finding.id, None, plan.problem)
    subject = f"Unify {len(finding.members)} copies of {keep.qualname} ({finding.id})"
    body = "\n".join(
        [
            f"Keeps {keep.path}::{keep.qualname}; every other copy now uses it.",
            "",
            *(f"- {line}" for line in plan.summary),
            *(f"- {path}: imports {keep.qualname} from its new home" for path in plan.redirects),
            *(
                [
                    "",
                    f"Left to the plan: {', '.join(neighbours)}, a near copy that differs "
                    "beyond names (the report says how).",
                ]
                if neighbours
                else []
            ),
        ]
    )
    return _build(
        finding,
        texts,
        {p: list(o) for p, o in plan.ops.items()},
        dict(plan.redirects),
        subject,
        body,
        hosts=plan.hosts,
    )


def exact_partners(finding: Finding) -> set[tuple[str, str]]:
    """The members the mechanical merge may take: all of them for a Type-1/2 finding; for a
    group holding a near copy too, the largest set joined by Type-1/2 evidence (the exact
    copies are merged, the near neighbour is left to the plan)."""
    if finding.clone_type in MECHANICAL_TYPES:
        return {m.unit.key for m in finding.members}
    links: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for e in finding.evidence:
        if e.clone_type in MECHANICAL_TYPES:
            links.setdefault(e.left, set()).add(e.right)
            links.setdefault(e.right, set()).add(e.left)
    best: set[tuple[str, str]] = set()
    seen: set[tuple[str, str]] = set()
    for start in sorted(links):
        if start in seen:
            continue
        group, todo = {start}, [start]
        while todo:
            for nxt in links[todo.pop()] - group:
                group.add(nxt)
                todo.append(nxt)
        seen |= group
        if len(group) > len(best):
            best = group
    return best


def _build(
    finding: Finding,
    texts: Mapping[str, str],
    ops: Mapping[str, list[UnitOp]],
    redirects: Mapping[str, tuple[Redirect, ...]],
    subject: str,
    body: str,
    *,
    source: str = "mechanical",
    hosts: tuple[str, ...] = (),
) -> ChangeOutcome:
    after: dict[str, str] = {}
    spans: dict[str, tuple[tuple[int, int], ...]] = {}
    modules = Modules(texts)
    try:
        for path, path_ops in sorted(ops.items()):
            if path not in texts:
                return ChangeOutcome(
                    finding.id, None, f"{path} is not a Python file of the repository"
                )
            applied = apply_ops(texts[path], path_ops)
            after[path], spans[path] = applied.text, applied.spans
        for path, path_redirects in sorted(redirects.items()):
            name = modules.name(path)
            if name is None:
                continue
            applied = apply_redirects(
                after.get(path, texts[path]),
                path_redirects,
                name[1],
                path.endswith("__init__.py"),
            )
            after[path] = applied.text
            spans[path] = spans.get(path, ()) + applied.spans
    except UnifyError as exc:
        return ChangeOutcome(finding.id, None, str(exc), source)
    allowed = _allowed_paths(finding, texts) | set(hosts)
    problems = validate(
        {p: texts[p] for p in after}, after, spans, allowed=allowed, repo_texts=texts
    )
    if problems:
        shown = "; ".join(problems[:5]) + (
            f" (and {len(problems) - 5} more)" if problems[5:] else ""
        )
        return ChangeOutcome(finding.id, None, f"the change failed validation: {shown}", source)
    edits = tuple(FileEdit(p, texts[p], after[p]) for p in sorted(after) if after[p] != texts[p])
    if not edits:
        return ChangeOutcome(finding.id, None, "the edits change nothing", source)
    return ChangeOutcome(finding.id, ChangeSet(finding.id, subject, body, edits), None, source)


def _allowed_paths(finding: Finding, texts: Mapping[str, str]) -> set[str]:
    """The members' files and every file that mentions a member's name (its callers)."""
    allowed = {m.unit.path for m in finding.members}
    names = [re.compile(rf"\b{re.escape(n)}\b") for n in member_names(finding)]
    for path, text in texts.items():
        if any(p.search(text) for p in names):
            allowed.add(path)
    return allowed
