"""``idealdiff serve`` as a real process: uvicorn on loopback, its worker thread, a signed POST."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.app_harness import REPO, THREE_PRS, app_key, make_world
from tests.github_standin import APP_ID
from tests.helpers import free_port
from tests.webhook_payloads import SECRET, headers, merged_pr


def test_serve_answers_webhooks_and_its_worker_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    world = make_world(tmp_path, prefix="")
    world.builder.commit("Now", {".github/idealdiff.yml": "batch:\n  quiet_minutes: 0\n"})
    pem, _ = app_key()
    port = free_port()
    env = {
        **os.environ,
        "GITHUB_APP_ID": APP_ID,
        "GITHUB_PRIVATE_KEY": pem,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": world.standin.url,
        "IDEALDIFF_DATA_DIR": str(tmp_path / "served"),
        "IDEALDIFF_WORKER_POLL_SECONDS": "0.1",
    }
    env.pop("ANTHROPIC_API_KEY", None)
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10, trust_env=False) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
            for number, branch, files, title, author in THREE_PRS:
                world.builder.branch(branch, files, author=author)
                head = world.builder.git("rev-parse", branch)
                sha = world.builder.merge_pr(number, branch, title)
                at = f"2026-11-20T10:{number:02d}:00Z"
                world.standin.add_pull(
                    REPO,
                    number,
                    title=title,
                    author=author,
                    merge_sha=sha,
                    head_sha=head,
                    merged_at=at,
                )
                body = json.dumps(
                    merged_pr(REPO, number, title=title, author=author, merge_sha=sha, merged_at=at)
                ).encode()
                answer = http.post(
                    "/webhook", content=body, headers=headers("pull_request", f"p{number}", body)
                )
                assert answer.status_code == 202
            deadline = time.monotonic() + 60
            while not world.issues():
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
            metrics = http.get("/metrics").text
            assert (
                'idealdiff_webhook_requests_total{event="pull_request",outcome="accepted"} 3'
                in metrics
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        world.client.close()
        world.standin.stop()
        world.store.close()
    assert len(world.issues()) == 1
    assert world.standin.problems == []
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("msg") == "job done" and "job_id" in line for line in lines)
    assert SECRET not in log_path.read_text()
