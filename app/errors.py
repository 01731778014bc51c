"""The one exception tree of idealdiff; the CLI and the worker turn it into a status."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError


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


class StoreUnavailable(IdealdiffError):
    """The database does not answer (PostgreSQL down or unreachable, SQLite locked past its
    timeout): nothing was written; asking again later may succeed."""

    transient = True


def validation_problems(
    exc: ValidationError, names: Mapping[str, str] | None = None, limit: int = 8
) -> str:
    """``where: what`` for each problem pydantic found ("; " between, at most ``limit``).

    ``where`` is the dotted location of the value (``batch.min_prs``), or what ``names`` calls
    its field (the environment variable it came from); never the value itself, which may be a
    secret.
    """
    out = []
    for err in exc.errors()[:limit]:
        dotted = ".".join(str(p) for p in err["loc"]) or "input"
        last = str(err["loc"][-1]) if err["loc"] else ""
        out.append(f"{(names or {}).get(last, dotted)}: {err['msg']}")
    return "; ".join(out)
