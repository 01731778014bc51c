"""Units located with libcst: names, kinds, exact spans; the fast ast path agrees with it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from analyzers import UnitParseError, locate_units, scan_module

SOURCE = textwrap.dedent(
    '''
    """Module docstring."""
    import functools


    @functools.lru_cache(maxsize=None)
    @staticmethod
    def top(a, b):
        """Add."""
        # a comment
        return (a +
                b)
        # trailing comment inside the block


    class Outer(Base, metaclass=Meta):
        """A class."""

        attr = 1

        def method(self):
            def nested():
                return 1
            return nested()

        async def amethod(self):
            return 2

        class Inner:
            def deep(self):
                pass


    async def fetch():
        async with x:
            pass
    '''
).lstrip("\n")


def test_locate_units_kinds_qualnames_and_spans() -> None:
    units = {u.qualname: u for u in locate_units(SOURCE, "m.py")}
    assert {q: (u.kind, u.start_line, u.end_line) for q, u in units.items()} == {
        "top": ("function", 5, 11),
        "Outer": ("class", 15, 30),
        "Outer.method": ("method", 20, 23),
        "Outer.method.nested": ("function", 21, 22),
        "Outer.amethod": ("async_method", 25, 26),
        "Outer.Inner": ("class", 28, 30),
        "Outer.Inner.deep": ("method", 29, 30),
        "fetch": ("async_function", 33, 35),
    }
    assert units["top"].docstring == "Add."
    assert units["Outer.method.nested"].parent == "Outer.method"


REDEFINED = textwrap.dedent(
    """
    import sys

    if sys.platform == "win32":
        def getchar(echo):
            def inner():
                return 1
            return inner()
    else:
        def getchar(echo):
            def inner():
                return 2
            return inner()

    class Group:
        @property
        def name(self):
            return self._name

        @name.setter
        def name(self, value):
            self._name = value
    """
).lstrip("\n")


def test_redefinitions_are_named_by_their_ordinal_in_both_scans() -> None:
    expected = {
        "getchar": ("function", None, 4),
        "getchar.inner": ("function", "getchar", 5),
        "getchar@2": ("function", None, 9),
        "getchar@2.inner": ("function", "getchar@2", 10),
        "Group": ("class", None, 14),
        "Group.name": ("method", "Group", 15),
        "Group.name@2": ("method", "Group", 19),
    }
    located = {
        u.qualname: (u.kind, u.parent, u.start_line) for u in locate_units(REDEFINED, "m.py")
    }
    assert located == expected
    for precise in (False, True):
        scan = scan_module("m.py", REDEFINED.encode(), precise=precise)
        units = {u.unit.qualname: u.unit for u in scan.units}
        assert {q: (u.kind, u.parent, u.start_line) for q, u in units.items()} == expected
        assert units["getchar@2"].contains(units["getchar@2.inner"])
    # Lines inserted above the variants move them, but do not rename them.
    moved = scan_module("m.py", ("# header\n\n" + REDEFINED).encode())
    assert [u.unit.qualname for u in moved.units] == list(expected)


def test_syntax_error_raises_a_parse_error() -> None:
    with pytest.raises(UnitParseError, match="syntax error"):
        locate_units("def broken(:\n    pass\n", "b.py")


def _corpus() -> list[Path]:
    # Real, varied code: the project's own modules and the libraries it depends on.
    import jinja2
    import libcst

    roots = [Path(__file__).parents[1] / "app", Path(jinja2.__file__).parent]
    files = sorted(p for root in roots for p in root.rglob("*.py"))
    files += sorted(Path(libcst.__file__).parent.glob("_nodes/*.py"))
    return files


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_ast_scan_agrees_with_libcst(path: Path) -> None:
    data = path.read_bytes()
    fast = scan_module(str(path), data)
    precise = scan_module(str(path), data, precise=True)
    assert fast.skip == precise.skip
    assert [u.unit for u in fast.units] == [u.unit for u in precise.units]
    assert [u.features for u in fast.units] == [u.features for u in precise.units]
