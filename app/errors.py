"""The one exception tree of idealdiff; the CLI and the worker turn it into a status."""

from __future__ import annotations


class IdealdiffError(Exception):
    """Root of every error idealdiff raises on purpose; its message is safe to show a user.

    Permanent unless it says otherwise: asking again fails the same way (a pull request that
    was never merged, a repository the App lost, an invalid config), so a job stops at once and
    tells whoever asked. A transient one (a 5xx, a rate limit, a timeout) is retried later.
    """

    transient = False

    def __init__(self, message: str = "", *, transient: bool | None = None) -> None:
        super().__init__(message)
        if transient is not None:
            self.transient = transient


class UsageError(IdealdiffError):
    """The user asked for something that cannot be done as asked (bad --since, not a repo)."""


class GitError(IdealdiffError):
    """A git command failed."""


class ConfigError(IdealdiffError):
    """A configuration file or setting is invalid."""
