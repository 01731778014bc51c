"""A unification delivered as a pull request, through the GitHub stand-in and its real repository.

Each test publishes a hand-built ``ChangeSet`` with the real githubkit client; every request is
checked against GitHub's OpenAPI description, and the objects land in a real git repository, so
the branch is checked out and compared byte for byte.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from analyzers.edits import ChangeSet, FileEdit
from app.github.client import GitHubApp, GitHubError, RepoAPI
from app.github.events import PullRequest
from app.local.build import RepoBuilder
from app.publish.pullrequest import (
    DISMISSED_NOTE,
    DRAFTS_NOTE,
    DRAFTS_NOTE_MARK,
    KEPT_NOTE,
    ChangeRefused,
    PullResult,
    commit_message,
    digest_in,
    finding_id_in_pull,
    publish_change,
    pull_request_text,
)
from app.publish.tracker import IssueLink
from app.settings import Settings
from tests.app_harness import app_key
from tests.github_standin import APP_ID, BOT, GitHubStandin, StandinRepo
from tests.helpers import check_snapshot

REPO = "acme/demo"
FP = "idd-5eed0123abcd"

TEXT = '''\
"""Text helpers."""

import re


def slugify(title):
    """Lowercase, hyphen-separated words."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)
'''

URLS = '''\
"""URL names."""

import re


def make_url_name(name):
    """A URL-safe name."""
    parts = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(parts)


def page_url(page):
    return "/pages/" + make_url_name(page.title)
'''

URLS_AFTER = '''\
"""URL names."""

from pkg.text import slugify


def page_url(page):
    return "/pages/" + slugify(page.title)
