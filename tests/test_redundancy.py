"""Redundancy across a batch: each clone type, same-concept twins, attribution, precision."""

from __future__ import annotations

import pytest

from app.local.build import RepoBuilder
from tests.helpers import members, run

SLUGIFY = '''
import re
import unicodedata


def slugify(text, separator="-"):
    """Turn a title into a URL slug."""
    normalized = unicodedata.normalize("NFKD", text)
    ascii_text = normalized.encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    if not words:
        raise ValueError(f"nothing to slugify in {text!r}")
    return separator.join(words)
'''

SLUGIFY_REFORMATTED = """
import re
import unicodedata


def slugify(text, separator = "-"):
    # Agents love to rewrite comments and docstrings.
    normalized = unicodedata.normalize("NFKD",
                                       text)
    ascii_text = normalized.encode("ascii", "ignore").decode("ascii")  # strip accents
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())

    if not words:
        raise ValueError(f"nothing to slugify in {text!r}")
    return separator.join(words)
"""

SLUGIFY_RENAMED = '''
import re
import unicodedata


def make_url_name(title, joiner="_"):
    """Build a URL-safe name."""
    decomposed = unicodedata.normalize("NFKC", title)
    plain = decomposed.encode("ascii", "replace").decode("ascii")
    tokens = re.findall(r"[a-z]+", plain.lower())
    if not tokens:
        raise ValueError(f"cannot build a name from {title!r}")
    return joiner.join(tokens)
'''

SLUGIFY_NEAR_MISS = """
import re
import unicodedata


def slugify_title(text, separator="-", max_length=80):
    normalized = unicodedata.normalize("NFKD", text)
    ascii_text = normalized.encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    if not words:
        raise ValueError(f"nothing to slugify in {text!r}")
    slug = separator.join(words)
    return slug[:max_length].rstrip(separator)
"""

REGISTRY = '''
import json
import urllib.request


class ModelRegistry:
    """Knows which models the local server can run."""

    def __init__(self, base_url="http://localhost:11434"):
        self.base_url = base_url.rstrip("/")
        self._models = None

    def discover(self):
        """Discover the models installed on the local server."""
        with urllib.request.urlopen(self.base_url + "/api/tags", timeout=5) as response:
            payload = json.load(response)
        self._models = [model["name"] for model in payload.get("models", [])]
        return self._models
'''

STATUS = '''
import json
from urllib.request import Request, urlopen


def list_available_models(base_url):
    """Return the names of the models the server offers."""
    request = Request(f"{base_url}/api/tags", headers={"Accept": "application/json"})
    reply = urlopen(request, timeout=10)
    body = json.loads(reply.read().decode("utf-8"))
    names = []
    for entry in body["models"]:
        names.append(entry["name"])
    return sorted(names)
'''

CLI = '''
import argparse
import json
import sys
import urllib.request

from pkg.settings import load_settings


def cmd_models(args):
    """Print every model the server knows about."""
    settings = load_settings(args.config)
    url = "http://" + settings["host"] + ":" + str(settings["port"]) + "/api/tags"
    try:
        with urllib.request.urlopen(url) as resp:
            data = json.load(resp)
    except OSError as exc:
        print(f"cannot reach the server: {exc}", file=sys.stderr)
        return 1
    for model in data["models"]:
        print(model["name"])
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pkg")
    parser.add_argument("--config", default="settings.json")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("models").set_defaults(func=cmd_models)
    args = parser.parse_args(argv)
    return args.func(args)
'''

CONFIG_IO = '''
import json
from pathlib import Path


def load_settings(path):
    """Read the settings file."""
    data = json.loads(Path(path).read_text())
    return {"host": data.get("host", "localhost"), "port": int(data.get("port", 8080)),
            "timeout": float(data.get("timeout", 5.0))}


def save_settings(path, settings):
    """Write the settings file."""
    data = {"host": settings["host"], "port": int(settings["port"]),
            "timeout": float(settings["timeout"])}
    Path(path).write_text(json.dumps(data, indent=2))
'''

