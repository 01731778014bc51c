"""The report of one review: the batch, the findings and hotspots, their idealized diffs, what was
skipped and what ``--apply`` did. Its renderings live in ``app.render``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from analyzers import Finding, Hotspot, Skip
from app.review.answer import Idealized, LlmRun
from app.review.batch import Branch


@dataclass(frozen=True)
class ChangeRecord:
    """What became of one finding's change: committed, opened as a pull request, or skipped."""

    finding_id: str
    status: Literal["committed", "opened", "updated", "unchanged", "skipped"]
    detail: str  # the commit sha, the pull request's URL, or why nothing was delivered
    source: str = "mechanical"  # or "model": who wrote the edits


@dataclass(frozen=True)
class Changes:
    """The changes one review delivered (``--apply``, or draft-PR mode), and where."""

    target: str  # the local branch, or "pull requests"
    records: tuple[ChangeRecord, ...]


@dataclass(frozen=True)
class Report:
    """Everything one review found, at the batch head."""

    repo: str
    base: str
    head_sha: str
    batch: tuple[Branch, ...]
    hotspots: tuple[Hotspot, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Skip, ...]
    # Findings the model's verdict left alone (idiom, or alike only): reported, never published.
    dismissed: tuple[Finding, ...] = ()
    # Keyed by finding id, or "hotspot:<path>"; empty until the idealizer ran.
    idealized: Mapping[str, Idealized] = field(default_factory=dict)
    llm: LlmRun | None = None
    changes: Changes | None = None  # only when changes were asked for

    def branch(self, ident: str | None) -> Branch | None:
        """The branch with this id, if any."""
        return next((b for b in self.batch if b.id == ident), None)
