"""A local GitHub for tests: a real HTTP server on loopback that the real githubkit client talks to.

Every request is validated against GitHub's official OpenAPI description (trimmed copy in
``fixtures/``); a request the description does not allow, or that no route serves, is answered
400/404 and kept in ``problems`` (the ``github`` fixture fails the test if any remain). Installation
tokens are issued only for a JWT signed with the test App's key. Trees, blobs, diffs and tarballs
come from real git repositories on disk; issues, comments and reactions are recorded.

Writes through the Git Data API are real too: blobs (``git hash-object -w``), trees (a scratch
index: ``read-tree`` of the base tree, ``update-index``, ``write-tree``), commits
(``git commit-tree``) and refs (``git update-ref``) land in the repository on disk, so a test can
check the branch out. Pull requests are records whose head follows their branch.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import secrets
import socket
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from werkzeug.datastructures import Headers, ImmutableMultiDict

FIXTURES = Path(__file__).resolve().parent / "fixtures"
APP_ID = "4242"
# Who GitHub records as author and committer of a commit an App makes without naming one.
BOT = {"name": "idealdiff[bot]", "email": "4242+idealdiff[bot]@users.noreply.github.com"}


def _user_id(login: str) -> int:
    """A stable user id for a login, as GitHub gives every account one."""
    return zlib.crc32(login.encode()) % 10_000_000 + 1


# GitHub's answer to a draft pull request on a plan without drafts (a private repository on Free).
DRAFTS_REFUSED = {
    "message": "Draft pull requests are not supported in this repository.",
    "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
}


@dataclass
class StandinRepo:
    """One repository the stand-in serves: a git repository on disk plus GitHub's own records."""

    full_name: str
    path: Path
    default_branch: str = "main"
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)
    next_number: int = 1000

    def git(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> bytes:
        """Run git in the repository (``env`` is added to the process environment)."""
        return subprocess.run(
            ["git", *args],
            cwd=self.path,
            capture_output=True,
            check=True,
            input=stdin,
            env={**os.environ, **env} if env else None,
        ).stdout

    def resolve(self, rev: str) -> str | None:
        """The object ``rev`` names, or None."""
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", rev], cwd=self.path, capture_output=True
        )
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def kind(self, sha: str) -> str | None:
        """``blob``, ``tree``, ``commit``... of an object, or None when there is no such object."""
        done = subprocess.run(["git", "cat-file", "-t", sha], cwd=self.path, capture_output=True)
        return done.stdout.decode().strip() if done.returncode == 0 else None


