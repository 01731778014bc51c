"""The worker: takes jobs from the durable queue with a lease and runs them.

A job's lease is renewed while it runs; a worker that dies (kill -9) stops renewing, and once the
lease expires another worker takes the job again. A failing job is retried with exponential
backoff and, after ``job_max_attempts`` tries, moved to the ``dead`` state with its last error,
where ``/metrics`` and ``/healthz`` show it. Only this loop (and the CLI) catch every exception.

Two kinds of job:

- ``batch``: a repository's merged pull requests wait in the ledger; the job reviews them once
  merges have been quiet for ``batch.quiet_minutes`` and at least ``batch.min_prs`` wait, then
  publishes the unification issues. Every merge re-arms the one queued job (a debounce).
- ``command``: an ``/idealize`` comment: 👀 at once, a permission check, the review, a reply.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from analyzers import FileChange
from app import logs
from app.errors import ConfigError, IdealdiffError, UsageError
from app.github.client import GitHubError, GitHubSource, MissingPermission, RepoAPI
from app.github.events import PullRequest
from app.idealize.changes import plan_changes
from app.idealize.idealizer import DiffIdealizer, make_idealizer
from app.publish.pullrequest import ChangeRefused, PullResult, publish_change
from app.publish.tracker import Published, open_pr_comment, publish, summary
from app.render.safety import neutralize
from app.review.batch import EMPTY_TREE, Batch, Branch, read_patch
from app.review.config import CONFIG_PATH, RepoConfig, load_repo_config
from app.review.pipeline import Scanner, review
from app.review.report import Report
from app.review.source import CodeReader
from app.service.commands import Command, help_text, parse_command
from app.service.fleet import check_single_machine
from app.service.jobs import BatchJob, CommandJob, PrRef, read_job
from app.service.metrics import Metrics
from app.service.reconcile import reconcile
from app.settings import Settings
from app.store import AppState
from app.store.open import open_state
from app.store.records import Job, PublishedIssue

log = logging.getLogger("idealdiff.worker")

WRITERS = ("admin", "maintain", "write")
MAX_BACKOFF = 3600.0
PRUNE_EVERY = 3600.0
RECONCILE_EVERY = 900.0  # missed webhooks are looked for at start and every 15 minutes
# The mark of who reconciled a period (``reconciled-period:<n>``): of no use once it is past.
RECONCILED = "reconciled-period:"
KEEP_SECONDS = 30 * 86400.0  # deliveries and finished jobs are kept 30 days
GitHubFactory = Callable[[int, str], RepoAPI]


@dataclass(frozen=True)
class Defer:
    """A handler's answer: run me again at ``run_after`` (not a failure)."""

    run_after: float
    reason: str


def web_url(api_url: str) -> str:
    """The web address matching an API address (github.com, or a GHES host)."""
    if api_url.rstrip("/") == "https://api.github.com":
        return "https://github.com"
    return api_url.rstrip("/").removesuffix("/api/v3")


