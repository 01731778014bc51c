"""Build real git repositories on disk, with branches merged the way GitHub merges (demo, tests)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Mapping
from pathlib import Path

_ENV = {
    "GIT_AUTHOR_NAME": "Ada Agent",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Agent",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


class RepoBuilder:
    """A git repository on disk; every method is one ordinary git operation."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)
        self.main = branch
        self._tick = 0

    def git(self, *args: str, author: str | None = None) -> str:
        """Run git in the repository with a fixed identity and clock."""
        env = {**os.environ, **_ENV}
        self._tick = getattr(self, "_tick", 0) + 1
        stamp = (
            f"2026-11-{1 + min(self._tick // 50, 27):02d}T{(self._tick % 50) // 3 + 8:02d}:00:00Z"
        )
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
        if author:
            env["GIT_AUTHOR_NAME"] = author
        done = subprocess.run(
            ["git", *args], cwd=self.root, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {done.stderr}")
        return done.stdout.strip()

    def write(self, files: Mapping[str, str | bytes | None]) -> None:
        """Write (dedented) text or bytes; None deletes the file."""
        for name, content in files.items():
            path = self.root / name
            if content is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"))

    def commit(
        self,
        message: str,
        files: Mapping[str, str | bytes | None] | None = None,
        author: str | None = None,
    ) -> str:
        """Write files, stage everything, commit; returns the sha."""
        if files:
            self.write(files)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, author=author)
        return self.git("rev-parse", "HEAD")

    def branch(
        self,
        name: str,
        files: Mapping[str, str | bytes | None],
        *,
        start: str | None = None,
        author: str | None = None,
    ) -> None:
        """Create a branch from ``start`` (default: main) with one commit."""
        self.git("checkout", "-q", "-b", name, start or self.main)
        self.commit(f"Work on {name}", files, author=author)
        self.git("checkout", "-q", self.main)

    def merge_pr(self, number: int, name: str, title: str, owner: str = "acme") -> str:
        """Merge a branch with a merge commit worded as GitHub words it."""
        self.git(
            "merge",
            "-q",
            "--no-ff",
            "-m",
            f"Merge pull request #{number} from {owner}/{name}\n\n{title}",
            name,
        )
        return self.git("rev-parse", "HEAD")

    def merge_branch(self, name: str) -> str:
        """Merge a branch with git's own message ("Merge branch 'x'")."""
        self.git("merge", "-q", "--no-ff", "--no-edit", name)
        return self.git("rev-parse", "HEAD")

    def squash_pr(self, number: int, name: str, title: str) -> str:
        """Squash-merge a branch as GitHub does: one commit "Title (#N)" on main."""
        self.git("merge", "-q", "--squash", name)
        self.git("commit", "-q", "-m", f"{title} (#{number})")
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        """The sha of HEAD."""
        return self.git("rev-parse", "HEAD")
