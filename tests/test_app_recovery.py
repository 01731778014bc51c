"""A worker killed with SIGKILL mid-job: the job is taken again after its lease, one issue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app_harness import REPO, THREE_PRS, World, running_world


@pytest.fixture
def world(tmp_path: Path, backend_env: dict[str, str]) -> Iterator[World]:
    """The stand-in and the App's database (each backend); workers run as separate
    processes."""
    yield from running_world(tmp_path, prefix="", **backend_env)


def start_worker(world: World) -> subprocess.Popen[bytes]:
    """``idealdiff worker`` in its own process, on the test's database and stand-in."""
    env = {
        **os.environ,
        **world.env,
        "IDEALDIFF_JOB_LEASE_SECONDS": "2",
        "IDEALDIFF_WORKER_POLL_SECONDS": "0.1",
    }
    env.pop("ANTHROPIC_API_KEY", None)
    with open(world.tmp / f"worker-{time.monotonic_ns()}.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=world.tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,  # the child keeps its own descriptor
        )


def wait_for(condition: object, timeout: float = 60.0) -> None:
    """Poll until ``condition()`` is true."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_job_is_replaced_and_one_issue_is_opened(world: World) -> None:
    world.builder.commit(
        "Review at once", {".github/idealdiff.yml": "batch:\n  quiet_minutes: 0\n"}
    )
    world.clock.now = time.time()  # intake stamps merges with the real time the workers use
    for number, branch, files, title, author in THREE_PRS:
        world.merge(number, branch, files, title, author)
    arrived, release = world.standin.hold("POST", f"/repos/{REPO}/issues")

    first = start_worker(world)
    try:
        assert arrived.wait(60), "the first worker never reached GitHub"
        first.send_signal(signal.SIGKILL)  # after GitHub opened the issue, before it answered
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    release.set()
    [job] = world.store.jobs()
    assert (job.state, job.attempts) == ("running", 1)  # still leased by the dead worker

    second = start_worker(world)
    try:
        wait_for(lambda: world.store.jobs()[0].state == "done")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    [job] = world.store.jobs()
    assert job.attempts == 2
    assert len(world.issues()) == 1  # found again by its marker, not opened twice
    assert world.standin.calls("POST", f"/repos/{REPO}/issues") == 1
    assert world.store.waiting_merges(REPO) == []
    logs = "".join(p.read_text() for p in world.tmp.glob("worker-*.log"))
    assert f'"job_id": {job.id}' in logs
    assert world.env["GITHUB_PRIVATE_KEY"].splitlines()[1] not in logs
