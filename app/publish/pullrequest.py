"""A unification delivered as a pull request: one commit on the batch head, on the branch
``idealdiff/<fingerprint>``, and a draft pull request from that branch.

Everything goes through GitHub's Git Data API (blobs, a tree on the head's tree, a commit, a
ref), so nothing is cloned. GitHub is the source of truth for "is there a pull request already":
the pull requests whose head is the branch are listed before anything is opened, so a later review
(or a worker killed between two calls) updates the same branch and the same pull request instead of
opening another. What a later review does:

- the branch already holds exactly this change on this head (the digest the commit carries, or
  else the same tree on the same parent): nothing, ``unchanged`` (the description is still
  brought up to date when it differs, ``updated``);
- otherwise it builds a new commit on the new head and force-moves the branch to it (the old
  commit sat on an older head, so the move is not a fast-forward), ``updated``;
- the tip of the branch is a commit idealdiff did not make (someone pushed to it, or merged the
  base into it): the branch and the pull request are left as they are, ``kept``. idealdiff's
  commits are told by their ``Idealdiff-Change: <digest>`` trailer (an amended commit that keeps
  the trailer still counts as idealdiff's);
- the newest pull request of the branch was closed unmerged: a person said no, it is not reopened
  and the branch is not touched, ``dismissed``.

Closing keywords: the body says "Closes #N" for the unification issue it carries out (merging the
pull request does what the issue plans, so closing it then is wanted); every other text is made
inert (``app.render.safety``), and closing keywords in the commit message are defused too, since
GitHub acts on those when the commit reaches the default branch. Plain ``#N`` references are left
readable, as in the issue bodies.

The commit names no author: GitHub then records the App's bot as author and committer and signs
the commit, so it shows as verified.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from analyzers.edits import ChangeSet, FileEdit, branch_name
from app.errors import IdealdiffError
from app.github.client import (
    CommitInfo,
    DraftsNotSupported,
    PathEntry,
    PullRequestExists,
    TreeChange,
    git_blob_sha,
)
from app.github.events import PullRequest
from app.publish.marker import PULL_MARKER
from app.render.safety import GITHUB_TITLE_LIMIT, fit_body, inert_plain
from app.render.templates import render

log = logging.getLogger("idealdiff.pullrequest")

DIGEST_TRAILER = "Idealdiff-Change"  # the trailer that marks idealdiff's own commits
FINDING_TRAILER = "Idealdiff-Finding"
_DIGEST = re.compile(rf"^{DIGEST_TRAILER}: ([0-9a-f]+)\s*$", re.M)
_REGULAR = ("100644", "100755")  # the modes of a file idealdiff may rewrite (not links, modules)

Action = Literal["opened", "updated", "unchanged", "kept", "dismissed"]

DRAFTS_NOTE = (
    "GitHub offers no draft pull requests on this repository's plan: opened ready for review."
)
KEPT_NOTE = (
    "The branch holds commits idealdiff did not make: branch and pull request left as they are."
)
DISMISSED_NOTE = "A person closed this pull request unmerged: idealdiff does not open it again."
# The sentence of the body's note that says drafts were refused (kept on every later update).
DRAFTS_NOTE_MARK = "GitHub offers no draft pull requests on this repository's plan"


class ChangeRefused(IdealdiffError):
    """The change cannot be delivered as it is: empty, made on other code, or unsafe to apply."""


class LinkedIssue(Protocol):
    """The unification issue a pull request carries out (``publish.tracker.IssueLink`` is one)."""

    @property
    def number(self) -> int:
        """The issue's number."""
        ...

    @property
    def url(self) -> str:
        """The issue's web address."""
        ...


class PullAPI(Protocol):
    """The part of ``RepoAPI`` delivering a change needs (a seam for tests and dry runs)."""

    def ref_sha(self, ref: str) -> str | None:
        """The commit a ref points at, or None."""
        ...

    def commit_info(self, sha: str) -> CommitInfo:
        """A commit's tree, parents and message."""
        ...

    def path_entries(self, rev: str, paths: Sequence[str]) -> dict[str, PathEntry]:
        """Mode, type and sha of the paths that exist at ``rev``."""
        ...

    def create_blob(self, data: bytes) -> str:
        """Store a blob."""
        ...

    def create_tree(self, base_tree: str, changes: Sequence[TreeChange]) -> str:
        """A tree on top of a base tree."""
        ...

    def create_commit(self, message: str, tree: str, parents: Sequence[str]) -> str:
        """A commit."""
        ...

    def create_ref(self, ref: str, sha: str) -> None:
        """A new ref."""
        ...

    def update_ref(self, ref: str, sha: str, *, force: bool) -> None:
        """Move a ref."""
        ...

    def pulls_for_head(self, branch: str, state: str = "all") -> list[PullRequest]:
        """Pull requests from a branch, newest first."""
        ...

    def create_pull(
        self, *, title: str, body: str, head: str, base: str, draft: bool
    ) -> PullRequest:
        """Open a pull request."""
        ...

    def update_pull(self, number: int, **fields: Any) -> PullRequest:
        """Change a pull request."""
        ...