UNIQUE = '''
def fibonacci_table(limit):
    """The Fibonacci numbers below limit, with their index."""
    table = {}
    a, b, index = 0, 1, 0
    while a < limit:
        table[index] = a
        a, b = b, a + b
        index += 1
    return table
'''


def _base(repo: RepoBuilder, files: dict[str, str] | None = None) -> str:
    return repo.commit("Initial", {"pkg/__init__.py": "", **(files or {})})


def _merge_two(repo: RepoBuilder, first: dict[str, str], second: dict[str, str]) -> None:
    """Two branches, each adding its files, merged as pull requests #1 and #2."""
    repo.branch("one", first)
    repo.branch("two", second)
    repo.merge_pr(1, "one", "First branch")
    repo.merge_pr(2, "two", "Second branch")


@pytest.mark.parametrize(
    ("copy", "clone_type"),
    [
        pytest.param(SLUGIFY_REFORMATTED, "type-1", id="type-1"),
        pytest.param(SLUGIFY_RENAMED, "type-2", id="type-2"),
        pytest.param(SLUGIFY_NEAR_MISS, "type-3", id="type-3"),
    ],
)
def test_each_clone_type_between_two_branches(
    repo: RepoBuilder, copy: str, clone_type: str
) -> None:
    base = _base(repo)
    _merge_two(repo, {"pkg/text.py": SLUGIFY}, {"pkg/urls.py": copy})
    report, _ = run(repo.root, base)
    (finding,) = report.findings
    assert finding.clone_type == clone_type
    assert {(m.unit.path, m.introduced_by) for m in finding.members} == {
        ("pkg/text.py", "#1"),
        ("pkg/urls.py", "#2"),
    }
    assert finding.evidence
    assert finding.evidence[0].matched


def test_reimplementing_an_existing_helper_is_attributed_to_nobody_and_the_branch(
    repo: RepoBuilder,
) -> None:
    base = _base(repo, {"pkg/text.py": SLUGIFY})
    repo.branch("names", {"pkg/urls.py": SLUGIFY_RENAMED})
    repo.squash_pr(7, "names", "Add URL names")
    report, _ = run(repo.root, base)
    assert members(report) == [{("slugify", None), ("make_url_name", "#7")}]


def test_same_concept_different_name_names_its_evidence(repo: RepoBuilder) -> None:
    # A repository with other code in it, so that rare evidence is rare.
    base = _base(
        repo,
        {"pkg/text.py": SLUGIFY, "pkg/settings.py": CONFIG_IO, "pkg/fib.py": UNIQUE},
    )
    repo.branch("registry", {"pkg/registry.py": REGISTRY})
    repo.branch("status", {"pkg/status.py": STATUS})
    repo.branch("cli", {"pkg/cli.py": CLI})
    repo.merge_pr(12, "registry", "Add a model registry")
    repo.merge_pr(15, "status", "Show models in status")
    repo.merge_pr(19, "cli", "Add a models command")
    report, _ = run(repo.root, base)
    (finding,) = report.findings
    assert finding.clone_type == "concept"
    assert {(m.unit.qualname, m.introduced_by) for m in finding.members} == {
        ("ModelRegistry.discover", "#12"),
        ("list_available_models", "#15"),
        ("cmd_models", "#19"),
    }
    evidence = " ".join(finding.evidence[0].matched)
    assert "'/api/tags'" in evidence
    assert "model" in finding.concept


def test_duplicates_that_predate_the_batch_are_not_reported(repo: RepoBuilder) -> None:
    base = _base(repo, {"pkg/text.py": SLUGIFY, "pkg/urls.py": SLUGIFY_RENAMED})
    changed = SLUGIFY_RENAMED.replace('joiner="_"', 'joiner="-"')
    repo.branch("tweak", {"pkg/urls.py": changed, "pkg/fib.py": UNIQUE})
    repo.merge_pr(3, "tweak", "Tweak")
    report, _ = run(repo.root, base)
    assert report.findings == ()