'''

TITLES = """\
from pkg.urls import make_url_name


def heading(title):
    return make_url_name(title)  # café
"""

TITLES_AFTER = """\
from pkg.text import slugify


def heading(title):
    return slugify(title)  # café"""  # no final newline: bytes must arrive exactly

RUN_SH = '#!/bin/sh\nexec python -m pkg.urls "$@"\n'
LEGACY = "def old_slug(x):\n    return x\n"
CRLF = b"line one\r\nline two\r\n"
BINARY = bytes(range(256))

ISSUE = IssueLink("idd-5eed0123abcd", 7, "https://github.com/acme/demo/issues/7", "Unify slugify")


def unify_change(urls_before: str = URLS, titles_before: str = TITLES) -> ChangeSet:
    """Replace the copy of slugify in pkg/urls.py by an import; point pkg/titles.py at it."""
    return ChangeSet(
        finding_id="idd-5eed0123abcd",
        subject="Unify slugify: keep pkg.text.slugify, remove make_url_name",
        body="make_url_name (pkg/urls.py) was a copy of slugify (pkg/text.py).\n"
        "Callers now import slugify.",
        edits=(
            FileEdit("pkg/urls.py", urls_before, URLS_AFTER),
            FileEdit("pkg/titles.py", titles_before, TITLES_AFTER),
        ),
    )


@dataclass
class Site:
    """A stand-in GitHub serving one real repository, and the App's client for it."""

    standin: GitHubStandin
    builder: RepoBuilder
    api: RepoAPI
    tmp: Path

    @property
    def repo(self) -> StandinRepo:
        """The stand-in's records of acme/demo."""
        return self.standin.repos[REPO]

    def git(self, *args: str) -> str:
        """git in the served repository."""
        return self.builder.git(*args)

    def checkout(self, rev: str) -> Path:
        """A worktree of ``rev`` beside the repository."""
        where = self.tmp / f"wt-{rev.replace('/', '-')}-{len(list(self.tmp.iterdir()))}"
        self.git("worktree", "add", "-q", "--detach", str(where), rev)
        return where


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    pem, public = app_key()
    standin = GitHubStandin(public)
    builder = RepoBuilder(tmp_path / "repo")
    builder.write(
        {
            "pkg/__init__.py": "",
            "pkg/text.py": TEXT,
            "pkg/urls.py": URLS,
            "pkg/titles.py": TITLES,
            "pkg/legacy.py": LEGACY,
            "scripts/run.sh": RUN_SH,
            "data/crlf.txt": CRLF,
            "data/table.bin": BINARY,
        }
    )
    os.chmod(builder.root / "scripts/run.sh", 0o755)
    builder.commit("Initial")
    standin.add_repo(REPO, builder.root)
    standin.start()
    settings = Settings.from_env(
        {
            "GITHUB_APP_ID": APP_ID,
            "GITHUB_PRIVATE_KEY": pem,
            "GITHUB_WEBHOOK_SECRET": "not-a-secret",
            "GITHUB_API_URL": standin.url,
            "IDEALDIFF_DATA_DIR": str(tmp_path / "data"),
            "IDEALDIFF_GITHUB_RETRY_SECONDS": "0.01",
        },
        env_file=None,
    )
    api = GitHubApp(settings).repo(1, REPO)
    yield Site(standin, builder, api, tmp_path)
    standin.stop()
    assert standin.problems == [], "requests GitHub's OpenAPI description does not allow"


def publish(site: Site, change: ChangeSet, head: str | None = None) -> PullResult:
    return publish_change(
        site.api,
        change,
        base_branch="main",
        head_sha=head or site.builder.head(),
        fingerprint=FP,
        issue=ISSUE,
    )


def files_at(site: Site, rev: str) -> dict[str, tuple[str, bytes]]:
    """Path -> (mode, bytes) of every file of a checkout of ``rev``."""
    root = site.checkout(rev)
    modes = {}
    for line in site.git("ls-tree", "-r", rev).splitlines():
        meta, path = line.split("\t", 1)
        modes[path] = meta.split()[0]
    return {path: (mode, (root / path).read_bytes()) for path, mode in modes.items()}


def test_a_change_becomes_one_commit_on_the_head_and_a_draft_pull_request(site: Site) -> None:
    head = site.builder.head()
    result = publish(site, unify_change())

    assert result == PullResult(
        number=1001,
        url="https://github.com/acme/demo/pull/1001",
        branch="idealdiff/idd-5eed0123abcd",
        draft=True,
        action="opened",
        note="",
        commit=site.git("rev-parse", "idealdiff/idd-5eed0123abcd"),
    )
    # Exactly the after-texts, everything else byte-identical, modes kept, one commit on head.
    before, after = files_at(site, head), files_at(site, "idealdiff/idd-5eed0123abcd")
    assert after["pkg/urls.py"] == ("100644", URLS_AFTER.encode())
    assert after["pkg/titles.py"] == ("100644", TITLES_AFTER.encode())
    assert {p: v for p, v in after.items() if p not in ("pkg/urls.py", "pkg/titles.py")} == {
        p: v for p, v in before.items() if p not in ("pkg/urls.py", "pkg/titles.py")
    }
    assert after["data/crlf.txt"] == ("100644", CRLF)
    assert site.git("rev-list", "--parents", "-n1", "idealdiff/idd-5eed0123abcd").split()[1:] == [
        head
    ]
    message = site.git("log", "-1", "--format=%B", "idealdiff/idd-5eed0123abcd")
    assert message + "\n" == commit_message(unify_change()).rstrip("\n") + "\n"
    assert message.startswith(unify_change().subject + "\n\n" + unify_change().body + "\n\n")
    assert digest_in(message) == unify_change().digest()
    author = site.git("log", "-1", "--format=%an <%ae>|%cn", "idealdiff/idd-5eed0123abcd")
    assert author == f"{BOT['name']} <{BOT['email']}>|{BOT['name']}"
    assert site.standin.written == {"blobs": 2, "trees": 1, "commits": 1}

    [pull] = site.repo.pulls.values()
    assert pull["draft"] is True
    assert pull["title"] == unify_change().subject
    assert (pull["base"]["ref"], pull["head"]["ref"]) == ("main", "idealdiff/idd-5eed0123abcd")
    assert pull["body"].startswith("Closes #7: ")
    assert "`pkg/urls.py` | edited (+2 -8)" in pull["body"]
    assert finding_id_in_pull(pull["body"]) == "idd-5eed0123abcd"


def test_the_same_change_on_the_same_head_is_left_unchanged(site: Site) -> None:
    first = publish(site, unify_change())
    requests = len(site.standin.requests)
    second = publish(site, unify_change())

    assert second.action == "unchanged"
    assert second.number == first.number
    assert second.commit == first.commit
    assert len(site.repo.pulls) == 1
    assert site.standin.written == {"blobs": 2, "trees": 1, "commits": 1}  # nothing new built
    assert [m for m, _, _ in site.standin.requests[requests:]] == ["GET", "GET", "GET"]


def test_a_newer_head_and_a_different_change_update_the_same_branch_and_pull_request(
    site: Site,
) -> None:
    first = publish(site, unify_change())
    newer = site.builder.commit("More text", {"pkg/titles.py": TITLES + "\n\nSMALL = 1\n"})
    change = unify_change(titles_before=TITLES + "\n\nSMALL = 1\n")
    second = publish(site, change, newer)

    assert second.action == "updated"
    assert second.number == first.number
    assert len(site.repo.pulls) == 1
    tip = site.git("rev-parse", "idealdiff/idd-5eed0123abcd")
    assert tip == second.commit != first.commit
    assert site.git("rev-parse", "idealdiff/idd-5eed0123abcd^") == newer
    assert site.git("show", "idealdiff/idd-5eed0123abcd:pkg/text.py") == TEXT.rstrip("\n")
    [pull] = site.repo.pulls.values()
    assert pull["head"]["sha"] == tip
    assert f"`{newer[:12]}`" in pull["body"]
    assert site.standin.calls("PATCH", "/git/refs/heads/idealdiff/idd-5eed0123abcd") == 1
    assert site.standin.calls("PATCH", f"/pulls/{first.number}") == 1


def test_where_github_refuses_drafts_a_normal_pull_request_is_opened_and_says_so(
    site: Site,
) -> None:
    site.standin.drafts_supported = False
    result = publish(site, unify_change())

    assert (result.action, result.draft, result.note) == ("opened", False, DRAFTS_NOTE)
    [pull] = site.repo.pulls.values()
    assert pull["draft"] is False
    assert DRAFTS_NOTE_MARK in pull["body"]
    assert site.standin.calls("POST", "/pulls") == 2
    assert (("POST", "/repos/acme/demo/pulls", 422)) in site.standin.requests

    # A later review keeps saying so.
    newer = site.builder.commit("Docs", {"README.md": "hello\n"})
    again = publish(site, unify_change(), newer)
    assert (again.action, again.note) == ("updated", DRAFTS_NOTE)
    assert DRAFTS_NOTE_MARK in pull["body"]


def test_files_can_be_deleted_and_created(site: Site) -> None:
    change = ChangeSet(
        "idd-5eed0123abcd",
        "Move old_slug into pkg/common.py",
        "",
        (
            FileEdit("pkg/legacy.py", LEGACY, None),
            FileEdit("pkg/common.py", None, LEGACY),
        ),
    )
    result = publish(site, change)

    files = files_at(site, result.commit)
    assert "pkg/legacy.py" not in files
    assert files["pkg/common.py"] == ("100644", LEGACY.encode())
    body = site.repo.pulls[result.number]["body"]
    assert "`pkg/legacy.py` | deleted (-2)" in body
    assert "`pkg/common.py` | new file (+2)" in body
    assert "## What it changes" not in body  # an empty description leaves no empty section


@pytest.mark.parametrize("truncated", [False, True], ids=["one-tree-request", "tree-truncated"])
def test_an_executable_file_keeps_its_mode(site: Site, truncated: bool) -> None:
    site.standin.truncate_trees = truncated  # then the modes are read folder by folder
    script = RUN_SH.replace("pkg.urls", "pkg.text")
    change = ChangeSet(
        "idd-5eed0123abcd", "Run pkg.text", "", (FileEdit("scripts/run.sh", RUN_SH, script),)
    )
    result = publish(site, change)

    assert files_at(site, result.commit)["scripts/run.sh"] == ("100755", script.encode())


def test_a_failing_create_tree_is_retried(site: Site) -> None:
    site.standin.fail_next("POST", "/git/trees", 502)
    result = publish(site, unify_change())

    assert result.action == "opened"
    assert site.standin.calls("POST", "/git/trees") == 2


def test_a_create_tree_that_keeps_failing_fails_clearly_and_opens_nothing(site: Site) -> None:
    for _ in range(4):  # the first try and the three retries
        site.standin.fail_next("POST", "/git/trees", 502)
    with pytest.raises(GitHubError, match=r"refused creating a tree on acme/demo \(502\)"):
        publish(site, unify_change())

    assert site.repo.pulls == {}
    assert site.standin.calls("POST", "/git/refs") == 0
    assert site.repo.resolve("refs/heads/idealdiff/idd-5eed0123abcd") is None


def test_a_change_made_from_other_code_is_refused_before_anything_is_written(site: Site) -> None:
    stale = unify_change(urls_before=URLS.replace("A URL-safe", "An URL-safe"))
    with pytest.raises(ChangeRefused, match=r"pkg/urls.py at [0-9a-f]{12} is not the text"):
        publish(site, stale)

    assert site.standin.written == {"blobs": 0, "trees": 0, "commits": 0}
    assert site.repo.pulls == {}


def test_a_change_that_makes_no_difference_is_refused(site: Site) -> None:
    same = ChangeSet("idd-5eed0123abcd", "Nothing", "", (FileEdit("pkg/urls.py", URLS, URLS),))
    with pytest.raises(ChangeRefused, match="makes no difference"):
        publish(site, same)
    assert site.repo.pulls == {}


def test_commits_someone_pushed_to_the_branch_are_kept(site: Site) -> None:
    first = publish(site, unify_change())
    work = site.checkout("idealdiff/idd-5eed0123abcd")
    (work / "pkg/urls.py").write_text(URLS_AFTER + "\n# reviewed\n")
    subprocess.run(["git", "commit", "-qam", "Keep a note"], cwd=work, check=True)
    pushed = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=work, check=True, capture_output=True, text=True
    ).stdout.strip()
    site.git("update-ref", "refs/heads/idealdiff/idd-5eed0123abcd", pushed)

    newer = site.builder.commit("Docs", {"README.md": "hello\n"})
    again = publish(site, unify_change(), newer)

    assert (again.action, again.note) == ("kept", KEPT_NOTE)
    assert again.number == first.number
    assert site.git("rev-parse", "idealdiff/idd-5eed0123abcd") == pushed
    assert site.standin.calls("PATCH", f"/pulls/{first.number}") == 0


def test_a_pull_request_closed_unmerged_is_not_opened_again(site: Site) -> None:
    first = publish(site, unify_change())
    site.repo.pulls[first.number]["state"] = "closed"
    tip = site.git("rev-parse", "idealdiff/idd-5eed0123abcd")

    newer = site.builder.commit("Docs", {"README.md": "hello\n"})
    again = publish(site, unify_change(), newer)

    assert (again.action, again.note, again.number) == ("dismissed", DISMISSED_NOTE, first.number)
    assert len(site.repo.pulls) == 1
    assert site.git("rev-parse", "idealdiff/idd-5eed0123abcd") == tip


class StaleReads(RepoAPI):
    """A client whose first look finds neither branch nor pull request, as a worker does when
    another one (or its own lost answer) created both in between."""

    def ref_sha(self, ref: str) -> str | None:
        return None

    def pulls_for_head(self, branch: str, state: str = "all") -> list[PullRequest]:
        return [] if state == "all" else super().pulls_for_head(branch, state)


def test_a_branch_and_pull_request_made_in_between_are_updated_not_duplicated(
    site: Site,
) -> None:
    first = publish(site, unify_change())
    newer = site.builder.commit("Docs", {"README.md": "hello\n"})
    stale = StaleReads(site.api.gh, "acme", "demo")
    again = publish_change(
        stale, unify_change(), base_branch="main", head_sha=newer, fingerprint=FP, issue=ISSUE
    )

    assert (again.action, again.number) == ("updated", first.number)
    assert len(site.repo.pulls) == 1
    assert site.git("rev-parse", "idealdiff/idd-5eed0123abcd^") == newer
    # GitHub answered "already exists" to both; each was then moved or updated instead.
    assert ("POST", "/repos/acme/demo/git/refs", 422) in site.standin.requests
    assert ("POST", "/repos/acme/demo/pulls", 422) in site.standin.requests


def test_untrusted_text_is_inert_and_only_the_carried_out_issue_is_closed(site: Site) -> None:
    change = ChangeSet(
        "idd-5eed0123abcd",
        "Unify slugify",
        "Fixes #3 as @octocat asked. <img src=x onerror=alert(1)>",
        unify_change().edits,
    )
    result = publish(site, change)

    body = site.repo.pulls[result.number]["body"]
    assert body.startswith("Closes #7: ")
    assert "Fixes&#8203; #3" in body
    assert "@&#8203;octocat" in body
    assert "<img" not in body
    assert "&lt;img" in body
    message = site.git("log", "-1", "--format=%B", result.commit)
    assert "Fixes\u200b #3 as @octocat asked." in message


def test_pull_request_body_snapshot() -> None:
    text = pull_request_text(
        unify_change(),
        branch="idealdiff/idd-5eed0123abcd",
        base_branch="main",
        head_sha="0123456789abcdef0123456789abcdef01234567",
        issue=ISSUE,
    )
    check_snapshot("pull_request.md", f"# {text.title}\n\n{text.body}")
    refused = pull_request_text(
        unify_change(),
        branch="idealdiff/idd-5eed0123abcd",
        base_branch="main",
        head_sha="0123456789abcdef0123456789abcdef01234567",
        issue=None,
        drafts_refused=True,
    )
    assert DRAFTS_NOTE_MARK in refused.body
    assert "Closes" not in refused.body
    assert "`idd-5eed0123abcd`" in refused.body
