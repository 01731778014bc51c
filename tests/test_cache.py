"""The analysis cache: a second review parses only the blobs that changed."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from analyzers import CallSite, find_call_sites
from app.idealize import context
from app.local.build import RepoBuilder
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


def test_call_sites_are_searched_once_per_blob(
    repo: RepoBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = repo.commit(
        "Initial",
        {
            "pkg/text.py": SLUGIFY,
            "pkg/use.py": "from pkg.text import slugify\n\n\ndef t(x):\n    return slugify(x)\n",
        },
    )
    repo.branch("names", {"pkg/urls.py": SLUGIFY_RENAMED})
    repo.merge_pr(1, "names", "Names")
    db = tmp_path / "cache.sqlite3"
    searched: list[str] = []
    real = find_call_sites

    def counting(
        path: str, source: str, names: Iterable[str], module: str = ""
    ) -> tuple[CallSite, ...]:
        searched.append(path)
        return real(path, source, names, module)

    monkeypatch.setattr(context, "find_call_sites", counting)
    first, _ = run(repo.root, base, db)
    assert "pkg/use.py" in searched
    searched.clear()
    second, _ = run(repo.root, base, db)
    assert searched == []
    (finding,) = second.findings
    assert second.idealized[finding.id] == first.idealized[finding.id]
    # pkg/use.py imports slugify and calls it: two uses, read back from the cache
    assert "2 uses in the code" in second.idealized[finding.id].answer.plan[0]


def test_a_warm_review_reuses_the_token_matches(repo: RepoBuilder, tmp_path: Path) -> None:
    from tests.test_redundancy import SLUGIFY_NEAR_MISS

    base = repo.commit("Initial", {"pkg/text.py": SLUGIFY, "pkg/fib.py": UNIQUE})
    repo.branch("near", {"pkg/urls.py": SLUGIFY_NEAR_MISS})
    repo.merge_pr(3, "near", "Near miss")
    cold, cold_stats = run(repo.root, base, tmp_path / "cache.sqlite3")
    warm, warm_stats = run(repo.root, base, tmp_path / "cache.sqlite3")
    assert [f.clone_type for f in cold.findings] == ["type-3"]
    assert warm.findings == cold.findings
    assert cold_stats.extra["matches_computed"] >= 1
    assert warm_stats.extra["matches_computed"] == 0