@dataclass(frozen=True)
class PullResult:
    """What delivering one change did, for the reply, the issue and the logs."""

    number: int
    url: str
    branch: str
    draft: bool
    action: Action
    note: str = ""  # why the pull request is not a draft, or why nothing was changed
    commit: str = ""  # the commit the branch points at


@dataclass(frozen=True)
class ListedFile:
    """One file of a change as the pull request's body lists it."""

    path: str
    summary: str  # "new file (+12)", "deleted (-30)", "edited (+3 -12)"


@dataclass(frozen=True)
class PullText:
    """A title and a Markdown body, ready for the pulls API."""

    title: str
    body: str


finding_id_in_pull = PULL_MARKER.find  # the finding id a pull request body carries, or None


def commit_message(change: ChangeSet) -> str:
    """Subject, blank line, body, then the trailers that let a later review recognise it."""
    subject = " ".join(change.subject.split())
    body = inert_plain(change.body.strip())
    trailers = f"{FINDING_TRAILER}: {change.finding_id}\n{DIGEST_TRAILER}: {change.digest()}"
    return "\n\n".join(part for part in (subject, body, trailers) if part) + "\n"


def digest_in(message: str) -> str | None:
    """The change digest an idealdiff commit message carries, or None (not idealdiff's)."""
    found = _DIGEST.findall(message)
    return found[-1] if found else None


def file_changes(change: ChangeSet) -> tuple[ListedFile, ...]:
    """Each file of the change with what happens to it and its line counts, by path."""
    out = []
    for edit in sorted(change.edits, key=lambda e: e.path):
        added, removed = _line_counts(edit)
        if edit.before is None:
            summary = f"new file (+{added})"
        elif edit.after is None:
            summary = f"deleted (-{removed})"
        else:
            summary = f"edited (+{added} -{removed})"
        out.append(ListedFile(edit.path, summary))
    return tuple(out)


