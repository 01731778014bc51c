"""The offline plan: call sites found with libcst, the member to keep, the differences named."""

from __future__ import annotations

from analyzers import find_call_sites, profile_function
from app.local.build import RepoBuilder
from app.local.run import render_report
from app.review.answer import IdealizedAnswer
from tests.helpers import run

USES = """
from pkg.text import slugify
import pkg.text as text


def title_slug(post):
    return slugify(post.title)


class Page:
    def slug(self, slugify=None):
        return text.slugify(self.name)


HANDLERS = {"slug": slugify}
"""


def test_call_sites_are_calls_references_and_imports_not_definitions() -> None:
    sites = find_call_sites("pkg/uses.py", USES.lstrip(), {"slugify"})
    assert [(s.line, s.kind, s.caller) for s in sites] == [
        (1, "import", ""),
        (6, "call", "title_slug"),
        (11, "call", "Page.slug"),
        (14, "reference", ""),
    ]
    assert find_call_sites("x.py", "def f(:\n", {"f"}) == ()


def test_profiles_name_parameters_errors_returns_and_effects() -> None:
    profile = profile_function(
        "def fetch(self, url, timeout=5, *, retries=2):\n"
        "    try:\n"
        "        data = urlopen(url, timeout=timeout).read()\n"
        "    except OSError:\n"
        "        print('offline')\n"
        "        return None\n"
        "    if not data:\n"
        "        raise ValueError('empty')\n"
        "    return data\n"
    )
    assert profile is not None
    assert profile.params == ("url", "timeout=5", "retries=2")
    assert profile.raises == ("ValueError",)
    assert profile.catches == ("OSError",)
    assert profile.returns == "a value or nothing"
    assert profile.effects == ("makes HTTP requests", "writes to standard output")


SLUG = '''
import re


def slugify(text, separator="-", max_length=60):
    """Turn a title into a slug."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    if not words:
        raise ValueError("nothing to slugify")
    slug = separator.join(words)
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit(separator, 1)[0]
    return slug
'''

COPY = """
import re


def make_slug(title, sep="-", limit=60):
    pieces = re.findall(r"[a-z0-9]+", title.lower())
    if not pieces:
        raise ValueError("no slug")
    result = sep.join(pieces)
    if len(result) > limit:
        result = result[:limit].rsplit(sep, 1)[0]
    return result
"""


def test_the_plan_keeps_the_tested_existing_member_and_lists_what_to_redirect(
    repo: RepoBuilder,
) -> None:
    base = repo.commit(
        "Initial",
        {
            "pkg/__init__.py": "",
            "pkg/text.py": SLUG,
            "tests/test_text.py": "from pkg.text import slugify\n\n\n"
            "def test_slug():\n    assert slugify('A b') == 'a-b'\n",
        },
    )
    repo.branch(
        "blog",
        {
            "pkg/blog.py": COPY + "\n\ndef post_url(post):\n    return '/' + make_slug(post)\n",
        },
    )
    repo.merge_pr(4, "blog", "Blog URLs")
    report, _ = run(repo.root, base)
    (finding,) = report.findings
    ideal = report.idealized[finding.id]
    assert ideal.source == "offline"
    answer = ideal.answer
    assert answer.canonical_location == "pkg/text.py (slugify)"
    assert "it predates the batch" in answer.plan[0]
    assert "2 uses in tests" in answer.plan[0]
    replace = next(step for step in answer.plan if step.startswith("Replace `make_slug`"))
    assert "`pkg/blog.py:15` (post_url)" in replace
    assert answer.interface == ["def slugify(text, separator='-', max_length=60)"]


TIMEDELTA = '''
from datetime import timedelta


def _make_timedelta(value):
    """Seconds or a timedelta, as a timedelta; None stays None."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a duration")
    return timedelta(seconds=value)
'''


def test_members_sharing_a_name_keep_their_own_callers(repo: RepoBuilder) -> None:
    # The copy has the original's name: each call is redirected only if it reaches the copy.
    base = repo.commit(
        "Initial",
        {
            "pkg/__init__.py": "",
            "pkg/app.py": TIMEDELTA + "\n\ndef lifetime(app):\n"
            "    return _make_timedelta(app.lifetime)\n",
        },
    )
    repo.branch(
        "sansio",
        {
            "pkg/sansio/app.py": TIMEDELTA + "\n\nclass App(Base):\n"
            "    def __init__(self):\n        super().__init__()\n\n"
            "    def timeout(self):\n        return _make_timedelta(self.seconds)\n",
            "pkg/worker.py": "from .sansio.app import _make_timedelta\n\n\n"
            "def wait(job):\n    return _make_timedelta(job.seconds)\n",
        },
    )
    repo.merge_pr(5, "sansio", "Sans-IO app")
    report, _ = run(repo.root, base)
    (finding,) = [f for f in report.findings if "_make_timedelta" in f.concept]
    plan = report.idealized[finding.id].answer.plan
    (replace,) = [step for step in plan if step.startswith("Replace")]
    uses = replace.split("redirect", 1)[1]
    if replace.startswith("Replace `_make_timedelta` (`pkg/app.py"):
        assert "`pkg/app.py:14` (lifetime)" in uses
        assert "pkg/sansio" not in uses
        assert "pkg/worker.py" not in uses
    else:
        assert "`pkg/worker.py:1`" in uses
        assert "`pkg/worker.py:5` (wait)" in uses
        assert "(App.timeout)" in uses
        assert "pkg/app.py:" not in uses
    assert "__init__" not in replace  # super().__init__ is nobody's use


