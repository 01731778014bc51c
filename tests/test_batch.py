"""Reading a batch from git: merge commits, squash merges, plain commits, and --since."""

from __future__ import annotations

import pytest

from app.errors import UsageError
from app.local.build import RepoBuilder
from app.local.history import collect_batch
from app.local.repo import GitRepo


@pytest.fixture
def history(repo: RepoBuilder) -> tuple[RepoBuilder, str]:
    base = repo.commit("Initial", {"pkg/core.py": "def core():\n    return 1\n"})
    repo.branch("feature-a", {"pkg/a.py": "def a():\n    return 'a'\n"}, author="Agent A")
    repo.branch("feature-b", {"pkg/b.py": "def b():\n    return 'b'\n"}, author="Agent B")
    repo.branch("feature-c", {"pkg/c.py": "def c():\n    return 'c'\n"})
    repo.merge_pr(12, "feature-a", "Add the a helper")
    repo.squash_pr(15, "feature-b", "Add the b helper")
    repo.merge_branch("feature-c")
    repo.commit("Fix a typo directly on main", {"README.md": "hello\n"})
    return repo, base


def test_each_kind_of_first_parent_commit_is_a_branch(history: tuple[RepoBuilder, str]) -> None:
    repo, base = history
    batch = collect_batch(GitRepo(repo.root), "main", base)
    ids = [b.id for b in batch.branches]
    assert ids[:2] == ["#12", "#15"]
    merge_c, direct = batch.branches[2], batch.branches[3]
    assert merge_c.title == "feature-c"
    assert merge_c.id == merge_c.merge_sha[:7]
    assert direct.title == "Fix a typo directly on main"
    assert direct.id == direct.merge_sha[:7]
    assert batch.branches[0].title == "Add the a helper"
    # A merge commit is by the merger; the branch is by whoever wrote its tip.
    assert batch.branches[0].author == "Agent A"
    assert batch.branches[1].author == "Ada Agent"  # a squash commit is authored as committed
    assert [c.path for c in batch.branches[0].files] == ["pkg/a.py"]
    assert [c.path for c in batch.branches[1].files] == ["pkg/b.py"]
    assert batch.head_sha == repo.head()


def test_since_accepts_a_date(history: tuple[RepoBuilder, str]) -> None:
    repo, _ = history
    batch = collect_batch(GitRepo(repo.root), "main", "2026-11-01")
    assert len(batch.branches) >= 4  # every commit of the fixture is dated November 2026
    assert collect_batch(GitRepo(repo.root), "main", "2030-01-01").branches == ()


def test_bad_since_is_a_clear_error(history: tuple[RepoBuilder, str]) -> None:
    repo, _ = history
    with pytest.raises(UsageError, match="neither a revision of this repository nor a date"):
        collect_batch(GitRepo(repo.root), "main", "not-a-thing")


def test_default_since_takes_recent_first_parent_commits(history: tuple[RepoBuilder, str]) -> None:
    repo, _ = history
    batch = collect_batch(GitRepo(repo.root), "main", None)
    assert next(b.title for b in batch.branches) == "Initial"
    assert len(batch.branches) == 5


def test_not_a_repository_is_a_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="not a git repository"):
        GitRepo(tmp_path)


def test_renames_deletions_and_binary_files(repo: RepoBuilder) -> None:
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(10))
    base = repo.commit("Initial", {"pkg/old.py": body, "pkg/gone.py": "X = 1\n"})
    repo.branch(
        "shuffle",
        {
            "pkg/old.py": None,
            "pkg/new.py": body + "def extra():\n    return 0\n",
            "pkg/gone.py": None,
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary",
        },
    )
    repo.merge_pr(3, "shuffle", "Shuffle files")
    (branch,) = collect_batch(GitRepo(repo.root), "main", base).branches
    by_status = {c.status: c for c in branch.files}
    assert by_status["renamed"].old_path == "pkg/old.py"
    assert by_status["renamed"].path == "pkg/new.py"
    assert by_status["deleted"].old_path == "pkg/gone.py"
    assert by_status["added"].path == "logo.png"
    assert by_status["added"].is_binary
