"""A fleet of App processes on one PostgreSQL database: ``idealdiff serve --no-worker`` and
``idealdiff worker`` as real processes, each with a data dir of its own (a machine), a GitHub
stand-in serving several repositories, and what the processes logged, read back afterwards.
Used by the multi-instance test and by ``bench/fleet``."""

from __future__ import annotations

import calendar
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from app.local.build import RepoBuilder
from tests.app_harness import THREE_PRS, UNRELATED, app_key
from tests.github_standin import APP_ID, GitHubStandin
from tests.helpers import free_port
from tests.webhook_payloads import SECRET, headers, merged_pr

# Messages that end a worker's hold on a job (a SIGKILL ends it without a word).
JOB_ENDS = {
    "job done",
    "job deferred",
    "job dead",
    "job failed; will retry",
    "job finished after its lease was lost",
}


@dataclass
class Delivery:
    """A signed webhook, ready to POST to any server of the fleet."""

    ident: str
    event: str
    body: bytes


@dataclass
class Fleet:
    """Servers and workers of the App on one database, a stand-in and the repositories."""

    tmp: Path
    url: str
    repos: list[str]
    lease_seconds: float = 2.0
    standin: GitHubStandin = field(init=False)
    builders: dict[str, RepoBuilder] = field(init=False, default_factory=dict)
    servers: list[tuple[subprocess.Popen[bytes], str]] = field(init=False, default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(init=False, default_factory=list)
    killed: dict[int, float] = field(init=False, default_factory=dict)  # pid -> when
    _env: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        pem, public = app_key()
        self.standin = GitHubStandin(public, prefix="")
        for name in self.repos:
            builder = RepoBuilder(self.tmp / name.replace("/", "_"))
            builder.commit(
                "Initial",
                {
                    "pkg/__init__.py": "",
                    "pkg/numbers.py": UNRELATED,
                    ".github/idealdiff.yml": "batch:\n  quiet_minutes: 0\n",
                },
            )
            self.standin.add_repo(name, builder.root)
            self.builders[name] = builder
        self.standin.start()
        self._env = {
            **os.environ,
            "GITHUB_APP_ID": APP_ID,
            "GITHUB_PRIVATE_KEY": pem,
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": self.standin.url,
            "IDEALDIFF_DATABASE_URL": self.url,
            "IDEALDIFF_JOB_LEASE_SECONDS": str(self.lease_seconds),
            "IDEALDIFF_WORKER_POLL_SECONDS": "0.5",
            "IDEALDIFF_GITHUB_RETRY_SECONDS": "0.05",
        }
        self._env.pop("ANTHROPIC_API_KEY", None)

    # -- processes -----------------------------------------------------------------------------

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        env = {**self._env, "IDEALDIFF_DATA_DIR": str(self.tmp / "machines" / name)}
        with open(self.tmp / f"{name}.log", "wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                cwd=self.tmp,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start_server(self) -> str:
        """``idealdiff serve --no-worker`` on a free port; its base URL once it answers."""
        port = free_port()
        name = f"serve-{len(self.servers)}"
        proc = self._spawn(name, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=2, trust_env=False) as http:
            while True:
                try:
                    if http.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((self.tmp / f"{name}.log").read_text())
                time.sleep(0.1)
        self.servers.append((proc, base))
        return base

    def start_worker(self) -> subprocess.Popen[bytes]:
        """``idealdiff worker``, on a machine of its own."""
        proc = self._spawn(f"worker-{len(self.workers)}", "worker")
        self.workers.append(proc)
        return proc

    def kill(self, pid: int) -> None:
        """SIGKILL a worker: no shutdown, its lease left behind."""
        os.kill(pid, signal.SIGKILL)
        self.killed[pid] = time.time()
        for proc in self.workers:
            if proc.pid == pid:
                proc.wait(10)

    def stop(self) -> None:
        """SIGTERM every process still running, then the stand-in."""
        for proc in [p for p, _ in self.servers] + self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [p for p, _ in self.servers] + self.workers:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.standin.stop()

    # -- GitHub's side -------------------------------------------------------------------------

    def merge_three(self, repo: str) -> list[Delivery]:
        """Merge the three slugify branches into ``repo``; their webhooks, signed."""
        builder = self.builders[repo]
        out = []
        for number, branch, files, title, author in THREE_PRS:
            builder.branch(branch, files, author=author)
            head = builder.git("rev-parse", branch)
            sha = builder.merge_pr(number, branch, title)
            at = f"2026-11-20T10:{number:02d}:00Z"
            self.standin.add_pull(
                repo, number, title=title, author=author, merge_sha=sha, head_sha=head, merged_at=at
            )
            body = json.dumps(
                merged_pr(repo, number, title=title, author=author, merge_sha=sha, merged_at=at)
            ).encode()
            out.append(Delivery(f"{repo}#{number}", "pull_request", body))
        return out

    @staticmethod
    def post(http: httpx.Client, base: str, delivery: Delivery) -> int:
        """POST a delivery to one server; its status code."""
        answer = http.post(
            f"{base}/webhook",
            content=delivery.body,
            headers=headers(delivery.event, delivery.ident, delivery.body),
        )
        return answer.status_code

    # -- what happened -------------------------------------------------------------------------

    def holder(self, repo: str) -> int | None:
        """The pid of the worker whose lease covers ``repo``'s running job, if any."""
        with psycopg.connect(self.url) as conn:
            row = conn.execute(
                "SELECT lease_owner FROM jobs WHERE scope = %s AND state = 'running'", (repo,)
            ).fetchone()
        return None if row is None or row[0] is None else int(str(row[0]).split(":")[1])

    def jobs(self) -> list[tuple[int, str | None, str, int]]:
        """Every job: (id, scope, state, attempts)."""
        with psycopg.connect(self.url) as conn:
            rows = conn.execute("SELECT id, scope, state, attempts FROM jobs ORDER BY id")
            return [(int(r[0]), r[1], r[2], int(r[3])) for r in rows]

    def count(self, table: str) -> int:
        """Rows of one of the App's tables."""
        with psycopg.connect(self.url) as conn:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        return 0 if row is None else int(row[0])

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON lines every process logged, each with the ``pid`` of its process."""
        out = []
        for index, proc in enumerate(self.workers):
            for line in (self.tmp / f"worker-{index}.log").read_text().splitlines():
                if line.startswith("{"):
                    entry = json.loads(line)
                    entry["pid"] = proc.pid
                    out.append(entry)
        return out

    def holds(self) -> dict[str, list[tuple[float, float, int, int]]]:
        """Per repository, every time a worker held one of its jobs: (start, end, pid, job),
        from the workers' logs (a killed worker's hold ends when it was killed)."""
        scope = {ident: s for ident, s, _, _ in self.jobs()}
        started: dict[tuple[int, int], float] = {}
        out: dict[str, list[tuple[float, float, int, int]]] = defaultdict(list)
        for entry in self.log_lines():
            job = entry.get("job_id")
            if job is None:
                continue
            at = _seconds(entry["ts"])
            key = (entry["pid"], int(job))
            if entry["msg"] == "job started":
                started[key] = at
            elif entry["msg"] in JOB_ENDS and key in started:
                out[str(scope[int(job)])].append((started.pop(key), at, key[0], key[1]))
        for (pid, job), at in started.items():  # never ended: the worker was killed
            end = self.killed.get(pid, time.time())
            out[str(scope[job])].append((at, end, pid, job))
        return {repo: sorted(spans) for repo, spans in out.items()}


def overlaps(spans: list[tuple[float, float, int, int]]) -> list[tuple[int, int]]:
    """Pairs of jobs whose holds overlap in time (sorted spans of one repository)."""
    out = []
    latest: tuple[float, float, int, int] | None = None  # the span that ends last so far
    for span in spans:
        if latest is not None and span[0] < latest[1] - 0.001:  # logs keep milliseconds
            out.append((latest[3], span[3]))
        if latest is None or span[1] > latest[1]:
            latest = span
    return out


def _seconds(stamp: str) -> float:
    """A log line's ``ts`` (UTC, milliseconds) as Unix seconds."""
    whole, _, millis = stamp.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + int(millis or 0) / 1000