READER = '''
class {cls}:
    def __init__(self, stream):
        self.stream = stream

    def chunks(self, size):
        """Read the stream in pieces of ``size`` bytes until it ends."""
        while True:
            piece = self.stream.read(size)
            if not piece:
                break
            if isinstance(piece, str):
                piece = piece.encode("utf-8")
            yield piece
'''


def test_methods_read_as_methods_and_generators_as_generators(repo: RepoBuilder) -> None:
    base = repo.commit(
        "Initial", {"pkg/__init__.py": "", "pkg/upload.py": READER.format(cls="Upload")}
    )
    repo.branch("dl", {"pkg/download.py": READER.format(cls="Download")})
    repo.merge_pr(6, "dl", "Downloads")
    report, _ = run(repo.root, base)
    (finding,) = report.findings
    answer = report.idealized[finding.id].answer
    assert answer.interface == ["def chunks(self, size)"]
    assert "It yields values" in answer.ideal_design
    assert "through its own object (`self`, an instance)" in answer.ideal_design
    assert "imports it" not in answer.ideal_design
    assert "returns yields" not in " ".join(a for m in answer.assumptions for a in m.assumptions)
    # Methods are not redirected to another class's method: they share one definition.
    assert not any(step.startswith("Replace") for step in answer.plan)
    assert any(
        "they share no base class. Move `" in step and "one mixin" in step for step in answer.plan
    )


def _subclass_plan(repo: RepoBuilder, base_module: str) -> list[str]:
    """The plan for ``chunks`` copied from ``Upload`` into ``Download``, both ``Scaffold``s
    (defined in ``pkg/<base_module>.py``)."""
    dotted = base_module.replace("/", ".")
    base = repo.commit(
        "Initial",
        {
            "pkg/__init__.py": "",
            f"pkg/{base_module}.py": "class Scaffold:\n    def name(self):\n        return 'x'\n",
            "pkg/upload.py": f"from .{dotted} import Scaffold\n"
            + READER.format(cls="Upload").replace("class Upload:", "class Upload(Scaffold):"),
        },
    )
    download = READER.format(cls="Download").replace("class Download:", "class Download(Scaffold):")
    repo.branch("dl", {"pkg/download.py": f"from .{dotted} import Scaffold\n" + download})
    repo.merge_pr(6, "dl", "Downloads")
    report, _ = run(repo.root, base)
    (finding,) = report.findings
    plan: list[str] = report.idealized[finding.id].answer.plan
    return plan


def test_methods_copied_between_subclasses_move_into_their_base(repo: RepoBuilder) -> None:
    # flask's Flask and Blueprint: self.get_send_file_max_age must keep finding overrides.
    plan = _subclass_plan(repo, "scaffold")
    assert any(
        step.startswith("Move `chunks` into `Scaffold` (`pkg/scaffold.py`)") for step in plan
    )
    assert not any(step.startswith("Replace") for step in plan)


TEST_CASE = """
def test_{name}(client):
    response = client.get("/{name}", headers={{"Accept": "application/json"}})
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == sorted(body["items"])
    assert len(body["items"]) <= 50
    assert body["next"] is None or body["next"].startswith("/{name}?page=")
    assert response.headers["Content-Type"] == "application/json"
    assert "X-Request-Id" in response.headers
"""


def test_no_plan_replaces_one_test_by_a_call_to_another(repo: RepoBuilder) -> None:
    base = repo.commit(
        "Initial",
        {
            ".github/idealdiff.yml": "analysis:\n  include_tests: true\n",
            "tests/test_users.py": TEST_CASE.format(name="users"),
        },
    )
    repo.branch("t", {"tests/test_teams.py": TEST_CASE.format(name="teams")})
    repo.merge_pr(7, "t", "Team tests")
    report, _ = run(repo.root, base)
    (finding,) = report.findings
    plan = report.idealized[finding.id].answer.plan
    assert not any(step.startswith("Replace") for step in plan)
    assert any("parametrized test" in step for step in plan)


