"""The local side of a review: a git repository on disk as the code source."""

from __future__ import annotations

from app.config import CONFIG_PATH, RepoConfig, parse_repo_config
from app.errors import ConfigError
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