def make_key() -> tuple[str, Any]:
    """A fresh RSA key: (private PEM text, public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


# The description is parsed once per path prefix (about a second each) and shared by every
# stand-in: requests are validated as if sent to this host, whatever port served them.
SPEC_HOST = "http://standin.invalid"

_LEVELS = ("none", "read", "write")
_R = "/repos/{owner}/{repo}"
# The installation permission each endpoint needs, as GitHub's REST docs list them.
_NEEDS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", _R): ("metadata", "read"),
    ("GET", _R + "/git/ref/{ref:path}"): ("contents", "read"),
    ("POST", _R + "/git/refs"): ("contents", "write"),
    ("PATCH", _R + "/git/refs/{ref:path}"): ("contents", "write"),
    ("GET", _R + "/git/commits/{commit_sha}"): ("contents", "read"),
    ("POST", _R + "/git/commits"): ("contents", "write"),
    ("GET", _R + "/git/trees/{tree_sha}"): ("contents", "read"),
    ("POST", _R + "/git/trees"): ("contents", "write"),
    ("GET", _R + "/git/blobs/{file_sha}"): ("contents", "read"),
    ("POST", _R + "/git/blobs"): ("contents", "write"),
    ("GET", _R + "/tarball/{ref}"): ("contents", "read"),
    ("GET", _R + "/compare/{basehead}"): ("contents", "read"),
    ("GET", _R + "/contents/{path:path}"): ("contents", "read"),
    ("GET", _R + "/pulls"): ("pull_requests", "read"),
    ("POST", _R + "/pulls"): ("pull_requests", "write"),
    ("GET", _R + "/pulls/{pull_number}"): ("pull_requests", "read"),
    ("PATCH", _R + "/pulls/{pull_number}"): ("pull_requests", "write"),
    ("GET", _R + "/collaborators/{username}/permission"): ("metadata", "read"),
    ("GET", _R + "/issues"): ("issues", "read"),
    ("POST", _R + "/issues"): ("issues", "write"),
    ("PATCH", _R + "/issues/{issue_number}"): ("issues", "write"),
    # Comments and reactions on a pull request's conversation: pull requests write does.
    ("POST", _R + "/issues/{issue_number}/comments"): ("pull_requests", "write"),
    ("POST", _R + "/issues/comments/{comment_id}/reactions"): ("pull_requests", "write"),
}


@functools.lru_cache(maxsize=1)
def _manifest_permissions() -> tuple[tuple[str, str], ...]:
    """The permissions ``app.yml`` asks for: what an installation of the App grants."""
    import yaml

    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "app.yml").read_text())
    return tuple(sorted(manifest["default_permissions"].items()))


_SPEC_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _spec(prefix: str) -> OpenAPI:
    spec = json.loads((FIXTURES / "github-openapi-subset.json").read_text())
    spec["servers"] = [{"url": SPEC_HOST + prefix}]
    return OpenAPI.from_dict(spec)


class _ValidationRequest:
    """A request as openapi-core reads it."""

    def __init__(
        self, host_url: str, path: str, method: str, query: Any, headers: Any, body: bytes
    ) -> None:
        self.host_url = host_url
        self.path = path
        self.method = method.lower()
        self.body = body or None
        self.content_type = headers.get("content-type", "") if body else ""
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(query.multi_items())),
            header=Headers(list(headers.items())),
            cookie=ImmutableMultiDict(),
            path={},
        )

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


Handler = Callable[[Request, StandinRepo | None, dict[str, str]], Any]


class GitHubStandin:
    """The server and its recorded state; ``url`` is what GITHUB_API_URL points at."""

    def __init__(self, public_key: Any, prefix: str = "") -> None:
        self.public_key = public_key
        self.prefix = prefix
        self.repos: dict[str, StandinRepo] = {}
        self.tokens: dict[str, int] = {}
        # The installation's permissions: the manifest's, unless a test lowers one.
        self.app_permissions: dict[str, str] = dict(_manifest_permissions())
        self.refused: list[str] = []  # calls answered 403 for a missing permission
        self.requests: list[tuple[str, str, int]] = []
        self.problems: list[str] = []
        self.failures: list[tuple[str, str, int, dict[str, str]]] = []
        self.holds: dict[tuple[str, str], tuple[threading.Event, threading.Event]] = {}
        self.truncate_trees = False  # answer as GitHub does for trees above 100,000 entries
        self.drafts_supported = True  # False: refuse drafts as GitHub does on a Free private repo
        self.written = {"blobs": 0, "trees": 0, "commits": 0}  # objects created through the API
        self.lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}{prefix}"
        self.spec = _spec(prefix)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- test controls -------------------------------------------------------------------------

    def add_repo(self, full_name: str, path: Path, default_branch: str = "main") -> StandinRepo:
        """Serve a git repository on disk as ``full_name``."""
        repo = StandinRepo(full_name, path, default_branch)
        self.repos[full_name] = repo
        return repo

    def add_pull(
        self,
        full_name: str,
        number: int,
        *,
        title: str,
        author: str,
        merge_sha: str,
        head_sha: str,
        merged_at: str | None,
        body: str = "",
        base: str = "main",
    ) -> dict[str, Any]:
        """Record a pull request (merged when ``merged_at`` is given)."""
        repo = self.repos[full_name]
        base_sha = repo.git("rev-parse", f"{merge_sha}^1").decode().strip()
        pull = {
            "number": number,
            "title": title,
            "body": body or None,
            "state": "closed" if merged_at else "open",
            "user": {"login": author, "id": _user_id(author), "type": "User"},
            "merged_at": merged_at,
            "merge_commit_sha": merge_sha,
            "base": {"ref": base, "sha": base_sha},
            "head": {"ref": f"pr-{number}", "sha": head_sha},
            "html_url": f"https://github.com/{full_name}/pull/{number}",
            "updated_at": merged_at or "2026-11-20T10:00:00Z",
        }
        repo.pulls[number] = pull
        return pull

    def fail_next(
        self, method: str, path_suffix: str, status: int, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next matching request with ``status`` (5xx, or 403 + retry-after)."""
        with self.lock:
            self.failures.append((method, path_suffix, status, headers or {}))

    def hold(self, method: str, path_suffix: str) -> tuple[threading.Event, threading.Event]:
        """Serve the next matching request, then block before answering until released.

        Returns (arrived, release) events.
        """
        pair = (threading.Event(), threading.Event())
        self.holds[(method, path_suffix)] = pair
        return pair

    def calls(self, method: str, suffix: str) -> int:
        """How many requests with this method ended with ``suffix``."""
        return sum(1 for m, p, _ in self.requests if m == method and p.endswith(suffix))

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Serve in a background thread until ``stop``."""
        config = uvicorn.Config(self._app(), log_level="error", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving (and release every held request)."""
        for _, release in self.holds.values():
            release.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    # -- the app -------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        p = self.prefix
        r = "/repos/{owner}/{repo}"
        routes = [
            ("POST", "/app/installations/{installation_id}/access_tokens", self._token),
            ("GET", r, self._get_repo),
            ("GET", r + "/git/ref/{ref:path}", self._get_ref),
            ("POST", r + "/git/refs", self._create_ref),
            ("PATCH", r + "/git/refs/{ref:path}", self._update_ref),
            ("GET", r + "/git/commits/{commit_sha}", self._get_commit),
            ("POST", r + "/git/commits", self._create_commit),
            ("GET", r + "/git/trees/{tree_sha}", self._get_tree),
            ("POST", r + "/git/trees", self._create_tree),
            ("GET", r + "/git/blobs/{file_sha}", self._get_blob),
            ("POST", r + "/git/blobs", self._create_blob),
            ("GET", r + "/tarball/{ref}", self._tarball),
            ("GET", r + "/compare/{basehead}", self._compare),
            ("GET", r + "/contents/{path:path}", self._contents),
            ("GET", r + "/pulls", self._list_pulls),
            ("POST", r + "/pulls", self._create_pull),
            ("GET", r + "/pulls/{pull_number}", self._get_pull),
            ("PATCH", r + "/pulls/{pull_number}", self._update_pull),
            ("GET", r + "/collaborators/{username}/permission", self._permission),
            ("GET", r + "/issues", self._list_issues),
            ("POST", r + "/issues", self._create_issue),
            ("PATCH", r + "/issues/{issue_number}", self._update_issue),
            ("POST", r + "/issues/{issue_number}/comments", self._create_comment),
            ("POST", r + "/issues/comments/{comment_id}/reactions", self._react),
        ]
        starlette_routes = [
            Route(p + path, self._wrap(path, handler), methods=[method])
            for method, path, handler in routes
        ]
        starlette_routes.append(
            Route("/_codeload/{owner}/{repo}/{sha}", self._codeload, methods=["GET"])
        )
        return Starlette(routes=starlette_routes, exception_handlers={404: self._not_found})

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        self.problems.append(f"no route for {request.method} {request.url.path}")
        return JSONResponse({"message": "Not Found"}, status_code=404)

    def _wrap(self, template: str, handler: Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            params = dict(request.path_params)
            response = self._validate(request, template, params, body)
            key = (request.method, request.url.path)
            if response is None:
                response = self._injected_failure(request)
            if response is None and not template.startswith("/app/"):
                response = self._authorize(request, template)
            if response is None:
                repo = None
                if "owner" in params:
                    repo = self.repos.get(f"{params['owner']}/{params['repo']}")
                    if repo is None:
                        response = JSONResponse({"message": "Not Found"}, status_code=404)
                if response is None:
                    request.state.body = body
                    response = await _run(handler, request, repo, params)
            with self.lock:
                self.requests.append((key[0], key[1], response.status_code))
            await self._maybe_hold(request)
            return response

        return endpoint

    async def _maybe_hold(self, request: Request) -> None:
        for (method, suffix), (arrived, release) in list(self.holds.items()):
            if request.method == method and request.url.path.endswith(suffix):
                del self.holds[(method, suffix)]
                arrived.set()
                while not release.is_set():
                    await _sleep(0.02)

    def _validate(
        self, request: Request, template: str, params: dict[str, str], body: bytes
    ) -> Response | None:
        # Slashes inside a parameter ({ref}, {path}) are percent-encoded, as the spec's own
        # path matching needs.
        path = self.prefix + template.replace("{ref:path}", "{ref}").replace(
            "{path:path}", "{path}"
        ).format(**{k: quote(v, safe="") for k, v in params.items()})
        wrapped = _ValidationRequest(
            SPEC_HOST,
            path,
            request.method,
            request.query_params,
            request.headers,
            body,
        )
        try:
            with _SPEC_LOCK:
                self.spec.validate_request(wrapped)
        except Exception as exc:  # any violation is a test failure, reported with its cause
            problem = f"{request.method} {request.url.path}: {type(exc).__name__}: {exc}"
            self.problems.append(problem[:500])
            return JSONResponse({"message": "Validation Failed", "detail": problem}, 400)
        return None

    def _injected_failure(self, request: Request) -> Response | None:
        with self.lock:
            for i, (method, suffix, status, headers) in enumerate(self.failures):
                if request.method == method and request.url.path.endswith(suffix):
                    del self.failures[i]
                    message = (
                        "You have exceeded a secondary rate limit" if status == 403 else "boom"
                    )
                    return JSONResponse({"message": message}, status, headers=headers)
        return None

    def _authorize(self, request: Request, template: str) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or token not in self.tokens:
            return JSONResponse({"message": "Bad credentials"}, 401)
        scope, level = _NEEDS[(request.method, template)]
        granted = self.app_permissions.get(scope, "none")
        if _LEVELS.index(granted) < _LEVELS.index(level):
            # GitHub's answer to an installation token missing a permission.
            with self.lock:
                self.refused.append(f"{request.method} {template} needs {scope}: {level}")
            return JSONResponse(
                {
                    "message": "Resource not accessible by integration",
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "403",
                },
                403,
            )
        return None

    # -- handlers ------------------------------------------------------------------------------

    def _token(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return JSONResponse({"message": "A JSON web token could not be decoded"}, 401)
        try:
            claims = jwt.decode(
                header[7:],
                self.public_key,
                algorithms=["RS256"],
                options={"require": ["exp", "iat", "iss"]},
            )
        except jwt.PyJWTError as exc:
            return JSONResponse({"message": f"A JSON web token could not be decoded: {exc}"}, 401)
        if str(claims["iss"]) != APP_ID:
            return JSONResponse({"message": "Integration not found"}, 401)
        token = "ghs_" + secrets.token_hex(18)
        self.tokens[token] = int(params["installation_id"])
        return JSONResponse(
            {
                "token": token,
                "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
                "permissions": dict(self.app_permissions),
                "repository_selection": "all",
            },
            201,
        )

    def _get_repo(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        assert repo is not None
        owner, name = repo.full_name.split("/")
        return {
            "id": 1,
            "name": name,
            "full_name": repo.full_name,
            "owner": {"login": owner, "type": "Organization"},
            "default_branch": repo.default_branch,
            "private": True,
        }

    def _get_ref(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        assert repo is not None
        sha = repo.resolve("refs/" + params["ref"])
        if sha is None:
            return JSONResponse({"message": "Not Found"}, 404)
        return {"ref": "refs/" + params["ref"], "object": {"sha": sha, "type": "commit"}}

    def _get_commit(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        sha = params["commit_sha"]
        out = repo.git("log", "-1", "--format=%P%x00%T%x00%cI%x00%B", sha).decode()
        parents, tree, date, message = out.split("\x00", 3)
        return {
            "sha": sha,
            "parents": [{"sha": p} for p in parents.split()],
            "tree": {"sha": tree},
            "committer": {"name": "Ada Agent", "date": date},
            "message": message.strip(),
        }

    def _get_tree(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        assert repo is not None
        entries = []
        recursive = request.query_params.get("recursive") is not None
        raw = repo.git("ls-tree", *(["-r"] if recursive else []), "-z", params["tree_sha"])
        for entry in raw.split(b"\x00"):
            if entry:
                meta, _, path = entry.partition(b"\t")
                mode, kind, sha = meta.decode().split()
                entries.append({"path": path.decode(), "mode": mode, "type": kind, "sha": sha})
        if self.truncate_trees and recursive:
            return {"sha": params["tree_sha"], "tree": entries[:1], "truncated": True}
        return {"sha": params["tree_sha"], "tree": entries, "truncated": False}

    def _get_blob(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        assert repo is not None
        data = repo.git("cat-file", "blob", params["file_sha"])
        return {
            "sha": params["file_sha"],
            "size": len(data),
            "encoding": "base64",
            "content": base64.encodebytes(data).decode(),
        }

    def _tarball(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        assert repo is not None
        sha = repo.git("rev-parse", params["ref"]).decode().strip()
        # GitHub redirects to codeload with a short-lived token in the query string.
        return RedirectResponse(f"/_codeload/{repo.full_name}/{sha}?token=dl-secret", 302)

    async def _codeload(self, request: Request) -> Response:
        repo = self.repos[f"{request.path_params['owner']}/{request.path_params['repo']}"]
        sha = request.path_params["sha"]
        top = f"{repo.full_name.replace('/', '-')}-{sha[:7]}/"
        data = repo.git("archive", "--format=tar.gz", f"--prefix={top}", sha)
        with self.lock:
            self.requests.append(("GET", request.url.path, 200))
        return Response(data, media_type="application/x-gzip")

    def _compare(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        assert repo is not None
        base, _, head = params["basehead"].partition("...")
        if "diff" not in request.headers.get("accept", ""):
            return JSONResponse({"message": "the stand-in serves diffs only"}, 415)
        merge_base = repo.git("merge-base", base, head).decode().strip()
        diff = repo.git("diff", "--no-color", "--find-renames", merge_base, head)
        return Response(diff, media_type="text/plain; charset=utf-8")

    def _contents(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        assert repo is not None
        ref = request.query_params.get("ref", repo.default_branch)
        try:
            data = repo.git("show", f"{ref}:{params['path']}")
        except subprocess.CalledProcessError:
            return JSONResponse({"message": "Not Found"}, 404)
        return Response(data, media_type="application/vnd.github.raw")

    def _list_pulls(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        state = request.query_params.get("state", "open")
        items = [p for p in repo.pulls.values() if state == "all" or p["state"] == state]
        head = request.query_params.get("head")
        if head is not None:  # "owner:branch", as GitHub filters it
            owner, _, branch = head.partition(":")
            mine = owner == repo.full_name.split("/")[0]
            items = [p for p in items if mine and p["head"]["ref"] == branch]
        if request.query_params.get("sort") == "created":
            items.sort(key=lambda p: p["number"], reverse=True)
        else:
            items.sort(key=lambda p: p["updated_at"], reverse=True)
        page = int(request.query_params.get("page", "1"))
        per = int(request.query_params.get("per_page", "30"))
        listed = items[(page - 1) * per : page * per]
        # A conditional request as GitHub answers it: 304 with no body when nothing changed.
        etag = '"' + hashlib.sha1(json.dumps(listed, sort_keys=True).encode()).hexdigest() + '"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return JSONResponse(listed, headers={"ETag": etag})

    def _get_pull(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        assert repo is not None
        pull = repo.pulls.get(int(params["pull_number"]))
        return pull if pull else JSONResponse({"message": "Not Found"}, 404)

    def _permission(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        role = repo.permissions.get(params["username"])
        if role is None:
            return JSONResponse({"message": "is not a user"}, 404)
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        return {"permission": legacy, "role_name": role, "user": {"login": params["username"]}}

    def _list_issues(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        labels = set(filter(None, request.query_params.get("labels", "").split(",")))
        state = request.query_params.get("state", "open")
        items = [
            i
            for i in repo.issues.values()
            if (state == "all" or i["state"] == state)
            and labels <= {label["name"] for label in i["labels"]}
        ]
        items.sort(key=lambda i: -i["number"])
        page = int(request.query_params.get("page", "1"))
        per = int(request.query_params.get("per_page", "30"))
        return JSONResponse(items[(page - 1) * per : page * per])

    def _create_issue(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        data = json.loads(request.state.body)
        with self.lock:
            repo.next_number += 1
            number = repo.next_number
        issue = {
            "number": number,
            "title": data["title"],
            "body": data.get("body"),
            "state": "open",
            "state_reason": None,
            "labels": [{"name": name} for name in data.get("labels", [])],
            "html_url": f"https://github.com/{repo.full_name}/issues/{number}",
        }
        repo.issues[number] = issue
        return JSONResponse(issue, 201)

    def _update_issue(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        issue = repo.issues.get(int(params["issue_number"]))
        if issue is None:
            return JSONResponse({"message": "Not Found"}, 404)
        data = json.loads(request.state.body)
        for key in ("title", "body", "state", "state_reason"):
            if key in data:
                issue[key] = data[key]
        if "labels" in data:
            issue["labels"] = [{"name": n} for n in data["labels"]]
        return issue

    def _create_comment(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        data = json.loads(request.state.body)
        comment = {
            "id": 7000 + len(repo.comments),
            "issue_number": int(params["issue_number"]),
            "body": data["body"],
            "html_url": f"https://github.com/{repo.full_name}/issues/{params['issue_number']}"
            f"#issuecomment-{7000 + len(repo.comments)}",
        }
        repo.comments.append(comment)
        return JSONResponse(comment, 201)

    def _react(self, request: Request, repo: StandinRepo | None, params: dict[str, str]) -> Any:
        assert repo is not None
        data = json.loads(request.state.body)
        reaction = {"id": len(repo.reactions) + 1, "comment_id": int(params["comment_id"]), **data}
        repo.reactions.append(reaction)
        return JSONResponse(reaction, 201)

    # -- writing through the Git Data API and the pulls API --------------------------------------
    # Where GitHub's wording is known (documented or widely reported) it is kept, since the App
    # matches on some of it; the other messages are the stand-in's own.

    def _create_blob(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        data = json.loads(request.state.body)
        encoding = data.get("encoding", "utf-8")
        if encoding == "base64":
            content = base64.b64decode(data["content"], validate=True)
        elif encoding in ("utf-8", "utf8"):
            content = str(data["content"]).encode()
        else:
            return _unprocessable(f"encoding {encoding} is not supported")
        sha = repo.git("hash-object", "-w", "--stdin", stdin=content).decode().strip()
        with self.lock:
            self.written["blobs"] += 1
        return JSONResponse({"sha": sha, "url": f"{_api(repo)}/git/blobs/{sha}"}, 201)

    def _create_tree(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        """``base_tree`` read into a scratch index, each entry applied, the index written out."""
        assert repo is not None
        data = json.loads(request.state.body)
        base = data.get("base_tree")
        with tempfile.TemporaryDirectory() as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            if base:
                if repo.kind(base) != "tree":
                    return _unprocessable("base_tree is not a valid tree oid")
                repo.git("read-tree", base, env=env)
            else:
                repo.git("read-tree", "--empty", env=env)
            for entry in data["tree"]:
                problem = _apply_entry(repo, entry, env)
                if problem is not None:
                    return _unprocessable(problem)
            tree = repo.git("write-tree", env=env).decode().strip()
        with self.lock:
            self.written["trees"] += 1
        answer = {"sha": tree, "url": f"{_api(repo)}/git/trees/{tree}", "truncated": False}
        return JSONResponse({**answer, "tree": []}, 201)

    def _create_commit(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        data = json.loads(request.state.body)
        if repo.kind(data["tree"]) != "tree":
            return _unprocessable("Tree SHA does not exist")
        parents = list(data.get("parents") or [])
        if any(repo.kind(p) != "commit" for p in parents):
            return _unprocessable("Parent SHA does not exist or is not a commit object")
        author = _signature(data.get("author"))
        committer = _signature(data.get("committer") or data.get("author"))
        env = {
            "GIT_AUTHOR_NAME": author["name"],
            "GIT_AUTHOR_EMAIL": author["email"],
            "GIT_AUTHOR_DATE": author["date"],
            "GIT_COMMITTER_NAME": committer["name"],
            "GIT_COMMITTER_EMAIL": committer["email"],
            "GIT_COMMITTER_DATE": committer["date"],
        }
        args = ["commit-tree", data["tree"]]
        for parent in parents:
            args += ["-p", parent]
        sha = repo.git(*args, "-F", "-", stdin=data["message"].encode(), env=env).decode().strip()
        with self.lock:
            self.written["commits"] += 1
        return JSONResponse(
            {
                "sha": sha,
                "url": f"{_api(repo)}/git/commits/{sha}",
                "html_url": f"https://github.com/{repo.full_name}/commit/{sha}",
                "author": author,
                "committer": committer,
                "message": data["message"],
                "tree": {"sha": data["tree"]},
                "parents": [{"sha": p} for p in parents],
                # GitHub signs what an App commits without naming an author.
                "verification": {"verified": "author" not in data, "reason": "valid"},
            },
            201,
        )

    def _create_ref(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        data = json.loads(request.state.body)
        ref, sha = data["ref"], data["sha"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            return _unprocessable(f"{ref} is not a valid ref name.")
        if repo.kind(sha) != "commit":
            return _unprocessable("Object does not exist")
        if repo.resolve(ref) is not None:
            return _unprocessable("Reference already exists")
        repo.git("update-ref", ref, sha, "0" * 40)
        return JSONResponse(_ref_answer(repo, ref, sha), 201)

    def _update_ref(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        data = json.loads(request.state.body)
        ref, sha = "refs/" + params["ref"], data["sha"]
        current = repo.resolve(ref)
        if current is None:
            return _unprocessable("Reference does not exist")
        if repo.kind(sha) != "commit":
            return _unprocessable("Object does not exist")
        if not data.get("force", False):
            ancestor = subprocess.run(
                ["git", "merge-base", "--is-ancestor", current, sha], cwd=repo.path, check=False
            )
            if ancestor.returncode != 0:
                return _unprocessable("Update is not a fast forward")
        repo.git("update-ref", ref, sha, current)
        branch = ref.removeprefix("refs/heads/")
        with self.lock:
            for pull in repo.pulls.values():  # an open pull request shows its branch's new head
                if pull["state"] == "open" and pull["head"]["ref"] == branch:
                    pull["head"]["sha"] = sha
        return _ref_answer(repo, ref, sha)

    def _create_pull(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        data = json.loads(request.state.body)
        owner = repo.full_name.split("/")[0]
        head_owner, _, branch = data["head"].rpartition(":")
        base = data["base"]
        head_sha = repo.resolve(f"refs/heads/{branch}")
        base_sha = repo.resolve(f"refs/heads/{base}")
        if head_owner not in ("", owner) or head_sha is None:
            return _invalid("head", "invalid")
        if base_sha is None:
            return _invalid("base", "invalid")
        if data.get("draft") and not self.drafts_supported:
            return JSONResponse(DRAFTS_REFUSED, 422)
        for pull in repo.pulls.values():
            if pull["state"] == "open" and (pull["head"]["ref"], pull["base"]["ref"]) == (
                branch,
                base,
            ):
                return _invalid(
                    "head", "custom", f"A pull request already exists for {owner}:{branch}."
                )
        ahead = repo.git("rev-list", "--count", f"{base_sha}..{head_sha}").decode().strip()
        if ahead == "0":
            return _invalid("head", "custom", f"No commits between {base} and {branch}")
        with self.lock:
            repo.next_number += 1
            number = repo.next_number
        pull = {
            "number": number,
            "title": data.get("title", ""),
            "body": data.get("body"),
            "state": "open",
            "draft": bool(data.get("draft", False)),
            "user": {"login": BOT["name"], "id": 4242, "type": "Bot"},
            "merged_at": None,
            "merge_commit_sha": None,
            "base": {"ref": base, "sha": base_sha},
            "head": {"ref": branch, "sha": head_sha, "label": f"{owner}:{branch}"},
            "html_url": f"https://github.com/{repo.full_name}/pull/{number}",
            "updated_at": _now(),
        }
        repo.pulls[number] = pull
        return JSONResponse(pull, 201)

    def _update_pull(
        self, request: Request, repo: StandinRepo | None, params: dict[str, str]
    ) -> Any:
        assert repo is not None
        pull = repo.pulls.get(int(params["pull_number"]))
        if pull is None:
            return JSONResponse({"message": "Not Found"}, 404)
        data = json.loads(request.state.body)
        for key in ("title", "body", "state"):
            if key in data:
                pull[key] = data[key]
        if "base" in data:
            base_sha = repo.resolve(f"refs/heads/{data['base']}")
            if base_sha is None:
                return _invalid("base", "invalid")
            pull["base"] = {"ref": data["base"], "sha": base_sha}
        pull["updated_at"] = _now()
        return pull


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _api(repo: StandinRepo) -> str:
    return f"https://api.github.com/repos/{repo.full_name}"


def _unprocessable(message: str) -> JSONResponse:
    return JSONResponse({"message": message}, 422)


def _invalid(field_name: str, code: str, message: str | None = None) -> JSONResponse:
    """GitHub's "Validation Failed" answer for one field of a pull request."""
    error: dict[str, str] = {"resource": "PullRequest", "field": field_name, "code": code}
    if message:
        error["message"] = message
    return JSONResponse({"message": "Validation Failed", "errors": [error]}, 422)


def _apply_entry(repo: StandinRepo, entry: dict[str, Any], env: dict[str, str]) -> str | None:
    """Apply one entry of a new tree to the scratch index; a problem's text, or None."""
    path, mode = entry["path"], entry["mode"]
    if "content" in entry and "sha" in entry:
        return "tree.sha and tree.content cannot both be given"
    if entry.get("type", "blob") != "blob":
        return "the stand-in writes blob entries only"
    if "content" in entry:
        content = str(entry["content"]).encode()
        sha = repo.git("hash-object", "-w", "--stdin", stdin=content).decode().strip()
    else:
        sha = entry["sha"]
    if sha is None:  # delete the path; GitHub refuses to delete what is not there
        listed = repo.git("ls-files", "-z", "--", path, env=env).split(b"\x00")
        if path.encode() not in listed:
            return f"tree.path {path} cannot be deleted: it is not in base_tree"
        repo.git("update-index", "--force-remove", "--", path, env=env)
        return None
    if repo.kind(sha) != "blob":
        return f"tree.sha {sha} is not a valid blob"
    try:
        repo.git("update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}", env=env)
    except subprocess.CalledProcessError as exc:
        return f"tree.path {path} is invalid: {exc.stderr.decode().strip()}"
    return None


def _signature(person: dict[str, str] | None) -> dict[str, str]:
    who = person or BOT
    return {"name": who["name"], "email": who["email"], "date": who.get("date") or _now()}


def _ref_answer(repo: StandinRepo, ref: str, sha: str) -> dict[str, Any]:
    return {
        "ref": ref,
        "url": f"{_api(repo)}/git/{ref}",
        "object": {"sha": sha, "type": "commit", "url": f"{_api(repo)}/git/commits/{sha}"},
    }


async def _run(
    handler: Handler, request: Request, repo: StandinRepo | None, params: dict[str, str]
) -> Response:
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(handler, request, repo, params)
    if isinstance(result, Response):
        return result
    return JSONResponse(result)


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
