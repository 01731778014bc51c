"""The App as a fleet on PostgreSQL (never run by CI): what the queue sustains, and what two
servers and three workers do under SIGKILL.

    python bench/fleet/run.py                 # both parts (~3 min)
    python bench/fleet/run.py --only queue    # claim + finish throughput, SQLite vs PostgreSQL
    python bench/fleet/run.py --only kills    # 2 serve + 3 worker processes, workers killed

``queue``: jobs enqueued over many repositories, then taken and finished (no work between) by N
workers as fast as they can (threads, each worker with a store of its own on PostgreSQL, as
separate machines would have; one shared store on SQLite, which one machine owns); the peer
``procrastinate_peer.py`` does the same with procrastinate, in a venv of its own.
``kills``: the multi-instance test of ``tests/test_fleet_postgres.py`` at a larger size, with
figures. PostgreSQL is a throwaway cluster started here (durable: fsync and synchronous commits
on). Results go to ``bench/work/fleet/<stamp>.json``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from app.store import AppState  # noqa: E402
from app.store.postgres import PgStore  # noqa: E402
from app.store.records import NewJob  # noqa: E402
from app.store.sqlite import AppStore  # noqa: E402
from tests.fleet import Fleet, overlaps  # noqa: E402
from tests.pg_cluster import PgCluster  # noqa: E402

WORK = ROOT / "bench" / "work" / "fleet"


def say(text: str) -> None:
    """Progress, at once."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def drain(stores: list[AppState], workers: int, jobs: int) -> dict[str, Any]:
    """``workers`` threads claim and finish until ``jobs`` are done; throughput and checks."""
    done: Counter[int] = Counter()
    guard = threading.Lock()

    def work(store: AppState, name: str) -> None:
        while True:
            with guard:
                if sum(done.values()) >= jobs:
                    return
            job = store.claim(name, time.time(), 30)
            if job is None:
                time.sleep(0.001)
                continue
            with guard:
                done[job.id] += 1
            store.finish(job, time.time())

    threads = [
        threading.Thread(target=work, args=(stores[n % len(stores)], f"h{n}:{n}:w"))
        for n in range(workers)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "workers": workers,
        "jobs": jobs,
        "seconds": round(seconds, 3),
        "jobs_per_s": round(jobs / seconds, 1),
        "ran_twice": sum(1 for n in done.values() if n > 1),
    }


def queue(cluster: PgCluster, jobs: int, repos: int, peer: str | None) -> list[dict[str, Any]]:
    """Claim + finish throughput at 1, 3 and 6 workers, on each backend (and procrastinate's,
    run by the python of ``peer``, when given)."""
    rows = []
    for workers in (1, 3, 6):
        if peer is not None:
            script = str(HERE / "procrastinate_peer.py")
            done = subprocess.run(
                [peer, script, cluster.new_database(), str(jobs), str(workers)],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            say(f"procrastinate workers={workers}  {rows[-1]['jobs_per_s']:7.1f} jobs/s")
        for backend in ("sqlite", "postgres"):
            if backend == "postgres":
                url = cluster.new_database()
                stores: list[AppState] = [PgStore(url) for _ in range(min(workers, 3))]
            else:
                folder = Path(tempfile.mkdtemp(prefix="fleet-sqlite-"))
                stores = [AppStore(folder / "q.sqlite3")]
            for n in range(jobs):
                scope = f"org/repo-{n % repos}"
                stores[0].enqueue(NewJob("batch", {"scope": scope}, scope=scope), now=0)
            row = {"backend": backend, **drain(stores, workers, jobs)}
            for store in stores:
                store.close()
            rows.append(row)
            say(
                f"{backend:8s} workers={workers}  {row['jobs_per_s']:7.1f} jobs/s  "
                f"ran twice {row['ran_twice']}"
            )
    return rows


def kills(cluster: PgCluster, repos: int, killed: int) -> dict[str, Any]:
    """Two servers, three workers, ``killed`` workers SIGKILLed while GitHub holds their issue."""
    names = [f"acme/service-{n}" for n in range(repos)]
    tmp = Path(tempfile.mkdtemp(prefix="fleet-"))
    fleet = Fleet(tmp, cluster.new_database(), names)
    started = time.perf_counter()
    statuses: Counter[int] = Counter()
    try:
        bases = [fleet.start_server(), fleet.start_server()]
        deliveries = [d for repo in names for d in fleet.merge_three(repo)]
        with httpx.Client(timeout=10, trust_env=False) as http:
            for n, delivery in enumerate(deliveries):
                statuses[Fleet.post(http, bases[n % 2], delivery)] += 1
                statuses[Fleet.post(http, bases[(n + 1) % 2], delivery)] += 1
        held = {r: fleet.standin.hold("POST", f"/repos/{r}/issues") for r in names[:killed]}
        for _ in range(3):
            fleet.start_worker()
        for repo, (arrived, release) in held.items():
            if not arrived.wait(120):
                raise RuntimeError(f"no worker reached GitHub for {repo}")
            pid = fleet.holder(repo)
            if pid is not None:
                fleet.kill(pid)
            release.set()
            fleet.start_worker()
        deadline = time.monotonic() + 600
        while {state for _, _, state, _ in fleet.jobs()} != {"done"}:
            if time.monotonic() > deadline:
                raise RuntimeError(f"jobs not done: {fleet.jobs()}")
            time.sleep(0.2)
        drained = time.perf_counter() - started
    finally:
        fleet.stop()
    jobs = fleet.jobs()
    done = Counter(e["job_id"] for e in fleet.log_lines() if e["msg"] == "job done")
    issues = {r: len(fleet.standin.repos[r].issues) for r in names}
    posts = {r: fleet.standin.calls("POST", f"/repos/{r}/issues") for r in names}
    result = {
        "repos": repos,
        "deliveries": len(deliveries),
        "posts": dict(statuses),
        "recorded": fleet.count("deliveries"),
        "jobs": len(jobs),
        "jobs_done_once": sum(1 for n in done.values() if n == 1),
        "jobs_done_twice": sum(1 for n in done.values() if n > 1),
        "attempts": sum(a for *_, a in jobs),
        "workers_killed": len(fleet.killed),
        "overlapping_holds": sum(len(overlaps(s)) for s in fleet.holds().values()),
        "issues_per_repo": sorted(set(issues.values())),
        "issue_posts_per_repo": sorted(set(posts.values())),
        "waiting_merges": fleet.count("merged_prs WHERE reviewed_at IS NULL"),
        "seconds": round(drained, 1),
        "spec_problems": len(fleet.standin.problems),
    }
    say(json.dumps(result))
    return result


def main() -> int:
    """Run the parts asked for."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("queue", "kills"))
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--repos", type=int, default=12, help="repositories of the kills part")
    parser.add_argument("--killed", type=int, default=4)
    parser.add_argument(
        "--procrastinate-python", help="a python with procrastinate installed: measure the peer"
    )
    args = parser.parse_args()
    cluster = PgCluster(durable=True)
    cluster.start()
    out: dict[str, Any] = {"argv": sys.argv}
    try:
        if args.only in (None, "queue"):
            out["queue"] = queue(cluster, args.jobs, 50, args.procrastinate_python)
        if args.only in (None, "kills"):
            out["kills"] = kills(cluster, args.repos, args.killed)
    finally:
        cluster.stop()
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    say(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
