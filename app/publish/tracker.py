"""Unification issues on GitHub: one per finding, found again by its hidden marker.

A later review updates the open issue of a finding instead of opening another, reopens one it
closed itself, leaves alone one a person closed as "not planned", and closes (with a comment)
the issue of a redundancy that is gone. GitHub itself is the source of truth for "does an issue
exist": the issues carrying the App's label are listed and matched by marker before anything is
opened, so a worker killed between "opened" and "recorded" never opens a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from analyzers import Finding
from app.github.client import IssueInfo
from app.publish.issue import finding_id_in, unification_issue
from app.render.safety import inline_code, neutralize
from app.review.report import Report
from app.store import AppState
from app.store.records import PublishedIssue

log = logging.getLogger("idealdiff.publish")


class IssueAPI(Protocol):
    """The part of ``RepoAPI`` publishing needs (a seam for tests and dry runs)."""

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        ...

    def issues(self, label: str) -> list[IssueInfo]:
        """Every issue carrying ``label``."""
        ...

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> IssueInfo:
        """Open an issue."""
        ...

    def update_issue(self, number: int, **fields: object) -> IssueInfo:
        """Change an issue."""
        ...

    def comment(self, number: int, body: str) -> str:
        """Comment on an issue."""
        ...


@dataclass(frozen=True)
class IssueLink:
    """An issue a review touched, for the reply and the logs."""

    finding_id: str
    number: int
    url: str
    title: str


@dataclass(frozen=True)
class Published:
    """What one publication did."""

    opened: tuple[IssueLink, ...] = ()
    updated: tuple[IssueLink, ...] = ()
    unchanged: tuple[IssueLink, ...] = ()
    reopened: tuple[IssueLink, ...] = ()
    closed: tuple[IssueLink, ...] = ()
    dismissed: tuple[IssueLink, ...] = ()  # closed by a person as not planned: left alone


def _link(finding_id: str, issue: IssueInfo) -> IssueLink:
    return IssueLink(finding_id, issue.number, issue.html_url or "", issue.title)


def members_of(finding: Finding) -> tuple[tuple[str, str], ...]:
    """(path, qualname) of each member: what is re-checked before closing its issue."""
    return tuple((m.unit.path, m.unit.qualname) for m in finding.members)


def _same_concept(
    finding: Finding, records: Sequence[PublishedIssue], numbers: set[int]
) -> PublishedIssue | None:
    """The issue (among ``numbers``) already about some of ``finding``'s members: the same
    redundancy, grown or shrunk by a later batch (a third copy joins the two the issue names).
    It is treated as the finding's own: updated, reopened, or left dismissed."""
    mine = set(members_of(finding))
    for record in records:
        if record.number in numbers and mine & set(record.members):
            return record
    return None


def _with_history(finding: Finding, origins: dict[tuple[str, str], str]) -> Finding:
    """``finding`` with each member's origin as an earlier issue stated it: #2's copy stays
    #2's when a later batch sees it as older code."""
    members = tuple(
        replace(m, introduced_by=origins.get((m.unit.path, m.unit.qualname), m.introduced_by))
        if m.introduced_by is None
        else m
        for m in finding.members
    )
    return replace(finding, members=members)


def publish(
    api: IssueAPI,
    store: AppState,
    report: Report,
    *,
    labels: Sequence[str],
    still_there: Callable[[PublishedIssue], bool],
    now: float,
    web_url: str = "https://github.com",
) -> Published:
    """Open, update, reopen or close the unification issues of ``report``.

    ``still_there(issue)`` says whether the redundancy of a published finding the review did
    not find again still exists at the head; only when it says no is its issue closed.
    """
    label = labels[0]
    listed = sorted(api.issues(label), key=lambda i: i.number)
    existing: dict[str, IssueInfo] = {}
    for issue in listed:
        ident = finding_id_in(issue.body)
        if ident is not None and ident not in existing:
            existing[ident] = issue
    recorded = {p.finding_id: p for p in store.published(report.repo)}
    # A person may edit the marker away; the issue recorded for the finding is still its issue.
    by_number = {issue.number: issue for issue in listed if finding_id_in(issue.body) is None}
    for ident, record in recorded.items():
        if ident not in existing and record.number in by_number:
            existing[ident] = by_number[record.number]
    opened: list[IssueLink] = []
    updated: list[IssueLink] = []
    unchanged: list[IssueLink] = []
    reopened: list[IssueLink] = []
    dismissed: list[IssueLink] = []
    by_listed = {issue.number: issue for issue in listed}
    claimed: set[int] = set()  # issues this review spoke for: none of them is closed below
    for finding in report.findings:
        found_issue = existing.get(finding.id)
        earlier = recorded.get(finding.id)
        if found_issue is None:
            earlier = _same_concept(finding, list(recorded.values()), set(by_listed) - claimed)
            found_issue = by_listed.get(earlier.number) if earlier else None
        origins = {(p, q): who for p, q, who in earlier.origins} if earlier else {}
        finding = _with_history(finding, origins)
        for m in finding.members:
            if m.introduced_by is not None:
                origins.setdefault((m.unit.path, m.unit.qualname), m.introduced_by)
        text = unification_issue(report, finding, web_url=web_url)
        if found_issue is None:
            issue = api.create_issue(text.title, text.body, labels)
            opened.append(_link(finding.id, issue))
            log.info("opened issue", extra={"issue": issue.number, "finding": finding.id})
        elif found_issue.state == "closed" and found_issue.state_reason == "not_planned":
            dismissed.append(_link(finding.id, found_issue))
            claimed.add(found_issue.number)
            continue
        elif found_issue.state == "closed":
            issue = api.update_issue(
                found_issue.number, title=text.title, body=text.body, state="open"
            )
            reopened.append(_link(finding.id, issue))
        elif found_issue.title != text.title or (found_issue.body or "") != text.body:
            issue = api.update_issue(found_issue.number, title=text.title, body=text.body)
            updated.append(_link(finding.id, issue))
        else:
            issue = found_issue
            unchanged.append(_link(finding.id, issue))
        claimed.add(issue.number)
        store.record_published(
            PublishedIssue(
                report.repo,
                finding.id,
                issue.number,
                "open",
                members_of(finding),
                tuple((p, q, who) for (p, q), who in sorted(origins.items())),
            ),
            now,
        )
    closed: list[IssueLink] = []
    # A finding the model left alone is still there: its open issue is kept as it is.
    found = {f.id for f in (*report.findings, *report.dismissed)}
    for ident, issue in existing.items():
        if ident in found or issue.state != "open" or issue.number in claimed:
            continue
        known = recorded.get(ident)
        if known is None or still_there(known):
            continue  # without its members it cannot be re-checked: never close blindly
        api.comment(issue.number, gone_comment(report, known))
        issue = api.update_issue(issue.number, state="closed", state_reason="completed")
        store.record_published(replace(known, state="closed"), now)
        closed.append(_link(ident, issue))
        log.info("closed issue", extra={"issue": issue.number, "finding": ident})
    return Published(
        tuple(opened),
        tuple(updated),
        tuple(unchanged),
        tuple(reopened),
        tuple(closed),
        tuple(dismissed),
    )


