"""The ``/idealize`` comment command: its grammar and its help text.

Grammar (the first line of a comment that starts with ``/idealize``; quoted lines and code
blocks are not commands):

    /idealize                  review this pull request's batch
    /idealize pr               the same, and open a draft pull request per unification
    /idealize help             show the help
    /idealize --last N         review the last N merged pull requests (1 to 50)
    /idealize --since X        review what was merged after X: a date (YYYY-MM-DD), a commit
                               sha (7 to 40 hex digits) or a pull request (#N)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

PREFIX = "/idealize"
MAX_LAST = 50

HELP = """\
**idealdiff** finds what a batch of merged pull requests built twice, and opens one
unification issue per redundancy.

- `/idealize`: on a merged pull request, review it with the others merged since the last
  review; on an open one, compare its changes with the merged code and answer here
- `/idealize --last N`: review the last N merged pull requests (1 to 50)
- `/idealize --since 2026-11-01`: review what was merged after a date, a commit
  (`--since 1a2b3c4`) or a pull request (`--since #42`)
- `/idealize pr`: the same review, and a draft pull request that carries out each
  unification idealdiff can compute and validate (also `/idealize pr --last N` ...)
- `/idealize help`: show this help

Only people with write access to the repository can run a review. Settings live in
`.github/idealdiff.yml` on the default branch.
"""

_SHA = re.compile(r"[0-9a-fA-F]{7,40}")
_PR = re.compile(r"#(\d+)")


@dataclass(frozen=True)
class Command:
    """One parsed ``/idealize`` command."""

    action: Literal["review", "help"]
    last: int | None = None
    since_date: str | None = None
    since_sha: str | None = None
    since_pr: int | None = None
    pr: bool = False  # also open draft pull requests that carry out the unifications
    error: str | None = None  # why the text was not understood (the help is shown with it)


def find_command(body: str | None) -> str | None:
    """The command line of a comment, or None when the comment holds no command."""
    if not body:
        return None
    fenced = False
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced or stripped.startswith(">"):
            continue
        if stripped == PREFIX or stripped.startswith(PREFIX + " "):
            return stripped
    return None


def parse_command(line: str) -> Command:
    """Parse a command line (as ``find_command`` returns it); never raises."""
    words = line.split()[1:]
    if words[:1] == ["pr"]:
        parsed = parse_command(" ".join([PREFIX, *words[1:]]))
        return replace(parsed, pr=True) if parsed.action == "review" else parsed
    if not words:
        return Command("review")
    if words in (["help"], ["--help"], ["-h"]):
        return Command("help")
    if len(words) == 2 and words[0] == "--last":
        if words[1].isdigit() and 1 <= int(words[1]) <= MAX_LAST:
            return Command("review", last=int(words[1]))
        return _confused(f"`--last` takes a number from 1 to {MAX_LAST}, not `{words[1][:40]}`")
    if len(words) == 2 and words[0] == "--since":
        value = words[1]
        if match := _PR.fullmatch(value):
            return Command("review", since_pr=int(match.group(1)))
        if len(value) == 10:
            try:
                return Command("review", since_date=date.fromisoformat(value).isoformat())
            except ValueError:
                pass
        if _SHA.fullmatch(value):
            return Command("review", since_sha=value.lower())
        return _confused(
            f"`--since` takes a date (YYYY-MM-DD), a commit sha or `#N`, not `{value[:40]}`"
        )
    return _confused(f"`{' '.join(words)[:60]}` is not an option I know")


def _confused(why: str) -> Command:
    return Command("help", error=why)


def help_text(error: str | None = None) -> str:
    """The help, with the reason first when a command was not understood."""
    return (f"{error}.\n\n" if error else "") + HELP