class Worker:
    """Runs jobs until stopped; several may run beside each other on one database."""

    def __init__(
        self,
        settings: Settings,
        store: AppState,
        github: GitHubFactory,
        *,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        owner: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.github = github
        self.clock = clock
        self.metrics = metrics
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        # Set when a job may be ready (this process enqueued one, or another did: NOTIFY on
        # PostgreSQL), so an idle worker starts it now rather than at its next poll.
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._current: Job | None = None  # the job being run, for a shutdown to give back

    # -- the loop ------------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a background thread (``idealdiff serve``)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="idealdiff-worker", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the loop to stop after the current job (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()

    def stop(self, grace: float | None = None) -> None:
        """Ask the loop to stop after the current job, and wait for it; after ``grace`` seconds
        a job still running is given back to the queue at once (its lease released, its try not
        counted) so another worker takes it now rather than when the lease runs out."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return
        self._thread.join(self.settings.shutdown_grace_seconds if grace is None else grace)
        job = self._current
        if self._thread.is_alive() and job is not None and self.store.release(job, self.clock()):
            log.warning("shutting down: job given back to the queue", extra={"job": job.id})

    def reclaim(self) -> list[int]:
        """Requeue the jobs of workers on this machine whose process is gone (``kill -9``, an
        out-of-memory kill): their repositories' queues do not wait for the lease to expire."""
        host = socket.gethostname()

        def gone(owner: str) -> bool:
            parts = owner.split(":")
            if owner == self.owner or len(parts) < 3 or parts[0] != host or not parts[1].isdigit():
                return False
            try:
                os.kill(int(parts[1]), 0)
            except ProcessLookupError:
                return True
            except OSError:  # alive, owned by another user
                return False
            return False

        ids = self.store.reclaim_leases(gone, self.clock())
        if ids:
            log.warning("reclaimed the jobs of a worker that is gone", extra={"jobs": ids})
        return ids

    def run(self) -> None:
        """Take and run jobs until ``stop``; sleep between polls when the queue is empty."""
        log.info("worker started", extra={"owner": self.owner})
        self.store.subscribe(self._wake.set)
        self.reclaim()
        pruned_at = reconciled_at = 0.0
        while not self._stop.is_set():
            try:
                if self.clock() - pruned_at > PRUNE_EVERY:
                    pruned_at = self.clock()
                    self.store.prune(pruned_at - KEEP_SECONDS, marks=RECONCILED)
                if self.clock() - reconciled_at > RECONCILE_EVERY:
                    reconciled_at = self.clock()
                    self.reconcile_once(reconciled_at)
                self._wake.clear()  # a wake-up from here on is for a job this claim missed
                busy = self.run_once()
            except Exception:  # the loop must outlive a broken database moment
                log.exception("worker loop error")
                busy = False
            if not busy:
                self._wake.wait(self.settings.worker_poll_seconds)
        log.info("worker stopped", extra={"owner": self.owner})

    def reconcile_once(self, now: float) -> bool:
        """Look for missed webhooks unless another worker already did in this 15-minute period
        (a fleet of workers lists each repository once, not once per worker); whether this one
        did."""
        period = int(now // RECONCILE_EVERY)
        if not self.store.mark_once(f"{RECONCILED}{period}", self.owner, now):
            return False
        reconcile(self.store, self.github, now)
        return True

    def run_once(self) -> bool:
        """Take one ready job and run it; False when none was ready."""
        lease = self.settings.job_lease_seconds
        job = self.store.claim(self.owner, self.clock(), lease)
        if job is None:
            return False
        with logs.context(delivery=job.delivery_id, job=job.id):
            if job.attempts > self.settings.job_max_attempts:
                error = f"its worker died or lost the lease {job.attempts - 1} times"
                self.store.bury(job, self.clock(), error)
                self._count(job.kind, "dead")
                log.error("job dead", extra={"kind": job.kind, "error": error})
                return True
            log.info("job started", extra={"kind": job.kind, "attempt": job.attempts})
            self._current = job
            beat = threading.Event()
            heart = threading.Thread(target=self._heartbeat, args=(job, beat), daemon=True)
            heart.start()
            try:
                result = self._handle(job)
            except Exception as exc:
                self._failed(job, exc)
            else:
                if isinstance(result, Defer):
                    self.store.defer(job, self.clock(), result.run_after)
                    self._count(job.kind, "deferred")
                    log.info("job deferred", extra={"kind": job.kind, "reason": result.reason})
                elif self.store.finish(job, self.clock()):
                    self._count(job.kind, "done")
                    log.info("job done", extra={"kind": job.kind})
                else:
                    log.warning("job finished after its lease was lost", extra={"kind": job.kind})
            finally:
                self._current = None
                beat.set()
                heart.join()
        return True

    def _heartbeat(self, job: Job, done: threading.Event) -> None:
        lease = self.settings.job_lease_seconds
        while not done.wait(lease / 3):
            if not self.store.extend_lease(job, self.clock(), lease):
                log.warning("lease lost; another worker may run this job", extra={"job": job.id})
                return

    def _failed(self, job: Job, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {logs.redact(str(exc))}"[:2000]
        now = self.clock()
        # An error idealdiff raised on purpose is permanent unless it says otherwise: asking
        # again would fail the same way. Anything else may be a passing fault: retried.
        known = exc if isinstance(exc, IdealdiffError) else None
        permanent = known is not None and not known.transient
        if permanent or job.attempts >= self.settings.job_max_attempts:
            self.store.bury(job, now, error)
            self._count(job.kind, "dead")
            log.error("job dead", extra={"kind": job.kind, "error": error, "permanent": permanent})
            if known is not None and permanent:
                self._answer_failure(job, known)
            return
        wait = min(self.settings.job_backoff_seconds * 2 ** (job.attempts - 1), MAX_BACKOFF)
        self.store.retry_later(job, now, now + wait, error)
        self._count(job.kind, "retry")
        log.warning(
            "job failed; will retry",
            extra={"kind": job.kind, "error": error, "retry_in_s": wait},
            exc_info=exc,
        )

    def _answer_failure(self, job: Job, exc: IdealdiffError) -> None:
        """Tell the person whose ``/idealize`` could not be done why, once; a batch has no one
        to tell (the failure is in the logs, ``/metrics`` and ``/healthz``)."""
        try:
            asked = read_job(job)
        except ConfigError:
            return
        if not isinstance(asked, CommandJob) or not self.store.mark_once(
            f"failed:{job.id}", "1", self.clock()
        ):
            return
        try:
            api = self.github(asked.installation_id, asked.repo)
            api.comment(
                asked.number,
                f"idealdiff could not run this `/idealize`:\n\n> {neutralize(str(exc))}\n\n"
                "Nothing was published. `/idealize help` shows what it accepts.",
            )
        except IdealdiffError as again:  # e.g. the repository is gone: no one to tell
            log.warning("could not answer the failure", extra={"error": str(again)})

    def _count(self, kind: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.job(kind, outcome)

    def _handle(self, job: Job) -> Defer | None:
        asked = read_job(job)
        installation = self.store.installation(asked.installation_id)
        if installation is not None and not installation.active:
            log.info("installation removed or suspended; job dropped", extra={"kind": job.kind})
            return None
        if isinstance(asked, BatchJob):
            return self._batch(asked)
        self._command(asked)
        return None

    # -- batch reviews -------------------------------------------------------------------------

    def _batch(self, job: BatchJob) -> Defer | None:
        repo = job.repo
        api = self.github(job.installation_id, repo)
        waiting = self.store.waiting_merges(repo)
        if not waiting:
            return None
        default = api.default_branch()
        config, problem = self._config(api, default, comment_on=waiting[-1].number)
        if config.mode == "off":
            log.info("automatic reviews are off for this repository", extra={"repo": repo})
            return None
        due = max(w.received_at for w in waiting) + config.batch.quiet_minutes * 60
        if self.clock() < due:
            return Defer(due, "merges are not quiet yet")
        if len(waiting) < config.batch.min_prs:
            # A lone leftover is reviewed once it has waited max_wait_minutes, quiet or not.
            oldest = min(w.received_at for w in waiting) + config.batch.max_wait_minutes * 60
            if self.clock() < oldest:
                log.info(
                    "batch waits for more merges",
                    extra={"repo": repo, "waiting": len(waiting), "min_prs": config.batch.min_prs},
                )
                return Defer(oldest, "fewer merges than min_prs; reviewed alone at max_wait")
        prs = [PrRef.model_validate(w.data) for w in waiting]
        draft = config.mode == "draft_pr"
        # The code as the batch's last merge left it: a merge that landed after it (its webhook
        # still on the way) is not reviewed as "existing code"; it comes with its own batch.
        last = max(prs, key=lambda p: (p.merged_at, p.number)).merge_sha
        report, source = self._review(
            api, default, prs, config, problem, head_sha=last, edits=draft
        )
        if config.mode == "dry-run":
            log.info("dry run: nothing published", extra={"findings": len(report.findings)})
        else:
            published = self._publish(api, report, source, config)
            if draft:
                self._pull_requests(api, report, source, published, default)
        self.store.mark_reviewed(repo, [p.number for p in prs], self.clock())
        return None

    def _config(
        self, api: RepoAPI, default: str, comment_on: int | None
    ) -> tuple[RepoConfig, str | None]:
        """The repo config from the default branch; an invalid one is explained once."""
        text = api.file_text(CONFIG_PATH, default)
        config, problem = load_repo_config(text)
        if problem is None:
            return config, None
        digest = hashlib.sha256((text or "").encode()).hexdigest()[:16]
        if comment_on is not None and self.store.mark_once(
            f"config-comment:{api.full_name}:{digest}", str(comment_on), self.clock()
        ):
            api.comment(
                comment_on,
                f"idealdiff could not use `{CONFIG_PATH}` on `{default}`, so it used the "
                f"defaults.\n\n> {problem}\n\nEvery key is optional; see the README's "
                "configuration section.",
            )
        return config, problem

    def _branch(self, api: RepoAPI, pr: PrRef) -> Branch:
        if pr.parent is not None:
            parent = pr.parent
        else:
            parents = api.parents(pr.merge_sha)
            parent = parents[0] if parents else EMPTY_TREE
        note: str | None = None
        files: tuple[FileChange, ...] = ()
        try:
            files, note = read_patch(api.diff(parent, pr.merge_sha))
        except GitHubError as exc:
            note = f"diff not available from GitHub: {exc}"
        return Branch(
            id=f"#{pr.number}",
            title=pr.title,
            author=pr.author,
            date=pr.merged_at,
            merge_sha=pr.merge_sha,
            parent_sha=parent,
            description=pr.body,
            files=files,
            note=note,
        )

    def _review(
        self,
        api: RepoAPI,
        base: str,
        prs: list[PrRef],
        config: RepoConfig,
        problem: str | None,
        head_sha: str | None = None,
        edits: bool = False,
    ) -> tuple[Report, GitHubSource]:
        head = head_sha or api.branch_head(base)
        prs = sorted(prs, key=lambda p: (p.merged_at, p.number))
        batch = Batch(
            base=base,
            head_sha=head,
            since=None,
            branches=tuple(self._branch(api, pr) for pr in prs),
        )
        source = GitHubSource(api, head)
        report, stats = review(
            source,
            batch,
            config,
            repo=api.full_name,
            store=self.store,
            config_problem=problem,
            idealizer=self._idealizer(edits),
        )
        log.info(
            "review done",
            extra={
                "repo": api.full_name,
                "prs": [p.number for p in prs],
                "findings": len(report.findings),
                "left_alone": len(report.dismissed),
                "parsed": stats.parsed,
                "cached": stats.cached,
                **{f"github_{k}": v for k, v in source.requests.items()},
            },
        )
        return report, source

    def _idealizer(self, edits: bool = False) -> DiffIdealizer:
        """Anthropic when the App's settings carry a key, else the offline planner.

        ``edits``: draft-PR mode, where the model is also asked for the concrete change.
        """
        # The App's settings, read once at start, are the only source.
        return make_idealizer(self.settings.llm, self.store, edits=edits or None)

    def _pull_requests(
        self,
        api: RepoAPI,
        report: Report,
        source: GitHubSource,
        published: Published,
        base: str,
    ) -> list[PullResult]:
        """One pull request per finding whose change validates; the issue says why otherwise."""
        issues = {
            link.finding_id: link
            for group in (published.opened, published.updated, published.unchanged)
            for link in group
        } | {link.finding_id: link for link in published.reopened}
        reader = CodeReader(source, report.head_sha, dict(source.tree(report.head_sha)))
        results: list[PullResult] = []
        for outcome in plan_changes(report, reader, cumulative=False, store=self.store):
            issue = issues.get(outcome.finding_id)
            problem = outcome.problem
            if outcome.change is not None:
                try:
                    results.append(
                        publish_change(
                            api,
                            outcome.change,
                            base_branch=base,
                            head_sha=report.head_sha,
                            fingerprint=outcome.finding_id,
                            issue=issue,
                        )
                    )
                    continue
                except ChangeRefused as exc:
                    problem = str(exc)
                except MissingPermission:
                    problem = (
                        "the App's installation may not push a branch here: grant it "
                        "`contents: write` (and `pull_requests: write`) for draft pull requests"
                    )
            if issue is None or problem is None:
                continue
            # One explanation per finding and reason: a later review with the same outcome
            # must not repeat it.
            digest = hashlib.sha256(problem.encode()).hexdigest()[:16]
            key = f"pr-refused:{api.full_name}:{outcome.finding_id}:{digest}"
            if self.store.mark_once(key, str(issue.number), self.clock()):
                api.comment(issue.number, refused_comment(problem))
        log.info(
            "pull requests",
            extra={r.action: [p.number for p in results if p.action == r.action] for r in results},
        )
        return results

    def _publish(
        self, api: RepoAPI, report: Report, source: GitHubSource, config: RepoConfig
    ) -> Published:

        def still_there(record: PublishedIssue) -> bool:
            """Two or more of the finding's members still exist at the head."""
            head = source.tree(report.head_sha)
            paths = {path: head[path] for path, _ in record.members if path in head}
            scans = Scanner(source, self.store, config.scan_limits(), workers=1).scan(paths)
            units = {(p, u.unit.qualname) for p, s in scans.items() for u in s.units}
            return sum(1 for m in record.members if tuple(m) in units) >= 2

        result = publish(
            api,
            self.store,
            report,
            labels=config.labels,
            still_there=still_there,
            now=self.clock(),
            web_url=web_url(self.settings.github_api_url),
        )
        log.info(
            "published",
            extra={
                "opened": [i.number for i in result.opened],
                "updated": [i.number for i in result.updated],
                "closed": [i.number for i in result.closed],
            },
        )
        return result

    # -- commands ------------------------------------------------------------------------------

    def _command(self, job: CommandJob) -> None:
        repo = job.repo
        api = self.github(job.installation_id, repo)
        number, comment_id, user = job.number, job.comment_id, job.user
        api.react(comment_id, "eyes")  # GitHub keeps one reaction per user and content
        once = f"reply:{repo}:{comment_id}"
        if self.store.mark(once) is not None:
            return  # the reply went out before a crash; nothing left to do
        permission = api.permission(user)
        if permission not in WRITERS:
            log.info("command refused", extra={"user": user, "permission": permission})
            # One polite reply per person and pull request: repeating it would be noise.
            if self.store.mark_once(f"refused:{repo}:{number}:{user}", "1", self.clock()):
                self._reply(
                    api,
                    number,
                    once,
                    "Thanks for asking! Only people with write access to this repository can "
                    "run `/idealize` (it opens issues). A maintainer can run it for you.",
                )
            return
        command = parse_command(job.line)
        if command.action == "help":
            self._reply(api, number, once, help_text(command.error))
            return
        default = job.default_branch or api.default_branch()
        config, problem = self._config(api, default, comment_on=None)
        pull = api.pull(number)
        if pull.merged_at is None:
            report = self._review_open(api, default, pull, config, problem)
            self._reply(api, number, once, open_pr_comment(report, f"#{number}"))
            return
        prs, from_ledger = self._select(api, repo, default, pull, command)
        draft = command.pr or config.mode == "draft_pr"
        report, source = self._review(api, default, prs, config, problem, edits=draft)
        dry_run = config.mode == "dry-run"
        published = None if dry_run else self._publish(api, report, source, config)
        pulls: list[PullResult] = []
        if published is not None and draft:
            pulls = self._pull_requests(api, report, source, published, default)
        if not dry_run:
            self.store.mark_reviewed(repo, from_ledger, self.clock())
        self._reply(api, number, once, summary(report, published, dry_run) + pulls_summary(pulls))

    def _reply(self, api: RepoAPI, number: int, once: str, body: str) -> None:
        api.comment(number, body)
        self.store.mark_once(once, str(number), self.clock())

    def _select(
        self, api: RepoAPI, repo: str, default: str, pull: PullRequest, command: Command
    ) -> tuple[list[PrRef], list[int]]:
        """The merged pull requests a command names, and which of them the ledger holds."""
        ledger = {m.number for m in self.store.merged(repo)}
        if command.last is not None:
            pulls = api.merged_pulls(default, command.last)
        elif command.since_pr is not None:
            try:
                since = api.pull(command.since_pr).merged_at
            except GitHubError as exc:
                if exc.transient:
                    raise
                since = None
            if since is None:
                raise UsageError(
                    f"`--since #{command.since_pr}`: #{command.since_pr} is not a merged pull "
                    "request of this repository; --since needs one"
                )
            pulls = api.merged_pulls(default, 500, stop_before=since)
        elif command.since_date is not None:
            pulls = api.merged_pulls(default, 500, stop_before=command.since_date)
        elif command.since_sha is not None:
            pulls = api.merged_pulls(default, 500, stop_before=api.commit_date(command.since_sha))
        else:
            waiting = [PrRef.model_validate(m.data) for m in self.store.waiting_merges(repo)]
            refs = {p.number: p for p in waiting}
            refs.setdefault(pull.number, PrRef.from_pull(pull))
            numbers = [n for n in refs if n in ledger]
            return list(refs.values()), numbers
        refs_list = [PrRef.from_pull(p) for p in pulls if p.merge_commit_sha]
        return refs_list, [p.number for p in refs_list if p.number in ledger]

    def _review_open(
        self, api: RepoAPI, default: str, pull: PullRequest, config: RepoConfig, problem: str | None
    ) -> Report:
        # GitHub's test merge of an open pull request (merge_commit_sha) holds both the merged
        # code and the pull request's changes; its first parent is the base branch's tip.
        ref = PrRef.from_pull(pull)
        report, _ = self._review(api, default, [ref], config, problem, head_sha=ref.merge_sha)
        return report


def refused_comment(problem: str) -> str:
    """The issue comment that says why no pull request carries out this unification."""
    return (
        "idealdiff did not open a pull request for this unification: the change could not be "
        f"computed or did not pass validation.\n\n> {neutralize(problem)}\n\n"
        "The plan above still stands; a person (or a later review) can carry it out."
    )


def pulls_summary(pulls: list[PullResult]) -> str:
    """Lines for the command's reply: the pull requests this review opened or updated."""
    shown = [p for p in pulls if p.action in ("opened", "updated", "unchanged")]
    if not shown:
        return ""
    lines = [f"- {p.action}: {p.url} ({'draft' if p.draft else 'ready for review'})" for p in shown]
    return "\n\nPull requests carrying out the unifications:\n" + "\n".join(lines)


def run_migrate(env_file: str | None = ".env") -> int:
    """``idealdiff migrate``: upgrade the App's database to this version's schema, then exit."""
    from pathlib import Path

    settings = Settings.from_env(env_file=Path(env_file) if env_file else None)
    store = open_state(settings)
    before, after = store.schema
    where = store.where
    store.close()
    sys.stdout.write(
        f"{where}: schema version {after}"
        + (f" (upgraded from {before})\n" if before != after else " (already current)\n")
    )
    return 0


def run_reconcile(env_file: str | None = ".env") -> int:
    """``idealdiff reconcile``: record the merges whose webhook never came, then exit."""
    from pathlib import Path

    from app.github.client import GitHubApp

    logs.configure()
    settings = Settings.from_env(env_file=Path(env_file) if env_file else None)
    logs.add_secrets(settings.secrets())
    store = open_state(settings)
    try:
        added = reconcile(store, GitHubApp(settings).repo, time.time())
    finally:
        store.close()
    for repo, numbers in sorted(added.items()):
        sys.stdout.write(f"{repo}: recorded {', '.join(f'#{n}' for n in numbers)}\n")
    if not added:
        sys.stdout.write("every merge of the installed repositories is in the ledger\n")
    return 0


def run_worker(env_file: str | None = ".env") -> int:
    """``idealdiff worker``: run jobs beside a server on the same database, until SIGTERM/SIGINT."""
    import signal
    from pathlib import Path

    from app.github.client import GitHubApp

    logs.configure()
    settings = Settings.from_env(env_file=Path(env_file) if env_file else None)
    logs.add_secrets(settings.secrets())
    check_single_machine(settings, os.environ)
    store = open_state(settings)
    worker = Worker(settings, store, GitHubApp(settings).repo)

    stopping = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.start()
    stopping.wait()
    # The job in hand may finish within the grace; past it, it goes back to the queue before
    # the process exits, so no lease outlives the worker.
    worker.stop(grace=settings.shutdown_grace_seconds)
    store.close()
    return 0
