"""The one exception tree of idealdiff; the CLI and the worker turn it into a status."""

from __future__ import annotations


class IdealdiffError(Exception):
    """Root of every error idealdiff raises on purpose; its message is safe to show a user."""


class UsageError(IdealdiffError):
    """The user asked for something that cannot be done as asked (bad --since, not a repo)."""


class GitError(IdealdiffError):
    """A git command failed."""


class ConfigError(IdealdiffError):
    """A configuration file or setting is invalid."""
