"""Snapshots of every rendered template, on the demo repository (deterministic shas and dates).

Run with UPDATE_SNAPSHOTS=1 to rewrite them after an intended change, then read the diff.
"""

from __future__ import annotations

import pytest

from app.idealize.context import find_uses, symbol_changes
from app.idealize.idealizer import DiffIdealizer, finding_prompt, hotspot_prompt
from app.local.demo import build_demo_repo
from app.local.history import collect_batch
from app.local.repo import GitRepo
from app.local.run import read_repo_config
from app.publish.issue import unification_issue
from app.review.pipeline import review
from app.review.report import Report
from app.review.source import CodeReader
from app.settings import LlmSettings
from tests.helpers import check_snapshot


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, CodeReader]:
    root = tmp_path_factory.mktemp("snap") / "chatkit"
    base = build_demo_repo(root)
    repo = GitRepo(root)
    batch = collect_batch(repo, "main", base)
    config, _ = read_repo_config(repo, batch.head_sha)
    idealizer = DiffIdealizer(LlmSettings(mode="offline"))
    report, _ = review(repo, batch, config, repo="acme/chatkit", workers=1, idealizer=idealizer)
    return report, CodeReader(repo, batch.head_sha, dict(repo.tree(batch.head_sha)))


def test_finding_prompt_and_system_prompt(demo: tuple[Report, CodeReader]) -> None:
    report, reader = demo
    finding = next(f for f in report.findings if f.clone_type == "concept")
    uses, _ = find_uses(reader, finding)
    prompt = finding_prompt(report, finding, reader, uses, budget=24_000)
    check_snapshot("system.md", prompt.system)
    check_snapshot("batch.md", prompt.batch)
    check_snapshot("finding_prompt.md", prompt.body)
    assert not prompt.omitted


def test_finding_prompt_leaves_context_out_under_a_small_budget(
    demo: tuple[Report, CodeReader],
) -> None:
    report, reader = demo
    finding = next(f for f in report.findings if f.clone_type == "type-2")
    uses, _ = find_uses(reader, finding)
    roomy = finding_prompt(report, finding, reader, uses, budget=24_000)
    tight = finding_prompt(report, finding, reader, uses, budget=2_600)
    assert roomy.snippets
    assert len(tight.snippets) < len(roomy.snippets)
    assert tight.omitted
    assert "Left out to fit the prompt budget" in tight.body
    assert "def human_size" in tight.body  # members always come first


def test_hotspot_prompt(demo: tuple[Report, CodeReader]) -> None:
    report, reader = demo
    (hotspot,) = report.hotspots
    changes = symbol_changes(reader, report, hotspot)
    assert [c.branch for c in changes] == ["#13", "#17"]
    check_snapshot(
        "hotspot_prompt.md", hotspot_prompt(report, hotspot, reader, changes, 24_000).body
    )


def test_unification_issue_bodies(demo: tuple[Report, CodeReader]) -> None:
    report, _ = demo
    for finding in report.findings:
        issue = unification_issue(report, finding)
        check_snapshot(f"issue_{finding.clone_type}.md", f"# {issue.title}\n\n{issue.body}")
    assert (
        "blob/" + report.head_sha + "/chatkit/registry.py#L16-L21"
        in unification_issue(report, next(f for f in report.findings if len(f.members) == 3)).body
    )
