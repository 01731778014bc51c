"""The unification issue of one finding: its title, its body, and the marker that finds it again.

The body is safe to publish: everything idealdiff did not write itself is made inert (see
``app.render.safety``), and the whole body fits GitHub's 65,536 characters, the marker kept last.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzers import Finding
from app.publish.marker import ISSUE_MARKER
from app.render.safety import GITHUB_BODY_LIMIT, GITHUB_TITLE_LIMIT, fit_body
from app.render.templates import render
from app.review.report import Report


@dataclass(frozen=True)
class IssueText:
    """A title and a Markdown body, ready for the issues API."""

    title: str
    body: str


finding_id_in = ISSUE_MARKER.find  # the finding id an issue body carries, or None


def concept_of(report: Report, finding: Finding) -> str:
    """The concept's name: the model's when it gave one, else the analysis's label."""
    ideal = report.idealized.get(finding.id)
    if ideal is not None and ideal.source == "anthropic":
        return " ".join(ideal.answer.concept.split())
    return finding.concept


def issue_title(report: Report, finding: Finding) -> str:
    """E.g. "Unify 3 implementations of model discovery (#12, #15, #19)"."""
    order = {b.id: i for i, b in enumerate(report.batch)}
    ids = sorted(
        {m.introduced_by for m in finding.members if m.introduced_by},
        key=lambda ident: (order.get(ident, len(order)), ident),
    )
    if any(m.introduced_by is None for m in finding.members):
        ids.append("existing code")
    where = f" ({', '.join(ids)})" if ids else ""
    title = f"Unify {len(finding.members)} implementations of {concept_of(report, finding)}"
    title = " ".join(title.split())
    return title[: GITHUB_TITLE_LIMIT - len(where)] + where


def unification_issue(
    report: Report,
    finding: Finding,
    web_url: str = "https://github.com",
    limit: int = GITHUB_BODY_LIMIT,
) -> IssueText:
    """The issue for one finding; ``web_url`` links locations when ``report.repo`` is owner/name."""
    web = ""
    if report.repo.count("/") == 1 and web_url:
        web = f"{web_url.rstrip('/')}/{report.repo}"
    body = render(
        "issue.md.j2",
        report=report,
        finding=finding,
        ideal=report.idealized.get(finding.id),
        web=web,
    )
    return IssueText(
        issue_title(report, finding), fit_body(body, ISSUE_MARKER.line(finding.id), limit)
    )
