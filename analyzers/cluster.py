"""Matched pairs into findings: groups in which every member is close to every other.

Single linkage (a union of pairs) chains: a test that looks like a second, which looks like a
third, grew into one 38-member finding of unrelated tests. Here a unit joins a group only when
it matches every member of it (complete linkage), each missing pair being verified on demand,
and a group stops growing at the size one person would unify in one change.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from analyzers.model import CLONE_ORDER, CloneType, Evidence, Finding, IndexedUnit, Member
from analyzers.terms import stem, text_words

Key = tuple[str, str]
MAX_GROUP = 6  # members of one finding: more is a refactoring programme, not one unification


@dataclass(frozen=True)
class Pair:
    """Two units judged redundant, how (clone type), how strongly and on what evidence."""

    a: Key
    b: Key
    clone_type: CloneType
    score: float
    matched: tuple[str, ...]


def strength(p: Pair) -> tuple[int, float]:
    """How strong a match is: the more specific clone type first, then the score."""
    return (-CLONE_ORDER.index(p.clone_type), p.score)


def prune_nested(pairs: list[Pair], by_key: Mapping[Key, IndexedUnit]) -> list[Pair]:
    """Keep one level of nesting: two copied classes make one finding, not one per method."""
    keys = {(p.a, p.b) for p in pairs} | {(p.b, p.a) for p in pairs}
    out: list[Pair] = []
    for p in pairs:
        ua, ub = by_key[p.a].unit, by_key[p.b].unit
        covered = False
        for pa, pb in keys:
            if (pa, pb) == (p.a, p.b) or (pa, pb) == (p.b, p.a):
                continue
            oa, ob = by_key[pa].unit, by_key[pb].unit
            if oa.contains(ua) and ob.contains(ub):
                covered = True
                break
        if not covered:
            out.append(p)
    # One unit x matched with both Y and y, where Y encloses y (class ~ function and method ~
    # function, or a decorator factory ~ the other copy's factory and its nested wrapper): keep
    # the stronger match, and on a tie the more specific member. Dropping the enclosing pair
    # whatever its strength crossed two copied factories into outer ~ inner near-misses.
    neighbours: dict[Key, dict[Key, Pair]] = defaultdict(dict)
    for p in out:
        neighbours[p.a][p.b] = p
        neighbours[p.b][p.a] = p
    result: list[Pair] = []
    for p in out:
        dropped = False
        for shared, other in ((p.a, p.b), (p.b, p.a)):
            for z, q in neighbours[shared].items():
                if q is p:
                    continue
                if by_key[other].unit.contains(by_key[z].unit) and strength(q) >= strength(p):
                    dropped = True  # p pairs the enclosing unit; q is as strong and more specific
                elif by_key[z].unit.contains(by_key[other].unit) and strength(q) > strength(p):
                    dropped = True  # p pairs the enclosed unit; the enclosing pair q is stronger
        if not dropped:
            result.append(p)
    return result


def complete_groups(
    pairs: list[Pair],
    close: Callable[[Key, Key], Pair | None],
    min_mean: float,
    max_size: int = MAX_GROUP,
) -> list[list[Pair]]:
    """Agglomerate pairs, strongest first, into groups whose members are all pairwise close.

    ``close(x, y)`` verifies a pair that was not among the candidates (two units that both
    match a query were never compared with each other); it may return a weaker tie than a
    candidate needs, so a merged group must also average ``min_mean`` over all its pairs. A
    pair whose units cannot be joined is left out: its members already sit in stronger groups.
    """
    group_of: dict[Key, int] = {}
    members: dict[int, list[Key]] = {}
    evidence: dict[int, list[Pair]] = {}
    # Ids are never reused: a merge deletes a group, so the count of live groups would name
    # one still alive.
    ids = itertools.count()
    # Ties in strength go by the pair's keys in one orientation: which member a candidate
    # search met first (it differs between a cold review and a cached one) must not regroup.
    for p in sorted(pairs, key=lambda p: (strength(p), max(p.a, p.b), min(p.a, p.b)), reverse=True):
        ga, gb = group_of.get(p.a), group_of.get(p.b)
        if ga is None and gb is None:
            gid = next(ids)
            members[gid] = [p.a, p.b]
            evidence[gid] = [p]
            group_of[p.a] = group_of[p.b] = gid
            continue
        if ga is not None and ga == gb:
            evidence[ga].append(p)
            continue
        left = members[ga] if ga is not None else [p.a]
        right = members[gb] if gb is not None else [p.b]
        if len(left) + len(right) > max_size:
            continue
        found: list[Pair] = []
        for x in left:
            for y in right:
                if (x, y) in ((p.a, p.b), (p.b, p.a)):
                    continue
                q = close(x, y)
                if q is None:
                    break
                found.append(q)
            else:
                continue
            break
        else:
            merged = [p, *found, *(evidence[ga] if ga is not None else ())]
            merged += evidence[gb] if gb is not None else ()
            if sum(q.score for q in merged) / len(merged) < min_mean:
                continue
            keep = ga if ga is not None else gb
            assert keep is not None
            drop = gb if keep == ga else ga
            for k in left + right:
                if k not in members[keep]:
                    members[keep].append(k)
                group_of[k] = keep
            evidence[keep].extend([p, *found])
            if drop is not None:
                evidence[keep].extend(evidence.pop(drop))
                del members[drop]
    return [evidence[gid] for gid in members]


def build_findings(
    groups: list[list[Pair]],
    by_key: Mapping[Key, IndexedUnit],
    introduced: Mapping[Key, str],
) -> tuple[Finding, ...]:
    """One finding per group that holds code of the batch, ranked by what acting on it is worth."""
    findings: list[tuple[tuple[int, float], Finding]] = []
    for found in groups:
        unique: dict[tuple[Key, Key], Pair] = {}
        for p in found:  # a pair may be both a candidate and verified on demand
            ident = (min(p.a, p.b), max(p.a, p.b))
            if ident not in unique or strength(p) > strength(unique[ident]):
                unique[ident] = p
        group = list(unique.values())
        keys = sorted({k for p in group for k in (p.a, p.b)})
        if not any(k in introduced for k in keys):
            continue  # only pre-batch code: not this batch's drift
        members = tuple(
            Member(unit=by_key[k].unit, introduced_by=introduced.get(k))
            for k in sorted(keys, key=lambda k: (k in introduced, k))
        )
        clone_type = max((p.clone_type for p in group), key=CLONE_ORDER.index)
        score = round(sum(p.score for p in group) / len(group), 3)
        evidence = tuple(
            Evidence(left=p.a, right=p.b, clone_type=p.clone_type, score=p.score, matched=p.matched)
            for p in sorted(group, key=lambda p: (p.a, p.b))
        )
        digest = hashlib.blake2b(
            "\n".join(f"{path}::{qual}" for path, qual in keys).encode(), digest_size=6
        ).hexdigest()
        finding = Finding(
            id=f"idd-{digest}",
            kind="redundancy",
            score=score,
            clone_type=clone_type,
            concept=label([by_key[k] for k in keys]),
            members=members,
            evidence=evidence,
        )
        # Worth: exact copies before near misses before concepts; then the duplicated lines.
        duplicated = sum(m.unit.lines for m in members) - max(m.unit.lines for m in members)
        findings.append(((CLONE_ORDER.index(clone_type), -score * duplicated), finding))
    findings.sort(key=lambda item: (item[0], item[1].id))
    return tuple(f for _, f in findings)


# Words that name no concept in a label (most members of a test finding say "test").
_LABEL_STOP = frozenset({"test", "tests", "check", "helper", "impl", "internal"})


def _words(text: str) -> list[str]:
    """The words of a name or a sentence, as written (lower case), glue words left out."""
    return [w for w in text_words(text) if w not in _LABEL_STOP]


def _shared_phrase(texts: list[str]) -> str:
    """Up to three words that at least two of ``texts`` share, in the order the first text
    holding most of them spells them; words meet through their stems ("settings", "setting")."""
    lists = [_words(t) for t in texts]
    counts: dict[str, int] = defaultdict(int)
    for words in lists:
        for root in {stem(w) for w in words}:
            counts[root] += 1
    shared = {root for root, count in counts.items() if count >= 2}
    if not shared:
        return ""
    best = max(lists, key=lambda words: sum(stem(w) in shared for w in set(words)))
    phrase = list(dict.fromkeys(w for w in best if stem(w) in shared))
    return " ".join(phrase[:3])


def label(items: list[IndexedUnit]) -> str:
    """A label a maintainer recognises: the shared name; else the words the members' names
    share, as written ("requires complex"); else those their docstrings' first lines share;
    else the names themselves."""
    names = sorted({i.unit.qualname.rsplit(".", 1)[-1].split("@")[0] for i in items})
    if len(names) == 1:
        return names[0]
    phrase = _shared_phrase(names)
    if not phrase:
        docs = [(i.unit.docstring or "").strip().split("\n", 1)[0] for i in items]
        phrase = _shared_phrase([d for d in docs if d])
    return phrase or " / ".join(names[:3])
