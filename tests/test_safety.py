"""Published text stays inert: mentions, closing keywords, raw HTML, fences, the size limit."""

from __future__ import annotations

import re

from app.render.safety import code_block, fit_body, inline_code, neutralize


def test_mentions_are_defused_but_emails_are_left_alone() -> None:
    text = neutralize("ping @octocat and @acme/core, mail ada@example.com")
    assert "@&#8203;octocat" in text
    assert "@&#8203;acme/core" in text
    assert "ada@example.com" in text


def test_closing_keywords_are_defused() -> None:
    text = neutralize("Fixes #12, closes: acme/app#3, resolved https://github.com/a/b/issues/4")
    assert not re.search(r"(?i)\b(fix(es|ed)?|close[sd]?|resolve[sd]?)\s*:?\s+\S*(#\d|https)", text)
    assert "#12" in text  # the reference stays readable


def test_raw_html_is_escaped() -> None:
    assert neutralize("<img src=x onerror=alert(1)> & <!-- x -->") == (
        "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;!-- x --&gt;"
    )


def test_code_cannot_close_its_fence_or_span() -> None:
    block = code_block("x = 1\n```\n@octocat\n```")
    assert block.startswith("````python\n")
    assert block.endswith("\n````")
    assert inline_code("a`b") == "``a`b``"


def test_a_huge_body_is_cut_with_a_note_and_keeps_its_marker() -> None:
    marker = "<!-- idealdiff:finding idd-0123456789ab -->"
    body = "intro\n```python\n" + "x = 1\n" * 20_000 + "```\n" + marker + "\n"
    cut = fit_body(body, marker)
    assert len(cut) <= 65_536
    assert cut.rstrip().endswith(marker)
    assert "cut to fit GitHub's limit of 65,536 characters" in cut
    assert cut.count("```") % 2 == 0
    assert fit_body("short " + marker, marker) == "short " + marker
