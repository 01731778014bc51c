"""``idealdiff demo``: a small repository where six agents worked in parallel, then its review.

The repository is ``chatkit``, a stdlib-only client for a local LLM server. Its history is built
with real git, merged the way GitHub merges (merge commits, one squash), so the review that follows
is the same code path a user's repository takes. Three branches each add model discovery under a
different name (#12 a registry method, #15 a function, #19 inline in a CLI command), #21 copies an
existing helper, #13 and #17 both reshape ``Client.generate``, and #14 adds unique code.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from app.errors import UsageError
from app.local.build import RepoBuilder
from app.local.run import render_report, run_review

PACKAGE_INIT = '''
"""chatkit: talk to a local LLM server."""

from chatkit.client import Client

__all__ = ["Client"]
'''

CLIENT = '''
"""The HTTP client for the local server's JSON API."""

import json
import urllib.request

DEFAULT_URL = "http://localhost:11434"


class ServerError(RuntimeError):
    """The server answered with an error or could not be reached."""


class Client:
    """A thin client: one method per endpoint."""

    def __init__(self, base_url=DEFAULT_URL):
        self.base_url = base_url.rstrip("/")

    def _post(self, path, payload):
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request) as response:
                return json.load(response)
        except OSError as exc:
            raise ServerError(f"POST {path} failed: {exc}") from exc

    def generate(self, model, prompt):
        """Complete ``prompt`` with ``model`` and return the text."""
        answer = self._post("/api/generate", {"model": model, "prompt": prompt, "stream": False})
        return answer["response"]
'''

CLIENT_STREAMING = CLIENT.replace(
    '''    def generate(self, model, prompt):
        """Complete ``prompt`` with ``model`` and return the text."""
        answer = self._post("/api/generate", {"model": model, "prompt": prompt, "stream": False})
        return answer["response"]
