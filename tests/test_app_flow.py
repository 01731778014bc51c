"""The App end to end: webhooks -> durable jobs -> reviews through the GitHub stand-in -> issues."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.publish.issue import finding_id_in
from tests.app_harness import REPO, THREE_PRS, World, open_pull_copying_slugify, running_world
from tests.test_redundancy import SLUGIFY

QUIET = 31 * 60  # just past the default batch.quiet_minutes


@pytest.fixture
def world(tmp_path: Path, backend_env: dict[str, str]) -> Iterator[World]:
    """A running stand-in (under a GHES-style /api/v3 prefix) and the App wired to it, on
    each backend."""
    yield from running_world(tmp_path, **backend_env)


def merge_three(world: World) -> None:
    """Three parallel branches, each re-implementing slugify, merged one after the other."""
    for number, branch, files, title, author in THREE_PRS:
        world.merge(number, branch, files, title, author)


def test_three_merged_prs_make_one_batch_review_and_one_attributed_issue(world: World) -> None:
    merge_three(world)
    assert [j.kind for j in world.store.jobs()] == ["batch"]  # debounced: one job, not three

    world.drain()  # merges are not quiet yet: the job defers itself, nothing is read
    assert world.issues() == []
    assert world.standin.calls("GET", "/tarball/" + world.builder.head()) == 0

    world.clock.advance(QUIET)
    world.drain()
    [issue] = world.issues()
    assert issue["labels"] == [{"name": "idealdiff"}]
    assert finding_id_in(issue["body"]) is not None
    for who in ("#1", "#2", "#3"):
        assert who in issue["title"]
    rows = {
        line.split("|")[1].strip(): line.split("|")[-2].strip()
        for line in issue["body"].splitlines()
        if line.startswith("| `")
    }
    assert rows["`slugify`"].startswith("#1 ")
    assert rows["`make_url_name`"].startswith("#2 ")
    assert rows["`slugify_title`"].startswith("#3 ")
    assert world.store.waiting_merges(REPO) == []
    assert [j.state for j in world.store.jobs()] == ["done"]
    # Each PR's diff came from the compare API and the code from one tarball of the head.
    assert (
        world.standin.calls(
            "GET", f"/compare/{world.builder.git('rev-parse', 'HEAD^1')}...{world.builder.head()}"
        )
        == 1
    )


def test_the_same_review_again_updates_the_issue_instead_of_opening_another(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="idealdiff")
    merge_three(world)
    world.clock.advance(QUIET)
    world.drain()
    first = dict(world.issues()[0])
    world.builder.commit("Unrelated work on main", {"README.md": "hello\n"})

    response = world.comment(3, "/idealize --last 3")
    assert response.status_code == 202
    world.drain()

    [again] = world.issues()
    # The analysis cache is keyed by blob sha: the second review parses nothing again.
    reviews = [r for r in caplog.records if r.getMessage() == "review done"]
    seen = [(r.__dict__["parsed"], r.__dict__["cached"] > 0) for r in reviews]  # log extras
    assert seen == [(seen[0][0], False), (0, True)]
    assert again["number"] == first["number"]
    assert again["body"] != first["body"]  # rewritten for the new head
    assert world.builder.head()[:12] in again["body"]
    assert [r["content"] for r in world.repo.reactions] == ["eyes"]
    [reply] = [c for c in world.repo.comments if c["issue_number"] == 3]
    assert f"Updated: #{first['number']}" in reply["body"]


def test_idealize_by_a_read_only_user_is_refused_politely(world: World) -> None:
    merge_three(world)
    world.comment(3, "/idealize", user="reader")
    world.drain()
    [reply] = world.repo.comments
    assert "write access" in reply["body"]
    assert [r["content"] for r in world.repo.reactions] == ["eyes"]
    assert world.issues() == []
    assert world.standin.calls("GET", "/git/trees/" + world.builder.head()) == 0


def test_idealize_help_and_unknown_options_get_the_help(world: World) -> None:
    merge_three(world)
    world.comment(3, "/idealize help")
    world.comment(3, "/idealize --frobnicate")
    world.drain()
    first, second = (c["body"] for c in world.repo.comments)
    assert "/idealize --last N" in first
    assert "`--frobnicate` is not an option I know" in second
    assert world.issues() == []


def test_idealize_on_a_merged_pr_reviews_it_with_the_waiting_merges(world: World) -> None:
    merge_three(world)  # quiet period not over: all three still wait in the ledger
    world.comment(3, "/idealize")
    world.drain()
    [issue] = world.issues()
    assert all(who in issue["title"] for who in ("#1", "#2", "#3"))
    assert world.store.waiting_merges(REPO) == []
    [reply] = world.repo.comments
    assert f"Opened: #{issue['number']}" in reply["body"]
    world.clock.advance(QUIET)
    world.drain()  # the batch job finds nothing left to review
    assert len(world.issues()) == 1


def test_idealize_on_an_open_pr_answers_with_a_comment(world: World) -> None:
    open_pull_copying_slugify(world)
    world.comment(5, "/idealize", merged=False)
    world.drain()
    [reply] = [c for c in world.repo.comments if c["issue_number"] == 5]
    assert "builds again" in reply["body"]
    assert "make_url_name" in reply["body"]
    assert "`slugify`" in reply["body"]
    assert world.issues() == []  # an open PR gets a comment, not an issue


def test_batch_settings_from_the_repo_config(world: World) -> None:
    world.builder.commit(
        "Configure idealdiff",
        {".github/idealdiff.yml": "batch:\n  quiet_minutes: 5\n  min_prs: 4\nlabels: [drift]\n"},
    )
    merge_three(world)
    world.clock.advance(6 * 60)
    world.drain()
    assert world.issues() == []  # three merged, four wanted: they keep waiting
    assert len(world.store.waiting_merges(REPO)) == 3
    world.merge(4, "docs", {"docs.txt": "words\n"}, "Docs", "agent-d")
    world.clock.advance(6 * 60)
    world.drain()
    [issue] = world.issues()
    assert issue["labels"] == [{"name": "drift"}]


def test_an_invalid_config_gets_one_comment_and_the_defaults(world: World) -> None:
    world.builder.commit("Bad config", {".github/idealdiff.yml": "batch:\n  quiet_minutes: soon\n"})
    merge_three(world)
    world.clock.advance(QUIET)
    world.drain()
    [explained] = world.repo.comments
    assert "quiet_minutes" in explained["body"]
    assert len(world.issues()) == 1  # the defaults were used
    world.merge(4, "more", {"pkg/more.py": "X = 1\n"}, "More", "agent-d")
    world.merge(5, "more2", {"pkg/more2.py": "Y = 1\n"}, "More 2", "agent-d")
    world.clock.advance(QUIET)
    world.drain()
    assert len(world.repo.comments) == 1  # explained once, not on every review


def test_an_issue_is_closed_with_a_comment_when_the_redundancy_is_gone(world: World) -> None:
    merge_three(world)
    world.clock.advance(QUIET)
    world.drain()
    [issue] = world.issues()
    world.merge(
        4, "unify", {"pkg/urls.py": None, "pkg/titles.py": None}, "Unify slug helpers", "agent-a"
    )
    world.merge(5, "docs", {"docs.txt": "words\n"}, "Docs", "agent-d")
    world.clock.advance(QUIET)
    world.drain()
    [closed] = world.issues()
    assert closed["number"] == issue["number"]
    assert (closed["state"], closed["state_reason"]) == ("closed", "completed")
    [comment] = [c for c in world.repo.comments if c["issue_number"] == issue["number"]]
    assert "gone" in comment["body"]


def test_github_5xx_and_secondary_rate_limits_are_retried(world: World) -> None:
    merge_three(world)
    world.standin.fail_next("POST", "/repos/acme/demo/issues", 502)
    world.standin.fail_next("POST", "/repos/acme/demo/issues", 403, {"retry-after": "1"})
    world.clock.advance(QUIET)
    world.drain()
    assert len(world.issues()) == 1
    statuses = [s for m, p, s in world.standin.requests if m == "POST" and p.endswith("/issues")]
    assert statuses == [502, 403, 201]
    assert [j.state for j in world.store.jobs()] == ["done"]


def test_a_transient_failure_backs_off_then_ends_dead_and_visible(world: World) -> None:
    world.merge(1, "text-utils", {"pkg/text.py": SLUGIFY}, "Add slugify", "agent-a")
    for _ in range(20):  # GitHub down: every try of the client, in every attempt
        world.standin.fail_next("GET", "/repos/acme/demo", 502)
    for attempt in range(1, 4):
        assert world.drain() == 1
        [job] = world.store.jobs()
        assert job.attempts == attempt
        assert "GitHubError" in (job.last_error or "")
        assert world.drain() == 0  # backing off: not ready yet
        world.clock.advance(60 * 2**attempt)
    [job] = world.store.jobs()
    assert job.state == "dead"
    text = world.client.get("/metrics").text
    assert 'idealdiff_jobs{state="dead"} 1' in text
    assert world.client.get("/healthz").json()["jobs_dead"] == 1


def test_a_permanent_failure_is_not_retried(world: World) -> None:
    world.merge(1, "text-utils", {"pkg/text.py": SLUGIFY}, "Add slugify", "agent-a")
    del world.standin.repos[REPO]  # the App lost access: every call is a 404
    assert world.drain() == 1
    [job] = world.store.jobs()
    assert (job.state, job.attempts) == ("dead", 1)
    assert "404" in (job.last_error or "")
    world.clock.advance(3600)
    assert world.drain() == 0


def test_idealize_since_a_pr_never_merged_is_answered_once_and_not_retried(
    world: World,
) -> None:
    merge_three(world)
    world.comment(3, "/idealize --since #999")
    world.drain()
    [job] = [j for j in world.store.jobs() if j.kind == "command"]
    assert (job.state, job.attempts) == ("dead", 1)
    [reply] = world.repo.comments
    assert reply["issue_number"] == 3
    assert "#999 is not a merged pull request" in reply["body"]
    assert world.issues() == []  # the command published nothing
    world.clock.advance(3600)
    world.drain()  # the batch of the three merges runs; the command is not tried again
    assert [c["issue_number"] for c in world.repo.comments] == [3]


def test_jobs_of_a_removed_installation_are_dropped(world: World) -> None:
    from tests.webhook_payloads import example

    removed = example("installation.created")
    removed["action"] = "deleted"
    removed["installation"]["id"] = 42
    assert world.deliver("installation", removed).status_code == 200
    merge_three(world)
    world.clock.advance(QUIET)
    before = len(world.standin.requests)
    world.drain()
    assert world.standin.requests[before:] == []
    assert [j.state for j in world.store.jobs()] == ["done"]


def test_idealize_since_a_pr_reviews_what_was_merged_after_it(world: World) -> None:
    merge_three(world)
    world.comment(3, "/idealize --since #1")
    world.drain()
    [issue] = world.issues()
    assert "(#2, #3, existing code)" in issue["title"]  # slugify predates the reviewed batch
    [reply] = world.repo.comments
    assert "2 pull requests (#2, #3)" in reply["body"]


def test_an_issue_whose_marker_was_edited_away_is_still_updated(world: World) -> None:
    merge_three(world)
    world.clock.advance(QUIET)
    world.drain()
    [issue] = world.issues()
    issue["body"] = "We will do this next sprint."  # a person rewrote the body
    world.builder.commit("More work", {"README.md": "hello\n"})
    world.comment(3, "/idealize --last 3")
    world.drain()
    [again] = world.issues()
    assert finding_id_in(again["body"]) is not None


def test_a_read_only_user_is_answered_once_per_pull_request(world: World) -> None:
    merge_three(world)
    world.comment(3, "/idealize", user="reader")
    world.comment(3, "/idealize --last 2", user="reader")
    world.drain()
    assert len(world.repo.comments) == 1
    assert len(world.repo.reactions) == 2


def test_the_batch_reviews_the_code_of_its_last_merge_not_a_later_one(world: World) -> None:
    (n1, b1, f1, t1, a1), (n2, b2, f2, t2, a2), (_, b3, f3, t3, _) = THREE_PRS
    world.merge(n1, b1, f1, t1, a1)
    world.merge(n2, b2, f2, t2, a2)
    # #3 lands on the default branch, but its webhook is still on the way when the batch runs.
    world.builder.branch(b3, f3, author="agent-c")
    world.builder.merge_pr(3, b3, t3)
    world.clock.advance(QUIET)
    world.drain()
    [issue] = world.issues()
    assert "(#1, #2)" in issue["title"]
    assert "slugify_title" not in issue["body"]  # #3's copy waits for #3's own batch
    assert "existing code" not in issue["title"]


def test_a_lone_merge_is_reviewed_once_it_has_waited_max_wait(world: World) -> None:
    number, branch, files, title, author = THREE_PRS[1]
    world.merge(1, "text-utils", {"pkg/text.py": SLUGIFY}, "Add slugify", "agent-a")
    world.clock.advance(QUIET)
    world.drain()
    world.merge(number, branch, files, title, author)
    world.clock.advance(QUIET)
    world.drain()  # two merges, quiet: reviewed
    assert len(world.issues()) == 1
    third = THREE_PRS[2]
    world.merge(*third)  # alone below min_prs: it waits ...
    world.clock.advance(QUIET)
    world.drain()
    assert [m.number for m in world.store.waiting_merges(REPO)] == [3]
    world.clock.advance(24 * 3600)  # ... until max_wait_minutes (a day by default)
    world.drain()
    assert world.store.waiting_merges(REPO) == []
    [issue] = world.issues()  # #3's copy joined the open issue of the other two
    assert "#3" in issue["title"]


def test_a_third_copy_grows_the_open_issue_and_keeps_its_history(world: World) -> None:
    (n1, b1, f1, t1, a1), (n2, b2, f2, t2, a2), third = THREE_PRS
    world.merge(n1, b1, f1, t1, a1)
    world.merge(n2, b2, f2, t2, a2)
    world.clock.advance(QUIET)
    world.drain()
    [first] = world.issues()
    assert "(#1, #2)" in first["title"]

    world.merge(*third)  # a later batch adds a third copy of what the open issue names
    world.merge(4, "docs", {"docs/notes.md": "notes\n"}, "Notes", "agent-d")
    world.clock.advance(QUIET)
    world.drain()
    [grown] = world.issues()  # the same issue, updated in place: never a second one
    assert grown["number"] == first["number"]
    assert grown["state"] == "open"
    rows = {
        line.split("|")[1].strip(): line.split("|")[-2].strip()
        for line in grown["body"].splitlines()
        if line.startswith("| `")
    }
    assert rows["`slugify_title`"].startswith("#3 ")
    # #1 and #2 predate this batch, but the issue said who wrote them: that history stays.
    assert rows["`slugify`"].split()[0] == "#1"
    assert rows["`make_url_name`"].split()[0] == "#2"


def test_merges_made_while_the_app_was_down_are_reconciled_exactly_once(world: World) -> None:
    from app.service.reconcile import reconcile
    from tests.webhook_payloads import example, merged_pr

    installed = example("installation.created")
    installed["installation"]["id"] = 42
    installed["repositories"] = [
        {"id": 1, "node_id": "R_1", "name": "demo", "full_name": REPO, "private": False}
    ]
    assert world.deliver("installation", installed).status_code == 200
    (n1, b1, f1, t1, a1), (n2, b2, f2, t2, a2), (n3, b3, f3, t3, a3) = THREE_PRS
    world.merge(n1, b1, f1, t1, a1)
    world.clock.advance(QUIET)
    world.drain()  # one merge, below min_prs: it waits in the ledger
    # The App is down: #2 and #3 are merged on GitHub and their webhooks are lost for good.
    world.merge(n2, b2, f2, t2, a2, webhook=False)
    world.merge(n3, b3, f3, t3, a3, webhook=False)
    github = world.worker.github
    assert reconcile(world.store, github, world.clock()) == {REPO: [2, 3]}
    before = len(world.standin.requests)
    assert reconcile(world.store, github, world.clock()) == {}  # once
    # Nothing merged since: the second look is one conditional request, answered 304.
    assert [r for r in world.standin.requests[before:] if "/repos/" in r[1]] == [
        ("GET", "/api/v3/repos/acme/demo/pulls", 304)
    ]
    world.clock.advance(QUIET)
    world.drain()
    [issue] = world.issues()
    for who in ("#1", "#2", "#3"):
        assert who in issue["title"]
    assert world.store.waiting_merges(REPO) == []
    # #3's webhook turning up late (GitHub's manual redelivery) adds nothing to the ledger.
    at = "2026-11-20T10:03:00Z"
    late = merged_pr(REPO, 3, title=t3, author=a3, merge_sha=world.builder.head(), merged_at=at)
    world.deliver("pull_request", late)
    assert [m.number for m in world.store.merged(REPO)] == [1, 2, 3]


def test_a_lost_webhook_before_one_that_arrived_is_still_reconciled(world: World) -> None:
    from app.service.reconcile import reconcile
    from tests.webhook_payloads import example

    installed = example("installation.created")
    installed["installation"]["id"] = 42
    installed["repositories"] = [
        {"id": 1, "node_id": "R_1", "name": "demo", "full_name": REPO, "private": False}
    ]
    world.deliver("installation", installed)
    (n1, b1, f1, t1, a1), (n2, b2, f2, t2, a2), third = THREE_PRS
    world.merge(n1, b1, f1, t1, a1)
    world.merge(n2, b2, f2, t2, a2, webhook=False)  # lost while the App was down ...
    world.merge(*third)  # ... and the next one delivered once it was back
    assert reconcile(world.store, world.worker.github, world.clock()) == {REPO: [2]}
    assert [m.number for m in world.store.merged(REPO)] == [1, 2, 3]
