"""The GitHub objects the App reads (webhook payloads, and the pull requests the REST API returns),
as small pydantic models that ignore unknown fields.

GitHub's payloads drift ahead of any generated schema (githubkit's own models reject about a
third of the recorded examples), so only the fields idealdiff uses are declared.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Payload):
    """A user, bot or organization."""

    login: str
    id: int
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        """Bots (this App included) never trigger reviews."""
        return self.type == "Bot" or self.login.endswith("[bot]")


class Repository(_Payload):
    """The repository an event is about."""

    id: int
    name: str
    full_name: str
    owner: Account
    default_branch: str = "main"


class InstallationRef(_Payload):
    """The installation a delivery came through (absent on deliveries to a plain webhook)."""

    id: int


class Ref(_Payload):
    """One end of a pull request."""

    ref: str
    sha: str


class PullRequest(_Payload):
    """A pull request, as a webhook delivers it and as the REST API reads it back (one schema)."""

    number: int
    title: str
    body: str | None = None
    state: str
    user: Account
    merged: bool | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    base: Ref
    head: Ref
    html_url: str | None = None
    draft: bool = False


class PullRequestEvent(_Payload):
    """``pull_request`` deliveries."""

    action: str
    number: int
    pull_request: PullRequest
    repository: Repository
    installation: InstallationRef | None = None
    sender: Account


class IssuePullLink(_Payload):
    """Present on an issue that is a pull request."""

    url: str | None = None


class Issue(_Payload):
    """The issue (or pull request) a comment was made on."""

    number: int
    title: str
    state: str
    user: Account
    pull_request: IssuePullLink | None = None


class Comment(_Payload):
    """An issue comment."""

    id: int
    body: str | None = None
    user: Account
    html_url: str | None = None


class IssueCommentEvent(_Payload):
    """``issue_comment`` deliveries."""

    action: str
    issue: Issue
    comment: Comment
    repository: Repository
    installation: InstallationRef | None = None
    sender: Account


class RepoRef(_Payload):
    """A repository as installation events list them."""

    id: int
    full_name: str


class Installation(_Payload):
    """An installation of the App."""

    id: int
    account: Account


class InstallationEvent(_Payload):
    """``installation`` deliveries."""

    action: str
    installation: Installation
    repositories: list[RepoRef] | None = None
    sender: Account


class InstallationRepositoriesEvent(_Payload):
    """``installation_repositories`` deliveries."""

    action: str
    installation: Installation
    repositories_added: list[RepoRef] = []
    repositories_removed: list[RepoRef] = []
    sender: Account
