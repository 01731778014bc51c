"""Draft-PR mode end to end: merged batch -> issue -> validated change -> draft pull request."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.publish.issue import finding_id_in
from tests.anthropic_standin import KEY, Reply, good_answer, serve
from tests.app_harness import THREE_PRS, World, open_pull_copying_slugify, running_world
from tests.test_unify import CALLER, SIZE, SIZE_SAME_PARAMS

QUIET = 31 * 60
DRAFT_CONFIG = {".github/idealdiff.yml": "mode: draft_pr\n"}
SIZE_TESTS = """import unittest

from pkg.size import human_size


class SizeTest(unittest.TestCase):
    def test_kib(self):
        self.assertEqual(human_size(1536), "1.5 KiB")
"""


@pytest.fixture
def world(tmp_path: Path, backend_env: dict[str, str]) -> Iterator[World]:
    yield from running_world(tmp_path, **backend_env)


def _opened_pulls(world: World) -> list[dict[str, Any]]:
    return [p for p in world.repo.pulls.values() if p["head"]["ref"].startswith("idealdiff/")]


def _merge_copy(world: World) -> None:
    world.builder.commit(
        "Sizes and settings",
        {
            "pkg/size.py": SIZE,
            "tests/__init__.py": "",
            "tests/test_size.py": SIZE_TESTS,
            **DRAFT_CONFIG,
        },
    )
    world.merge(
        1, "progress", {"pkg/progress.py": SIZE_SAME_PARAMS, "pkg/cli.py": CALLER}, "Progress", "a"
    )
    world.merge(2, "docs", {"docs.txt": "words\n"}, "Docs", "agent-b")


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_a_merged_copy_becomes_an_issue_and_a_draft_pull_request(
    world: World, tmp_path: Path
) -> None:
    _merge_copy(world)
    head = world.builder.head()
    world.clock.advance(QUIET)
    world.drain()
    [issue] = world.issues()
    [pull] = _opened_pulls(world)
    finding = finding_id_in(issue["body"])
    assert pull["draft"] is True
    assert pull["head"]["ref"] == f"idealdiff/{finding}"
    assert f"Closes #{issue['number']}" in pull["body"]
    # The branch is one commit on the reviewed head; checked out, it holds the unification.
    root = world.builder.root
    branch = pull["head"]["ref"]
    assert _git(root, "rev-parse", f"{branch}^") == head
    assert _git(root, "diff", "--name-only", head, branch).splitlines() == [
        "pkg/cli.py",
        "pkg/progress.py",
    ]
    work = tmp_path / "checkout"
    _git(root, "worktree", "add", "-q", str(work), branch)
    progress = (work / "pkg" / "progress.py").read_text()
    assert "def fmt_bytes" not in progress
    assert "from pkg.size import human_size as fmt_bytes" in progress
    check = (
        "from pkg.progress import fmt_bytes, bar\n"
        "from pkg.cli import human_size\n"
        "assert fmt_bytes(1536) == '1.5 KiB' == human_size(1536)\n"
    )
    run = subprocess.run([sys.executable, "-c", check], cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_a_later_review_updates_the_same_branch_and_pull_request(world: World) -> None:
    _merge_copy(world)
    world.clock.advance(QUIET)
    world.drain()
    [first] = _opened_pulls(world)
    first_tip = _git(world.builder.root, "rev-parse", first["head"]["ref"])
    world.merge(3, "notes", {"notes.txt": "more words\n"}, "Notes", "agent-c")
    world.comment(3, "/idealize pr --last 3")
    world.drain()
    [again] = _opened_pulls(world)
    assert again["number"] == first["number"]
    tip = _git(world.builder.root, "rev-parse", again["head"]["ref"])
    assert tip != first_tip  # rebuilt on the new head
    assert _git(world.builder.root, "rev-parse", f"{tip}^") == world.builder.head()
    reply = world.repo.comments[-1]["body"]
    assert "Pull requests carrying out the unifications" in reply
    assert "updated" in reply


def test_a_finding_without_a_sound_change_gets_a_comment_and_no_pull_request(
    world: World,
) -> None:
    world.builder.commit("Settings", DRAFT_CONFIG)
    for number, branch, files, title, author in THREE_PRS:
        world.merge(number, branch, files, title, author)
    world.clock.advance(QUIET)
    world.drain()
    [issue] = world.issues()
    assert _opened_pulls(world) == []
    [comment] = [c for c in world.repo.comments if c["issue_number"] == issue["number"]]
    assert "did not open a pull request" in comment["body"]
    assert "the merge needs a person or the model" in comment["body"]
    world.comment(3, "/idealize pr")
    world.drain()
    # The same reason is not repeated on the issue by a later review.
    assert len([c for c in world.repo.comments if c["issue_number"] == issue["number"]]) == 1


@pytest.fixture
def model_world(tmp_path: Path) -> Iterator[tuple[World, Any]]:
    with serve() as anthropic:
        for w in running_world(tmp_path, ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=anthropic.url):
            yield w, anthropic


def test_a_model_edit_that_leaves_a_dangling_import_opens_no_pull_request(
    model_world: tuple[World, Any],
) -> None:
    world, anthropic = model_world
    anthropic.script = [
        Reply(
            tool_input=good_answer(
                edits=[{"path": "pkg/progress.py", "action": "remove", "target": "fmt_bytes"}]
            )
        )
    ]
    _merge_copy(world)
    world.clock.advance(QUIET)
    world.drain()
    assert anthropic.message_calls >= 1
    assert "edits" in anthropic.requests[0]["tools"][0]["input_schema"]["properties"]
    [issue] = world.issues()
    assert _opened_pulls(world) == []
    [comment] = [c for c in world.repo.comments if c["issue_number"] == issue["number"]]
    assert "did not pass validation" in comment["body"]
    assert "pkg/cli.py imports `fmt_bytes` from pkg/progress.py" in comment["body"]
    assert world.standin.written["commits"] == 0  # nothing was even written to GitHub


def test_an_installation_without_contents_write_gets_its_issue_and_is_told_why_no_draft(
    world: World,
) -> None:
    world.standin.app_permissions["contents"] = "read"  # installed with issues only
    _merge_copy(world)
    world.clock.advance(QUIET)
    world.drain()
    [issue] = world.issues()  # the unification issue is published all the same
    assert _opened_pulls(world) == []
    assert any("contents: write" in refused for refused in world.standin.refused)
    said = [c["body"] for c in world.repo.comments if c["issue_number"] == issue["number"]]
    assert any("contents: write" in body for body in said)


def test_a_finding_the_model_leaves_alone_opens_nothing_and_is_named_in_the_reply(
    model_world: tuple[World, Any],
) -> None:
    world, anthropic = model_world
    reason = "The progress bar keeps its own formatter on purpose."
    answer = good_answer(verdict="leave", verdict_reason=reason, edits=[])
    anthropic.script = [Reply(tool_input=answer)]
    _merge_copy(world)
    world.comment(2, "/idealize")
    world.drain()
    assert anthropic.message_calls >= 1
    assert world.issues() == []
    assert _opened_pulls(world) == []
    reply = world.repo.comments[-1]["body"]
    assert "Left alone, no issue opened" in reply
    assert f"leave, {reason}" in reply
    assert "No redundant implementations found" not in reply


def test_an_open_issue_the_model_later_leaves_alone_is_kept_as_it_is(
    model_world: tuple[World, Any],
) -> None:
    world, anthropic = model_world
    remove = [{"path": "pkg/progress.py", "action": "remove", "target": "fmt_bytes"}]
    anthropic.script = [Reply(tool_input=good_answer(edits=remove))]
    _merge_copy(world)
    world.clock.advance(QUIET)
    world.drain()
    [issue] = world.issues()
    # A later batch; the model (shown a new prompt) now judges the same finding idiomatic.
    calls = anthropic.message_calls
    leave = good_answer(verdict="leave", verdict_reason="Kept apart on purpose.", edits=[])
    anthropic.script = [Reply(tool_input=leave)]
    world.merge(3, "notes", {"notes.txt": "more words\n"}, "Notes", "agent-c")
    world.comment(3, "/idealize --last 3")
    world.drain()
    assert anthropic.message_calls > calls
    [again] = world.issues()
    assert (again["number"], again["state"], again["body"]) == (
        issue["number"],
        "open",
        issue["body"],
    )
    on_issue = [c["body"] for c in world.repo.comments if c["issue_number"] == issue["number"]]
    assert not any("is gone" in body for body in on_issue)
    assert "Kept apart on purpose." in world.repo.comments[-1]["body"]


def test_an_open_pr_whose_copy_the_model_leaves_alone_is_told_so(
    model_world: tuple[World, Any],
) -> None:
    world, anthropic = model_world
    reason = "Each module keeps its own slug rules on purpose."
    anthropic.script = [Reply(tool_input=good_answer(verdict="leave", verdict_reason=reason))]
    open_pull_copying_slugify(world)
    world.comment(5, "/idealize", merged=False)
    world.drain()
    assert anthropic.message_calls >= 1
    [reply] = [c for c in world.repo.comments if c["issue_number"] == 5]
    assert "not worth acting on" in reply["body"]
    assert reason in reply["body"]
    assert "re-implements nothing" not in reply["body"]
