"""Two ``serve`` and three ``worker`` processes on one PostgreSQL database, workers killed with
SIGKILL in the middle of a review: nothing is lost and nothing is done twice."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import httpx

from tests.fleet import Fleet, overlaps
from tests.pg_cluster import PgCluster

REPOS = [f"acme/service-{n}" for n in range(4)]


def test_two_servers_and_three_workers_lose_nothing_and_do_nothing_twice_under_kills(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    fleet = Fleet(tmp_path, pg_cluster.new_database(), REPOS)
    try:
        bases = [fleet.start_server(), fleet.start_server()]
        deliveries = [d for repo in REPOS for d in fleet.merge_three(repo)]
        with httpx.Client(timeout=10, trust_env=False) as http:
            for n, delivery in enumerate(deliveries):
                # Every delivery reaches both servers (a load balancer's retry, a redelivery),
                # the first copy to each server in turn.
                first = Fleet.post(http, bases[n % 2], delivery)
                again = Fleet.post(http, bases[(n + 1) % 2], delivery)
                assert first == 202
                assert again in (200, 202)
        # Two reviews are held where GitHub has opened the issue but not yet answered; the
        # worker holding each is killed there, and a new one started, as a fleet restarts.
        held = {repo: fleet.standin.hold("POST", f"/repos/{repo}/issues") for repo in REPOS[:2]}
        for _ in range(3):
            fleet.start_worker()
        for repo, (arrived, release) in held.items():
            assert arrived.wait(60), f"no worker reached GitHub for {repo}"
            pid = fleet.holder(repo)
            assert pid is not None
            fleet.kill(pid)
            release.set()
            fleet.start_worker()
        deadline = time.monotonic() + 120
        while {state for _, _, state, _ in fleet.jobs()} != {"done"}:
            assert time.monotonic() < deadline, fleet.jobs()
            time.sleep(0.2)
    finally:
        fleet.stop()

    assert len(fleet.killed) == 2
    assert fleet.count("deliveries") == len(deliveries)  # each recorded once
    assert fleet.count("merged_prs WHERE reviewed_at IS NULL") == 0  # every merge reviewed
    jobs = fleet.jobs()
    assert {scope for _, scope, _, _ in jobs} == set(REPOS)
    done = Counter(
        e["job_id"] for e in fleet.log_lines() if e["msg"] == "job done" and "job_id" in e
    )
    assert sorted(done.values()) == [1] * len(jobs)  # each completed exactly once
    assert sum(attempts for *_, attempts in jobs) >= len(jobs) + 2  # the killed ones ran again
    for repo, spans in fleet.holds().items():
        assert overlaps(spans) == [], f"{repo} reviewed by two workers at once: {spans}"
    for repo in REPOS:
        issues = [i for i in fleet.standin.repos[repo].issues.values()]
        assert len(issues) == 1, repo  # no issue opened twice, none missing
        assert fleet.standin.calls("POST", f"/repos/{repo}/issues") == 1
    assert fleet.standin.problems == []