def _line_counts(edit: FileEdit) -> tuple[int, int]:
    before = (edit.before or "").splitlines()
    after = (edit.after or "").splitlines()
    added = removed = 0
    for line in difflib.unified_diff(before, after, lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def pull_request_text(
    change: ChangeSet,
    *,
    branch: str,
    base_branch: str,
    head_sha: str,
    issue: LinkedIssue | None,
    drafts_refused: bool = False,
) -> PullText:
    """The title and body of the pull request of ``change`` (pure: what a dry run shows)."""
    body = render(
        "pull_request.md.j2",
        change=change,
        files=file_changes(change),
        issue=issue,
        branch=branch,
        base_branch=base_branch,
        head_sha=head_sha,
        drafts_refused=drafts_refused,
    )
    title = " ".join(change.subject.split())[:GITHUB_TITLE_LIMIT]
    return PullText(title, fit_body(body, PULL_MARKER.line(change.finding_id)))


def publish_change(
    api: PullAPI,
    change: ChangeSet,
    *,
    base_branch: str,
    head_sha: str,
    fingerprint: str,
    issue: LinkedIssue | None = None,
) -> PullResult:
    """Put ``change`` on ``idealdiff/<fingerprint>`` as one commit on ``head_sha`` and open (or
    update) its pull request into ``base_branch``.

    Raises ``ChangeRefused`` when the change is empty, makes no difference, or was computed on
    other code than ``head_sha`` holds (a file's ``before`` text differs from the file there),
    and ``GitHubError`` when GitHub refuses a call (after the client's retries). A failure
    leaves at most unreferenced git objects, or a branch without its pull request, which the next
    call reuses: it opens the pull request then.
    """
    if not change.edits:
        raise ChangeRefused(f"the change of {change.finding_id} edits no file")
    if len(set(change.paths)) != len(change.paths):
        raise ChangeRefused(f"the change of {change.finding_id} edits a file twice")
    branch = branch_name(fingerprint)
    ref = f"heads/{branch}"
    pulls = api.pulls_for_head(branch)
    pull = next((p for p in pulls if p.state == "open"), None)
    if pull is None and pulls and pulls[0].merged_at is None:
        closed = pulls[0]
        log.info("pull request dismissed; left closed", extra={"pull": closed.number})
        return PullResult(
            closed.number, closed.html_url or "", branch, closed.draft, "dismissed", DISMISSED_NOTE
        )

    tip = api.ref_sha(ref)
    tip_commit = api.commit_info(tip) if tip is not None else None
    if tip_commit is not None and digest_in(tip_commit.message) is None:
        if pull is None:
            raise ChangeRefused(
                f"the branch {branch} holds commits idealdiff did not make and no pull request "
                "is open from it; delete the branch to let idealdiff rebuild it"
            )
        log.info("branch has foreign commits; left alone", extra={"pull": pull.number})
        return PullResult(
            pull.number, pull.html_url or "", branch, pull.draft, "kept", KEPT_NOTE, tip or ""
        )

    commit = _commit_for(api, change, head_sha, tip_commit)
    if tip is None:
        api.create_ref(ref, commit)
    elif commit != tip:
        # The old commit sat on an older head: moving the branch is not a fast-forward.
        api.update_ref(ref, commit, force=True)
    moved = commit != tip

    def text(drafts_refused: bool) -> PullText:
        return pull_request_text(
            change,
            branch=branch,
            base_branch=base_branch,
            head_sha=head_sha,
            issue=issue,
            drafts_refused=drafts_refused,
        )

    if pull is None:
        try:
            return _open(api, text, branch, base_branch, commit)
        except PullRequestExists:
            # Opened meanwhile (a retried request whose first answer was lost, another worker).
            pull = next(iter(api.pulls_for_head(branch, state="open")), None)
            if pull is None:
                raise

    refused = not pull.draft and DRAFTS_NOTE_MARK in (pull.body or "")
    wanted = text(refused)
    fields: dict[str, str] = {}
    if pull.title != wanted.title:
        fields["title"] = wanted.title
    if (pull.body or "") != wanted.body:
        fields["body"] = wanted.body
    if pull.base.ref != base_branch:
        fields["base"] = base_branch
    if fields:
        pull = api.update_pull(pull.number, **fields)
    action: Action = "updated" if fields or moved else "unchanged"
    log.info("pull request %s", action, extra={"pull": pull.number})
    return PullResult(
        pull.number,
        pull.html_url or "",
        branch,
        pull.draft,
        action,
        DRAFTS_NOTE if refused else "",
        commit,
    )


def _open(
    api: PullAPI,
    text: Callable[[bool], PullText],
    branch: str,
    base_branch: str,
    commit: str,
) -> PullResult:
    """Open the pull request as a draft, or as a normal one where GitHub has no drafts."""
    first = text(False)
    try:
        pull = api.create_pull(
            title=first.title, body=first.body, head=branch, base=base_branch, draft=True
        )
    except DraftsNotSupported:
        again = text(True)
        pull = api.create_pull(
            title=again.title, body=again.body, head=branch, base=base_branch, draft=False
        )
        log.info("opened pull request (no drafts here)", extra={"pull": pull.number})
        return PullResult(
            pull.number, pull.html_url or "", branch, False, "opened", DRAFTS_NOTE, commit
        )
    log.info("opened draft pull request", extra={"pull": pull.number})
    return PullResult(pull.number, pull.html_url or "", branch, pull.draft, "opened", "", commit)


def _commit_for(api: PullAPI, change: ChangeSet, head_sha: str, tip: CommitInfo | None) -> str:
    """The commit that carries ``change`` on ``head_sha``: the branch's tip when it already
    does, else a new one (blobs, a tree on the head's tree, a commit)."""
    on_head = tip is not None and tuple(p.sha for p in tip.parents) == (head_sha,)
    if tip is not None and on_head and digest_in(tip.message) == change.digest():
        return tip.sha
    head = api.commit_info(head_sha)
    entries = api.path_entries(head_sha, change.paths)
    tree = api.create_tree(head.tree.sha, _tree_changes(api, change, entries, head_sha))
    if tree == head.tree.sha:
        raise ChangeRefused(f"the change of {change.finding_id} makes no difference at the head")
    if tip is not None and on_head and tip.tree.sha == tree:
        return tip.sha
    return api.create_commit(commit_message(change), tree, [head_sha])


def _tree_changes(
    api: PullAPI, change: ChangeSet, entries: Mapping[str, PathEntry], head_sha: str
) -> list[TreeChange]:
    """The tree entries of the change, each checked against the file at the head first."""
    at = head_sha[:12]
    for edit in change.edits:
        entry = entries.get(edit.path)
        if edit.before is None and entry is not None:
            raise ChangeRefused(f"{edit.path} already exists at {at}; the change would create it")
        if edit.before is not None and entry is None:
            raise ChangeRefused(f"{edit.path} does not exist at {at}; the change edits it")
        if entry is not None and (entry.type != "blob" or entry.mode not in _REGULAR):
            raise ChangeRefused(f"{edit.path} is not a regular file at {at} (mode {entry.mode})")
        if entry is not None and git_blob_sha((edit.before or "").encode()) != entry.sha:
            raise ChangeRefused(
                f"{edit.path} at {at} is not the text the change was made from; review again"
            )
    changes = []
    for edit in sorted(change.edits, key=lambda e: e.path):
        entry = entries.get(edit.path)
        mode = entry.mode if entry is not None else "100644"  # an executable stays executable
        if edit.after is None:
            changes.append(TreeChange(edit.path, mode, None))
        else:
            changes.append(TreeChange(edit.path, mode, api.create_blob(edit.after.encode())))
    return changes