def gone_comment(report: Report, record: PublishedIssue) -> str:
    """Why an issue is being closed."""
    names = ", ".join(inline_code(f"{path}::{qual}") for path, qual in record.members)
    return (
        f"idealdiff reviewed `{report.base}` at `{report.head_sha[:12]}` and this redundancy is "
        f"gone: fewer than two of its implementations ({names}) remain. Closing; thank you!"
    )


def summary(report: Report, published: Published | None, dry_run: bool = False) -> str:
    """The reply to a command: what was reviewed and which issues it opened, updated, closed."""
    ids = ", ".join(b.id for b in report.batch) or "nothing"
    lines = [
        f"idealdiff reviewed {len(report.batch)} pull request"
        f"{'s' * (len(report.batch) != 1)} ({ids}) at `{report.head_sha[:12]}`."
    ]
    if dry_run:
        lines.append("")
        lines.append("This repository runs in `mode: dry-run`: nothing was opened or changed.")
        for finding in report.findings:
            lines.append(f"- would open: {neutralize(finding.concept)} ({finding.id})")
    elif published is not None:
        groups = (
            ("Opened", published.opened),
            ("Updated", published.updated),
            ("Still open, unchanged", published.unchanged),
            ("Reopened", published.reopened),
            ("Closed (the redundancy is gone)", published.closed),
            ("Left closed (dismissed)", published.dismissed),
        )
        for name, links in groups:
            if links:
                refs = ", ".join(f"#{link.number}" for link in links)
                lines.append(f"- {name}: {refs}")
    if report.dismissed:
        lines.append("")
        lines.append("Left alone, no issue opened (the model judged them not worth acting on):")
        lines.extend(_left_alone(report, finding) for finding in report.dismissed)
    if not report.findings and not report.dismissed:
        lines.append("")
        lines.append("No redundant implementations found.")
    for skip in report.skipped:
        if skip.path == ".github/idealdiff.yml":
            lines.append("")
            lines.append(f"Configuration: {neutralize(skip.reason)}")
    return "\n".join(lines)


def _left_alone(report: Report, finding: Finding) -> str:
    """One finding the model left alone, as a list item with its verdict and reason."""
    answer = report.idealized[finding.id].answer
    return (
        f"- {neutralize(finding.concept)} ({finding.id}): {answer.verdict}, "
        f"{neutralize(answer.verdict_reason)}"
    )


def open_pr_comment(report: Report, branch_id: str) -> str:
    """The answer on an open pull request: what it re-implements of the merged code."""
    mine = [f for f in report.findings if any(m.introduced_by == branch_id for m in f.members)]
    left = [f for f in report.dismissed if any(m.introduced_by == branch_id for m in f.members)]
    if not mine:
        if left:
            lines = [
                f"idealdiff compared this pull request with `{report.base}` at "
                f"`{report.head_sha[:12]}`: it builds again what is already there, but the model "
                "judged it not worth acting on:",
                "",
            ]
            return "\n".join([*lines, *(_left_alone(report, finding) for finding in left)])
        return (
            f"idealdiff compared this pull request with `{report.base}` at "
            f"`{report.head_sha[:12]}`: it re-implements nothing that is already there."
        )
    lines = [
        f"idealdiff compared this pull request with `{report.base}` at "
        f"`{report.head_sha[:12]}` and found {len(mine)} thing{'s' * (len(mine) != 1)} it "
        "builds again:",
        "",
    ]
    for finding in mine:
        lines.append(f"**{neutralize(finding.concept)}** ({finding.clone_type}, {finding.id})")
        for m in finding.members:
            who = (
                "this pull request"
                if m.introduced_by == branch_id
                else (m.introduced_by or "already merged")
            )
            where = inline_code(f"{m.unit.path}:{m.unit.start_line}-{m.unit.end_line}")
            lines.append(f"- {inline_code(m.unit.qualname)} at {where} ({neutralize(who)})")
        lines.append("")
    lines.append("Reusing the existing implementation keeps the codebase to one of each.")
    return "\n".join(lines)
