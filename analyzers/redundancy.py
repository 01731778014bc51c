"""Find the units a batch added or changed that re-implement something: clones and concepts.

The queries (units the batch added or changed) are matched against every unit of the repository
at the batch head and against each other. Candidates come cheaply from the features cached per
blob (clone hashes, a MinHash sketch, rare concept terms); each candidate pair is then verified
on the real token streams, which the caller provides as module sources (``sources``), so this
module stays pure.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import math
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from analyzers.fingerprint import DefNode, Streams, Walker, new_walker, token_streams
from analyzers.model import (
    CLONE_ORDER,
    CloneType,
    Evidence,
    Features,
    Finding,
    IndexedUnit,
    Member,
    Unit,
)

Key = tuple[str, str]

# Pairs of names that mean opposite operations: such units share vocabulary by nature and are
# not two implementations of one thing (load_config / save_config).
OPPOSITES = (
    ("load", "save"),
    ("load", "dump"),
    ("read", "write"),
    ("encode", "decode"),
    ("serialize", "deserialize"),
    ("import", "export"),
    ("send", "receive"),
    ("pack", "unpack"),
    ("open", "close"),
    ("start", "stop"),
    ("enable", "disable"),
    ("connect", "disconnect"),
    ("lock", "unlock"),
    ("add", "remove"),
    ("push", "pop"),
    ("acquire", "release"),
    ("upload", "download"),
    ("compress", "decompress"),
    ("encrypt", "decrypt"),
    ("request", "response"),
    ("to", "from"),
)


@dataclass(frozen=True)
class RedundancyOptions:
    """Thresholds of the detector; the defaults were tuned on real repositories."""

    min_lines: int = 5
    min_tokens: int = 35  # bench/quality: recall 0.969 -> 0.997 from 50, precision 0.976 -> 0.972
    type3_similarity: float = 0.82  # blind token similarity for a near-miss clone
    type3_min_exact: float = 0.45  # identifiers must still overlap somewhat
    concept_similarity: float = 0.35
    concept_max_df: int = 12  # a concept anchor (literal or API) is rare in the repository
    max_candidates: int = 400  # per query, for near-miss verification


def is_test(unit: Unit) -> bool:
    """Test code: it shares literals and calls with what it tests, so concepts skip it."""
    path = "/" + unit.path
    name = path.rsplit("/", 1)[-1]
    return (
        "/tests/" in path
        or "/test/" in path
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or unit.qualname.rsplit(".", 1)[-1].startswith("test")
    )


def _is_dunder(unit: Unit) -> bool:
    name = unit.qualname.rsplit(".", 1)[-1]
    return name.startswith("__") and name.endswith("__")


def _by_design(a: Unit, b: Unit) -> bool:
    """Pairs that share vocabulary by design rather than by drift, for concept matching.

    Units of one module split one job on purpose; methods of the same name in different
    classes are overrides of one interface; dunders implement protocols.
    """
    if _is_dunder(b) or a.path == b.path:
        # One module's functions share its vocabulary; measured on real code, same-file
        # concept pairs were nearly all related-but-different helpers.
        return True
    same_name = a.qualname.rsplit(".", 1)[-1] == b.qualname.rsplit(".", 1)[-1]
    return (
        same_name and a.kind in ("method", "async_method") and b.kind in ("method", "async_method")
    )


def _calls_each_other(a: IndexedUnit, b: IndexedUnit) -> bool:
    """A caller and its callee share vocabulary because one uses the other."""
    name_a = a.unit.qualname.rsplit(".", 1)[-1]
    name_b = b.unit.qualname.rsplit(".", 1)[-1]
    return any(c.rsplit(".", 1)[-1] == name_b for c in a.features.calls) or any(
        c.rsplit(".", 1)[-1] == name_a for c in b.features.calls
    )


def _eligible(item: IndexedUnit, options: RedundancyOptions) -> bool:
    return item.unit.lines >= options.min_lines and item.features.tokens >= options.min_tokens


def _estimated_jaccard(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    if not a or not b:
        return 0.0
    union = sorted(set(a) | set(b))[: max(len(a), len(b))]
    shared = set(a) & set(b)
    return sum(1 for h in union if h in shared) / len(union)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class _StreamCache:
    """Token streams per unit, from the module sources.

    A unit's own lines are parsed on their own (a few hundred bytes instead of the whole
    module); when that does not give exactly one definition of the unit's name, the whole
    module is parsed once, as the reference.
    """

    def __init__(self, sources: Callable[[str], str | None]) -> None:
        self.sources = sources
        self.texts: dict[str, list[str] | None] = {}
        self.modules: dict[str, dict[int, tuple[DefNode, Walker]]] = {}

    def get(self, unit: Unit) -> Streams | None:
        lines = self._lines(unit.path)
        if lines is None:
            return None
        node = _parse_unit(lines, unit)
        if node is not None:
            return token_streams(new_walker(), node)
        return self._from_module(unit)

    def _lines(self, path: str) -> list[str] | None:
        if path not in self.texts:
            text = self.sources(path)
            self.texts[path] = None if text is None else _LINE.findall(text)
        return self.texts[path]

    def _from_module(self, unit: Unit) -> Streams | None:
        nodes = self.modules.get(unit.path)
        if nodes is None:
            nodes = {}
            lines = self._lines(unit.path)
            tree = _parse("".join(lines)) if lines is not None else None
            if tree is not None:
                walker = new_walker()
                for node in ast.walk(tree):
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                        nodes[start] = (node, walker)
            self.modules[unit.path] = nodes
        found = nodes.get(unit.start_line)
        if found is None:
            return None
        node, walker = found
        return token_streams(walker, node)


def _parse(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _parse_unit(lines: list[str], unit: Unit) -> DefNode | None:
    """The definition spanning exactly the unit's lines, parsed from those lines alone."""
    if not 1 <= unit.start_line <= unit.end_line <= len(lines):
        return None
    snippet = "".join(lines[unit.start_line - 1 : unit.end_line])
    indented = snippet[:1] in (" ", "\t")
    # An indented definition is parsed as the body of ``if 1:``; its lines stay as they are.
    tree = _parse("if 1:\n" + snippet if indented else snippet)
    if tree is None or len(tree.body) != 1:
        return None
    node: ast.stmt = tree.body[0]
    if indented:
        if not isinstance(node, ast.If) or len(node.body) != 1 or node.orelse:
            return None
        node = node.body[0]
    name = unit.qualname.rsplit(".", 1)[-1].split("@", 1)[0]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return None
    if node.name != name:
        return None
    return node


