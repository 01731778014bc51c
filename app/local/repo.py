"""A local git repository read through the git command line: trees, blobs, history, diffs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.errors import GitError, UsageError


@dataclass(frozen=True)
class Commit:
    """One commit of the first-parent chain."""

    sha: str
    parents: tuple[str, ...]
    author: str
    date: str  # ISO 8601, author date
    subject: str
    body: str


class GitRepo:
    """Read-only access to a repository; every call is a git subprocess with a fixed locale."""

    bulk_reads = True  # one ``git cat-file --batch`` reads every head file

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._env = {
            **os.environ,
            "LC_ALL": "C",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        try:
            bare = self.run("rev-parse", "--is-bare-repository").decode().strip() == "true"
            # Only git objects are read, so a bare repository (a mirror, a CI cache) works too.
            top = self.run("rev-parse", "--absolute-git-dir" if bare else "--show-toplevel")
        except GitError as exc:
            raise UsageError(f"{self.path} is not a git repository") from exc
        self.path = Path(top.decode().strip())

    def run(
        self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> bytes:
        """Run git and return its standard output; raise GitError with its message on failure."""
        try:
            done = subprocess.run(
                ["git", "-c", "core.quotepath=off", *args],
                cwd=self.path,
                input=input,
                capture_output=True,
                env={**self._env, **env} if env else self._env,
                check=False,
            )
        except FileNotFoundError as exc:
            raise GitError("git is not installed or not on PATH") from exc
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {message[-1] if message else done.returncode}")
        return done.stdout

    def resolve(self, rev: str) -> str | None:
        """The commit sha a revision names, or None when it names none."""
        if rev.startswith("-"):
            return None
        try:
            out = self.run(
                "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
            )
        except GitError:
            return None
        return out.decode().strip() or None

    def first_parent_log(
        self,
        head: str,
        *,
        exclude: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Commit]:
        """Commits on ``head``'s first-parent chain, oldest first, after ``exclude`` or a date."""
        args = ["log", "--first-parent", "--reverse", "--format=%H%x00%P%x00%an%x00%aI%x00%B%x1e"]
        if limit is not None:
            args.append(f"--max-count={limit}")  # applied before --reverse: the newest ones
        if after is not None:
            args.append(f"--since={after}")
        args.append(head if exclude is None else f"{exclude}..{head}")
        raw = self.run(*args, "--").decode("utf-8", errors="replace")
        commits: list[Commit] = []
        for record in raw.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            sha, parents, author, date, message = record.split("\x00", 4)
            subject, _, body = message.partition("\n")
            commits.append(
                Commit(sha, tuple(parents.split()), author, date, subject.strip(), body.strip())
            )
        return commits

    def shallow_boundary(self) -> frozenset[str]:
        """The commits whose parents a shallow clone left out (empty when the clone is full)."""
        if self.run("rev-parse", "--is-shallow-repository").decode().strip() != "true":
            return frozenset()
        path = Path(self.run("rev-parse", "--git-path", "shallow").decode().strip())
        path = path if path.is_absolute() else self.path / path
        try:
            return frozenset(path.read_text().split())
        except OSError:
            return frozenset()

    def author(self, rev: str) -> str:
        """The author name of one commit."""
        return self.run("log", "-1", "--format=%an", rev, "--").decode("utf-8", "replace").strip()

    def diff(self, old: str, new: str) -> tuple[str, tuple[str, ...]]:
        """The unified diff between two commits (renames detected, no context lines), and the
        paths left out of it because their contents are not in the repository.

        A partial clone (``--filter=blob:limit=...``) or a mirror that dropped large files holds
        the trees but not every blob; git refuses the whole diff for one missing blob, so those
        paths are left out and named instead of losing the commit.
        """
        args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames"]
        try:
            out = self.run(*args, "--unified=0", old, new, "--")
            return out.decode("utf-8", errors="replace"), ()
        except GitError as exc:
            if "unable to read" not in str(exc):
                raise
        raw = self.run("diff", "--raw", "--no-renames", "--no-abbrev", "-z", old, new, "--")
        fields = raw.split(b"\x00")
        blobs: dict[str, list[str]] = {}
        # -z --raw: ":meta" then the path, as separate fields.
        for meta, name in zip(fields[0::2], fields[1::2], strict=False):
            parts = meta.decode().split()
            if len(parts) >= 4:
                for sha in parts[2:4]:
                    blobs.setdefault(sha, []).append(name.decode("utf-8", errors="replace"))
        gone = self.missing(sha for sha in blobs if set(sha) != {"0"})
        skipped = tuple(sorted({path for sha in gone for path in blobs[sha]}))
        if not skipped:
            raise GitError(f"git diff failed between {old[:12]} and {new[:12]}")
        excludes = [f":(exclude,literal){path}" for path in skipped]
        # Renames are read from contents, so none are detected around a missing blob.
        out = self.run(*args, "--unified=0", old, new, "--", ".", *excludes)
        return out.decode("utf-8", errors="replace"), skipped

    def missing(self, shas: Iterable[str]) -> set[str]:
        """The objects among ``shas`` this repository does not hold."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return set()
        out = self.run("cat-file", "--batch-check", input=("\n".join(wanted) + "\n").encode())
        return {line.split()[0] for line in out.decode().splitlines() if line.endswith(" missing")}

    def tree(self, rev: str, paths: Sequence[str] | None = None) -> dict[str, str]:
        """Path -> blob sha of every file at ``rev`` (or only of ``paths``); links are left out."""
        args = ["ls-tree", "-r", "-z", "--full-tree", rev]
        if paths is not None:
            if not paths:
                return {}
            args += ["--", *paths]
        result: dict[str, str] = {}
        for entry in self.run(*args).split(b"\x00"):
            if not entry:
                continue
            meta, _, name = entry.partition(b"\t")
            mode, kind, sha = meta.split()
            if kind == b"blob" and mode in (b"100644", b"100755"):
                result[name.decode("utf-8", errors="replace")] = sha.decode()
        return result

    def blobs(self, shas: Iterable[str]) -> Mapping[str, bytes]:
        """The contents of several blobs, read through one ``git cat-file --batch``."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self.run("cat-file", "--batch", input=("\n".join(wanted) + "\n").encode())
        result: dict[str, bytes] = {}
        pos = 0
        for sha in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            result[sha] = out[pos : pos + size]
            pos += size + 1
        return result
