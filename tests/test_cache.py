"""The analysis cache: a second review parses only the blobs that changed."""

from __future__ import annotations

from pathlib import Path

from app.gitbuild import RepoBuilder
from tests.helpers import run
from tests.test_redundancy import SLUGIFY, SLUGIFY_RENAMED, UNIQUE


def test_second_review_parses_only_changed_blobs(repo: RepoBuilder, tmp_path: Path) -> None:
    files = {f"pkg/m{i}.py": UNIQUE.replace("fibonacci_table", f"table_{i}") for i in range(8)}
    base = repo.commit("Initial", {"pkg/__init__.py": "", "pkg/text.py": SLUGIFY, **files})
    repo.branch("names", {"pkg/urls.py": SLUGIFY_RENAMED})
    repo.merge_pr(1, "names", "Names")
    db = tmp_path / "cache.sqlite3"

    first, cold = run(repo.root, base, db)
    assert cold.parsed > 0
    assert cold.cached == 0

    second, warm = run(repo.root, base, db)
    assert warm.parsed == 0
    assert second.findings == first.findings

    repo.commit("Touch one module", {"pkg/m3.py": UNIQUE.replace("table", "tabulate")})
    _, after_edit = run(repo.root, base, db)
    # The edited module at the head, plus its version after the new commit for attribution:
    # one new blob, parsed once per mode (libcst at the head, ast for the branch's after-state).
    assert after_edit.parsed == 2


def test_a_damaged_cache_entry_is_recomputed(repo: RepoBuilder, tmp_path: Path) -> None:
    import sqlite3

    base = repo.commit("Initial", {"pkg/text.py": SLUGIFY})
    repo.branch("names", {"pkg/urls.py": SLUGIFY_RENAMED})
    repo.merge_pr(1, "names", "Names")
    db = tmp_path / "cache.sqlite3"
    first, _ = run(repo.root, base, db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE analysis_cache SET value = x'00'")
    second, stats = run(repo.root, base, db)
    assert stats.parsed > 0
    assert second.findings == first.findings
