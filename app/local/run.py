"""The local side of a review: a git repository on disk as the code source, the review of it
the CLI (and the demo) run, and the branch ``--apply`` writes."""

from __future__ import annotations

import codecs
import json
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from analyzers.edits import ChangeSet, branch_name
from app.errors import GitError, UsageError
from app.idealize.changes import plan_changes, review_fingerprint
from app.idealize.idealizer import make_idealizer
from app.local.history import collect_batch
from app.local.progress import ProgressBar
from app.local.repo import GitRepo
from app.publish.issue import issue_title
from app.render.formats import to_json, to_sarif
from app.render.templates import render
from app.review.config import CONFIG_PATH, RepoConfig, load_repo_config
from app.review.pipeline import review
from app.review.report import ChangeRecord, Changes, Report
from app.review.source import CodeReader
from app.settings import Settings
from app.store import Cache
from app.store.open import open_cache


def read_repo_config(repo: GitRepo, rev: str) -> tuple[RepoConfig, str | None]:
    """The config at ``rev`` (the base branch), or the defaults and the reason it was refused."""
    blob = repo.tree(rev, [CONFIG_PATH]).get(CONFIG_PATH)
    data = repo.blobs([blob]).get(blob, b"") if blob else None
    return load_repo_config(data.decode("utf-8", errors="replace") if data is not None else None)


FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "idealdiff",
    "GIT_AUTHOR_EMAIL": "idealdiff@localhost",
    "GIT_COMMITTER_NAME": "idealdiff",
    "GIT_COMMITTER_EMAIL": "idealdiff@localhost",
}


@dataclass(frozen=True)
class LocalCommit:
    """One commit ``--apply`` wrote: the finding it carries out, and its sha."""

    finding_id: str
    sha: str
    subject: str


