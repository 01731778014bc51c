"""Webhook deliveries for tests: derived from octokit's real examples, validated, then signed.

The examples hold no merged ``pull_request.closed`` and no ``issue_comment`` on a pull request, so
those are derived from the closest example and checked against GitHub's webhook JSON schema.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECRET = "test-webhook-secret-7f3a"


@lru_cache(maxsize=1)
def recorded_examples() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = json.loads(
        (FIXTURES / "webhook-examples.json").read_text()
    )
    return data


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "webhook-schema-subset.json").read_text())
    return data


def example(name: str, index: int = 0) -> dict[str, Any]:
    """A deep copy of one recorded example (``"pull_request.closed"``, ``"ping"``...)."""
    return copy.deepcopy(recorded_examples()[name][index])


def validate(payload: dict[str, Any], definition: str) -> dict[str, Any]:
    """Raise unless ``payload`` conforms to the webhook schema's ``definition``."""
    schema = {**_schema(), "$ref": f"#/definitions/{definition}"}
    jsonschema.Draft7Validator(schema).validate(payload)
    return payload


def _repository(payload: dict[str, Any], full_name: str, default_branch: str) -> None:
    owner, name = full_name.split("/")
    repo = payload["repository"]
    repo.update(name=name, full_name=full_name, default_branch=default_branch)
    repo["owner"]["login"] = owner


def merged_pr(
    repo: str,
    number: int,
    *,
    title: str,
    author: str,
    merge_sha: str,
    merged_at: str,
    body: str = "",
    base: str = "main",
    installation: int = 42,
    default_branch: str = "main",
) -> dict[str, Any]:
    """A ``pull_request`` ``closed`` delivery with ``merged: true``."""
    payload = example("pull_request.closed")
    _repository(payload, repo, default_branch)
    pr = payload["pull_request"]
    payload["number"] = pr["number"] = number
    pr.update(
        title=title,
        body=body or None,
        merged=True,
        merged_at=merged_at,
        closed_at=merged_at,
        merge_commit_sha=merge_sha,
        merged_by=copy.deepcopy(payload["sender"]),
    )
    pr["user"]["login"] = author
    pr["base"]["ref"] = base
    payload["installation"] = {
        "id": installation,
        "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
    }
    return validate(payload, "pull_request$closed")


def pr_comment(
    repo: str,
    number: int,
    body: str,
    *,
    user: str = "maintainer",
    user_type: str = "User",
    comment_id: int = 9001,
    merged: bool = True,
    installation: int = 42,
) -> dict[str, Any]:
    """An ``issue_comment`` ``created`` delivery on a pull request."""
    payload = example("issue_comment.created", 3)
    _repository(payload, repo, "main")
    issue = payload["issue"]
    issue["number"] = number
    api = f"https://api.github.com/repos/{repo}/pulls/{number}"
    html = f"https://github.com/{repo}/pull/{number}"
    issue["pull_request"] = {
        "url": api,
        "html_url": html,
        "diff_url": html + ".diff",
        "patch_url": html + ".patch",
        "merged_at": "2026-11-20T10:00:00Z" if merged else None,
    }
    comment = payload["comment"]
    comment.update(id=comment_id, body=body)
    comment["user"].update(login=user, type=user_type)
    payload["sender"].update(login=user, type=user_type)
    payload["installation"] = {
        "id": installation,
        "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
    }
    return validate(payload, "issue_comment$created")


def sign(body: bytes, secret: str = SECRET) -> str:
    """The ``X-Hub-Signature-256`` header GitHub would send."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(event: str, delivery: str, body: bytes, secret: str = SECRET) -> dict[str, str]:
    """The headers of a signed delivery."""
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }
