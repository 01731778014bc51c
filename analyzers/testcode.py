"""Which code is test code, by the conventions pytest and unittest discover."""

from __future__ import annotations

import posixpath

from analyzers.model import Unit

# Folders of code that illustrates, exercises or measures the package rather than being it: a
# helper repeated in an example, a benchmark script or a type-checker fixture is
# self-containment, not drift. Python under ``templates/`` is scaffolding a tool copies into
# its users' projects (``alembic init``, ``django-admin startproject``): each copy stands alone.
SAMPLE_FOLDERS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "examples",
        "example",
        "docs",
        "doc",
        "bench",
        "benchmarks",
        "templates",
        "project_template",
        "app_template",
    }
)


# Example collections under names that packages also use for their own code (mealie's
# ``mealie/schema/cookbook`` holds recipe cookbooks, textual ships ``src/textual/demo``): a
# folder so named is samples only at the top of the repository or under one top folder (a
# monorepo's ``python/samples``), where a package does not put its modules.
TOP_SAMPLE_FOLDERS = frozenset({"cookbook", "cookbooks", "samples", "demos"})


def is_test_path(path: str) -> bool:
    """A test module: ``test_*.py``, ``*_test.py``, ``conftest.py`` or a ``tests/`` folder."""
    name = posixpath.basename(path)
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or "/tests/" in f"/{path}"
        or "/test/" in f"/{path}"
    )


def is_sample_path(path: str) -> bool:
    """Tests, and the other folders of code about the package: examples, docs, ``*_tests``,
    a top-level ``cookbook`` or ``samples``."""
    if is_test_path(path):
        return True
    folders = path.split("/")[:-1]
    return any(f in TOP_SAMPLE_FOLDERS for f in folders[:2]) or any(
        f in SAMPLE_FOLDERS
        or f.endswith(("_tests", "-tests"))
        or f.startswith("test_")
        or _named_for_docs(f)
        for f in folders
    )


# A folder named for docs or examples in a compound name: ``docs_src`` (FastAPI, SQLModel,
# Typer keep the programs their pages show there), ``code-examples``, ``example_apps``.
_DOCS_WORDS = frozenset({"docs", "examples", "example"})


def _named_for_docs(folder: str) -> bool:
    words = folder.replace("-", "_").split("_")
    return len(words) > 1 and (words[0] in _DOCS_WORDS or words[-1] in _DOCS_WORDS)


def is_test(unit: Unit) -> bool:
    """Test or sample code: a unit of a test, example or docs module."""
    return is_sample_path(unit.path)


def is_test_case(unit: Unit) -> bool:
    """A test itself (``test_*``, a ``Test*`` class or its method) in a test or sample module.

    Elsewhere ``test_client`` or ``test_request_context`` is the package's API, not a test.
    """
    if not is_test(unit):
        return False
    parts = unit.qualname.split(".")
    return parts[-1].startswith("test") or any(p.startswith("Test") for p in parts)


_DOUBLES = ("Mock", "Fake", "Stub", "Dummy")


def test_double(unit: Unit) -> bool:
    """A unit of a test double: a ``Mock*``, ``Fake*``, ``Stub*`` or ``Dummy*`` class of test
    or sample code (``MockConfig.proxy_allow_networks`` mirrors ``Config``'s on purpose)."""
    if not is_test(unit):
        return False
    names = unit.qualname.split(".")
    holders = names if unit.kind == "class" else names[:-1]
    return any(name.startswith(_DOUBLES) for name in holders)


def stand_in(a: Unit, b: Unit) -> bool:
    """A class of a test module against a class of the package: the test's class stands in
    for what the package defines (a fixture, a double, a plugin the test loads), shaped
    like a package class because that is its job. A test *function* that re-implements a
    package helper is a copy still; so is a class of an example, which users copy."""
    if a.kind != "class" or b.kind != "class":
        return False
    return is_test_path(a.path) != is_test_path(b.path)
