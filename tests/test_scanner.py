"""Scanner.scan_many: several revisions' files in one pass, each blob scanned once per mode."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest

from analyzers import ScanLimits, scan_module
from app import review
from app.review import Scanner
from app.store import Store

ONE = b"def slugify(text):\n    return text.lower().replace(' ', '-')\n"
TWO = b"def add(a, b):\n    total = a + b\n    return total\n"


class Blobs:
    """A code source that only serves blobs, and counts what it was asked for."""

    def __init__(self, blobs: Mapping[str, bytes]) -> None:
        self.data = dict(blobs)
        self.asked: list[str] = []

    def tree(self, rev: str, paths: Sequence[str] | None = None) -> dict[str, str]:
        raise AssertionError("not used")

    def blobs(self, shas: Iterable[str]) -> Mapping[str, bytes]:
        wanted = list(shas)
        self.asked.extend(wanted)
        return {s: self.data[s] for s in wanted if s in self.data}


def test_one_blob_at_several_paths_and_revisions_is_scanned_once(tmp_path: Path) -> None:
    source = Blobs({"b1": ONE, "b2": TWO})
    store = Store(tmp_path / "cache.sqlite3")
    scanner = Scanner(source, store, ScanLimits(), workers=1)
    head, before, after = scanner.scan_many(
        [
            ({"a.py": "b1", "b.py": "b2", "copy.py": "b1"}, {"b.py"}),
            ({"a.py": "b2"}, set()),
            ({"b.py": "b2"}, set()),
        ]
    )
    # b1 once (ast), b2 once with libcst (head b.py) and once with ast (the other two).
    assert scanner.stats.parsed == 3
    assert sorted(source.asked) == ["b1", "b2", "b2"]
    assert head["copy.py"] == scan_module("copy.py", ONE)
    assert head["a.py"] == scan_module("a.py", ONE)
    assert head["b.py"] == scan_module("b.py", TWO, precise=True)
    assert before["a.py"] == scan_module("a.py", TWO)
    assert after["b.py"] == scan_module("b.py", TWO)

    again = Scanner(source, store, ScanLimits(), workers=1)
    assert again.scan_many([({"x.py": "b1"}, set()), ({"b.py": "b2"}, {"b.py"})]) == [
        {"x.py": scan_module("x.py", ONE)},
        {"b.py": scan_module("b.py", TWO, precise=True)},
    ]
    assert again.stats.parsed == 0
    assert again.stats.cached == 2
    store.close()


def test_without_a_store_results_are_the_same() -> None:
    scanner = Scanner(Blobs({"b1": ONE}), None, ScanLimits(), workers=1)
    assert scanner.scan({"p/a.py": "b1", "p/b.py": "b1"}) == {
        "p/a.py": scan_module("p/a.py", ONE),
        "p/b.py": scan_module("p/b.py", ONE),
    }
    assert scanner.stats.parsed == 1


def test_the_process_pool_gives_the_same_scans_and_cache_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "PARALLEL_MIN_BYTES", 0)
    files = {f"m{i}.py": "b1" if i % 2 else "b2" for i in range(6)}
    store = Store(tmp_path / "cache.sqlite3")
    pooled = Scanner(Blobs({"b1": ONE, "b2": TWO}), store, ScanLimits(), workers=2)
    assert pooled.scan(files, {"m0.py"}) == {
        p: scan_module(p, ONE if b == "b1" else TWO, precise=p == "m0.py") for p, b in files.items()
    }
    cached = Scanner(Blobs({}), store, ScanLimits(), workers=1)
    assert cached.scan(files, {"m0.py"}) == pooled.scan(files, {"m0.py"})
    assert cached.stats.parsed == 0
    store.close()
