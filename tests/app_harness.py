"""A whole App in a test: a GitHub stand-in on loopback, real git history, the real FastAPI app
and a worker on a controllable clock."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.github.client import GitHubApp
from app.local.build import RepoBuilder
from app.service.http import create_app
from app.service.worker import Worker
from app.settings import Settings
from app.store import AppState
from app.store.open import open_state
from tests.github_standin import APP_ID, GitHubStandin, make_key
from tests.test_redundancy import SLUGIFY, SLUGIFY_NEAR_MISS, SLUGIFY_RENAMED
from tests.webhook_payloads import SECRET, headers, merged_pr, pr_comment

REPO = "acme/demo"

UNRELATED = '''
def fibonacci_table(limit):
    """The Fibonacci numbers below a limit."""
    table = [0, 1]
    while table[-1] + table[-2] < limit:
        table.append(table[-1] + table[-2])
    return table
'''

THREE_PRS = (
    (1, "text-utils", {"pkg/text.py": SLUGIFY}, "Add slugify for titles", "agent-a"),
    (2, "url-names", {"pkg/urls.py": SLUGIFY_RENAMED}, "URL-safe names", "agent-b"),
    (3, "title-slugs", {"pkg/titles.py": SLUGIFY_NEAR_MISS}, "Slugs with a max length", "agent-c"),
)


@lru_cache(maxsize=1)
def app_key() -> tuple[str, Any]:
    """The test App's RSA key pair (made once per test session, never written to disk)."""
    return make_key()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@dataclass
class World:
    """Everything one App test touches."""

    tmp: Path
    standin: GitHubStandin
    builder: RepoBuilder
    env: dict[str, str]
    settings: Settings
    store: AppState
    client: TestClient
    worker: Worker
    clock: Clock
    deliveries: int = 0
    merged_at: dict[int, str] = field(default_factory=dict)

    @property
    def repo(self) -> Any:
        """The stand-in's records of acme/demo."""
        return self.standin.repos[REPO]

    def deliver(self, event: str, payload: dict[str, Any], delivery: str | None = None) -> Any:
        """Sign and POST a webhook to the real app."""
        self.deliveries += 1
        body = json.dumps(payload).encode()
        ident = delivery or f"delivery-{self.deliveries}"
        return self.client.post("/webhook", content=body, headers=headers(event, ident, body))

    def merge(
        self,
        number: int,
        branch: str,
        files: Mapping[str, str | bytes | None],
        title: str,
        author: str,
        *,
        webhook: bool = True,
    ) -> str:
        """Build a branch, merge it the way GitHub does, record the PR and deliver the webhook
        (``webhook=False``: the delivery is lost, as during an outage of the App)."""
        self.builder.branch(branch, files, author=author)
        head = self.builder.git("rev-parse", branch)
        sha = self.builder.merge_pr(number, branch, title)
        merged_at = f"2026-11-20T10:{number:02d}:00Z"
        self.merged_at[number] = merged_at
        self.standin.add_pull(
            REPO,
            number,
            title=title,
            author=author,
            merge_sha=sha,
            head_sha=head,
            merged_at=merged_at,
        )
        if not webhook:
            return sha
        payload = merged_pr(
            REPO, number, title=title, author=author, merge_sha=sha, merged_at=merged_at
        )
        response = self.deliver("pull_request", payload)
        assert response.status_code == 202, response.text
        return sha

    def comment(self, number: int, body: str, user: str = "maintainer", merged: bool = True) -> Any:
        """Deliver an issue_comment on a pull request."""
        payload = pr_comment(
            REPO, number, body, user=user, merged=merged, comment_id=9000 + self.deliveries
        )
        return self.deliver("issue_comment", payload)

    def drain(self, limit: int = 20) -> int:
        """Run ready jobs until none is ready; returns how many ran."""
        ran = 0
        while ran < limit and self.worker.run_once():
            ran += 1
        return ran

    def issues(self) -> list[dict[str, Any]]:
        """Issues the App opened on the stand-in, by number."""
        return [self.repo.issues[n] for n in sorted(self.repo.issues)]


def make_world(tmp: Path, prefix: str = "/api/v3", **env: str) -> World:
    """Start a stand-in, build an empty repository with a first commit, wire the App to both."""
    pem, public = app_key()
    standin = GitHubStandin(public, prefix=prefix)
    builder = RepoBuilder(tmp / "repo")
    builder.commit("Initial", {"pkg/__init__.py": "", "pkg/numbers.py": UNRELATED})
    standin.add_repo(REPO, builder.root)
    standin.repos[REPO].permissions.update(
        {"maintainer": "maintain", "reader": "read", "owner": "admin"}
    )
    standin.start()
    full_env = {
        "GITHUB_APP_ID": APP_ID,
        "GITHUB_PRIVATE_KEY": pem,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": standin.url,
        "IDEALDIFF_DATA_DIR": str(tmp / "data"),
        "IDEALDIFF_GITHUB_RETRY_SECONDS": "0.05",
        "IDEALDIFF_JOB_BACKOFF_SECONDS": "60",
        "IDEALDIFF_JOB_MAX_ATTEMPTS": "3",
        **env,
    }
    settings = Settings.from_env(full_env, env_file=None)
    store = open_state(settings)
    clock = Clock()
    worker = Worker(settings, store, GitHubApp(settings).repo, clock=clock)
    client = TestClient(create_app(settings, store, clock=clock))
    return World(tmp, standin, builder, full_env, settings, store, client, worker, clock)


def running_world(tmp_path: Path, prefix: str = "/api/v3", **env: str) -> Iterator[World]:
    """A world for one test, torn down after it; fails if any request broke GitHub's spec."""
    w = make_world(tmp_path, prefix=prefix, **env)
    yield w
    w.client.close()
    w.standin.stop()
    w.store.close()
    assert w.standin.problems == [], "requests GitHub's OpenAPI description does not allow"


def open_pull_copying_slugify(world: World, number: int = 5) -> None:
    """Merge ``slugify``, then open (not merge) pull request ``number`` that copies it."""
    world.merge(1, "text-utils", {"pkg/text.py": SLUGIFY}, "Add slugify", "agent-a")
    world.builder.branch("again", {"pkg/urls.py": THREE_PRS[1][2]["pkg/urls.py"]}, author="bob")
    head = world.builder.git("rev-parse", "again")
    world.builder.git("checkout", "-q", "--detach", "main")
    world.builder.git("merge", "-q", "--no-ff", "-m", "test merge", "again")
    test_merge = world.builder.head()
    world.builder.git("checkout", "-q", "main")
    world.standin.add_pull(
        REPO,
        number,
        title="URL names",
        author="bob",
        merge_sha=test_merge,
        head_sha=head,
        merged_at=None,
    )
