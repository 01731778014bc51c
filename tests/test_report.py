"""The three renderings of a report: JSON per the contract, SARIF 2.1.0, Markdown."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest

from app.cli import main
from app.local.build import RepoBuilder
from tests.test_redundancy import SLUGIFY, SLUGIFY_RENAMED


@pytest.fixture
def drifted(repo: RepoBuilder) -> tuple[RepoBuilder, str]:
    base = repo.commit("Initial", {"pkg/__init__.py": "", "pkg/text.py": SLUGIFY})
    repo.branch("names", {"pkg/urls.py": SLUGIFY_RENAMED, "pkg/text.py": SLUGIFY + "\nX = 1\n"})
    repo.branch("more", {"pkg/text.py": "Y = 2\n\n" + SLUGIFY})
    repo.merge_pr(7, "names", "Add URL names")
    repo.merge_pr(8, "more", "More text")
    return repo, base


def _review(
    root: Path, since: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    code = main(["review", str(root), "--since", since, "--format", fmt])
    return code, capsys.readouterr().out


def test_json_follows_the_contract(
    drifted: tuple[RepoBuilder, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, base = drifted
    code, out = _review(repo.root, base, "json", capsys)
    assert code == 1
    doc = json.loads(out)
    assert set(doc) == {
        "schema",
        "repo",
        "base",
        "head_sha",
        "batch",
        "hotspots",
        "findings",
        "skipped",
        "llm",  # an addition: what the idealizer did and the tokens it used
        "dismissed",  # an addition: findings the model's verdict left alone
    }
    assert doc["llm"]["mode"] == "offline"
    assert doc["llm"]["calls"] == 0
    assert doc["schema"] == "idealdiff.report/1"
    assert doc["base"] == "main"
    assert doc["head_sha"] == repo.head()
    assert [b["id"] for b in doc["batch"]] == ["#7", "#8"]
    assert set(doc["batch"][0]) == {"id", "title", "author", "merge_sha", "files"}
    assert sorted(doc["batch"][0]["files"]) == ["pkg/text.py", "pkg/urls.py"]
    (hotspot,) = doc["hotspots"]
    assert {k: hotspot[k] for k in ("path", "branches", "symbols")} == {
        "path": "pkg/text.py",
        "branches": ["#7", "#8"],
        "symbols": [],
    }
    assert hotspot["idealized"]["source"] == "offline"
    (finding,) = doc["findings"]
    assert {"id", "kind", "score", "clone_type", "concept", "members", "idealized"} <= set(finding)
    assert finding["kind"] == "redundancy"
    ideal = finding["idealized"]
    assert ideal["source"] == "offline"
    assert ideal["canonical_location"] == "pkg/text.py (slugify)"  # it predates the batch
    assert ideal["plan"]
    assert ideal["gaps"]
    assert 0 <= ideal["confidence"] <= 1
    assert finding["id"].startswith("idd-")
    members = {m["qualname"]: m for m in finding["members"]}
    assert set(members["make_url_name"]) == {
        "path",
        "qualname",
        "kind",
        "start_line",
        "end_line",
        "introduced_by",
    }
    assert members["make_url_name"]["introduced_by"] == "#7"
    assert members["slugify"]["introduced_by"] is None
    assert members["slugify"]["start_line"] == 8  # "Y = 2" and blank lines came first (#8)
    assert members["slugify"]["end_line"] == 15
    assert doc["skipped"] == []


def test_sarif_is_a_valid_2_1_0_log(
    drifted: tuple[RepoBuilder, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, base = drifted
    code, out = _review(repo.root, base, "sarif", capsys)
    assert code == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "idealdiff"
    assert run["tool"]["driver"]["version"] == version("idealdiff")  # pyproject's, the only one
    assert len({r["id"] for r in rules}) == len(rules)
    kinds = sorted(r["ruleId"] for r in run["results"])
    assert kinds == ["Hotspot", "Type2Clone"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        for loc in result["locations"] + result.get("relatedLocations", []):
            physical = loc["physicalLocation"]
            assert not physical["artifactLocation"]["uri"].startswith("/")
            if "region" in physical:
                assert 1 <= physical["region"]["startLine"] <= physical["region"]["endLine"]
    clone = next(r for r in run["results"] if r["ruleId"] == "Type2Clone")
    assert clone["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/urls.py"
    assert clone["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 8
    assert clone["partialFingerprints"]["idealdiffFinding/v1"].startswith("idd-")


def test_markdown_reads_as_an_issue(
    drifted: tuple[RepoBuilder, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, base = drifted
    code, out = _review(repo.root, base, "markdown", capsys)
    assert code == 1
    assert "| `make_url_name` | `pkg/urls.py:5-12` | function | #7 Add URL names |" in out
    assert "| `slugify` | `pkg/text.py:8-15` | function | before the batch |" in out
    assert "| `pkg/text.py` | #7, #8 | different parts of the file |" in out
    assert "the same code with its own names or literals changed" in out
    # Offline nothing judged intent: the reader is told to read findings as candidates.
    assert "Offline, no finding is judged for intent" in out