def test_opposite_operations_and_unique_code_are_not_findings(repo: RepoBuilder) -> None:
    base = _base(repo)
    repo.branch("settings", {"pkg/settings.py": CONFIG_IO})
    repo.branch("fib", {"pkg/fib.py": UNIQUE})
    repo.merge_pr(4, "settings", "Settings file")
    repo.merge_pr(5, "fib", "Fibonacci")
    report, _ = run(repo.root, base)
    assert report.findings == ()


def test_copied_class_is_one_finding_not_one_per_method(repo: RepoBuilder) -> None:
    base = _base(repo)
    repo.branch("a", {"pkg/registry.py": REGISTRY})
    repo.branch("b", {"pkg/models.py": REGISTRY.replace("ModelRegistry", "Models")})
    repo.merge_pr(1, "a", "Registry")
    repo.merge_pr(2, "b", "Models")
    report, _ = run(repo.root, base)
    assert members(report) == [{("ModelRegistry", "#1"), ("Models", "#2")}]
    assert report.findings[0].clone_type == "type-2"


def test_fingerprint_is_stable_when_lines_move(repo: RepoBuilder) -> None:
    base = _base(repo)
    _merge_two(repo, {"pkg/text.py": SLUGIFY}, {"pkg/urls.py": SLUGIFY_RENAMED})
    first, _ = run(repo.root, base)
    repo.commit("Move things down", {"pkg/text.py": "\n\n# header\n" + SLUGIFY})
    second, _ = run(repo.root, base)
    assert first.findings[0].id == second.findings[0].id
    assert first.findings[0].members != second.findings[0].members  # the lines did move


DEPRECATED = '''
import functools
import warnings


def deprecated(message, stacklevel=2):
    """Warn when the wrapped function is called."""
    def wrapper(func):
        @functools.wraps(func)
        def deprecated_func(*args, **kwargs):
            warnings.warn(
                f"{func.__name__} is deprecated. {message}",
                category=DeprecationWarning,
                stacklevel=stacklevel,
            )
            return func(*args, **kwargs)
        return deprecated_func
    return wrapper
'''


def test_copied_decorator_factory_pairs_the_outer_functions_not_outer_with_inner(
    repo: RepoBuilder,
) -> None:
    # The outer function also nearly matches the other copy's nested wrapper (which it
    # contains); the identical outer pair is the stronger match and must win.
    base = _base(repo)
    _merge_two(repo, {"pkg/a.py": DEPRECATED}, {"pkg/b.py": DEPRECATED})
    report, _ = run(repo.root, base)
    assert members(report) == [{("deprecated", "#1"), ("deprecated", "#2")}]
    assert report.findings[0].clone_type == "type-1"


READ_TOKEN = """
    def read_token(stream, echo):
        raw = stream.read(32)
        text = raw.decode(get_best_encoding(stream), "replace")
        if echo and stream.isatty():
            sys.stdout.write(text)
        translate_errors(text)
        return text
"""

PLATFORM_VARIANTS = (
    """
import sys


def setup(value):
    value = value.strip()
    return value


if sys.platform == "win32":
"""
    + READ_TOKEN
    + """
else:
"""
    + READ_TOKEN
)


def test_redefinitions_keep_their_key_when_a_branch_inserts_lines_above_them(
    repo: RepoBuilder,
) -> None:
    # Two platform variants of one function: the second is a redefinition. A branch that only
    # edits code above them must not be credited with them (their key must not move with them).
    top_level = "import sys\n\n" + READ_TOKEN.replace("\n    ", "\n")
    base = _base(repo, {"pkg/a.py": PLATFORM_VARIANTS, "pkg/b.py": top_level})
    edited = PLATFORM_VARIANTS.replace(
        "    value = value.strip()\n", "    value = value.strip()\n    value = value.lower()\n"
    )
    repo.branch("lower", {"pkg/a.py": edited})
    repo.merge_pr(1, "lower", "Lower-case values")
    report, _ = run(repo.root, base)
    assert report.findings == ()


