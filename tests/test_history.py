"""Git history as CI has it: shallow clones refused clearly, bare mirrors and empty repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from app.cli import main
from app.local.build import RepoBuilder
from tests.test_redundancy import SLUGIFY, SLUGIFY_RENAMED, UNIQUE


def _history(repo: RepoBuilder) -> str:
    base = repo.commit("Initial", {"pkg/text.py": SLUGIFY, "pkg/fib.py": UNIQUE})
    for n in range(1, 4):
        repo.branch(f"f{n}", {f"pkg/m{n}.py": f"VALUE_{n} = {n}\n"})
        repo.merge_pr(n, f"f{n}", f"Feature {n}")
    repo.branch("names", {"pkg/urls.py": SLUGIFY_RENAMED})
    repo.merge_pr(4, "names", "Names")
    return base


def _clone(repo: RepoBuilder, target: Path, *options: str) -> Path:
    subprocess.run(
        ["git", "clone", "-q", *options, repo.root.as_uri(), str(target)],
        check=True,
        capture_output=True,
    )
    return target


def test_a_batch_past_a_shallow_boundary_is_refused_with_the_fix(
    repo: RepoBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(repo)
    shallow = _clone(repo, tmp_path / "shallow", "--depth", "2")
    # The default batch (the last 20 commits) reaches the graft commit.
    assert main(["review", str(shallow), "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert "shallow clone" in err
    assert "fetch-depth: 0" in err
    assert "git fetch --unshallow" in err
    # A batch inside the fetched history is reviewed as usual.
    assert main(["review", str(shallow), "--since", "HEAD~1", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [b["id"] for b in report["batch"]] == ["#4"]


def test_a_bare_mirror_is_reviewed(
    repo: RepoBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _history(repo)
    bare = _clone(repo, tmp_path / "mirror.git", "--mirror")
    assert main(["review", str(bare), "--since", base, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert len(report["findings"]) == 1


def test_an_empty_repository_and_one_without_python_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = RepoBuilder(tmp_path / "empty")
    assert main(["review", str(empty.root)]) == 2
    assert "has no commits yet" in capsys.readouterr().err
    docs = RepoBuilder(tmp_path / "docs")
    base = docs.commit("Initial", {"README.md": "# hello\n"})
    docs.branch("a", {"README.md": "# hello\n\nmore\n"})
    docs.merge_pr(1, "a", "Docs")
    assert main(["review", str(docs.root), "--since", base, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any("no Python files" in s["reason"] for s in report["skipped"])


def test_files_a_partial_clone_left_out_are_named_not_lost(
    repo: RepoBuilder, capsys: pytest.CaptureFixture[str]
) -> None:
    base = repo.commit("Initial", {"pkg/text.py": SLUGIFY, "pkg/fib.py": UNIQUE})
    generated = "TABLE = [\n" + "".join(f"    {n},\n" for n in range(200)) + "]\n"
    repo.branch("names", {"pkg/urls.py": SLUGIFY_RENAMED, "pkg/table.py": generated})
    repo.merge_pr(1, "names", "Names")
    blob = repo.git("rev-parse", "HEAD:pkg/table.py").strip()
    # What a partial clone or a mirror without large files holds: the tree names a blob that
    # is not there, and git refuses the whole diff for it.
    (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    assert main(["review", str(repo.root), "--since", base, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert len(report["findings"]) == 1  # the rest of the branch is still reviewed
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "pkg/table.py" in reasons["branch #1"]
    assert "not in the repository" in reasons["pkg/table.py"]