def _ratio(a: list[str], b: list[str]) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return 0.0
    return matcher.ratio()


def _opposed(a: Features, b: Features) -> bool:
    left, right = set(a.name_terms), set(b.name_terms)
    for one, other in OPPOSITES:
        if (one in left and other in right and other not in left) or (
            other in left and one in right and one not in left
        ):
            return True
    return False


class _Concept:
    """Inverse document frequencies of concept terms, counted only for what the queries use."""

    def __init__(self, index: Sequence[IndexedUnit], queries: Sequence[IndexedUnit]) -> None:
        # Calls to the repository's own functions show reuse, not re-implementation.
        self.defined = {item.unit.qualname.rsplit(".", 1)[-1] for item in index}
        wanted: set[tuple[str, str]] = set()
        for q in queries:
            wanted.update(self.items(q.features))
        self.df: dict[tuple[str, str], int] = defaultdict(int)
        self.postings: dict[tuple[str, str], list[int]] = defaultdict(list)
        for pos, item in enumerate(index):
            for term in self.items(item.features):
                if term in wanted:
                    self.df[term] += 1
                    self.postings[term].append(pos)
        self.n = max(len(index), 1)

    def items(self, f: Features) -> Iterable[tuple[str, str]]:
        """The concept evidence of one unit, as (channel, term)."""
        for lit in f.literals:
            yield ("literal", lit)
        for call in f.calls:
            if call.rsplit(".", 1)[-1] not in self.defined:
                yield ("call", call)
        for term in f.name_terms:
            yield ("name", term)
        for term in f.ident_terms:
            yield ("ident", term)
        for term in f.doc_terms:
            yield ("doc", term)

    def anchor(self, term: tuple[str, str], options: RedundancyOptions) -> bool:
        """A rare literal or API call: what a same-concept pair must share.

        Builtins (``zip``, ``int``, ``divmod``) never anchor, however rare in a repository:
        they say how code is written, not what it is about; in the quality benchmark they were
        the only shared anchor of functions that share a library's style but not a job.
        """
        channel, text = term
        if channel == "call" and text.lstrip(".") in _BUILTINS:
            return False
        return channel in ("literal", "call") and self.df.get(term, 0) <= options.concept_max_df

    def idf(self, term: tuple[str, str]) -> float:
        return math.log((self.n + 1) / (self.df.get(term, 0) + 1)) + 1.0


