"""The contracts between intake and the worker: what a job asks and what the ledger holds.

Intake writes them, the worker reads them back, through the store's JSON: a typed model on each
side, so a field renamed on one side fails validation on the other instead of a ``KeyError``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from app.errors import ConfigError
from app.github.events import PullRequest
from app.store.records import Job, MergedPR, NewJob

JobKind = Literal["batch", "command"]


class _Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class BatchJob(_Contract):
    """Review the merges waiting in a repository's ledger (debounced: one waits at most)."""

    kind: Literal["batch"] = "batch"
    installation_id: int
    repo: str

    def new_job(self) -> NewJob:
        """The queue entry: keyed by repository, and one at a time per repository."""
        return NewJob(self.kind, self.payload(), key=f"batch:{self.repo}", scope=self.repo)

    def payload(self) -> dict[str, Any]:
        """What the queue stores."""
        return self.model_dump(exclude={"kind"})


class CommandJob(_Contract):
    """Run one ``/idealize`` comment on a pull request."""

    kind: Literal["command"] = "command"
    installation_id: int
    repo: str
    default_branch: str | None = None
    number: int
    comment_id: int
    user: str
    line: str

    def new_job(self) -> NewJob:
        """The queue entry: one at a time per repository."""
        return NewJob(self.kind, self.payload(), scope=self.repo)

    def payload(self) -> dict[str, Any]:
        """What the queue stores."""
        return self.model_dump(exclude={"kind"})


def read_job(job: Job) -> BatchJob | CommandJob:
    """The typed request of a job taken from the queue; ``ConfigError`` for a kind or a payload
    this version does not know (permanent: running it again would fail the same way)."""
    model: type[BatchJob] | type[CommandJob]
    if job.kind == "batch":
        model = BatchJob
    elif job.kind == "command":
        model = CommandJob
    else:
        raise ConfigError(f"unknown job kind {job.kind!r}")
    try:
        return model.model_validate(job.payload)
    except ValueError as exc:
        raise ConfigError(f"a {job.kind} job's payload does not validate: {exc}") from None


def merged_entry(repo: str, installation_id: int, pull: PullRequest, now: float) -> MergedPR:
    """The ledger entry of a merged pull request, however it was learnt (webhook or reconcile)."""
    return MergedPR(
        repo=repo,
        number=pull.number,
        installation_id=installation_id,
        data=PrRef.from_pull(pull).model_dump(exclude={"parent"}),
        merged_at=pull.merged_at or "",
        received_at=now,
        reviewed_at=None,
    )


class PrRef(_Contract):
    """A pull request as the batch needs it: what intake records in the ledger for a merge, and
    what the worker reads back (or builds from the API for a command)."""

    number: int
    title: str
    body: str = ""
    author: str
    merge_sha: str
    merged_at: str = ""
    parent: str | None = None  # the commit to diff against, when not the merge's first parent

    @classmethod
    def from_pull(cls, pull: PullRequest) -> PrRef:
        """From GitHub's pull request (an open one without a test merge: its head vs base)."""
        merged = pull.merge_commit_sha
        return cls(
            number=pull.number,
            title=pull.title,
            body=pull.body or "",
            author=pull.user.login,
            merge_sha=merged or pull.head.sha,
            merged_at=pull.merged_at or "",
            parent=None if merged else pull.base.sha,
        )
