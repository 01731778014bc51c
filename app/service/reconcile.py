"""Missed webhooks recovered: GitHub does not redeliver a failed delivery by itself, so a deploy,
a crash or an outage would lose every merge made meanwhile. Reconciling lists, for each installed
repository, the pull requests merged since the ledger's newest reviewed merge and records the
missing ones as if their webhook had come (once: the ledger keeps one entry per pull request,
whoever adds it)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.errors import IdealdiffError
from app.github.client import RepoAPI
from app.service.jobs import BatchJob, merged_entry
from app.store import AppState
from app.store.records import MergedPR

log = logging.getLogger("idealdiff.reconcile")

# Pull requests listed per repository at most: more merged while the App was down than this is
# an outage to replay by hand (`idealdiff reconcile` again), not a batch.
MAX_LISTED = 500


def reconcile(
    store: AppState, github: Callable[[int, str], RepoAPI], now: float
) -> dict[str, list[int]]:
    """Record the merges each active installation's repositories made without a webhook reaching
    the App; {repository: the pull request numbers added}. A repository whose ledger is empty has
    no "since" yet and is left to its first webhook."""
    added: dict[str, list[int]] = {}
    for installation in store.installations():
        if not installation.active:
            continue
        for repo in installation.repos or ():
            known = store.merged(repo)
            if not known:
                continue
            try:
                api = github(installation.id, repo)
                numbers = _reconcile_repo(store, api, installation.id, known, now)
            except IdealdiffError as exc:  # one repository's trouble does not stop the others
                log.warning("reconcile failed", extra={"repo": repo, "error": str(exc)})
                continue
            if numbers:
                added[repo] = numbers
                log.info(
                    "recorded merges whose webhook never came", extra={"repo": repo, "prs": numbers}
                )
    return added


def _reconcile_repo(
    store: AppState, api: RepoAPI, installation_id: int, known: list[MergedPR], now: float
) -> list[int]:
    repo = api.full_name
    # What the last reconcile saw: the default branch and the ETag of its closed pull requests.
    # Unchanged, an idle repository costs one conditional request (a 304).
    seen = store.reconcile_seen(repo)
    default = seen[0] if seen else api.default_branch()
    etag = api.pulls_changed(default, seen[1] if seen else None)
    if etag is None:
        return []
    have = {m.number for m in known}
    # From the newest merge a review covered: a lost webhook may sit before one that arrived
    # (the App back up, a merge delivered, the lost ones earlier), never before a review.
    reviewed = [m.merged_at for m in known if m.reviewed_at is not None]
    since = max(reviewed) if reviewed else min(m.merged_at for m in known)
    added = []
    for pull in reversed(api.merged_pulls(default, MAX_LISTED, stop_before=since)):
        if pull.number in have or pull.merge_commit_sha is None:
            continue
        # The delivery id names the pull request: a second reconcile, or its webhook arriving
        # late, finds the ledger entry already there.
        store.accept_delivery(
            f"reconcile:{repo}#{pull.number}",
            "pull_request",
            "closed",
            now,
            jobs=[BatchJob(installation_id=installation_id, repo=repo).new_job()],
            merged=merged_entry(repo, installation_id, pull, now),
        )
        added.append(pull.number)
    store.record_reconcile(repo, default, etag, now)
    return added