_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
_CHANNEL_WEIGHTS = {"literal": 0.3, "call": 0.25, "ident": 0.25, "name": 0.1, "doc": 0.1}
_CHANNEL_LABELS = {
    "literal": "string literals",
    "call": "called APIs",
    "ident": "identifier sub-tokens",
    "name": "name sub-tokens",
    "doc": "docstring terms",
}


def _concept_score(
    a: Features, b: Features, concept: _Concept, options: RedundancyOptions
) -> tuple[float, tuple[str, ...]]:
    items_a, items_b = set(concept.items(a)), set(concept.items(b))
    score = 0.0
    matched: list[str] = []
    anchors = 0
    present = 0.0
    for channel, weight in _CHANNEL_WEIGHTS.items():
        ca = {t for t in items_a if t[0] == channel}
        cb = {t for t in items_b if t[0] == channel}
        if not ca and not cb:
            continue
        present += weight
        shared = ca & cb
        union = ca | cb
        total = sum(concept.idf(t) for t in union)
        if not shared or not total:
            continue
        shared_w = sum(concept.idf(t) for t in shared)
        smaller = min(sum(concept.idf(t) for t in ca), sum(concept.idf(t) for t in cb))
        # Half Jaccard, half containment: one implementation may do a little more than another.
        score += weight * (shared_w / total + shared_w / smaller) / 2
        best = sorted(shared, key=lambda t: (-concept.idf(t), t[1]))[:4]
        matched.append(f"{_CHANNEL_LABELS[channel]}: " + ", ".join(repr(t[1]) for t in best))
        if channel in ("literal", "call"):
            anchors += sum(1 for t in shared if concept.anchor(t, options))
    if not anchors or present == 0:
        return 0.0, ()
    return score / present, tuple(matched)


@dataclass(frozen=True)
class _Pair:
    a: Key
    b: Key
    clone_type: CloneType
    score: float
    matched: tuple[str, ...]


