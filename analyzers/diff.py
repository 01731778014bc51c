"""Turn a unified diff into the changed line numbers of each file, with unidiff."""

from __future__ import annotations

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from analyzers.model import FileChange, FileStatus


class PatchError(ValueError):
    """The text is not a unified diff unidiff can read."""


def _strip_prefix(name: str | None) -> str:
    if not name or name == "/dev/null":
        return ""
    if name.startswith(("a/", "b/")):
        return name[2:]
    return name


def parse_patch(patch: str) -> tuple[FileChange, ...]:
    """Parse a git-style unified diff (renames and binary files included) into file changes.

    Raises ``PatchError`` when the text is not a diff; never raises anything else.
    """
    try:
        patch_set = PatchSet(patch)
    except UnidiffParseError as exc:
        raise PatchError(str(exc)) from exc
    changes: list[FileChange] = []
    for patched in patch_set:
        old = _strip_prefix(patched.source_file)
        new = _strip_prefix(patched.target_file)
        status: FileStatus
        # unidiff's is_added_file also fires on an insertion at line 0 of a -U0 diff; the
        # /dev/null side of the header is what really marks an added or deleted file.
        header = str(patched.patch_info or "")
        if patched.source_file == "/dev/null" or "\nnew file mode" in "\n" + header:
            status, old = "added", ""
        elif patched.target_file == "/dev/null" or "\ndeleted file mode" in "\n" + header:
            status, new = "deleted", ""
        elif patched.is_rename:
            status = "renamed"
        else:
            status = "modified"
        if status != "deleted" and not new:
            new = patched.path
        if status not in ("added",) and not old:
            old = patched.path
        added: list[int] = []
        removed: list[int] = []
        for hunk in patched:
            for line in hunk:
                if line.is_added and line.target_line_no is not None:
                    added.append(line.target_line_no)
                elif line.is_removed and line.source_line_no is not None:
                    removed.append(line.source_line_no)
        changes.append(
            FileChange(
                path=new,
                old_path=old,
                status=status,
                is_binary=bool(patched.is_binary_file),
                added_lines=tuple(added),
                removed_lines=tuple(removed),
            )
        )
    return tuple(changes)
