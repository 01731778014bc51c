"""Identifier sub-tokens and docstring terms, normalized so that different names can meet."""

from __future__ import annotations

import re
from collections.abc import Iterable

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]+")

# Words that carry no concept: Python plumbing and English glue.
STOPWORDS = frozenset(
    """
    self cls args kwargs init new call repr str len get set is has do the a an of to in on for
    and or not if else with from by at as be it its this that return returns none true false
    value values result results data obj item items arg param params kw tmp var val x y z i j k n
    fn func def new old use using used make makes given should will can may into out all any
    we you are was were been which when then than also just only each every there their them
    """.split()
)


def stem(word: str) -> str:
    """A deliberately small stemmer: plurals and verb endings, enough to join name variants."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("sses", "ches", "shes", "xes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 6 and word.endswith("ery"):
        word = word[:-1]
    elif len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 5 and word.endswith("ed"):
        word = word[:-2]
    return word


def identifier_words(name: str) -> list[str]:
    """The words of an identifier as written, lower case, glue words left out:
    ``listAvailableModels`` and ``list_available_models`` both give list, available, models."""
    out: list[str] = []
    for part in name.split("_"):
        for piece in _CAMEL.findall(part):
            low = piece.lower()
            if len(low) < 2 or low.isdigit() or low in STOPWORDS:
                continue
            out.append(low)
    return out


def text_words(text: str) -> list[str]:
    """The words of free text (a docstring's sentence, a name), each identifier split."""
    return [w for word in _WORD.findall(text) for w in identifier_words(word)]


def split_identifier(name: str) -> list[str]:
    """Sub-tokens of an identifier, stemmed so that name variants meet."""
    return [stem(word) for word in identifier_words(name)]


_SPLIT: dict[str, tuple[str, ...]] = {}  # identifier -> its sub-tokens, per process


def identifier_terms(names: Iterable[str]) -> tuple[str, ...]:
    """Sorted distinct sub-tokens of several identifiers, each distinct one split once per
    process (a repository repeats its names in every unit)."""
    if len(_SPLIT) > 500_000:
        _SPLIT.clear()
    terms: set[str] = set()
    for name in set(names):
        found = _SPLIT.get(name)
        if found is None:
            found = _SPLIT[name] = tuple(split_identifier(name))
        terms.update(found)
    return tuple(sorted(terms))


def text_terms(text: str) -> tuple[str, ...]:
    """Sorted distinct terms of free text such as a docstring."""
    return tuple(sorted({t for t in map(stem, text_words(text)) if len(t) > 2}))