def find_redundancy(
    index: Sequence[IndexedUnit],
    queries: Iterable[Key],
    introduced: Mapping[Key, str],
    sources: Callable[[str], str | None],
    options: RedundancyOptions | None = None,
) -> tuple[Finding, ...]:
    """Group the query units with their clones and same-concept twins into findings.

    ``index`` is every unit at the batch head; ``queries`` the keys the batch added or changed;
    ``introduced`` maps a key to the branch that added it; ``sources(path)`` returns a module's
    text at the head (or None). Findings made only of pre-batch code are left out.
    """
    options = options or RedundancyOptions()
    eligible = [item for item in index if _eligible(item, options)]
    by_key = {item.unit.key: item for item in eligible}
    query_items = [by_key[k] for k in dict.fromkeys(queries) if k in by_key]
    if not query_items:
        return ()
    streams = _StreamCache(sources)
    pairs: dict[tuple[Key, Key], _Pair] = {}

    def add(pair: _Pair) -> None:
        ident = (min(pair.a, pair.b), max(pair.a, pair.b))
        old = pairs.get(ident)
        if old is None or CLONE_ORDER.index(pair.clone_type) < CLONE_ORDER.index(old.clone_type):
            pairs[ident] = pair

    def related(x: Unit, y: Unit) -> bool:
        return x.key == y.key or x.contains(y) or y.contains(x)

    # Type-1 and Type-2: equal hashes.
    exact: dict[str, list[IndexedUnit]] = defaultdict(list)
    blind: dict[str, list[IndexedUnit]] = defaultdict(list)
    q_exact = {q.features.exact_hash for q in query_items}
    q_blind = {q.features.blind_hash for q in query_items}
    sketch_wanted: set[int] = set()
    for q in query_items:
        sketch_wanted.update(q.features.sketch)
    sketch_postings: dict[int, list[int]] = defaultdict(list)
    for pos, item in enumerate(eligible):
        f = item.features
        if f.exact_hash in q_exact:
            exact[f.exact_hash].append(item)
        if f.blind_hash in q_blind:
            blind[f.blind_hash].append(item)
        for h in f.sketch:
            if h in sketch_wanted:
                sketch_postings[h].append(pos)
    for q in query_items:
        for other in exact.get(q.features.exact_hash, ()):
            if not related(q.unit, other.unit):
                add(_Pair(q.unit.key, other.unit.key, "type-1", 1.0, ("identical code",)))
        for other in blind.get(q.features.blind_hash, ()):
            if (
                not related(q.unit, other.unit)
                and other.features.exact_hash != q.features.exact_hash
            ):
                add(
                    _Pair(
                        q.unit.key,
                        other.unit.key,
                        "type-2",
                        1.0,
                        ("same structure with identifiers or literals renamed",),
                    )
                )

    # Type-3: sketch candidates, verified on token streams.
    for q in query_items:
        counts: dict[int, int] = defaultdict(int)
        for h in q.features.sketch:
            for pos in sketch_postings.get(h, ()):
                counts[pos] += 1
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])[: options.max_candidates]
        q_streams: Streams | None = None
        for pos, _ in ranked:
            other = eligible[pos]
            if related(q.unit, other.unit):
                continue
            ident = (min(q.unit.key, other.unit.key), max(q.unit.key, other.unit.key))
            if ident in pairs:
                continue
            small, big = sorted((q.features.tokens, other.features.tokens))
            if small / big < options.type3_similarity - 0.1:
                continue
            if _estimated_jaccard(q.features.sketch, other.features.sketch) < 0.3:
                continue
            q_streams = q_streams or streams.get(q.unit)
            o_streams = streams.get(other.unit)
            if q_streams is None or o_streams is None:
                continue
            blind_sim = _ratio(q_streams.blind, o_streams.blind)
            if blind_sim < options.type3_similarity:
                continue
            exact_sim = _ratio(q_streams.exact, o_streams.exact)
            if exact_sim < options.type3_min_exact:
                continue
            add(
                _Pair(
                    q.unit.key,
                    other.unit.key,
                    "type-3",
                    round(blind_sim, 3),
                    (
                        f"near-miss: {blind_sim:.0%} of the normalized token stream matches "
                        f"({exact_sim:.0%} with the original names)",
                    ),
                )
            )

    # Same concept, different name: rare shared anchors, then a weighted multi-channel score.
    concept = _Concept(eligible, query_items)
    copies: dict[Key, list[IndexedUnit]] = defaultdict(list)  # clone partners, found above
    for pair in pairs.values():
        copies[pair.a].append(by_key[pair.b])
        copies[pair.b].append(by_key[pair.a])

    def inherited(x: IndexedUnit, y: IndexedUnit) -> bool:
        """x shares y's vocabulary only as a copy of something y is close to by design.

        A copy of ``Command.format_help_text`` shares calls and docstring terms with
        ``Command.format_epilog`` because its original sits next to it; that pair is not
        compared (one module), so neither is the copy's.
        """
        return any(
            c.unit.key == y.unit.key
            or related(c.unit, y.unit)
            or _by_design(c.unit, y.unit)
            or _calls_each_other(c, y)
            for c in copies.get(x.unit.key, ())
        )

    def copied(x: IndexedUnit) -> bool:
        """x, or a unit it is nested in, has a clone partner: it is part of a copy."""
        parts = x.unit.qualname.split(".")
        return any((x.unit.path, ".".join(parts[:i])) in copies for i in range(len(parts), 0, -1))

    def predates(x: IndexedUnit) -> bool:
        return x.unit.key not in introduced

    for q in query_items:
        if q.unit.kind == "class" or is_test(q.unit) or _is_dunder(q.unit):
            continue
        candidates: set[int] = set()
        for term in concept.items(q.features):
            if concept.anchor(term, options):
                candidates.update(concept.postings.get(term, ()))
        for pos in candidates:
            other = eligible[pos]
            if other.unit.kind == "class" or is_test(other.unit) or related(q.unit, other.unit):
                continue
            if _by_design(q.unit, other.unit) or _calls_each_other(q, other):
                continue
            if inherited(q, other) or inherited(other, q):
                continue
            # A copy's clone pair already says what the batch duplicated. Its concept neighbours
            # that predate the batch are, nearly always, its original's neighbours too: a
            # resemblance older than the batch, which joined 69 such members to right findings
            # in the quality benchmark (bench/quality/README.md). Units the batch introduced
            # still join: a third, differently written implementation is this batch's drift.
            if (copied(q) and predates(other)) or (copied(other) and predates(q)):
                continue
            ident = (min(q.unit.key, other.unit.key), max(q.unit.key, other.unit.key))
            if ident in pairs or _opposed(q.features, other.features):
                continue
            score, matched = _concept_score(q.features, other.features, concept, options)
            if score >= options.concept_similarity:
                add(_Pair(q.unit.key, other.unit.key, "concept", round(score, 3), matched))

    return _cluster(list(pairs.values()), by_key, introduced, concept)