def write_branch(
    repo: GitRepo, head_sha: str, branch: str, changes: Sequence[ChangeSet]
) -> list[LocalCommit]:
    """Create (or move) ``branch`` to one commit per change on top of ``head_sha``.

    Only git objects and the one ref are written: a temporary index stands in for the user's,
    so their working tree, their index and their current branch are never touched.
    """
    ref = f"refs/heads/{branch}"
    try:
        current = repo.run("symbolic-ref", "-q", "HEAD").decode().strip()
    except GitError:
        current = ""  # a detached HEAD
    if current == ref:
        raise UsageError(
            f"{branch} is checked out; switch to another branch to let --apply move it"
        )
    identity: dict[str, str] = {}
    try:
        repo.run("var", "GIT_COMMITTER_IDENT")
    except GitError:
        identity = FALLBACK_IDENTITY  # no user.name/email configured: still commit, as idealdiff
    commits: list[LocalCommit] = []
    with tempfile.TemporaryDirectory(prefix="idealdiff-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **identity}
        repo.run("read-tree", head_sha, env=env)
        parent = head_sha
        for change in changes:
            for edit in change.edits:
                if edit.after is None:
                    repo.run("update-index", "--force-remove", "--", edit.path, env=env)
                    continue
                blob = repo.run(
                    "hash-object",
                    "-w",
                    "--stdin",
                    input=_encode(repo, head_sha, edit.path, edit.after),
                )
                staged = repo.run("ls-files", "-s", "--", edit.path, env=env).decode().split()
                mode = staged[0] if staged else "100644"  # keep an executable bit
                repo.run(
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    f"{mode},{blob.decode().strip()},{edit.path}",
                    env=env,
                )
            tree = repo.run("write-tree", env=env).decode().strip()
            message = f"{change.subject}\n\n{change.body}\n"
            sha = repo.run(
                "commit-tree", tree, "-p", parent, "-F", "-", input=message.encode(), env=env
            )
            parent = sha.decode().strip()
            commits.append(LocalCommit(change.finding_id, parent, change.subject))
    old = repo.resolve(ref) or "0" * 40
    repo.run("update-ref", "-m", "idealdiff review --apply", ref, parent, old)
    return commits


def _encode(repo: GitRepo, head_sha: str, path: str, text: str) -> bytes:
    """The bytes of a new file text, keeping the byte-order mark the file had."""
    blob = repo.tree(head_sha, [path]).get(path)
    had_bom = blob is not None and repo.blobs([blob]).get(blob, b"").startswith(codecs.BOM_UTF8)
    return (codecs.BOM_UTF8 if had_bom else b"") + text.encode("utf-8")


_REMOTE = re.compile(r"[/:]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def repo_name(repo: GitRepo) -> str:
    """``owner/name`` from the origin remote when it has that shape, else the folder name.

    The remote URL itself is never shown: it may carry a token.
    """
    try:
        url = repo.run("config", "--get", "remote.origin.url").decode().strip()
    except GitError:
        url = ""
    if match := _REMOTE.search(url):
        return f"{match.group(1)}/{match.group(2)}"
    return repo.path.name


def render_report(report: Report, fmt: str) -> str:
    """The report in the requested format."""
    if fmt == "json":
        return json.dumps(to_json(report), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(to_sarif(report), indent=2) + "\n"
    return render("report.md.j2", report=report, issue_title=issue_title)


def run_review(
    path: str,
    base: str,
    since: str | None,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    llm: str = "auto",
    model: str | None = None,
    apply: bool = False,
) -> Report:
    """Review a local repository, with the cache in the data directory.

    With ``apply``, each finding's validated change is committed on a branch of its own
    (``idealdiff/<fingerprint>``), and the report says what was committed or skipped and why.
    """
    repo = GitRepo(path)
    batch = collect_batch(repo, base, since)
    config, problem = read_repo_config(repo, batch.head_sha)
    if problem:
        sys.stderr.write(f"idealdiff: {problem}; using the defaults\n")
    base_name = base
    if base == "HEAD":
        try:
            base_name = repo.run("rev-parse", "--abbrev-ref", "HEAD").decode().strip()
        except GitError:
            base_name = "HEAD"
    batch = type(batch)(base_name, batch.head_sha, batch.since, batch.branches)
    settings = Settings.from_env()
    store = open_cache(settings) if use_cache else None
    bar = ProgressBar()
    try:
        idealizer = make_idealizer(settings.llm, store, mode=llm, model=model, edits=apply or None)
        report, _ = review(
            repo,
            batch,
            config,
            repo=repo_name(repo),
            store=store,
            progress=bar,
            config_problem=problem,
            workers=jobs,
            idealizer=idealizer,
        )
        if apply:
            report = replace(report, changes=apply_locally(repo, report, store))
    finally:
        bar.close()
        if store is not None:
            store.close()
    return report


def apply_locally(repo: GitRepo, report: Report, store: Cache | None) -> Changes:
    """Commit every finding's validated change on ``idealdiff/<fingerprint>``."""
    reader = CodeReader(repo, report.head_sha, repo.tree(report.head_sha))
    outcomes = plan_changes(report, reader, cumulative=True, store=store)
    changes = [o.change for o in outcomes if o.change is not None]
    branch = branch_name(review_fingerprint(report, [c.finding_id for c in changes]))
    written = write_branch(repo, report.head_sha, branch, changes) if changes else []
    commits = {c.finding_id: c for c in written}
    records = tuple(
        ChangeRecord(o.finding_id, "committed", commits[o.finding_id].sha[:12], o.source)
        if o.finding_id in commits
        else ChangeRecord(o.finding_id, "skipped", o.problem or "no change", o.source)
        for o in outcomes
    )
    if not commits:
        return Changes("no branch: nothing could be carried out", records)
    sys.stderr.write(
        f"idealdiff: {len(commits)} commit(s) on {branch}; see them with "
        f"`git log -p {report.head_sha[:12]}..{branch}`\n"
    )
    return Changes(branch, records)