def test_the_copy_in_the_lower_layer_is_kept(repo: RepoBuilder) -> None:
    # flask/app.py imports flask/sansio/app.py: a canonical copy in app.py would make sansio
    # import back from it. The plan keeps the lower layer's copy, even a new one.
    base = repo.commit(
        "Initial",
        {
            "pkg/__init__.py": "",
            "pkg/sansio/app.py": "class App:\n    pass\n",
            "pkg/app.py": "from .sansio.app import App\n" + TIMEDELTA,
        },
    )
    repo.branch("sansio", {"pkg/sansio/app.py": "class App:\n    pass\n" + TIMEDELTA})
    repo.merge_pr(8, "sansio", "Move config to sans-io")
    report, _ = run(repo.root, base)
    (finding,) = report.findings
    answer = report.idealized[finding.id].answer
    assert answer.canonical_location == "pkg/sansio/app.py (_make_timedelta)"
    assert "below `pkg/app.py`" in answer.plan[0]


SPLIT = '''

class Segment:
    @classmethod
    def split_lines{suffix}(cls, segments):
        """Split a sequence of segments in to a list of lines."""
        line = []
        append = line.append
        for segment in segments:
            if "\\n" in segment.text and not segment.control:
                text, style, _ = segment
                while text:
                    _text, new_line, text = text.partition("\\n")
                    if _text:
                        append(cls(_text, style))
                    if new_line:
                        yield {first}
                        line = []
                        append = line.append
            else:
                append(segment)
        if line:
            yield {last}
'''


def _split_plan(repo: RepoBuilder, first: str, last: str) -> IdealizedAnswer:
    """rich's split_lines (predating the batch, with callers) and a near copy a branch adds."""
    lines = SPLIT.format(suffix="", first="line", last="line")
    base = repo.commit(
        "Initial",
        {
            "pkg/__init__.py": "",
            "pkg/segment.py": lines,
            "pkg/align.py": "from .segment import Segment\n\n\ndef rows(s):\n"
            "    return list(Segment.split_lines(s))\n",
        },
    )
    copy = SPLIT.format(suffix="_terminator", first=first, last=last).split("class Segment:\n")[1]
    repo.branch("wrap", {"pkg/segment.py": lines + copy})
    repo.merge_pr(9, "wrap", "fix background style with soft wrap")
    report, _ = run(repo.root, base)
    (finding,) = report.findings
    answer = report.idealized[finding.id].answer
    assert isinstance(answer, IdealizedAnswer)
    return answer


def test_the_kept_member_is_the_one_whose_results_serve_the_others(repo: RepoBuilder) -> None:
    # rich's plan kept split_lines and sent Console.print to it, which uses the (line, bool)
    # pairs only split_lines_terminator yields: the richer one is kept, the other adapts.
    answer = _split_plan(repo, "(line, True)", "(line, False)")
    assert answer.canonical_location.endswith("(Segment.split_lines_terminator)")
    assert any(
        step.startswith("Rewrite `Segment.split_lines`") and "first item of each tuple" in step
        for step in answer.plan
    )
    assert not any(step.startswith("Replace") for step in answer.plan)


def test_when_no_member_serves_the_others_the_plan_extracts_what_they_share(
    repo: RepoBuilder,
) -> None:
    answer = _split_plan(repo, "(len(line), line)", "(len(line), line)")
    assert "extract their shared part" in answer.summary
    assert any("neither can replace the other" in step for step in answer.plan)
    assert not any(step.startswith("Replace") for step in answer.plan)


def test_near_copies_state_the_lines_that_differ_and_generic_risks_once(
    repo: RepoBuilder,
) -> None:
    answer = _split_plan(repo, "(line, True)", "(line, False)")
    differences = [g.current for g in answer.gaps if g.current.startswith("only in")]
    assert differences == [
        "only in `Segment.split_lines`: `yield line`; `yield line` — only in "
        "`Segment.split_lines_terminator`: `yield (line, True)`; `yield (line, False)`"
    ]
    # A second near copy in the same report: the generic risk is written once, not twice.
    slug_copy = COPY.replace('raise ValueError("no slug")', 'raise ValueError("empty")')
    repo.commit("More", {"pkg/text.py": SLUG})
    repo.branch(
        "slug",
        {
            "pkg/posts.py": slug_copy.replace(
                "\n    return result", "\n    return result.strip(sep)"
            )
        },
    )
    repo.merge_pr(10, "slug", "Post slugs")
    first = repo.git("rev-list", "--max-parents=0", "HEAD").strip()
    report, _ = run(repo.root, first)
    assert len(report.findings) == 2
    text = render_report(report, "markdown")
    generic = "The members are not identical"
    assert all(
        generic in r
        for f in report.findings
        for r in [" ".join(report.idealized[f.id].answer.risks)]
    )
    assert text.count(generic) == 1


def test_methods_whose_shared_base_is_another_package_s_get_a_mixin(repo: RepoBuilder) -> None:
    plan = _subclass_plan(repo, "core/scaffold")
    assert any(
        "shared base `Scaffold` is in another package (`pkg/core`)" in step
        and "into one mixin beside them that they all take" in step
        for step in plan
    )
