"""Run a review of a built repository the way the CLI does, keeping the stats for assertions."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from app.idealize.idealizer import DiffIdealizer
from app.local.history import collect_batch
from app.local.repo import GitRepo
from app.local.run import read_repo_config
from app.review.pipeline import ReviewStats, review
from app.review.report import Report
from app.settings import LlmSettings
from app.store.sqlite import Store


def run(
    root: Path, since: str | None, store_path: Path | None = None
) -> tuple[Report, ReviewStats]:
    """Review ``main`` after ``since``; with a store path, through that cache."""
    repo = GitRepo(root)
    batch = collect_batch(repo, "main", since)
    config, problem = read_repo_config(repo, batch.head_sha)
    store = Store(store_path) if store_path else None
    try:
        return review(
            repo,
            batch,
            config,
            repo="acme/demo",
            store=store,
            config_problem=problem,
            workers=1,
            idealizer=DiffIdealizer(LlmSettings(mode="offline"), store),
        )
    finally:
        if store:
            store.close()


def members(report: Report) -> list[set[tuple[str, str | None]]]:
    """Each finding as a set of (qualname, introduced_by)."""
    return [{(m.unit.qualname, m.introduced_by) for m in f.members} for f in report.findings]


SNAPSHOTS = Path(__file__).parent / "snapshots"


def check_snapshot(name: str, text: str) -> None:
    """``text`` equals the stored snapshot ``name``. ``UPDATE_SNAPSHOTS=1`` writes it (after an
    intended change: then read the diff); a missing snapshot fails, it is never made silently."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {name}: run with UPDATE_SNAPSHOTS=1, then read it"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see UPDATE_SNAPSHOTS"


def free_port() -> int:
    """A loopback TCP port nobody listens on now (for a process the test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
