"""Where a review reads code from: a local repository or, in the App, GitHub."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol


class CodeSource(Protocol):
    """Where the code comes from: a local repository or, in the App, GitHub."""

    def tree(self, rev: str, paths: Sequence[str] | None = None) -> Mapping[str, str]:
        """Path -> blob sha at ``rev``."""
        ...

    def blobs(self, shas: Iterable[str]) -> Mapping[str, bytes]:
        """Blob sha -> content."""
        ...


__all__ = ["CodeSource"]
