"""A batch: the branches merged into the base branch since a watermark, whatever read them."""

from __future__ import annotations

from dataclasses import dataclass

from analyzers import FileChange, PatchError, parse_patch

MAX_PATCH_BYTES = 20_000_000
# git's empty tree: the base of a branch whose commit has no parent (it added the repository).
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Branch:
    """One branch of the batch: who, what, and its diff against the base it was merged into."""

    id: str
    title: str
    author: str
    date: str
    merge_sha: str
    parent_sha: str  # the first parent: the base before this branch landed
    description: str
    files: tuple[FileChange, ...]
    note: str | None = None  # why the diff was not read, when it was not


@dataclass(frozen=True)
class Batch:
    """The ordered branches and the head they end at."""

    base: str
    head_sha: str
    since: str | None
    branches: tuple[Branch, ...]


def read_patch(patch: str) -> tuple[tuple[FileChange, ...], str | None]:
    """A branch's changed files from its unified diff, or why they were not read."""
    if len(patch) > MAX_PATCH_BYTES:
        size, limit = len(patch) // 1_000_000, MAX_PATCH_BYTES // 1_000_000
        return (), f"diff of {size} MB is above the {limit} MB limit; its files were not read"
    try:
        return parse_patch(patch), None
    except PatchError as exc:
        return (), f"diff could not be parsed: {exc}"
