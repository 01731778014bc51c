"""The change that carries out one unification: whole-file texts before and after, per finding.

This is the contract between the code that computes a unification (``analyzers.unify``, libcst
transformations validated before anything leaves the machine) and the code that delivers it (a
local branch through git plumbing, or a draft pull request through GitHub's Git Data API).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class FileEdit:
    """One file of a change: its text at the batch head and its text after the change."""

    path: str
    before: str | None  # None: the change creates the file
    after: str | None  # None: the change deletes the file


@dataclass(frozen=True)
class ChangeSet:
    """The validated change of one finding: what one commit (or one pull request) carries."""

    finding_id: str  # the finding's stable ``idd-`` id
    subject: str  # commit subject and pull request title, one line
    body: str  # commit message body (plain text)
    edits: tuple[FileEdit, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        """The paths the change touches, sorted."""
        return tuple(sorted(e.path for e in self.edits))

    def digest(self) -> str:
        """A short hash of the content of the change, to tell whether a branch is up to date."""
        h = hashlib.sha256()
        for edit in sorted(self.edits, key=lambda e: e.path):
            h.update(edit.path.encode() + b"\0")
            h.update(b"-" if edit.after is None else edit.after.encode())
            h.update(b"\0")
        return h.hexdigest()[:16]


def branch_name(fingerprint: str) -> str:
    """The branch a unification lives on: ``idealdiff/<fingerprint>``."""
    return f"idealdiff/{fingerprint}"
