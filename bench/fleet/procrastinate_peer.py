"""The queue part of ``bench/fleet/run.py`` done by procrastinate, the peer the issue names:
``jobs`` no-op tasks over 50 repositories, each deferred with ``lock=<repository>`` (procrastinate's
one-at-a-time per lock, as idealdiff's scope), then one worker of ``concurrency`` N runs them until
the queue is empty. Run in a venv of its own (procrastinate is not a dependency of idealdiff):

    python -m venv /tmp/procvenv && /tmp/procvenv/bin/pip install procrastinate 'psycopg[binary]'
    /tmp/procvenv/bin/python bench/fleet/procrastinate_peer.py URL JOBS CONCURRENCY
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from procrastinate import App, PsycopgConnector


async def main(url: str, jobs: int, concurrency: int) -> dict[str, object]:
    """Defer, then run until empty; jobs per second of the run."""
    app = App(connector=PsycopgConnector(conninfo=url))
    ran = 0

    @app.task(name="review", pass_context=False)
    async def review(scope: str) -> None:
        nonlocal ran
        ran += 1

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        for n in range(jobs):
            scope = f"org/repo-{n % 50}"
            await review.configure(lock=scope).defer_async(scope=scope)
        started = time.perf_counter()
        await app.run_worker_async(
            concurrency=concurrency, wait=False, install_signal_handlers=False
        )
        seconds = time.perf_counter() - started
    return {
        "backend": "procrastinate",
        "workers": concurrency,
        "jobs": jobs,
        "ran": ran,
        "seconds": round(seconds, 3),
        "jobs_per_s": round(ran / seconds, 1),
    }


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    sys.stdout.write(json.dumps(result) + "\n")
