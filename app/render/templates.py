"""The one jinja2 environment: every template lives in ``prompts/`` and fails on a missing name."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

import prompts
from app.render.safety import code_block, inline_code, neutralize

PROMPTS = Path(prompts.__file__).resolve().parent  # installed with the package, not beside it


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Templates from ``prompts/``; undefined names raise instead of rendering as blanks."""
    env = Environment(
        loader=FileSystemLoader(PROMPTS),
        undefined=StrictUndefined,
        autoescape=False,  # Markdown and prompts, not HTML; issue bodies escape on their own
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["lines"] = line_range
    env.filters["cell"] = table_cell
    env.filters["untrusted"] = untrusted
    env.filters["inert"] = neutralize
    env.filters["code"] = inline_code
    env.filters["block"] = code_block
    env.filters["weightiest"] = weightiest
    env.filters["unsaid"] = unsaid
    env.globals["said_once"] = SaidOnce
    return env


class SaidOnce:
    """The sentences a report already wrote: a generic risk or reason is stated once."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def first(self, text: str) -> bool:
        """True the first time ``text`` is asked about, False after."""
        if text in self.seen:
            return False
        self.seen.add(text)
        return True


def unsaid(items: Any, said: SaidOnce | None) -> list[Any]:
    """The items not written yet in this report (all of them when nothing is tracked)."""
    return [x for x in items if said is None or said.first(x)]


def weightiest(hotspots: Any) -> list[Any]:
    """Hotspots, those most worth reading first: most symbols changed in parallel, then most
    branches, then by path."""
    return sorted(hotspots, key=lambda h: (-len(h.symbols), -len(h.branches), h.path))


def line_range(unit: Any) -> str:
    """``12`` or ``12-30``: a unit's lines as a reader writes them."""
    if unit.start_line == unit.end_line:
        return str(unit.start_line)
    return f"{unit.start_line}-{unit.end_line}"


def table_cell(text: object) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


_DATA_TAGS = re.compile(r"<(/?)(repository_code|branch_description|diff)\b", re.IGNORECASE)


def untrusted(text: object) -> str:
    """Repository text placed inside a prompt's data tags, unable to close or open one."""
    return _DATA_TAGS.sub(lambda m: f"<{m.group(1)}\u200b{m.group(2)}", str(text))


def render(name: str, **context: Any) -> str:
    """Render one template of ``prompts/``."""
    return environment().get_template(name).render(**context)