COUNT_MODELS = '''


def has_model(base_url, wanted):
    """Tell whether the server offers a model."""
    try:
        with urlopen(f"{base_url}/api/tags", timeout=2) as reply:
            listing = json.loads(reply.read())
    except OSError:
        return False
    return any(entry.get("name") == wanted for entry in listing.get("models", ()))
'''


def test_a_copy_does_not_bring_its_originals_module_neighbours_into_the_finding(
    repo: RepoBuilder,
) -> None:
    # has_model shares the copied function's rare evidence ('/api/tags', urlopen) only
    # because it sits next to the original; the two are never compared (one module), so the
    # copy is not compared with it either.
    base = _base(
        repo,
        {
            "pkg/models.py": STATUS + COUNT_MODELS,
            "pkg/text.py": SLUGIFY,
            "pkg/settings.py": CONFIG_IO,
            "pkg/fib.py": UNIQUE,
        },
    )
    copy = STATUS.replace("list_available_models", "model_names").replace("names", "found")
    repo.branch("status", {"pkg/status.py": copy})
    repo.merge_pr(3, "status", "Show models in status")
    report, _ = run(repo.root, base)
    assert members(report) == [{("list_available_models", None), ("model_found", "#3")}]
    assert report.findings[0].clone_type == "type-2"


def test_a_copy_brings_no_concept_neighbour_that_predates_the_batch(repo: RepoBuilder) -> None:
    # has_model (in another module) resembles the original as much as the copy: a resemblance
    # older than the batch. The copy's finding is the copy and its original; a branch's own
    # differently written twin of has_model is reported on its own (its evidence, 0.4, is
    # under the default bar for older code: the config lowers it).
    health = "import json\nfrom urllib.request import urlopen\n" + COUNT_MODELS
    base = _base(
        repo,
        {
            ".github/idealdiff.yml": "analysis:\n  concept_similarity: 0.35\n",
            "pkg/models.py": STATUS,
            "pkg/health.py": health,
            "pkg/text.py": SLUGIFY,
            "pkg/settings.py": CONFIG_IO,
            "pkg/fib.py": UNIQUE,
        },
    )
    copy = STATUS.replace("list_available_models", "model_names").replace("names", "found")
    repo.branch("status", {"pkg/status.py": copy})
    # The twin keeps has_model's reading of the reply: a same-concept pair with older code
    # shares at least a statement.
    opened = "with urllib.request.urlopen(url) as "
    cli = CLI.replace(
        opened + "resp:\n            data = json.load(resp)",
        opened + "reply:\n            listing = json.loads(reply.read())",
    ).replace('data["models"]', 'listing["models"]')
    repo.branch("cli", {"pkg/cli.py": cli})
    repo.merge_pr(3, "status", "Show models in status")
    repo.merge_pr(4, "cli", "Add a models command")
    report, _ = run(repo.root, base)
    assert members(report) == [
        {("list_available_models", None), ("model_found", "#3")},
        {("has_model", None), ("cmd_models", "#4")},
    ]


