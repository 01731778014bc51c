"""The history of a local repository as a batch: the first-parent chain after ``--since``."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from app.errors import UsageError
from app.local.repo import Commit, GitRepo
from app.review.batch import EMPTY_TREE, Batch, Branch, read_patch

# When --since is absent the batch is the last DEFAULT_DEPTH commits of the first-parent chain:
# a typical batch of parallel agent branches is a handful to a few dozen merges.
DEFAULT_DEPTH = 20

_GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) from (\S+)")
_BRANCH_MERGE = re.compile(r"^Merge (?:remote-tracking )?branch '([^']+)'")
_SQUASH = re.compile(r"^(.*\S)\s+\(#(\d+)\)$")


def describe_commit(commit: Commit) -> tuple[str, str, str]:
    """(id, title, description) of a GitHub merge, a branch merge, a squash or any commit."""
    short = commit.sha[:7]
    if match := _GITHUB_MERGE.match(commit.subject):
        body_lines = commit.body.splitlines()
        title = body_lines[0].strip() if body_lines and body_lines[0].strip() else match.group(2)
        description = "\n".join(body_lines[1:]).strip()
        return f"#{match.group(1)}", title, description
    if match := _BRANCH_MERGE.match(commit.subject):
        return short, match.group(1), commit.body
    if match := _SQUASH.match(commit.subject):
        return f"#{match.group(2)}", match.group(1), commit.body
    return short, commit.subject, commit.body


_SHALLOW_HINT = (
    "; fetch more history with `git fetch --deepen=50` or `git fetch --unshallow` "
    "(in GitHub Actions: actions/checkout with `fetch-depth: 0`), or pass a later --since"
)


def _parse_date(text: str) -> str | None:
    try:
        if len(text) == 10:
            # Midnight, spelled out: git reads a bare date as that day at the current time.
            return datetime.combine(date.fromisoformat(text), time.min).isoformat()
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return None


def collect_batch(repo: GitRepo, base: str, since: str | None) -> Batch:
    """Walk ``base``'s first-parent chain after ``since`` (a revision or an ISO date)."""
    head = repo.resolve(base)
    if head is None:
        if repo.resolve("HEAD") is None and not repo.run("for-each-ref", "--count=1").strip():
            raise UsageError(f"{repo.path} has no commits yet: there is no batch to review")
        raise UsageError(f"--base {base!r} does not name a commit in {repo.path}")
    shallow = repo.shallow_boundary()
    if since is None:
        commits = repo.first_parent_log(head, limit=DEFAULT_DEPTH)
    elif (rev := repo.resolve(since)) is not None:
        commits = repo.first_parent_log(head, exclude=rev)
    elif (when := _parse_date(since)) is not None:
        commits = repo.first_parent_log(head, after=when)
    else:
        raise UsageError(
            f"--since {since!r} is neither a revision of this repository nor a date "
            "(YYYY-MM-DD or an ISO 8601 timestamp)" + (_SHALLOW_HINT if shallow else "")
        )
    # In a shallow clone the oldest commit git has looks like it added the whole repository:
    # reviewing it would blame one commit for everything. Refuse rather than mislead.
    if cut := [c for c in commits if c.sha in shallow]:
        raise UsageError(
            f"this is a shallow clone and the batch reaches its boundary at {cut[0].sha[:12]}, "
            "whose parents were not fetched" + _SHALLOW_HINT
        )
    branches = tuple(_branch(repo, commit) for commit in commits)
    return Batch(base=base, head_sha=head, since=since, branches=branches)


def _branch(repo: GitRepo, commit: Commit) -> Branch:
    ident, title, description = describe_commit(commit)
    parent = commit.parents[0] if commit.parents else EMPTY_TREE
    patch, absent = repo.diff(parent, commit.sha)
    files, note = read_patch(patch)
    if absent:
        listed = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
        note = (f"{note}; " if note else "") + (
            f"{len(absent)} changed file{'s' * (len(absent) != 1)} not read: "
            f"{'their contents are' if len(absent) > 1 else 'its content is'} not in the "
            f"repository (a partial clone?): {listed}"
        )
    # A merge commit's author is whoever pressed "merge"; the branch tip's author wrote the code.
    author = repo.author(commit.parents[1]) if len(commit.parents) > 1 else commit.author
    return Branch(
        id=ident,
        title=title,
        author=author,
        date=commit.date,
        merge_sha=commit.sha,
        parent_sha=parent,
        description=description,
        files=files,
        note=note,
    )
