"""The demo: a real repository with parallel branches, and the review a newcomer sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.local.demo import build_demo_repo
from tests.helpers import members, run


def test_demo_review_finds_the_three_discoveries_the_copy_and_the_hotspot(
    tmp_path: Path,
) -> None:
    base = build_demo_repo(tmp_path / "chatkit")
    report, _ = run(tmp_path / "chatkit", base)
    assert [b.id for b in report.batch] == ["#12", "#13", "#14", "#15", "#17", "#19", "#21"]
    assert sorted(members(report), key=len) == [
        {("human_size", None), ("format_size", "#21")},
        {
            ("ModelRegistry.discover", "#12"),
            ("list_available_models", "#15"),
            ("cmd_models", "#19"),
        },
    ]
    assert [(h.path, h.branches) for h in report.hotspots] == [
        ("chatkit/client.py", ("#13", "#17"))
    ]
    assert [(s.qualname, s.branches) for s in report.hotspots[0].symbols] == [
        ("Client.generate", ("#13", "#17"))
    ]


def test_demo_repository_tests_pass(tmp_path: Path) -> None:
    """The demo's own unittest suite passes at the batch head: the code is real, not a prop."""
    build_demo_repo(tmp_path / "chatkit")
    done = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"],
        cwd=tmp_path / "chatkit",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Ran 6 tests" in done.stderr


def test_demo_command_prints_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--path", str(tmp_path / "d"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["schema"] == "idealdiff.report/1"
    assert len(report["findings"]) == 2


def test_demo_refuses_a_folder_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["demo", "--path", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"