@pytest.mark.parametrize("others", ["older-code", "two-branches", "three-branches"])
def test_a_concept_pair_of_two_branches_joins_a_finding_but_does_not_found_one(
    repo: RepoBuilder, others: str
) -> None:
    # cmd_models and has_model share '/api/tags', urlopen and the 'models' listing: evidence
    # 0.4, under the full bar of 0.5. Against older code that is a chance resemblance; between
    # two branches it is not enough either (on real history such pairs shared a domain's
    # vocabulary, not a job). A third branch's ModelRegistry.discover, which meets the full bar
    # with cmd_models, founds a finding that has_model joins at the lowered bar.
    health = {"pkg/health.py": "import json\nfrom urllib.request import urlopen\n" + COUNT_MODELS}
    files = {"pkg/settings.py": CONFIG_IO, "pkg/text.py": SLUGIFY, "pkg/fib.py": UNIQUE}
    base = _base(repo, {**files, **(health if others == "older-code" else {})})
    repo.branch("cli", {"pkg/cli.py": CLI})
    repo.merge_pr(4, "cli", "Add a models command")
    if others != "older-code":
        repo.branch("health", health)
        repo.merge_pr(5, "health", "Add a health check")
    if others == "three-branches":
        repo.branch("registry", {"pkg/registry.py": REGISTRY})
        repo.merge_pr(6, "registry", "Add a model registry")
    report, _ = run(repo.root, base)
    if others == "three-branches":
        assert members(report) == [
            {("cmd_models", "#4"), ("has_model", "#5"), ("ModelRegistry.discover", "#6")}
        ]
        assert report.findings[0].clone_type == "concept"
    else:
        assert report.findings == ()


WHERE_CLAUSE = """

def process_where(self, tlist):
    tidx, token = tlist.token_next_by(m=(Keyword, "WHERE"))
    if not token:
        return
    tlist.insert_before(tidx, self.newline())
    with indent(self):
        self.process_default(tlist)
"""


def test_a_small_copy_of_two_branches_with_every_name_and_literal_changed_is_reported(
    repo: RepoBuilder,
) -> None:
    # Too small for the clone detector to count an edited copy, the pair is a same-concept
    # pair at the lowered bar of two branches; being the same code but for names and
    # literals, it founds a finding of its own.
    base = _base(repo, {"pkg/text.py": SLUGIFY, "pkg/settings.py": CONFIG_IO, "pkg/fib.py": UNIQUE})
    renamed = (
        WHERE_CLAUSE.replace("process_where", "indent_slot")
        .replace("tlist", "slot")
        .replace("tidx", "elem_ptr")
        .replace("token", "span_piece")
        .replace('"WHERE"', '"node args"')
    )
    _merge_two(repo, {"pkg/where.py": WHERE_CLAUSE}, {"pkg/slots.py": renamed})
    report, _ = run(repo.root, base)
    assert members(report) == [{("process_where", "#1"), ("indent_slot", "#2")}]


ZIP_EQUAL = '''

def zip_equal(*iterables):
    """Zip the iterables of equal size; fail on a size mismatch."""
    sizes = [len(it) for it in iterables]
    for index, size in enumerate(sizes[1:], 1):
        if size != sizes[0]:
            raise ValueError(f"iterable {index} has size {size}")
    return list(zip(*iterables))
'''

ZIP_BROADCAST = '''

def zip_broadcast(*iterables, scalar_types=(str, bytes)):
    """Zip the iterables, repeating scalars to the size of the others."""
    size = max((len(obj) for obj in iterables if not isinstance(obj, scalar_types)), default=1)
    columns = []
    for index, obj in enumerate(iterables):
        if isinstance(obj, scalar_types):
            columns.append([obj] * size)
        else:
            columns.append(list(obj))
    return [tuple(row) for row in zip(*columns)]
'''


def test_builtins_shared_by_two_different_functions_are_no_concept_anchor(
    repo: RepoBuilder,
) -> None:
    # One library's style (zip, enumerate, len, "size", "iterable"), two different jobs: the
    # only rare calls they share are builtins, which say how code is written, not what it does.
    base = _base(repo, {"pkg/text.py": SLUGIFY, "pkg/settings.py": CONFIG_IO, "pkg/fib.py": UNIQUE})
    repo.branch("equal", {"pkg/equal.py": ZIP_EQUAL})
    repo.branch("broadcast", {"pkg/broadcast.py": ZIP_BROADCAST})
    repo.merge_pr(1, "equal", "Strict zip")
    repo.merge_pr(2, "broadcast", "Broadcasting zip")
    report, _ = run(repo.root, base)
    assert report.findings == ()
