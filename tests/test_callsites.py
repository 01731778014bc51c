"""Call sites found with ``ast``: the same sites, callers and lines the libcst visitor found.

The expectations below were produced by the libcst implementation this one replaced (it was
~15x slower), on a module that uses a name in every place Python lets a name appear.
"""

from __future__ import annotations

from analyzers import CallSite, find_call_sites, mentions, refers_to

EDGE = '''\
"""Module docstring naming target in prose."""
from __future__ import annotations

import os.path as target_alias
import pkg.target
from pkg.target import thing as other
from .target.sub import target
from . import target as renamed

global_value = target(1)


@target
@deco(target, key=target)
class Holder(Base, metaclass=target):
    attr = target

    @staticmethod
    def target(target=target, *args: target, **kw) -> target:
        global target
        nonlocal_user = lambda target: target + 1
        try:
            obj.target(target)
        except (ValueError,
                KeyError) as target:
            raise
        with open(x) as target:
            pass
        for target in range(3):
            yield [target for target in y]
        return f"{target!r} {obj.target}" + (
            target
        ).real + obj.target.target()

    async def other(self):
        await self.target(self.target)
        call(target=1)
        (target)(2)
        return obj.\\
            target


def outer():
    def inner():
        nonlocal target
        target = 2
    return inner
'''
KEYWORD_ONLY = "def f():\n    g(target=1)\n    # target in a comment\n"

EXPECTED = [
    (5, "", "target", "import"),
    (6, "", "target", "reference"),
    (7, "", "sub", "reference"),
    (7, "", "target", "import"),
    (7, "", "target", "reference"),
    (8, "", "target", "import"),
    (10, "", "target", "call"),
    (13, "Holder", "target", "reference"),
    (14, "Holder", "target", "reference"),
    (14, "Holder", "target", "reference"),
    (15, "Holder", "target", "reference"),
    (16, "Holder", "target", "reference"),
    (19, "Holder.target", "target", "reference"),
    (19, "Holder.target", "target", "reference"),
    (19, "Holder.target", "target", "reference"),
    (20, "Holder.target", "target", "reference"),
    (21, "Holder.target", "target", "reference"),
    (23, "Holder.target", "obj", "reference"),
    (23, "Holder.target", "target", "call"),
    (23, "Holder.target", "target", "reference"),
    (25, "Holder.target", "target", "reference"),
    (27, "Holder.target", "target", "reference"),
    (29, "Holder.target", "target", "reference"),
    (30, "Holder.target", "target", "reference"),
    (30, "Holder.target", "target", "reference"),
    (31, "Holder.target", "obj", "reference"),
    (31, "Holder.target", "target", "reference"),
    (31, "Holder.target", "target", "reference"),
    (32, "Holder.target", "target", "reference"),
    (33, "Holder.target", "obj", "reference"),
    (33, "Holder.target", "target", "call"),
    (33, "Holder.target", "target", "reference"),
    (36, "Holder.other", "target", "call"),
    (36, "Holder.other", "target", "reference"),
    (37, "Holder.other", "target", "reference"),
    (38, "Holder.other", "target", "call"),
    (39, "Holder.other", "obj", "reference"),
    (39, "Holder.other", "target", "reference"),
    (45, "outer.inner", "target", "reference"),
    (46, "outer.inner", "target", "reference"),
]


def test_every_kind_of_use_is_found_with_its_caller_and_line() -> None:
    sites = find_call_sites("m.py", EDGE, ["target", "sub", "obj"])
    assert [(s.line, s.caller, s.name, s.kind) for s in sites] == EXPECTED
    assert all(isinstance(s, CallSite) and s.path == "m.py" for s in sites)
    lines = EDGE.splitlines()
    assert all(s.text == lines[s.line - 1].strip() for s in sites)


def test_a_module_that_only_binds_or_mentions_a_name_has_no_call_sites() -> None:
    # A keyword argument or a comment alone is not a use; neither is a definition or parameter.
    assert find_call_sites("m.py", KEYWORD_ONLY, ["target"]) == ()
    assert find_call_sites("m.py", "def target(target):\n    pass\n", ["target"]) == ()
    # Dotted import paths count only by their last part.
    assert find_call_sites("m.py", EDGE, ["sub", "pkg"]) == ()


def test_unparsable_or_unrelated_sources_have_none() -> None:
    assert find_call_sites("m.py", "def broken(:\n    target()\n", ["target"]) == ()
    assert find_call_sites("m.py", "x = 1\n", ["target"]) == ()
    assert find_call_sites("m.py", EDGE, []) == ()


def test_mentions_is_a_whole_word_test() -> None:
    assert mentions("a = target_x + 1", ["target"]) is False
    assert mentions("a = target + 1", ["target"]) is True
    assert mentions("a = b", ["", "b"]) is True
    assert mentions("anything", []) is False


def test_a_star_import_names_nothing() -> None:
    sites = find_call_sites("m.py", "from m import *\nx = target\n", ["*", "target"])
    assert [(s.line, s.name, s.kind) for s in sites] == [(2, "target", "reference")]


USER = """\
from flask import Flask
from .sansio.app import _make_timedelta
from flask.app import _make_timedelta as app_timedelta
from . import helpers


class Blueprint(Scaffold):
    def __init__(self, name):
        super().__init__(name)

    def send_static_file(self, filename):
        return helpers.send_static_file(filename)

    def serve(self, response, value):
        self.send_static_file("index.html")
        Flask.send_static_file(None, "a")
        response.send_static_file("b")
        return _make_timedelta(value), app_timedelta(value)
"""


def _targets(name: str) -> list[tuple[int, str]]:
    sites = find_call_sites("src/flask/blueprints.py", USER, {name}, "flask.blueprints")
    return [(s.line, s.target) for s in sites if s.kind == "call"]


def test_uses_are_resolved_to_what_they_name() -> None:
    # Relative and absolute imports, an alias, self inside a class, a re-exported class,
    # super() and a receiver of unknown type.
    assert _targets("_make_timedelta") == [(18, "flask.sansio.app._make_timedelta")]
    assert _targets("app_timedelta") == [(18, "flask.app._make_timedelta")]
    assert _targets("send_static_file") == [
        (12, "flask.helpers.send_static_file"),
        (15, "flask.blueprints.Blueprint.send_static_file"),
        (16, "flask.Flask.send_static_file"),
        (17, ""),
    ]
    assert _targets("__init__") == [(9, "super().__init__")]
    # Without its module name a file's uses are found but not resolved.
    unresolved = find_call_sites("x.py", USER, {"_make_timedelta"})
    assert {s.target for s in unresolved} == {""}


def test_a_resolved_use_refers_to_one_member_only() -> None:
    assert refers_to("flask.sansio.app._make_timedelta", "flask.sansio.app", "_make_timedelta")
    assert not refers_to("flask.sansio.app._make_timedelta", "flask.app", "_make_timedelta")
    # A package re-exports its modules' names.
    assert refers_to("flask.Flask.send_static_file", "flask.app", "Flask.send_static_file")
    assert not refers_to(
        "flask.Flask.send_static_file", "flask.blueprints", "Blueprint.send_static_file"
    )
    assert not refers_to("super().__init__", "flask.app", "Flask.__init__")
    assert not refers_to("", "flask.app", "Flask.send_static_file")
