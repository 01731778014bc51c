"""Hotspots: files and symbols that two or more branches of the batch changed."""

from __future__ import annotations

from app.gitbuild import RepoBuilder
from tests.helpers import run

CLIENT = """
import json
import urllib.request


class Client:
    def __init__(self, base_url):
        self.base_url = base_url

    def generate(self, prompt):
        body = json.dumps({"prompt": prompt}).encode()
        headers = {"Content-Type": "application/json"}
        url = self.base_url + "/api/generate"
        request = urllib.request.Request(url, data=body, headers=headers)
        # The server streams by default; one JSON document is simpler to read.
        request.add_header("Accept", "application/json")
        with urllib.request.urlopen(request) as response:
            return json.load(response)["response"]

    def close(self):
        pass
"""


def test_a_file_and_a_method_changed_by_two_branches(repo: RepoBuilder) -> None:
    base = repo.commit("Initial", {"pkg/client.py": CLIENT, "pkg/other.py": "X = 1\n"})
    retry = CLIENT.replace("encode()\n", "encode()\n        attempts = 3\n")
    timeout = CLIENT.replace("urlopen(request)", "urlopen(request, timeout=10)")
    closing = CLIENT.replace(
        "    def close(self):\n        pass\n", "    def close(self):\n        return None\n"
    )
    repo.branch("retry", {"pkg/client.py": retry})
    repo.branch("timeout", {"pkg/client.py": timeout, "pkg/other.py": "X = 2\n"})
    repo.branch("close", {"pkg/client.py": closing})
    repo.merge_pr(13, "retry", "Retry")
    repo.merge_pr(17, "timeout", "Timeouts")
    repo.merge_pr(18, "close", "Close")
    report, _ = run(repo.root, base)
    (hotspot,) = report.hotspots
    assert hotspot.path == "pkg/client.py"
    assert hotspot.branches == ("#13", "#17", "#18")
    assert [(s.qualname, s.branches) for s in hotspot.symbols] == [
        ("Client.generate", ("#13", "#17"))
    ]


def test_a_file_renamed_by_a_later_branch_is_reported_under_its_new_name(repo: RepoBuilder) -> None:
    base = repo.commit("Initial", {"pkg/client.py": CLIENT})
    repo.branch("edit", {"pkg/client.py": CLIENT.replace("/api/generate", "/api/v2/generate")})
    repo.merge_pr(1, "edit", "Edit")
    repo.git("checkout", "-q", "-b", "move")
    repo.git("mv", "pkg/client.py", "pkg/http_client.py")
    repo.commit("Move client")
    repo.git("checkout", "-q", "main")
    repo.merge_pr(2, "move", "Move the client module")
    report, _ = run(repo.root, base)
    (hotspot,) = report.hotspots
    assert hotspot.path == "pkg/http_client.py"
    assert hotspot.branches == ("#1", "#2")


def test_changelogs_and_ci_are_not_hotspots_and_docs_get_no_code_plan(repo: RepoBuilder) -> None:
    text = "".join(f"line {n}\n" for n in range(12))
    paths = ("CHANGES.rst", ".github/workflows/ci.yml", "README.md")
    base = repo.commit("Initial", {**dict.fromkeys(paths, text), "pkg/other.py": "X = 1\n"})
    # Each branch edits every file, at its two ends: no conflict, two branches per file.
    repo.branch("a", dict.fromkeys(paths, "top\n" + text))
    repo.branch("b", dict.fromkeys(paths, text + "bottom\n"))
    repo.merge_pr(1, "a", "A")
    repo.merge_pr(2, "b", "B")
    report, _ = run(repo.root, base)
    assert [h.path for h in report.hotspots] == ["README.md"]
    assert "hotspot:README.md" not in report.idealized
