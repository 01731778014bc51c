"""The ``idealdiff`` command line.

Exit codes of ``review``: 0 no findings, 1 findings, 2 error (bad arguments, not a repository,
a ``--since`` that names nothing). ``demo`` exits 0 when the review ran.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from analyzers.edits import branch_name
from app.batch import DEFAULT_DEPTH, collect_batch
from app.config import data_dir
from app.context import CodeReader
from app.errors import GitError, IdealdiffError
from app.gitrepo import GitRepo
from app.idealize import make_idealizer
from app.issue import issue_title
from app.local import read_repo_config, write_branch
from app.progress import ProgressBar
from app.render import render
from app.report import ChangeRecord, Changes, Report, to_json, to_sarif
from app.review import review
from app.store import Store
from app.unify import plan_changes, review_fingerprint

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_REMOTE = re.compile(r"[/:]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idealdiff",
        description="Find the drift a batch of parallel branches left behind.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rv = sub.add_parser(
        "review",
        help="review the branches merged into a base branch",
        description="Review the branches merged into --base after --since. "
        "Exit code: 0 no findings, 1 findings, 2 error.",
    )
    rv.add_argument("path", nargs="?", default=".", help="a git repository (default: .)")
    rv.add_argument("--base", default="HEAD", help="the branch the batch was merged into")
    rv.add_argument(
        "--since",
        help="a revision or a date (YYYY-MM-DD): the batch is what came after it "
        f"(default: the last {DEFAULT_DEPTH} first-parent commits)",
    )
    rv.add_argument("--format", choices=("markdown", "json", "sarif"), default="markdown")
    rv.add_argument("--output", "-o", help="write the report here instead of standard output")
    rv.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    rv.add_argument("--jobs", type=int, default=None, help="parallel parsers (default: cores)")
    rv.add_argument(
        "--llm",
        choices=("auto", "anthropic", "offline"),
        default="auto",
        help="who writes the idealized diffs: Anthropic, or the offline planner "
        "(auto: Anthropic when ANTHROPIC_API_KEY is set)",
    )
    rv.add_argument("--model", help="the Anthropic model (default: $IDEALDIFF_MODEL or built in)")
    rv.add_argument(
        "--apply",
        action="store_true",
        help="carry out the unifications: a branch idealdiff/<fingerprint> with one commit per "
        "finding (your working tree and current branch are not touched)",
    )
    demo = sub.add_parser("demo", help="build a demo repository with parallel branches, review it")
    demo.add_argument("--path", help="build the demo repository here (default: a temp dir)")
    demo.add_argument("--format", choices=("markdown", "json", "sarif"), default="markdown")
    serve = sub.add_parser("serve", help="run the GitHub App: webhook server and a worker")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--no-worker", action="store_true", help="serve webhooks only")
    sub.add_parser("worker", help="run App jobs beside `idealdiff serve` on the same database")
    return parser


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
    store = Store(data_dir() / "idealdiff.sqlite3") if use_cache else None
    bar = ProgressBar()
    try:
        idealizer = make_idealizer(llm, store, model=model, edits=apply or None)
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


def apply_locally(repo: GitRepo, report: Report, store: Store | None) -> Changes:
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


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "review":
            report = run_review(
                args.path,
                args.base,
                args.since,
                use_cache=not args.no_cache,
                jobs=args.jobs,
                llm=args.llm,
                model=args.model,
                apply=args.apply,
            )
            _write(render_report(report, args.format), args.output)
            return EXIT_FINDINGS if report.findings else EXIT_CLEAN
        if args.command == "demo":
            from app.demo import run_demo

            text = run_demo(args.path, args.format)
            sys.stdout.write(text)
            return EXIT_CLEAN
        if args.command == "serve":
            from app.server import serve

            return serve(args.host, args.port, worker=not args.no_worker)
        if args.command == "worker":
            from app.worker import run_worker

            return run_worker()
    except IdealdiffError as exc:
        sys.stderr.write(f"idealdiff: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("idealdiff: interrupted\n")
        return 130
    except OSError as exc:
        sys.stderr.write(f"idealdiff: error: {exc}\n")
        return EXIT_ERROR
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
