"""GitHub through githubkit: App JWT and installation tokens, the calls the App makes, and a
``CodeSource`` that reads a repository at a commit without a working copy.

Reading the code: the tree of a commit comes from the git trees API (one request, blob shas
included, so the analysis cache is keyed exactly as locally); blob contents come from one
tarball of the batch head when many are needed (a first review: one request instead of
thousands) and from the blobs API when few are (later reviews, where the analysis cache already
holds every unchanged file). A partial clone would need the git protocol and a clone directory
to manage per repository; the two REST paths need neither and are what the stand-in can check
against GitHub's description.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import ssl
import tarfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import certifi
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException, RequestFailed, SecondaryRateLimitExceeded
from githubkit.retry import RetryOption
from pydantic import BaseModel, ConfigDict

from app.errors import IdealdiffError
from app.github.events import PullRequest
from app.settings import Settings

log = logging.getLogger("idealdiff.github")

TARBALL_THRESHOLD = 200  # blobs wanted at once above which one tarball beats the blobs API
MAX_TARBALL_BYTES = 1_000_000_000
MAX_RETRY_AFTER = 300.0  # longer secondary-rate-limit waits fail the job; the queue retries it
USER_AGENT = "idealdiff/0.1"


class GitHubError(IdealdiffError):
    """A GitHub call failed: permanently (404, 403, 422...), or transiently (5xx, a rate limit,
    the network), which says so."""


class RetryPolicy:
    """githubkit's retry decision: 5xx and secondary rate limits, as octokit's retry plugins do.

    5xx: three more tries after ``base``, ``2*base``, ``4*base`` seconds
    (https://github.com/octokit/plugin-retry.js). Secondary rate limits: wait what
    ``retry-after`` says, up to three times (https://github.com/octokit/plugin-throttling.js).
    Primary rate limits are not waited out here: the job fails and the queue's backoff retries.
    """

    def __init__(self, base: float = 1.0, tries: int = 3) -> None:
        self.base = base
        self.tries = tries

    def __call__(self, exc: GitHubException, count: int) -> RetryOption:
        """Whether and when to send the request again."""
        if count >= self.tries:
            return RetryOption(False)
        if isinstance(exc, SecondaryRateLimitExceeded):
            wait = exc.retry_after.total_seconds()
            if wait <= MAX_RETRY_AFTER:
                log.warning("secondary rate limit; retrying", extra={"wait_s": wait})
                return RetryOption(True, exc.retry_after)
            return RetryOption(False)
        if isinstance(exc, RequestFailed) and exc.response.status_code >= 500:
            log.warning(
                "GitHub answered %s; retrying", exc.response.status_code, extra={"try": count + 1}
            )
            return RetryOption(True, timedelta(seconds=self.base * 2**count))
        return RetryOption(False)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class IssueInfo(_Model):
    """An issue as the App reads it back from the API."""

    number: int
    title: str
    body: str | None = None
    state: str
    state_reason: str | None = None
    html_url: str | None = None
    pull_request: dict[str, Any] | None = None


class _Sha(_Model):
    sha: str


class CommitInfo(_Model):
    """A commit as the git commits API describes it: its tree, parents and message."""

    sha: str
    message: str
    tree: _Sha
    parents: tuple[_Sha, ...]


@dataclass(frozen=True)
class PathEntry:
    """A path of a tree with its mode (``100644``, ``100755``, ``120000``...) and object type."""

    path: str
    mode: str
    type: str
    sha: str


@dataclass(frozen=True)
class TreeChange:
    """One entry of a new tree on top of a base tree: a blob at ``path``, or None to delete it."""

    path: str
    mode: str  # 100644 or 100755: a file keeps the mode it has in the base tree
    sha: str | None


class DraftsNotSupported(GitHubError):
    """GitHub refused a draft pull request: the repository's plan has no drafts (422)."""


class PullRequestExists(GitHubError):
    """GitHub refused a pull request: one is already open for this head and base (422)."""


class MissingPermission(GitHubError):
    """GitHub refused a call the App's installation was not granted the permission for (403)."""


class RefExists(GitHubError):
    """GitHub refused creating a ref: it already exists (422)."""


# GitHub's 422 messages, matched by their start (https://docs.github.com/rest/pulls/pulls).
DRAFTS_REFUSED = "Draft pull requests are not supported"
PULL_EXISTS = "A pull request already exists"
REF_EXISTS = "Reference already exists"


def git_blob_sha(data: bytes) -> str:
    """The git object id of a blob with this content (what the trees API reports)."""
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()


class GitHubApp:
    """The App: a JWT-authenticated client, and installation clients derived from it."""

    def __init__(self, settings: Settings) -> None:
        app_id, private_key = settings.require_app()
        self.api_url = settings.github_api_url
        self._client = GitHub(
            AppAuthStrategy(app_id, private_key),
            base_url=settings.github_api_url.rstrip("/") + "/",
            user_agent=USER_AGENT,
            http_cache=False,  # issue lists and refs must be read fresh on every review
            cache_strategy=MemCacheStrategy(),  # tokens cached per App, not per process
            trust_env=False,
            timeout=60.0,
            # One TLS context for every request: githubkit opens a client per call, and loading
            # the CA bundle each time costs ~40 ms.
            ssl_verify=ssl.create_default_context(cafile=certifi.where()),
            auto_retry=RetryPolicy(settings.github_retry_seconds),
        )

    def repo(self, installation_id: int, full_name: str) -> RepoAPI:
        """A client for one repository, acting as the installation (token fetched on demand)."""
        auth = self._client.auth
        assert isinstance(auth, AppAuthStrategy)
        client = self._client.with_auth(auth.as_installation(installation_id))
        owner, name = full_name.split("/", 1)
        return RepoAPI(client, owner, name)


class RepoAPI:
    """The calls the App makes on one repository; JSON read through small tolerant models."""

    def __init__(self, client: GitHub[Any], owner: str, name: str) -> None:
        self.gh = client
        self.owner = owner
        self.name = name

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"

    def _call(
        self,
        what: str,
        fn: Any,
        *args: Any,
        missing: bool = False,
        unchanged: bool = False,
        refused: Callable[[int, str], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        """``fn(owner, name, ...)``, its failures translated into ``GitHubError`` (no URL, no
        token: only what was done and the status). With ``missing``, a 404 answers None, with
        ``unchanged`` a 304 (a conditional request's "not modified");
        ``refused(status, message)`` may raise a more precise error first."""
        try:
            return fn(self.owner, self.name, *args, **kwargs)
        except RequestFailed as exc:
            status = exc.response.status_code
            if (missing and status == 404) or (unchanged and status == 304):
                return None
            message = _message(exc)
            if status == 403 and "not accessible by integration" in message:
                raise MissingPermission(
                    f"the App's installation on {self.full_name} may not do {what}: its "
                    "permissions lack it"
                ) from None
            if refused is not None:
                refused(status, message)
            raise GitHubError(
                f"GitHub refused {what} on {self.full_name} ({status})",
                transient=_passing(status, message),
            ) from None
        except GitHubException as exc:
            # Token exchange failures and transport errors; the text may hold URLs, so only the
            # status (when there is one) and the kind are kept.
            found = _status_in(exc)
            raise GitHubError(
                f"GitHub failed {what} on {self.full_name} ({found or type(exc).__name__})",
                transient=found is None or _passing(found, ""),
            ) from None

    # -- reading ---------------------------------------------------------------------------

    def default_branch(self) -> str:
        """The repository's default branch."""
        data = self._call("reading the repository", self.gh.rest.repos.get).json()
        return str(data["default_branch"])

    def branch_head(self, branch: str) -> str:
        """The commit a branch points at."""
        resp = self._call("reading a branch", self.gh.rest.git.get_ref, f"heads/{branch}")
        return str(resp.json()["object"]["sha"])

    def parents(self, sha: str) -> tuple[str, ...]:
        """The parents of a commit."""
        resp = self._call("reading a commit", self.gh.rest.git.get_commit, sha)
        return tuple(str(p["sha"]) for p in resp.json()["parents"])

    def commit_date(self, sha: str) -> str:
        """The committer date of a commit (ISO 8601)."""
        resp = self._call("reading a commit", self.gh.rest.git.get_commit, sha)
        return str(resp.json()["committer"]["date"])

    def diff(self, base: str, head: str) -> str:
        """The unified diff from ``base`` to ``head`` (compare API, diff media type)."""
        resp = self._call(
            "comparing commits",
            self.gh.rest.repos.compare_commits,
            f"{base}...{head}",
            headers={"Accept": "application/vnd.github.diff"},
        )
        text: str = resp.content.decode("utf-8", errors="replace")
        return text

    def file_text(self, path: str, ref: str) -> str | None:
        """A file's text at ``ref``, or None when there is no such file."""
        resp = self._call(
            f"reading {path}",
            self.gh.rest.repos.get_content,
            path,
            ref=ref,
            headers={"Accept": "application/vnd.github.raw"},
            missing=True,
        )
        if resp is None:
            return None
        text: str = resp.content.decode("utf-8", errors="replace")
        return text

    def pull(self, number: int) -> PullRequest:
        """One pull request."""
        return PullRequest.model_validate(
            self._call("reading a pull request", self.gh.rest.pulls.get, number).json()
        )

    def merged_pulls(
        self, base: str, limit: int, stop_before: str | None = None
    ) -> list[PullRequest]:
        """The most recently merged pull requests into ``base`` (newest first, at most ``limit``).

        ``stop_before`` (an ISO time) ends the walk at pull requests merged before it.
        """
        found: list[PullRequest] = []
        for page in range(1, 11):  # 1,000 recently updated pull requests are plenty
            resp = self._recently_closed(base, page)
            items = [PullRequest.model_validate(p) for p in resp.json()]
            found.extend(p for p in items if p.merged_at)
            if len(items) < 100:
                break
        found.sort(key=lambda p: p.merged_at or "", reverse=True)
        if stop_before is not None:
            found = [p for p in found if (p.merged_at or "") > stop_before]
        return found[:limit]

    def pulls_changed(self, base: str, etag: str | None) -> str | None:
        """The ETag of the recently updated closed pull requests into ``base``, or None when it
        is still ``etag`` (a conditional request: GitHub answers 304, which costs no rate
        limit)."""
        resp = self._recently_closed(base, 1, etag)
        if resp is None or resp.status_code == 304:
            return None
        return str(resp.headers.get("etag") or "")

    def _recently_closed(self, base: str, page: int, etag: str | None = None) -> Any:
        """One page of the closed pull requests into ``base``, most recently updated first; None
        when ``etag`` still matches it."""
        return self._call(
            "listing pull requests",
            self.gh.rest.pulls.list,
            state="closed",
            base=base,
            sort="updated",
            direction="desc",
            per_page=100,
            page=page,
            headers={"If-None-Match": etag} if etag else {},
            unchanged=etag is not None,
        )

    def permission(self, username: str) -> str:
        """``admin``, ``maintain``, ``write``, ``triage``, ``read`` or ``none``."""
        resp = self._call(
            "checking a permission",
            self.gh.rest.repos.get_collaborator_permission_level,
            username,
            missing=True,
        )
        if resp is None:
            return "none"
        data = resp.json()
        role = str(data.get("role_name") or "")
        return (
            role
            if role in ("admin", "maintain", "write", "triage", "read")
            else str(data["permission"])
        )

    def tree(self, rev: str) -> tuple[dict[str, str], bool]:
        """(path -> blob sha of regular files, truncated) of a commit, via the trees API."""
        resp = self._call("reading a tree", self.gh.rest.git.get_tree, rev, recursive="1")
        data = resp.json()
        files = {
            str(e["path"]): str(e["sha"])
            for e in data["tree"]
            if e.get("type") == "blob" and e.get("mode") in ("100644", "100755")
        }
        return files, bool(data.get("truncated"))

    def blob(self, sha: str) -> bytes:
        """One blob's content."""
        data = self._call("reading a blob", self.gh.rest.git.get_blob, sha).json()
        if data.get("encoding") == "base64":
            return base64.b64decode(data["content"])
        return str(data["content"]).encode()

    def tarball(self, rev: str) -> bytes:
        """The gzipped tarball of a commit (the API redirects to a download host)."""
        resp = self._call("downloading a tarball", self.gh.rest.repos.download_tarball_archive, rev)
        content: bytes = resp.content
        if len(content) > MAX_TARBALL_BYTES:
            raise GitHubError(f"the tarball of {self.full_name} is above 1 GB")
        return content

    def issues(self, label: str) -> list[IssueInfo]:
        """Every issue (open or closed, not pull requests) carrying ``label``."""
        out: list[IssueInfo] = []
        for page in range(1, 51):
            resp = self._call(
                "listing issues",
                self.gh.rest.issues.list_for_repo,
                labels=label,
                state="all",
                per_page=100,
                page=page,
            )
            items = resp.json()
            out.extend(IssueInfo.model_validate(i) for i in items if not i.get("pull_request"))
            if len(items) < 100:
                break
        return out

    # -- writing ---------------------------------------------------------------------------

    def create_issue(self, title: str, body: str, labels: Sequence[str]) -> IssueInfo:
        """Open an issue."""
        resp = self._call(
            "opening an issue",
            self.gh.rest.issues.create,
            title=title,
            body=body,
            labels=list(labels),
        )
        return IssueInfo.model_validate(resp.json())

    def update_issue(self, number: int, **fields: Any) -> IssueInfo:
        """Change an issue's title, body, state or labels."""
        resp = self._call("updating an issue", self.gh.rest.issues.update, number, **fields)
        return IssueInfo.model_validate(resp.json())

    def comment(self, number: int, body: str) -> str:
        """Comment on an issue or pull request; returns the comment's URL."""
        resp = self._call("commenting", self.gh.rest.issues.create_comment, number, body=body)
        return str(resp.json().get("html_url") or "")

    def react(self, comment_id: int, content: str) -> None:
        """React to an issue comment (``eyes``, ``rocket``...)."""
        self._call(
            "reacting to a comment",
            self.gh.rest.reactions.create_for_issue_comment,
            comment_id,
            content=content,
        )

    # -- git data and pull requests (delivering a change as a pull request) ------------------

    def ref_sha(self, ref: str) -> str | None:
        """The commit ``ref`` (``heads/<branch>``) points at, or None when there is no such ref."""
        resp = self._call("reading a ref", self.gh.rest.git.get_ref, ref, missing=True)
        if resp is None:
            return None
        data: Any = resp.json()
        return str(data["object"]["sha"])

    def commit_info(self, sha: str) -> CommitInfo:
        """One commit: its tree, parents and message."""
        data = self._call("reading a commit", self.gh.rest.git.get_commit, sha).json()
        return CommitInfo.model_validate({**data, "sha": data.get("sha") or sha})

    def path_entries(self, rev: str, paths: Iterable[str]) -> dict[str, PathEntry]:
        """Mode, type and sha of each of ``paths`` that exists in the tree of ``rev``.

        One recursive trees request; when GitHub truncates it (above 100,000 entries), only the
        folders on the way to ``paths`` are read, one request each.
        """
        wanted = set(paths)
        resp = self._call("reading a tree", self.gh.rest.git.get_tree, rev, recursive="1")
        data = resp.json()
        if not data.get("truncated"):
            return {
                str(e["path"]): _path_entry(str(e["path"]), e)
                for e in data["tree"]
                if e.get("path") in wanted
            }
        found: dict[str, PathEntry] = {}
        listed: dict[str, dict[str, Any]] = {}  # folder -> its entries by name

        def folder(path: str, sha: str) -> dict[str, Any]:
            if path not in listed:
                items = self._call("reading a tree", self.gh.rest.git.get_tree, sha).json()
                listed[path] = {str(e["path"]): e for e in items["tree"]}
            return listed[path]

        root_sha = str(data["sha"])
        for path in sorted(wanted):
            parts = path.split("/")
            here, sha = "", root_sha
            for depth, part in enumerate(parts):
                entry = folder(here, sha).get(part)
                if entry is None:
                    break
                if depth == len(parts) - 1:
                    found[path] = _path_entry(path, entry)
                elif entry.get("type") == "tree":
                    here, sha = f"{here}{part}/", str(entry["sha"])
                else:
                    break
        return found

    def create_blob(self, data: bytes) -> str:
        """Store a blob; returns its sha. Sent base64-encoded, so every byte arrives as it is."""
        resp = self._call(
            "creating a blob",
            self.gh.rest.git.create_blob,
            content=base64.b64encode(data).decode("ascii"),
            encoding="base64",
        )
        return str(resp.json()["sha"])

    def create_tree(self, base_tree: str, changes: Sequence[TreeChange]) -> str:
        """A tree: ``base_tree`` with ``changes`` applied (a None sha deletes the path)."""
        entries = [{"path": c.path, "mode": c.mode, "type": "blob", "sha": c.sha} for c in changes]
        resp = self._call(
            "creating a tree",
            self.gh.rest.git.create_tree,
            base_tree=base_tree,
            tree=entries,
        )
        return str(resp.json()["sha"])

    def create_commit(self, message: str, tree: str, parents: Sequence[str]) -> str:
        """A commit of ``tree`` on ``parents``; returns its sha.

        No author or committer is sent: GitHub then records the App's bot identity and signs
        the commit, so it shows as verified.
        """
        resp = self._call(
            "creating a commit",
            self.gh.rest.git.create_commit,
            message=message,
            tree=tree,
            parents=list(parents),
        )
        return str(resp.json()["sha"])

    def create_ref(self, ref: str, sha: str) -> None:
        """Create ``refs/<ref>`` (``ref`` is ``heads/<branch>``) at ``sha``.

        A ref that already exists (a retried request whose first answer was lost, or another
        worker) is moved to ``sha`` instead.
        """

        def exists(status: int, message: str) -> None:
            if status == 422 and REF_EXISTS in message:
                raise RefExists(f"refs/{ref} already exists on {self.full_name}")

        try:
            self._call(
                "creating a branch",
                self.gh.rest.git.create_ref,
                ref=f"refs/{ref}",
                sha=sha,
                refused=exists,
            )
        except RefExists:
            self.update_ref(ref, sha, force=True)

    def update_ref(self, ref: str, sha: str, *, force: bool) -> None:
        """Point ``refs/<ref>`` at ``sha``; ``force`` allows a move that is not a fast-forward."""
        self._call("moving a branch", self.gh.rest.git.update_ref, ref, sha=sha, force=force)

    def pulls_for_head(self, branch: str, state: str = "all") -> list[PullRequest]:
        """Pull requests whose head is ``branch`` of this repository, newest first."""
        resp = self._call(
            "listing pull requests",
            self.gh.rest.pulls.list,
            state=state,
            head=f"{self.owner}:{branch}",
            sort="created",
            direction="desc",
            per_page=100,
        )
        return [PullRequest.model_validate(p) for p in resp.json()]

    def create_pull(
        self, *, title: str, body: str, head: str, base: str, draft: bool
    ) -> PullRequest:
        """Open a pull request from ``head`` into ``base``.

        Raises ``DraftsNotSupported`` when GitHub answers that the repository's plan has no
        draft pull requests, ``PullRequestExists`` when one is already open for ``head``.
        """

        def precisely(status: int, message: str) -> None:
            if status == 422 and DRAFTS_REFUSED in message:
                raise DraftsNotSupported(f"{self.full_name} does not support draft pull requests")
            if status == 422 and PULL_EXISTS in message:
                raise PullRequestExists(
                    f"a pull request from {head} is already open on {self.full_name}"
                )

        resp = self._call(
            "opening a pull request",
            self.gh.rest.pulls.create,
            title=title,
            body=body,
            head=head,
            base=base,
            draft=draft,
            maintainer_can_modify=True,
            refused=precisely,
        )
        return PullRequest.model_validate(resp.json())

    def update_pull(self, number: int, **fields: Any) -> PullRequest:
        """Change a pull request's title, body, base or state."""
        resp = self._call("updating a pull request", self.gh.rest.pulls.update, number, **fields)
        return PullRequest.model_validate(resp.json())


def _path_entry(path: str, entry: Mapping[str, Any]) -> PathEntry:
    return PathEntry(path, str(entry["mode"]), str(entry["type"]), str(entry["sha"]))


def _passing(status: int, message: str) -> bool:
    """Whether a refusal may pass if asked again later: GitHub down, or a rate limit."""
    return status >= 500 or status == 429 or (status == 403 and "rate limit" in message.lower())


def _message(exc: RequestFailed) -> str:
    """GitHub's ``message`` (and validation errors' messages) of a failed request, or ""."""
    try:
        data = exc.response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("message") or "")]
    for err in data.get("errors") or ():
        if isinstance(err, dict) and err.get("message"):
            parts.append(str(err["message"]))
    return " ".join(parts)


def _status_in(exc: BaseException) -> int | None:
    """The HTTP status somewhere in an exception's chain (githubkit wraps auth failures)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, RequestFailed):
            return int(seen.response.status_code)
        for arg in seen.args:
            if isinstance(getattr(arg, "status_code", None), int):
                return int(arg.status_code)
        seen = seen.__cause__ or seen.__context__
    return None


def _tar_files(data: bytes) -> dict[str, bytes]:
    """Path -> content of the regular files of a GitHub tarball (its top folder stripped)."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar:
            if not member.isreg():
                continue
            _, _, path = member.name.partition("/")
            handle = tar.extractfile(member)
            if path and handle is not None:
                out[path] = handle.read()
    return out


class GitHubSource:
    """The ``CodeSource`` of a repository on GitHub: trees by commit, blobs by sha, cached."""

    bulk_reads = False  # a request per blob: read only what the analysis asks for

    def __init__(self, api: RepoAPI, head_sha: str, threshold: int = TARBALL_THRESHOLD) -> None:
        self.api = api
        self.head_sha = head_sha
        self.threshold = threshold
        self._trees: dict[str, dict[str, str]] = {}
        self._blobs: dict[str, bytes] = {}
        self._tarred: set[str] = set()
        self.requests = {"trees": 0, "tarballs": 0, "blobs": 0}

    def _load_tarball(self, rev: str) -> dict[str, str]:
        self.requests["tarballs"] += 1
        files = _tar_files(self.api.tarball(rev))
        tree: dict[str, str] = {}
        for path, content in files.items():
            sha = git_blob_sha(content)
            tree[path] = sha
            self._blobs[sha] = content
        self._tarred.add(rev)
        return tree

    def tree(self, rev: str, paths: Sequence[str] | None = None) -> Mapping[str, str]:
        """Path -> blob sha at ``rev`` (only ``paths`` when given)."""
        if rev not in self._trees:
            self.requests["trees"] += 1
            files, truncated = self.api.tree(rev)
            # A tree too big for one answer (100,000 entries) is read from the tarball instead.
            self._trees[rev] = self._load_tarball(rev) if truncated else files
        full = self._trees[rev]
        if paths is None:
            return dict(full)
        return {p: full[p] for p in paths if p in full}

    def blobs(self, shas: Iterable[str]) -> Mapping[str, bytes]:
        """Blob sha -> content; many at once come from one tarball of the head."""
        wanted = list(dict.fromkeys(shas))
        missing = [s for s in wanted if s not in self._blobs]
        if len(missing) >= self.threshold and self.head_sha not in self._tarred:
            self._load_tarball(self.head_sha)
            missing = [s for s in missing if s not in self._blobs]
        for sha in missing:
            self.requests["blobs"] += 1
            self._blobs[sha] = self.api.blob(sha)
        return {s: self._blobs[s] for s in wanted if s in self._blobs}