def _prune_nested(pairs: list[_Pair], by_key: Mapping[Key, IndexedUnit]) -> list[_Pair]:
    """Keep one level of nesting: two copied classes make one finding, not one per method."""
    keys = {(p.a, p.b) for p in pairs} | {(p.b, p.a) for p in pairs}
    out: list[_Pair] = []
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
    neighbours: dict[Key, dict[Key, _Pair]] = defaultdict(dict)
    for p in out:
        neighbours[p.a][p.b] = p
        neighbours[p.b][p.a] = p
    result: list[_Pair] = []
    for p in out:
        dropped = False
        for shared, other in ((p.a, p.b), (p.b, p.a)):
            for z, q in neighbours[shared].items():
                if q is p:
                    continue
                if by_key[other].unit.contains(by_key[z].unit) and _strength(q) >= _strength(p):
                    dropped = True  # p pairs the enclosing unit; q is as strong and more specific
                elif by_key[z].unit.contains(by_key[other].unit) and _strength(q) > _strength(p):
                    dropped = True  # p pairs the enclosed unit; the enclosing pair q is stronger
        if not dropped:
            result.append(p)
    return result


def _strength(p: _Pair) -> tuple[int, float]:
    """How strong a match is: the more specific clone type first, then the score."""
    return (-CLONE_ORDER.index(p.clone_type), p.score)


def _cluster(
    pairs: list[_Pair],
    by_key: Mapping[Key, IndexedUnit],
    introduced: Mapping[Key, str],
    concept: _Concept,
) -> tuple[Finding, ...]:
    pairs = _prune_nested(pairs, by_key)
    parent: dict[Key, Key] = {}

    def find(k: Key) -> Key:
        parent.setdefault(k, k)
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for p in pairs:
        ra, rb = find(p.a), find(p.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[Key, list[_Pair]] = defaultdict(list)
    for p in pairs:
        groups[find(p.a)].append(p)
    findings: list[Finding] = []
    for group in groups.values():
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
        findings.append(
            Finding(
                id=f"idd-{digest}",
                kind="redundancy",
                score=score,
                clone_type=clone_type,
                concept=_label(
                    [by_key[k].features for k in keys], [by_key[k].unit for k in keys], concept
                ),
                members=members,
                evidence=evidence,
            )
        )
    findings.sort(key=lambda f: (-len(f.members), -f.score, f.id))
    return tuple(findings)


def _label(features: list[Features], units: list[Unit], concept: _Concept) -> str:
    """A short label: the shared name, else the terms most members share."""
    names = {u.qualname.rsplit(".", 1)[-1] for u in units}
    if len(names) == 1:
        return names.pop()
    counts: dict[str, int] = defaultdict(int)
    for f in features:
        for term in set(f.name_terms) | set(f.doc_terms):
            counts[term] += 1
    shared = [t for t, c in counts.items() if c >= 2]
    if not shared:
        for f in features:
            for term in set(f.ident_terms):
                counts[term] += 1
        shared = [t for t, c in counts.items() if c >= 2]
    shared.sort(key=lambda t: (-counts[t], -concept.idf(("name", t)), t))
    if shared:
        return " ".join(shared[:3])
    return sorted(names)[0]
