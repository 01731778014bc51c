"""Text that is safe to publish on GitHub: no pings, no closing keywords, no raw HTML, bounded.

Everything shown in an issue body that idealdiff did not write itself (code, branch titles,
author names, the model's answer) passes through here. Code and a model that read code can
carry instructions ("@maintainer please close #12"); published, those must stay inert text.
"""

from __future__ import annotations

import re

GITHUB_TITLE_LIMIT = 256  # GitHub's limit on issue and pull request titles
GITHUB_BODY_LIMIT = 65_536
ZWSP = "&#8203;"  # a zero-width space, written as an entity so it survives copy and paste

_MENTION = re.compile(r"(?<![\w`&])@(?=[A-Za-z0-9][A-Za-z0-9-]*)")
_CLOSING = re.compile(
    r"\b(close[sd]?|fix(?:e[sd])?|resolve[sd]?)(\s*:?\s+)(?=(?:[\w.-]+/[\w.-]+)?#\d|https?://)",
    re.IGNORECASE,
)


def escape_html(text: str) -> str:
    """Escape the characters that would start raw HTML (or an entity) in Markdown."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def neutralize(text: str) -> str:
    """Untrusted prose made inert: HTML escaped, @mentions and closing keywords defused."""
    text = escape_html(text)
    text = _MENTION.sub("@" + ZWSP, text)
    return _CLOSING.sub(lambda m: m.group(1) + ZWSP + m.group(2), text)


def inert_plain(text: str) -> str:
    """Untrusted plain text (a commit message) with its closing keywords defused.

    A commit message is not Markdown, so nothing is escaped and the keyword is split from its
    reference by a real zero-width space; GitHub closes issues named by closing keywords in the
    commits that reach the default branch, and would otherwise act on these.
    """
    return _CLOSING.sub(lambda m: m.group(1) + "\u200b" + m.group(2), text)


def inline_code(text: str) -> str:
    """Text as one Markdown code span, whatever backticks it contains."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(code: str, language: str = "python") -> str:
    """A fenced block that the code cannot close early (GitHub renders no mentions inside)."""
    longest = max((len(run) for run in re.findall(r"^\s*(`{3,}|~{3,})", code, re.M)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{code.rstrip()}\n{fence}"


def fit_body(body: str, marker: str, limit: int = GITHUB_BODY_LIMIT) -> str:
    """``body`` within ``limit`` characters, cut at a line with a note, ``marker`` kept last."""
    if len(body) <= limit:
        return body
    note = (
        "\n\n> **Note:** this body was cut to fit GitHub's limit of "
        f"{limit:,} characters; the full plan is in the JSON report.\n\n"
    )
    without = body.replace(marker, "")
    room = limit - len(note) - len(marker) - 1
    cut = without[:room]
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    if cut.count("```") % 2:  # do not leave a code block open
        cut += "\n```"
    return cut + note + marker + "\n"
