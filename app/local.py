"""The local side of a review: a git repository on disk as the code source."""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analyzers.edits import ChangeSet
from app.config import CONFIG_PATH, RepoConfig, parse_repo_config
from app.errors import ConfigError, GitError, UsageError
from app.gitrepo import GitRepo


def read_repo_config(repo: GitRepo, rev: str) -> tuple[RepoConfig, str | None]:
    """The config at ``rev`` (the base branch), or the defaults and the reason it was refused."""
    blob = repo.tree(rev, [CONFIG_PATH]).get(CONFIG_PATH)
    if blob is None:
        return RepoConfig(), None
    data = repo.blobs([blob]).get(blob, b"")
    try:
        return parse_repo_config(data.decode("utf-8", errors="replace")), None
    except ConfigError as exc:
        return RepoConfig(), str(exc)


FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "idealdiff",
    "GIT_AUTHOR_EMAIL": "idealdiff@localhost",
    "GIT_COMMITTER_NAME": "idealdiff",
    "GIT_COMMITTER_EMAIL": "idealdiff@localhost",
}


@dataclass(frozen=True)
class LocalCommit:
    """One commit ``--apply`` wrote: the finding it carries out, and its sha."""

    finding_id: str
    sha: str
    subject: str


def write_branch(
    repo: GitRepo, head_sha: str, branch: str, changes: Sequence[ChangeSet]
) -> list[LocalCommit]:
    """Create (or move) ``branch`` to one commit per change on top of ``head_sha``.

    Only git objects and the one ref are written: a temporary index stands in for the user's,
    so their working tree, their index and their current branch are never touched.
    """
    ref = f"refs/heads/{branch}"
    try:
        current = repo.run("symbolic-ref", "-q", "HEAD").decode().strip()
    except GitError:
        current = ""  # a detached HEAD
    if current == ref:
        raise UsageError(
            f"{branch} is checked out; switch to another branch to let --apply move it"
        )
    identity: dict[str, str] = {}
    try:
        repo.run("var", "GIT_COMMITTER_IDENT")
    except GitError:
        identity = FALLBACK_IDENTITY  # no user.name/email configured: still commit, as idealdiff
    commits: list[LocalCommit] = []
    with tempfile.TemporaryDirectory(prefix="idealdiff-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **identity}
        repo.run("read-tree", head_sha, env=env)
        parent = head_sha
        for change in changes:
            for edit in change.edits:
                if edit.after is None:
                    repo.run("update-index", "--force-remove", "--", edit.path, env=env)
                    continue
                blob = repo.run(
                    "hash-object",
                    "-w",
                    "--stdin",
                    input=_encode(repo, head_sha, edit.path, edit.after),
                )
                staged = repo.run("ls-files", "-s", "--", edit.path, env=env).decode().split()
                mode = staged[0] if staged else "100644"  # keep an executable bit
                repo.run(
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    f"{mode},{blob.decode().strip()},{edit.path}",
                    env=env,
                )
            tree = repo.run("write-tree", env=env).decode().strip()
            message = f"{change.subject}\n\n{change.body}\n"
            sha = repo.run(
                "commit-tree", tree, "-p", parent, "-F", "-", input=message.encode(), env=env
            )
            parent = sha.decode().strip()
            commits.append(LocalCommit(change.finding_id, parent, change.subject))
    old = repo.resolve(ref) or "0" * 40
    repo.run("update-ref", "-m", "idealdiff review --apply", ref, parent, old)
    return commits


def _encode(repo: GitRepo, head_sha: str, path: str, text: str) -> bytes:
    """The bytes of a new file text, keeping the byte-order mark the file had."""
    blob = repo.tree(head_sha, [path]).get(path)
    had_bom = blob is not None and repo.blobs([blob]).get(blob, b"").startswith(codecs.BOM_UTF8)
    return (codecs.BOM_UTF8 if had_bom else b"") + text.encode("utf-8")
