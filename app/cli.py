"""The ``idealdiff`` command line.

Exit codes of ``review``: 0 no findings, 1 findings, 2 error (bad arguments, not a repository,
a ``--since`` that names nothing). ``demo`` exits 0 when the review ran.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from app import __version__
from app.errors import IdealdiffError
from app.local.history import DEFAULT_DEPTH
from app.local.run import render_report, run_review

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idealdiff",
        description="Find the drift a batch of parallel branches left behind.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    sub.add_parser(
        "migrate", help="bring the App's database to this version's schema (serve does it too)"
    )
    sub.add_parser(
        "reconcile",
        help="record the merges whose webhook never reached the App (after an outage), once",
    )
    return parser


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
            from app.local.demo import run_demo

            text = run_demo(args.path, args.format)
            sys.stdout.write(text)
            return EXIT_CLEAN
        if args.command == "serve":
            from app.service.http import serve

            return serve(args.host, args.port, worker=not args.no_worker)
        if args.command == "worker":
            from app.service.worker import run_worker

            return run_worker()
        if args.command == "migrate":
            from app.service.worker import run_migrate

            return run_migrate()
        if args.command == "reconcile":
            from app.service.worker import run_reconcile

            return run_reconcile()
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
