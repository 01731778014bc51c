"""Token streams for verification come from a unit's own lines; they must equal the module's."""

from __future__ import annotations

from analyzers.redundancy import StreamCache, parse_unit
from analyzers.scan import scan_module

TRICKY = '''\
import functools


class Outer:
    """Doc."""

    @functools.cache
    @staticmethod
    def method(a, b: "t.Optional[int]" = None) -> "str":
        text = """
no indentation inside a string
"""
        def inner(x):
            return x + 1  # comment
        return text + str(inner(a))

    async def amethod(self):
        pass

    # a comment at the end of the class


def top(x,
y):
    if x:
        return y
    try:
        pass
    except ValueError:
        def in_handler():
            return 1
        return in_handler
    return [lambda: z for z in y]


def top(x):
    return "redefined"
'''


def test_unit_lines_give_the_module_streams() -> None:
    scan = scan_module("m.py", TRICKY.encode())
    cache = StreamCache({"m.py": TRICKY}.get)
    assert len(scan.units) == 7
    lines = cache.lines("m.py")
    assert lines is not None
    for item in scan.units:
        whole = cache.from_module(item.unit)
        assert whole is not None
        node = parse_unit(lines, item.unit)
        assert node is not None, item.unit.qualname
        got = cache.get(item.unit)
        assert got is not None
        assert (got.exact, got.blind, got.names, got.calls) == (
            whole.exact,
            whole.blind,
            whole.names,
            whole.calls,
        ), item.unit.qualname


def test_precise_spans_give_the_same_streams() -> None:
    scan = scan_module("m.py", TRICKY.encode(), precise=True)
    cache = StreamCache({"m.py": TRICKY}.get)
    for item in scan.units:
        got, whole = cache.get(item.unit), cache.from_module(item.unit)
        assert got is not None
        assert whole is not None
        assert (got.exact, got.blind) == (whole.exact, whole.blind)


def test_lines_that_are_not_the_unit_fall_back_to_the_module() -> None:
    scan = scan_module("m.py", TRICKY.encode())
    unit = next(u.unit for u in scan.units if u.unit.qualname == "Outer.method")
    shifted = "\n" + TRICKY  # the source moved by a line: the span no longer holds the unit
    cache = StreamCache({"m.py": shifted}.get)
    lines = cache.lines("m.py")
    assert lines is not None
    assert parse_unit(lines, unit) is None
    assert cache.get(unit) is None  # no definition starts at that line in the module either