''',
    '''    def generate(self, model, prompt, on_token=None):
        """Complete ``prompt`` with ``model``; ``on_token`` receives each piece as it arrives."""
        if on_token is None:
            payload = {"model": model, "prompt": prompt, "stream": False}
            return self._post("/api/generate", payload)["response"]
        request = urllib.request.Request(
            self.base_url + "/api/generate",
            data=json.dumps({"model": model, "prompt": prompt, "stream": True}).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        pieces = []
        with urllib.request.urlopen(request) as response:
            for line in response:
                chunk = json.loads(line)
                pieces.append(chunk["response"])
                on_token(chunk["response"])
                if chunk.get("done"):
                    break
        return "".join(pieces)
''',
)

CLIENT_TIMEOUT = (
    CLIENT.replace(
        "    def _post(self, path, payload):",
        "    def _post(self, path, payload, timeout=None):",
    )
    .replace(
        "            with urllib.request.urlopen(request) as response:",
        "            with urllib.request.urlopen(request, timeout=timeout) as response:",
    )
    .replace(
        '''    def generate(self, model, prompt):
        """Complete ``prompt`` with ``model`` and return the text."""
        answer = self._post("/api/generate", {"model": model, "prompt": prompt, "stream": False})
        return answer["response"]
''',
        '''    def generate(self, model, prompt, timeout=120.0):
        """Complete ``prompt`` with ``model`` within ``timeout`` seconds and return the text."""
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        payload = {"model": model, "prompt": prompt, "stream": False}
        answer = self._post("/api/generate", payload, timeout=timeout)
        return answer["response"]
''',
    )
)

UTILS = '''
"""Small formatting helpers shared by the CLI."""


def human_size(num_bytes, precision=1):
    """``1536`` -> ``"1.5 KiB"``: a byte count for people."""
    if num_bytes < 0:
        raise ValueError("a size cannot be negative")
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    size = float(num_bytes)
    for unit in units[:-1]:
        if size < 1024:
            return f"{size:.{precision}f} {unit}"
        size /= 1024
    return f"{size:.{precision}f} {units[-1]}"


def truncate(text, width=60, marker="..."):
    """Cut ``text`` to ``width`` characters, ending with ``marker`` when cut."""
    if len(text) <= width:
        return text
    return text[: max(width - len(marker), 0)] + marker
'''

CLI = '''
"""The ``chatkit`` command."""

import argparse
import sys

from chatkit.client import DEFAULT_URL, Client, ServerError


def cmd_chat(args):
    """Send one prompt and print the answer."""
    client = Client(args.url)
    try:
        print(client.generate(args.model, args.prompt))
    except ServerError as exc:
        print(f"chatkit: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser():
    """The argument parser, one sub-command per action."""
    parser = argparse.ArgumentParser(prog="chatkit")
    parser.add_argument("--url", default=DEFAULT_URL)
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="send one prompt")
    chat.add_argument("model")
    chat.add_argument("prompt")
    chat.set_defaults(func=cmd_chat)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    return args.func(args)
'''

CLI_MODELS = (
    CLI.replace(
        "import argparse\nimport sys\n",
        "import argparse\nimport json\nimport sys\nimport urllib.request\n",
    )
    .replace(
        """def build_parser():""",
        '''def cmd_models(args):
    """Print every model the server has installed."""
    url = args.url.rstrip("/") + "/api/tags"
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            data = json.load(resp)
    except OSError as exc:
        print(f"chatkit: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    for model in data.get("models", []):
        print(model["name"])
    return 0


def build_parser():''',
    )
    .replace(
        "    chat.set_defaults(func=cmd_chat)\n",
        "    chat.set_defaults(func=cmd_chat)\n"
        '    sub.add_parser("models", help="list models").set_defaults(func=cmd_models)\n',
    )
)

REGISTRY = '''
"""Which models the server can run, discovered once and remembered."""

import json
import urllib.request

from chatkit.client import DEFAULT_URL


class ModelRegistry:
    """Knows the models installed on the local server."""

    def __init__(self, base_url=DEFAULT_URL):
        self.base_url = base_url.rstrip("/")
        self._models = None

    def discover(self):
        """Discover the models installed on the local server."""
        with urllib.request.urlopen(self.base_url + "/api/tags", timeout=5) as response:
            payload = json.load(response)
        self._models = [model["name"] for model in payload.get("models", [])]
        return self._models

    def has(self, name):
        """Whether ``name`` is installed, discovering on first use."""
        if self._models is None:
            self.discover()
        return name in self._models
'''

MODELS = '''
"""Helpers about the models a server offers."""

import json
from urllib.request import Request, urlopen


def list_available_models(base_url):
    """Return the sorted names of the models the server offers."""
    request = Request(f"{base_url}/api/tags", headers={"Accept": "application/json"})
    with urlopen(request, timeout=10) as reply:
        body = json.loads(reply.read().decode("utf-8"))
    names = []
    for entry in body["models"]:
        names.append(entry["name"])
    return sorted(names)
'''

FORMAT = '''
"""Formatting of download progress."""


def format_size(count, digits=1):
    """A byte count as text, e.g. ``"3.2 MiB"``."""
    if count < 0:
        raise ValueError("a size cannot be negative")
    suffixes = ["B", "KiB", "MiB", "GiB", "TiB"]
    value = float(count)
    for suffix in suffixes[:-1]:
        if value < 1024:
            return f"{value:.{digits}f} {suffix}"
        value /= 1024
    return f"{value:.{digits}f} {suffixes[-1]}"


def progress_line(done, total, width=30):
    """``[#####.....] 50%`` for ``done`` out of ``total`` bytes."""
    ratio = 0.0 if total <= 0 else min(done / total, 1.0)
    filled = int(round(ratio * width))
    return "[" + "#" * filled + "." * (width - filled) + f"] {ratio:.0%}"
'''

HISTORY = '''
"""A conversation kept within a token budget."""

from dataclasses import dataclass, field


@dataclass
class Conversation:
    """Turns of a chat, oldest first, trimmed to ``budget`` words."""

    budget: int = 2000
    turns: list = field(default_factory=list)

    def add(self, role, text):
        """Append a turn and drop the oldest ones beyond the budget."""
        if role not in ("user", "assistant", "system"):
            raise ValueError(f"unknown role {role!r}")
        self.turns.append((role, text))
        while len(self.turns) > 1 and self.word_count() > self.budget:
            self.turns.pop(0)

    def word_count(self):
        """The number of words in every turn."""
        return sum(len(text.split()) for _, text in self.turns)

    def as_prompt(self):
        """The turns as one prompt, a line per turn."""
        return "\\n".join(f"{role}: {text}" for role, text in self.turns)
'''

TEST_UTILS = """
import unittest

from chatkit.utils import human_size, truncate


class UtilsTest(unittest.TestCase):
    def test_human_size(self):
        self.assertEqual(human_size(0), "0.0 B")
        self.assertEqual(human_size(1536), "1.5 KiB")
        self.assertEqual(human_size(5 * 1024**3), "5.0 GiB")

    def test_negative_size_is_refused(self):
        with self.assertRaises(ValueError):
            human_size(-1)

    def test_truncate(self):
        self.assertEqual(truncate("short"), "short")
        self.assertEqual(truncate("abcdefghij", width=6), "abc...")
"""

TEST_HISTORY = """
import unittest

from chatkit.history import Conversation


class ConversationTest(unittest.TestCase):
    def test_oldest_turns_are_dropped(self):
        chat = Conversation(budget=4)
        chat.add("user", "one two")
        chat.add("assistant", "three four")
        chat.add("user", "five")
        self.assertEqual(chat.as_prompt(), "assistant: three four\\nuser: five")
"""

TEST_FORMAT = """
import unittest

from chatkit.format import format_size, progress_line


class FormatTest(unittest.TestCase):
    def test_format_size(self):
        self.assertEqual(format_size(3 * 1024**2 + 200 * 1024), "3.2 MiB")

    def test_progress_line(self):
        self.assertEqual(progress_line(5, 10, width=10), "[#####.....] 50%")
"""

README = """
# chatkit

A small client for a local LLM server. Run the tests with `python -m unittest`.
"""


def build_demo_repo(root: Path) -> str:
    """Build the demo repository at ``root``; returns the sha the batch starts after."""
    repo = RepoBuilder(root)
    base = repo.commit(
        "chatkit: client, CLI and helpers",
        {
            "README.md": README,
            "chatkit/__init__.py": PACKAGE_INIT,
            "chatkit/client.py": CLIENT,
            "chatkit/utils.py": UTILS,
            "chatkit/cli.py": CLI,
            "tests/__init__.py": "",
            "tests/test_utils.py": TEST_UTILS,
        },
        author="Maintainer",
    )
    branches = [
        (
            12,
            "model-registry",
            "Add a model registry",
            "agent-a",
            {"chatkit/registry.py": REGISTRY},
        ),
        (
            13,
            "stream-tokens",
            "Stream tokens from Client.generate",
            "agent-b",
            {"chatkit/client.py": CLIENT_STREAMING},
        ),
        (
            14,
            "conversation",
            "Keep conversation history",
            "agent-c",
            {"chatkit/history.py": HISTORY, "tests/test_history.py": TEST_HISTORY},
        ),
        (15, "list-models", "List available models", "agent-d", {"chatkit/models.py": MODELS}),
        (
            17,
            "generate-timeout",
            "Add a timeout to generate",
            "agent-e",
            {"chatkit/client.py": CLIENT_TIMEOUT},
        ),
        (
            19,
            "models-command",
            "Add a `models` CLI command",
            "agent-f",
            {"chatkit/cli.py": CLI_MODELS},
        ),
        (
            21,
            "download-progress",
            "Show download progress",
            "agent-b",
            {"chatkit/format.py": FORMAT, "tests/test_format.py": TEST_FORMAT},
        ),
    ]
    # Every agent branched from the same base commit, as parallel agents do.
    for _number, name, _title, author, files in branches:
        repo.branch(name, files, start=base, author=author)
    for number, name, title, _author, _files in branches:
        if number == 15:
            repo.squash_pr(number, name, title)
        elif number == 17:
            # #13 and #17 both rewrote generate(); #17's author resolved the conflict by
            # keeping both behaviours, which is exactly the drift a hotspot points at.
            _merge_with_resolution(repo, number, name, title)
        else:
            repo.merge_pr(number, name, title)
    return base


CLIENT_BOTH = CLIENT_TIMEOUT.replace(
    '''    def generate(self, model, prompt, timeout=120.0):
        """Complete ``prompt`` with ``model`` within ``timeout`` seconds and return the text."""
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        payload = {"model": model, "prompt": prompt, "stream": False}
        answer = self._post("/api/generate", payload, timeout=timeout)
        return answer["response"]
''',
    '''    def generate(self, model, prompt, on_token=None, timeout=120.0):
        """Complete ``prompt`` with ``model``; ``on_token`` receives each piece as it arrives."""
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if on_token is None:
            payload = {"model": model, "prompt": prompt, "stream": False}
            return self._post("/api/generate", payload, timeout=timeout)["response"]
        request = urllib.request.Request(
            self.base_url + "/api/generate",
            data=json.dumps({"model": model, "prompt": prompt, "stream": True}).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        pieces = []
        with urllib.request.urlopen(request, timeout=timeout) as response:
            for line in response:
                chunk = json.loads(line)
                pieces.append(chunk["response"])
                on_token(chunk["response"])
                if chunk.get("done"):
                    break
        return "".join(pieces)
''',
)


def _merge_with_resolution(repo: RepoBuilder, number: int, name: str, title: str) -> None:
    """Merge a branch that conflicts with main, resolved by hand, with GitHub's merge message."""
    try:
        repo.git("merge", "-q", "--no-ff", "--no-commit", name)
    except RuntimeError:
        pass  # the conflict is expected; the resolution below replaces the file
    repo.write({"chatkit/client.py": CLIENT_BOTH})
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", f"Merge pull request #{number} from acme/{name}\n\n{title}")


def run_demo(path: str | None, fmt: str) -> str:
    """Build the demo repository (in ``path`` or a temporary folder) and return its review."""
    if path is None:
        holder = tempfile.TemporaryDirectory(prefix="idealdiff-demo-")
        root = Path(holder.name) / "chatkit"
        with holder:
            base = build_demo_repo(root)
            return render_report(run_review(str(root), "main", base), fmt)
    root = Path(path)
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"{root} is not empty; give the demo an empty or new folder")
    base = build_demo_repo(root)
    return render_report(run_review(str(root), "main", base), fmt)
