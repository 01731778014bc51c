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
import math
import posixpath
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from analyzers.cluster import MAX_GROUP, Pair, build_findings, complete_groups, prune_nested
from analyzers.fingerprint import DefNode, Streams, Walker, new_walker, token_streams
from analyzers.imports import is_package
from analyzers.model import (
    CLONE_ORDER,
    CloneType,
    Features,
    Finding,
    IndexedUnit,
    Unit,
)
from analyzers.relations import (
    METHODS,
    Hierarchy,
    Words,
    base_name,
    calls,
    colourless,
    is_dunder,
    name_words,
    not_redundancy,
    parallel_names,
)
from analyzers.testcode import is_test, is_test_case, stand_in, test_double

Key = tuple[str, str]


@dataclass(frozen=True)
class RedundancyOptions:
    """Thresholds of the detector; the defaults were tuned on real repositories."""

    min_lines: int = 5
    min_tokens: int = 35  # bench/quality: recall 0.969 -> 0.997 from 50, precision 0.976 -> 0.972
    type3_similarity: float = 0.82  # blind token similarity for a near-miss clone
    type3_min_exact: float = 0.45  # identifiers must still overlap somewhat
    # Judged on real history (bench/realworld): 1 of 29 concept findings scoring under 0.5 was
    # worth acting on, 6 of 30 at or above it. Two branches of one batch need less (see
    # _Detector.concept_bar).
    concept_similarity: float = 0.5
    concept_max_df: int = 12  # a concept anchor (literal or API) is rare in the repository
    max_candidates: int = 400  # per query, for near-miss verification
    # Tests repeat set-up, call and assert by design; a test module's helper that re-implements
    # a helper of the package is still reported.
    include_tests: bool = False
    # Natural-log units of inverse document frequency summed over the statement shapes two
    # structural matches share: boilerplate shapes (``self.x = x``) add almost nothing.
    min_shared_structure: float = 20.0
    max_group: int = MAX_GROUP


_FUNCTIONS = ("function", "async_function")  # unit kinds outside classes


def _module_function(unit: Unit) -> bool:
    """A function defined at the top level of its module."""
    return unit.parent is None and unit.kind in _FUNCTIONS


def _closure(unit: Unit) -> bool:
    """A function defined inside another function (in a class it would be a method).

    A closure is a local detail of the function that holds it: it reads that function's
    scope and serves its one call site (a decorator's wrapper, a callback, a small
    formatter). Two closures alike in two functions are each one's detail; the functions
    themselves are the finding when they are copies, and a closure that re-implements a
    module-level helper still pairs with it, and so do two closures of functions that are
    the same code (``_Detector.held_alike``). Judged on real history, no pair of two
    closures was worth acting on (10 findings made only of closures outside tests, all noise or
    wrong).
    """
    return unit.parent is not None and unit.kind in _FUNCTIONS


def _by_design(a: Unit, b: Unit) -> bool:
    """Pairs that share vocabulary by design rather than by drift, for concept matching.

    Units of one module split one job on purpose; methods of the same name in different
    classes are overrides of one interface; dunders implement protocols.
    """
    if is_dunder(b) or a.path == b.path:
        # One module's functions share its vocabulary; measured on real code, same-file
        # concept pairs were nearly all related-but-different helpers.
        return True
    same_name = a.qualname.rsplit(".", 1)[-1] == b.qualname.rsplit(".", 1)[-1]
    return (
        same_name and a.kind in ("method", "async_method") and b.kind in ("method", "async_method")
    )


def _eligible(item: IndexedUnit, options: RedundancyOptions) -> bool:
    """Big enough to matter, and more than a declaration or a short delegation.

    A function whose body is one or two statements (``...`` under ``@overload``, ``return
    f(...)``, a path built and one request sent) is long only by its signature and
    docstring: two of them alike are an interface or an idiom, and a shared helper would
    save nothing. Of the findings judged on real history (bench/realworld), 72 had such a
    member and none was worth acting on.
    """
    f = item.features
    if item.unit.lines < options.min_lines or f.tokens < options.min_tokens:
        return False
    return item.unit.kind == "class" or f.statements >= 4  # the def and three statements


def _short(x: IndexedUnit, y: IndexedUnit) -> bool:
    """An edited pair too small for a shared helper to pay for its parameters."""
    return (
        min(x.unit.lines, y.unit.lines) < MIN_EDITED_LINES
        and min(x.features.tokens, y.features.tokens) < MIN_EDITED_TOKENS
    )


def _bare_constant(statement: ast.stmt) -> bool:
    """A statement that is a constant alone: a docstring, a string as a comment, ``...``."""
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _literal(node: ast.expr) -> bool:
    """A constant, or a tuple or list of constants."""
    if isinstance(node, ast.Tuple | ast.List):
        return all(_literal(e) for e in node.elts)
    return isinstance(node, ast.Constant)


def _data_tables(node: DefNode) -> list[ast.Dict | ast.Match]:
    """The unit's tables of data: dict displays of DATA_ROWS or more literal keys, and
    ``match`` statements of DATA_ROWS cases or more, each mostly literal values (a case that
    returns a constant)."""
    found: list[ast.Dict | ast.Match] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict) and len(sub.keys) >= DATA_ROWS:
            keys = all(k is not None and _literal(k) for k in sub.keys)
            if keys and 4 * sum(_literal(v) for v in sub.values) >= 3 * len(sub.values):
                found.append(sub)
        elif isinstance(sub, ast.Match) and len(sub.cases) >= DATA_ROWS:
            values = sum(_constant_case(case) for case in sub.cases)
            if 4 * values >= 3 * len(sub.cases):
                found.append(sub)
    return found


def _constant_case(case: ast.match_case) -> bool:
    """A ``case`` whose body returns a constant, or assigns one."""
    if len(case.body) != 1:
        return False
    statement = case.body[0]
    if isinstance(statement, ast.Return | ast.Assign):
        return statement.value is not None and _literal(statement.value)
    return False


def _estimated_jaccard(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    if not a or not b:
        return 0.0
    union = sorted(set(a) | set(b))[: max(len(a), len(b))]
    shared = set(a) & set(b)
    return sum(1 for h in union if h in shared) / len(union)


_MAIN_GUARD = re.compile(r"""if\s+__name__\s*==\s*['"]__main__['"]\s*:""")
_SETUP_IMPORT = re.compile(
    r"^(?:from\s+(?:setuptools|distutils\.core)\s+import\s[^\n]*\bsetup\b|import\s+setuptools\b)",
    re.M,
)
_SETUP_CALL = re.compile(r"^(?:setuptools\.)?setup\(", re.M)


def _setup_script(text: str) -> bool:
    """A packaging script: it imports setuptools' (or distutils') ``setup`` and calls it at
    the top level."""
    return bool(_SETUP_IMPORT.search(text) and _SETUP_CALL.search(text))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class StreamCache:
    """Token streams per unit, from the module sources.

    A unit's own lines are parsed on their own (a few hundred bytes instead of the whole
    module); when that does not give exactly one definition of the unit's name, the whole
    module is parsed once, as the reference.
    """

    def __init__(self, sources: Callable[[str], str | None]) -> None:
        self.sources = sources
        self.texts: dict[str, list[str] | None] = {}
        self.modules: dict[str, dict[int, tuple[DefNode, Walker]]] = {}
        self._built: dict[str, frozenset[str]] = {}
        self._trees: dict[str, ast.Module | None] = {}

    def get(self, unit: Unit) -> Streams | None:
        lines = self.lines(unit.path)
        if lines is None:
            return None
        node = parse_unit(lines, unit)
        if node is not None:
            return token_streams(new_walker(), node)
        return self.from_module(unit)

    def lines(self, path: str) -> list[str] | None:
        """A module's lines with their line ends, read once; None when it has no text."""
        if path not in self.texts:
            text = self.sources(path)
            self.texts[path] = None if text is None else _LINE.findall(text)
        return self.texts[path]

    def node(self, unit: Unit) -> DefNode | None:
        """The unit's definition: parsed from its own lines, else found in its module."""
        lines = self.lines(unit.path)
        if lines is None:
            return None
        found = parse_unit(lines, unit)
        if found is not None:
            return found
        entry = self._nodes(unit.path).get(unit.start_line)
        return None if entry is None else entry[0]

    def from_module(self, unit: Unit) -> Streams | None:
        """The unit's streams from a parse of its whole module (the reference)."""
        found = self._nodes(unit.path).get(unit.start_line)
        if found is None:
            return None
        node, walker = found
        return token_streams(walker, node)

    def built(self, path: str) -> frozenset[str]:
        """The names a module binds at its top level to an object it builds by a call
        (``router = Router(tags=["documents"])``, ``bp = Blueprint("api", __name__)``)."""
        found = self._built.get(path)
        if found is None:
            tree = self.tree(path)
            names: set[str] = set()
            for stmt in tree.body if tree is not None else ():
                if isinstance(stmt, ast.Assign | ast.AnnAssign) and isinstance(
                    stmt.value, ast.Call
                ):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    names.update(t.id for t in targets if isinstance(t, ast.Name))
            found = self._built[path] = frozenset(names)
        return found

    def tree(self, path: str) -> ast.Module | None:
        """A module's syntax tree, parsed once; None when it has no text or does not parse."""
        if path not in self._trees:
            lines = self.lines(path)
            self._trees[path] = _parse("".join(lines)) if lines is not None else None
        return self._trees[path]

    def _nodes(self, path: str) -> dict[int, tuple[DefNode, Walker]]:
        """A module's definitions by first line (decorators included), parsed once."""
        nodes = self.modules.get(path)
        if nodes is None:
            nodes = {}
            tree = self.tree(path)
            if tree is not None:
                walker = new_walker()
                for node in ast.walk(tree):
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                        nodes[start] = (node, walker)
            self.modules[path] = nodes
        return nodes


def _parse(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def parse_unit(lines: list[str], unit: Unit) -> DefNode | None:
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


class _Concept:
    """Inverse document frequencies of concept terms; postings only for what the queries use."""

    def __init__(
        self,
        index: Sequence[IndexedUnit],
        queries: Sequence[IndexedUnit],
        everything: Sequence[IndexedUnit],
    ) -> None:
        # Calls to the repository's own functions (however small) show reuse, not
        # re-implementation.
        self.defined = {base_name(item.unit) for item in everything}
        wanted: set[tuple[str, str]] = set()
        for q in queries:
            wanted.update(self.items(q.features))
        self.df: dict[tuple[str, str], int] = defaultdict(int)
        self.postings: dict[tuple[str, str], list[int]] = defaultdict(list)
        for pos, item in enumerate(index):
            for term in self.items(item.features):
                self.df[term] += 1
                if term in wanted:
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
        name = text.rsplit(".", 1)[-1]
        if channel == "call" and (name in _BUILTINS or len(name) < 3):
            return False  # a builtin, or a call of a parameter like ``f``
        if channel == "literal" and not _specific(text):
            # A bare word or flag says what a pair is about only when nothing else in the
            # repository says it (``"clspath"``, not ``"json"`` or ``"--verbose"``).
            return self.df.get(term, 0) <= 2
        return channel in ("literal", "call") and self.df.get(term, 0) <= options.concept_max_df

    def idf(self, term: tuple[str, str]) -> float:
        return math.log((self.n + 1) / (self.df.get(term, 0) + 1)) + 1.0


# Builtins and the methods of builtin types (``.strip``, ``.items``) say how code is written,
# not what it is about.
_BUILTINS = frozenset(
    name
    for scope in (builtins, str, bytes, dict, list, set, int, float)
    for name in dir(scope)
    if not name.startswith("_")
)


def _specific(literal: str) -> bool:
    """A literal that says what the code does (a message, a format, a path, a header name),
    not a single word or a command-line flag, which mostly say only which key or tool it
    uses: two commands passing ``"--verbose"`` to ``pip``, or reading ``"json"``, do
    different jobs."""
    if literal.startswith("-"):
        return False
    if any(ch.isspace() for ch in literal) or "%" in literal or "{" in literal:
        return True
    inner = literal.strip("_.")
    return len(literal) >= 12 or any(not (ch.isalnum() or ch == "_") for ch in inner)


_MANIFESTS = ("pyproject.toml", "setup.py", "setup.cfg")


def _message(literal: str) -> bool:
    """A sentence or a format: three words or more, or placeholders."""
    return len(literal.split()) >= 3 or "%(" in literal or "{" in literal


FAMILY_SIZE = 3  # units of one identifier-blind shape: a template of the repository
# A near-miss's closeness lowers its structural bar in full when it kept this share of its
# names (matching with the original identifiers), not at all when it kept NAMES_KEPT_FROM
# or less: closeness of shape alone is what look-alikes written to one idiom have.
NAMES_KEPT_FROM = 0.6
NAMES_KEPT_AT = 0.9
RENAMED_ONLY = 0.99  # blind similarity from which a near-miss changed names, not statements
MIN_CONCEPT_ANCHORS = 2
# A unit several times the size of the other does more than the same job: at most it holds a
# part of it (a timeout message inside a whole download handler), which is not one concept.
MIN_CONCEPT_SIZE_RATIO = 0.5
# A function of a def and three statements is too little code to hold a concept of its own:
# what it shares with another is the whole of it (a predicate of hasattr checks, a raise with
# a message). Of 13 judged same-concept findings with such a member, none was worth acting on.
MIN_CONCEPT_STATEMENTS = 5
# Syntax-tree tokens in a row two units of one concept share: about a statement with its call and
# arguments (``x = foo(a)`` is eight). See _Detector.shares_code.
MIN_CONCEPT_RUN = 12
# The share of ``concept_similarity`` a same-concept pair of two branches of one batch needs
# to join a finding (see _Detector.founded: it cannot found one).
BETWEEN_BRANCHES = 0.7
# An identical override this short fills the interface's hook for its own class: a dialect's
# DEFAULT clause, a driver's insert-result step, a field's ``_value``. Sharing a few lines
# would tie together implementations the design keeps apart. Of the identical overrides
# judged in bench/realworld, every one of 8 lines or fewer was not worth acting on; the
# worth ones (a header parser, a body decoder) have 10 or more.
HOOK = 8
# Implementations of one name, besides an identical pair's own body, that make the name a hook
# of the repository (see _Detector.hooked).
HOOK_FAMILY = 2
# Other pairs of names told apart by the same words that make two units entries of two parallel
# families (see _Detector.families).
PARALLEL_FAMILIES = 2
# An edited copy (a near-miss, or a Type-2 pair with other string literals) this small, in
# lines and in tokens, is unified only through a parameter per edit, which costs about what the
# copy does: a per-variant sibling (one dispatch guard per view, one ack counter per component,
# one group walker per storage library). Of the 458 judged findings whose code was re-read at
# their batch head, 75 were such pairs with a smaller member of under 9 lines and under 70
# tokens (twice the smallest unit compared), and none of them was worth acting on; a dense
# 8-line helper (a slug builder) still counts, and so does a small copy that renamed only names.
MIN_EDITED_LINES = 9
MIN_EDITED_TOKENS = 70
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
    anchors: set[str] = set()
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
            # ``.urlopen`` and ``urllib.request.urlopen`` are one anchor, not two. A message
            # written out identically in both (a log line with its placeholders) is as much
            # evidence as two: nobody types the same sentence twice by chance.
            for t in shared:
                if concept.anchor(t, options):
                    anchors.add(t[1].rsplit(".", 1)[-1])
                    if channel == "literal" and _message(t[1]):
                        anchors.add(t[1] + "\x00again")
    # Names differ by definition here: agreement needs more than one rare literal or API.
    if len(anchors) < MIN_CONCEPT_ANCHORS or present == 0:
        return 0.0, ()
    return score / present, tuple(matched)


_PRIOR_UNITS = 200
# How many units outside a group _Detector.family_slice compares with its members (each costs
# a token match): a template family shows itself in the first few.
FAMILY_PEEKS = 8
# Statement shapes two functions alone share (no third has them) that make a block of specific
# logic rather than a template: see _Detector.rare_block.
RARE_BLOCK = 3
# A lookup table: DATA_ROWS entries or more, over DATA_SHARE of the unit's lines or more. In
# bench/realworld the only edited findings whose members hold such tables (over 15% of either
# member) were two per-service tables (pipecat's audio formats per ElevenLabs API, autogen's
# stop reasons per model provider), both noise.
DATA_ROWS = 4
DATA_SHARE = 0.3


def _called(func: ast.expr) -> str:
    """The called name: ``read`` for ``self.unreader.read()``; empty for other callees."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


# What makes a body a skeleton around the calls it makes: it repeats, guards or scopes them.
_SKELETON = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Try,
    ast.TryStar,
    ast.With,
    ast.AsyncWith,
    ast.comprehension,
    ast.Lambda,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
)
# Statements and expressions that decide, repeat or guard: a body with one of them has logic.
_LOGIC = (*_SKELETON, ast.If, ast.IfExp, ast.Match, ast.BoolOp)


def _receiver(func: ast.expr) -> str:
    """The name an attribute call's chain starts from (``self`` for ``self._pool.close``);
    empty for a bare call or a chain through a call or subscript."""
    while isinstance(func, ast.Attribute):
        func = func.value
        if isinstance(func, ast.Name):
            return func.id
    return ""


def _plain(name: str) -> str:
    """A called name without its underscores and async/sync words (``_read_async`` -> ``read``)."""
    return colourless(name).strip("_").lower()


class _Structure:
    """How common each normalized statement shape is among the repository's functions, and
    which units (classes apart from functions) hold each one."""

    def __init__(self, index: Sequence[IndexedUnit]) -> None:
        self.df: dict[int, int] = defaultdict(int)
        self.holding: dict[tuple[bool, int], list[IndexedUnit]] = defaultdict(list)
        n = 0
        for item in index:
            is_class = item.unit.kind == "class"
            n += not is_class
            for fragment in item.features.fragments:
                self.df[fragment] += not is_class
                self.holding[(is_class, fragment)].append(item)
        self.n = max(n, 1)

    def holders(self, members: Sequence[IndexedUnit]) -> list[IndexedUnit]:
        """The other units of the members' kind (function or class) that hold every statement
        shape all the members share; none when they share none."""
        is_class = members[0].unit.kind == "class"
        common = set(members[0].features.fragments)
        for item in members[1:]:
            common &= set(item.features.fragments)
        lists = sorted((self.holding[(is_class, f)] for f in common), key=len)
        if not lists:
            return []
        found = {item.unit.key: item for item in lists[0]}
        for more in lists[1:]:
            if len(found) <= len(members):
                break  # only the members are left: nothing outside holds the shapes
            keys = {item.unit.key for item in more}
            found = {k: item for k, item in found.items() if k in keys}
        inside = {item.unit.key for item in members}
        return [item for k, item in found.items() if k not in inside]

    def shared(self, a: Features, b: Features) -> tuple[float, int, int]:
        """The information in the statement shapes both share (a sum of inverse document
        frequencies), how many they share, and how many of those no other function has."""
        common = set(a.fragments) & set(b.fragments)
        # The prior: PRIOR_UNITS functions that lack the shape, so that a small repository
        # (or a test's) does not make every shape look common.
        n = self.n + _PRIOR_UNITS
        df = self.df
        info = sum(math.log(n / (df.get(f, 0) + 1)) for f in common)
        return info, len(common), sum(1 for f in common if df.get(f, 0) <= 2)


class _Detector:
    """Candidate pairs of one review, and on-demand verification of any other pair."""

    def __init__(
        self,
        index: Sequence[IndexedUnit],
        eligible: list[IndexedUnit],
        introduced: Mapping[Key, str],
        sources: Callable[[str], str | None],
        options: RedundancyOptions,
        queries: list[IndexedUnit],
        matches: MutableMapping[tuple[str, str], tuple[float, float]],
        hierarchy: Hierarchy,
    ) -> None:
        self.eligible = eligible
        self.by_key = {item.unit.key: item for item in eligible}
        self.everything = {item.unit.key: item for item in index}  # helpers of any size
        self.sources = sources
        self.matches = matches
        self._sample: dict[Key, bool] = {}
        self._main_blocks: dict[str, list[tuple[int, int]]] = {}
        self._scripts: dict[str, bool] = {}
        self._distributions: dict[str, str] = {}
        # How many units share each identifier-blind shape, and each near-identical one.
        self.shapes = Counter(item.features.blind_hash for item in eligible)
        self.sketches = Counter(item.features.sketch for item in eligible)
        self.introduced = introduced
        self.options = options
        self.streams = StreamCache(sources)
        self.hierarchy = hierarchy
        self.structure = _Structure(eligible)
        self.concept = _Concept(eligible, queries, index)
        self.pairs: dict[tuple[Key, Key], Pair] = {}
        self.copies: dict[Key, list[IndexedUnit]] = defaultdict(list)
        self._verified: dict[tuple[Key, Key], Pair | None] = {}
        self._awaited: dict[Key, frozenset[str]] = {}
        self._tabled: dict[Key, str] = {}
        self._data: dict[Key, tuple[str, ...] | None] = {}
        self._bound: dict[Key, dict[str, Key | None]] = {}
        self._interfaces: dict[bool, Counter[tuple[str, str]]] = {}
        self._hooks: dict[str, set[str]] | None = None  # name -> bodies outside tests
        self._names: tuple[frozenset[Words], dict[str, list[Words]]] | None = None
        self._parallels: dict[tuple[str, str], int] = {}
        self._postings: dict[int, list[int]] | None = None  # sketch hash -> eligible positions

    def add(self, pair: Pair) -> None:
        ident = (min(pair.a, pair.b), max(pair.a, pair.b))
        old = self.pairs.get(ident)
        if old is None or CLONE_ORDER.index(pair.clone_type) < CLONE_ORDER.index(old.clone_type):
            self.pairs[ident] = pair

    def admissible(self, x: IndexedUnit, y: IndexedUnit, clone_type: CloneType) -> bool:
        """Not nested in one another, tests kept apart, and no relation that explains it.

        Test code pairs only with package code it re-implements (a test module's helper),
        unless tests are asked for; test cases themselves never reach here then.
        """
        ux, uy = x.unit, y.unit
        if ux.key == uy.key or ux.contains(uy) or uy.contains(ux):
            return False
        if not self.options.include_tests and self.sample(ux) and self.sample(uy):
            return False
        if not self.options.include_tests and (test_double(ux) or test_double(uy)):
            return False  # a fake mirrors the real class on purpose: that is its job
        if not self.options.include_tests and stand_in(ux, uy):
            return False
        if ux.path != uy.path and self.script(ux.path) and self.script(uy.path):
            return False  # two programs, each self-contained on purpose (CI action, release)
        if self.distribution(ux.path) != self.distribution(uy.path):
            return False  # two distributions of a monorepo: a copy is how one avoids the other
        if clone_type != "type-1" and self.side_by_side(ux, uy) and not self.rare_block(x, y):
            return False
        if clone_type == "type-1" and self.hierarchy.overrides(ux, uy):
            if (
                self.glue(ux)
                or self.hierarchy.table(ux, uy)
                or max(ux.lines, uy.lines) <= HOOK
                or self.hierarchy.coincide(x, y)
            ):
                return False
        if clone_type == "type-1" and max(ux.lines, uy.lines) <= HOOK and self.hooked(x):
            return False
        if clone_type == "type-1" and self.methods_apart(x, y):
            return False
        if clone_type != "type-1" and self.own_data(ux, uy):
            return False
        if clone_type == "type-3" and self.class_variants(ux, uy):
            return False
        if clone_type != "type-1" and self.registered(ux) and self.registered(uy):
            return False
        if clone_type != "type-1" and self.declared(ux, uy):
            return False
        if clone_type != "type-1" and self.hierarchy.entries(ux, uy):
            return False
        if clone_type != "type-1" and ux.path == uy.path and self.families(ux, uy):
            return False
        if clone_type != "type-1" and self.tabled(ux) and self.tabled(ux) == self.tabled(uy):
            return False
        if _closure(ux) and _closure(uy) and not self.held_alike(ux, uy):
            return False
        if clone_type != "type-1" and self.module_interface(ux, uy, clone_type == "concept"):
            return False
        if self.sugar(ux, uy):
            return False
        if self.rebound(ux, uy):
            return False
        return not_redundancy(x, y, clone_type, self.hierarchy) is None

    def module_interface(self, a: Unit, b: Unit, written_apart: bool = False) -> bool:
        """Two module-level functions of one name in two modules of one folder, where at
        least FAMILY_SIZE modules of that folder defined a function of that name before the
        batch: each module implements an interface the folder's modules share by convention
        (a search engine's ``request`` and ``response``, a hook file's ``hook``, a check's
        ``filter_request``).

        It is polymorphism without classes: the caller looks the function up by name in
        each module, like a method in each class of a hierarchy, and each module adapts it
        to its own service. Judged on real history, no such pair was worth acting on (17,
        all noise or wrong). Only definitions older than the batch make the convention: a
        helper the batch's branches copied into three modules of a package is the drift
        the review is for. An identical body is still reported.

        Two such functions ``written_apart`` (a same-concept pair: the same job in code of its
        own, not a copy) count every module of the folder, the batch's included: seven scripts
        a batch adds, each with its own ``add_subcommand``, are an interface from the start.
        Judged on real history, none of the 9 same-concept findings of one name in a folder
        where three modules or more define it was worth acting on.
        """
        if not (_module_function(a) and _module_function(b)) or a.path == b.path:
            return False
        name, folder = base_name(a), posixpath.dirname(a.path)
        if name != base_name(b) or folder != posixpath.dirname(b.path):
            return False
        interfaces = self._interfaces.get(written_apart)
        if interfaces is None:
            defined = {
                (item.unit.path, base_name(item.unit))
                for item in self.everything.values()
                if _module_function(item.unit)
                and (written_apart or item.unit.key not in self.introduced)
            }
            interfaces = Counter((posixpath.dirname(p), n) for p, n in defined)
            self._interfaces[written_apart] = interfaces
        return interfaces[(folder, name)] >= FAMILY_SIZE

    def families(self, a: Unit, b: Unit) -> bool:
        """The names of ``a`` and ``b`` differ by words (food / unit, cluster / endpoint
        config) that tell apart PARALLEL_FAMILIES other pairs of names of the repository or
        more (``validate_food`` / ``validate_unit``): the two are entries of two parallel
        families, one per variant, and each family keeps its own version of every operation.

        The repository's design says so, not the pair: moto's per-resource ``list_*``
        filters, mealie's per-entity alias maps, a driver's per-type converters. Of the
        edited and same-concept pairs of one module judged in bench/realworld, none of the 20
        with two parallels or more among all the names at its batch head was worth acting on
        (21 worth have fewer; three of them, structlog's ``BytesLogger`` beside
        ``WriteLogger`` among them, have one). Only names
        older than the batch make the design: sentry's batch that copied its log batcher into a
        metrics batcher also copied ``_capture_log`` into ``_capture_metric``, which the
        maintainers later unified (bench/recall).
        """
        if self._names is None:
            known: set[Words] = set()
            holding: defaultdict[str, list[Words]] = defaultdict(list)
            for item in self.everything.values():
                words = name_words(base_name(item.unit))
                older = item.unit.key not in self.introduced
                if words and words not in known and older and not is_test(item.unit):
                    known.add(words)
                    for word in set(words):
                        holding[word].append(words)
            self._names = (frozenset(known), holding)
        pair = (base_name(a), base_name(b))
        found = self._parallels.get(pair)
        if found is None:
            found = parallel_names(*pair, *self._names)
            self._parallels[pair] = found
        return found >= PARALLEL_FAMILIES

    def hooked(self, item: IndexedUnit) -> bool:
        """The repository implements the unit's name in HOOK_FAMILY other ways or more (other
        bodies, outside tests, older than the batch): the name is a hook that each class or
        module fills for itself.

        A few identical lines under such a name are one more filling of it (Django's
        ``dispatch`` guard, a form field's ``_value``, a driver's ``release``), whether or not
        the class hierarchy shows the base: a framework's base class or a duck-typed protocol
        does not. Of the identical pairs of HOOK lines or fewer judged in bench/realworld, the
        20 whose name has two other implementations or more at the batch head (of any age) were
        all noise; none of the 5 worth acting on (a copied ``_make_timedelta``, a lookup two
        views repeat) has even one.
        Implementations the batch adds do not count: referencing's batch that wrote ``id_of``
        three ways in six draft classes had its two identical pairs merged by the maintainers
        (bench/recall).
        """
        if self._hooks is None:
            self._hooks = defaultdict(set)
            for other in self.everything.values():
                if (
                    other.unit.kind != "class"
                    and not is_test(other.unit)
                    and other.unit.key not in self.introduced
                ):
                    self._hooks[base_name(other.unit)].add(other.features.exact_hash)
        others = self._hooks.get(base_name(item.unit), set()) - {item.features.exact_hash}
        return len(others) >= HOOK_FAMILY

    def methods_apart(self, x: IndexedUnit, y: IndexedUnit) -> bool:
        """Two methods of HOOK lines or fewer, each working on its own instance, in two
        classes of two modules that are not themselves alike.

        Sharing a few lines between two classes of two modules takes a base class or a mixin
        the two do not have, for a body shorter than the class statement it would need: two
        watcher classes' ``stop``, two drivers' ``release``, two dialects' schema hooks, two
        commit parsers' ``parse_commit`` glue. Of the identical method pairs of HOOK lines or
        fewer judged in bench/realworld outside tests, the 22 in two modules were all noise;
        the 3 worth acting on sit in one module (two views' ``_load``, two lookups'
        ``get_filter``). A method that never reads its ``self`` is a function in a class, shared
        by an import (poetry's two ``source_to_table`` static methods, merged into a helper:
        bench/recall), and two classes alike as a whole are one copied class, methods and all.
        """
        ux, uy = x.unit, y.unit
        if ux.kind not in METHODS or uy.kind not in METHODS or ux.path == uy.path:
            return False
        if max(ux.lines, uy.lines) > HOOK or not (self.instance(ux) and self.instance(uy)):
            return False
        px = self.by_key.get((ux.path, ux.parent or ""))
        py = self.by_key.get((uy.path, uy.parent or ""))
        if px is None or py is None:
            return True
        alike = self.similarity(px, py)
        return alike is None or alike[0] < self.options.type3_similarity

    def own_data(self, a: Unit, b: Unit) -> bool:
        """Each unit is mostly a lookup table (DATA_SHARE of its lines or more), and the
        tables differ: two tables of data, each with entries of its own around the same
        lookup (the audio formats one speech API takes and those another takes, the stop
        reasons of two model providers). What they share is the lookup, a line or two; the
        entries are each service's facts. Two units holding the same table are still compared:
        what differs is in the code around it.
        """
        one, other = self.data(a), self.data(b)
        return one is not None and other is not None and one != other

    def data(self, unit: Unit) -> tuple[str, ...] | None:
        """The unit's lookup tables (dumped) when they fill DATA_SHARE of its lines; else None.
        Read once per unit: the unit meets many candidates."""
        if unit.key in self._data:
            return self._data[unit.key]
        found: tuple[str, ...] | None = None
        node = self.streams.node(unit)
        if node is not None:
            tables = _data_tables(node)
            rows = {line for t in tables for line in range(t.lineno, (t.end_lineno or 0) + 1)}
            if tables and len(rows) >= DATA_SHARE * unit.lines:
                found = tuple(ast.dump(t) for t in tables)
        self._data[unit.key] = found
        return found

    def class_variants(self, a: Unit, b: Unit) -> bool:
        """Two classes of two modules, alike but edited: each module's own member of a family
        (a driver base per kind of driver, a fact base per database, a lexer per language, a
        mixin per property).

        A class carries its module's design whole, and edits across a whole class are the
        variant's own; what the two classes really share sits in their methods, which are
        still compared one by one: a method copied line for line between the two classes is
        still reported, as a method. Of the edited class pairs of two modules judged in
        bench/realworld, 8 were noise or wrong and 1 worth acting on: warehouse's two payload
        verifiers, whose two copied methods each implement their base class's interface and
        are left out by the method rules, so that finding is lost. Edited classes of one
        module (a logger copied for ``str``, a generator wrapper copied for ``async``) and
        copied or renamed classes are still reported whole.
        """
        return a.kind == "class" and b.kind == "class" and a.path != b.path

    def instance(self, unit: Unit) -> bool:
        """The method reads its first parameter (``self``, ``cls``) and is no static method."""
        node = self.streams.node(unit)
        if node is None or isinstance(node, ast.ClassDef):
            return True
        if any(_called(d) == "staticmethod" for d in node.decorator_list):
            return False
        params = [*node.args.posonlyargs, *node.args.args]
        if not params:
            return False
        first = params[0].arg
        return any(
            isinstance(n, ast.Name) and n.id == first
            for statement in node.body
            for n in ast.walk(statement)
        )

    def held_alike(self, a: Unit, b: Unit) -> bool:
        """The functions holding two closures are the same code up to their names (a copied
        decorator): the closures are then where the copy shows."""
        pa = self.by_key.get((a.path, a.parent or ""))
        pb = self.by_key.get((b.path, b.parent or ""))
        return (
            pa is not None and pb is not None and pa.features.blind_hash == pb.features.blind_hash
        )

    def registered(self, unit: Unit) -> bool:
        """An entry point its module registers on a registry of its own: a function
        decorated by a call of a method of an object the module builds at its top level
        (``@router.patch("/{document_id}/")`` under ``router = Router(...)``).

        Each declares one endpoint of the module's API (its path, schema, permissions), and the
        framework's idiom writes one thin function per resource and verb: the documents and
        images routers of one API look alike by design. Judged on real history, no finding
        made only of decorated entry points was worth acting on. An identical body is still
        reported: the same code twice is the thing to remove.
        """
        receivers = {callee.split(".", 1)[0] for callee in self._declarations(unit)}
        # The module is parsed only for a unit that has such a decorator.
        return bool(receivers) and not receivers.isdisjoint(self.streams.built(unit.path))

    def declared(self, a: Unit, b: Unit) -> bool:
        """Two functions one decorator declares, each with arguments of its own: the same
        ``@cli.register_custom_action(...)``, ``@click.command(...)`` or ``@router.get(...)``
        giving each its name, path or error type.

        Each is then one endpoint or command of an API the decorator collects, written the
        way the framework writes all of them (python-gitlab's one method per REST action).
        Judged on real history, none of the 14 findings outside tests whose members are all
        declared so was worth acting on (13 noise, 1 wrong). An identical body is still
        reported.
        """
        first, second = self._declarations(a), self._declarations(b)
        return any(
            callee in second and second[callee] != arguments for callee, arguments in first.items()
        )

    def tabled(self, unit: Unit) -> str:
        """The method that more than half of the unit's statements call, each a call of it
        alone or assigned (``parser.add_argument(...)`` line after line); else empty.

        Such a body is a table written as calls: the options of one command, the schemas of
        one model. Two tables of one API share its vocabulary and shape whatever they declare,
        and each declares its own entries. Judged on real history, none of the 11 edited or
        same-concept findings with two such tables of one method was worth acting on (dvc's
        argparse set-ups of sibling commands, wagtail's per-model schema lists, 7 lists of
        assertions in tests); in the findings worth it, one method takes at most 40% of the
        statements. An identical table is still reported.
        """
        found = self._tabled.get(unit.key)
        if found is None:
            found = ""
            node = self.streams.node(unit)
            if node is not None:
                called: Counter[str] = Counter()
                statements = 0
                for sub in ast.walk(node):
                    if not isinstance(sub, ast.stmt) or sub is node or _bare_constant(sub):
                        continue
                    statements += 1
                    value = sub.value if isinstance(sub, ast.Expr | ast.Assign) else None
                    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
                        called[value.func.attr] += 1
                top = called.most_common(1)
                if top and 2 * top[0][1] > statements:
                    found = top[0][0]
            self._tabled[unit.key] = found
        return found

    def _declarations(self, unit: Unit) -> dict[str, str]:
        """The unit's decorator calls of an attribute of a name, by callee: their arguments."""
        node = self.streams.node(unit)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return {}
        return {
            f"{d.func.value.id}.{d.func.attr}": ast.dump(ast.Tuple([*d.args], ast.Load()))
            + "".join(ast.dump(k) for k in d.keywords)
            for d in node.decorator_list
            if isinstance(d, ast.Call)
            and isinstance(d.func, ast.Attribute)
            and isinstance(d.func.value, ast.Name)
        }

    def glue(self, unit: Unit) -> bool:
        """A method that only hands work to its own parts: straight-line statements (no branch,
        loop, ``try`` or ``with``) whose every call goes through ``self`` or ``cls``.

        Identical in two implementations of one interface method (each backend's ``release``
        asserts, releases its connection to its own pool, clears it), it binds the interface to
        each class's own objects: alike because the parts share an API, with no logic of its
        own to move into the base. A copy that decides or loops (a parser, a header lookup)
        carries logic, and the next fix to it must find both.
        """
        node = self.streams.node(unit)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        for sub in ast.walk(node):
            if sub is node:
                continue
            if isinstance(sub, _LOGIC):
                return False
            if isinstance(sub, ast.Call) and _receiver(sub.func) not in ("self", "cls"):
                return False
        return True

    def sugar(self, a: Unit, b: Unit) -> bool:
        """Methods of two classes, alike or identical, that only dress up a method each class
        defines its own way: no loop, ``try`` or ``with``, no function of the repository
        called bare, and every method of ``self`` they use written differently in the two.

        ``on_request`` calling ``self.middleware(fn, "request")`` in an app's mixin and in a
        group of blueprints is one line of sugar over two different ``middleware``: the text
        is one, the code it runs is two, and sharing it would need a base class for the sugar
        alone. A copy that loops or guards around those calls is a skeleton (a template
        method's job), and one calling the repository's functions carries their logic along.
        """
        methods_of_classes = a.kind.endswith("method") and b.kind.endswith("method")
        if not methods_of_classes or not a.parent or not b.parent:
            return False
        node = self.streams.node(a)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        if any(v is not None for v in self.bound(a).values()):
            return False
        used: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, _SKELETON) and sub is not node:
                return False
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                if sub.value.id in ("self", "cls"):
                    used.add(sub.attr)
        ka = {m: (a.path, f"{a.parent}.{m}") for m in used}
        kb = {m: (b.path, f"{b.parent}.{m}") for m in used}
        methods = [m for m in used if ka[m] in self.everything or kb[m] in self.everything]
        return bool(methods) and all(
            ka[m] in self.everything
            and kb[m] in self.everything
            and self.different(ka[m], kb[m], a, b)
            for m in methods
        )

    def rebound(self, a: Unit, b: Unit) -> bool:
        """The members call one name bare that their modules bind to two different functions
        of the repository: each module's own, or one's own and one it imports from a third.

        Alike in text, they run different code at that call: a draft's legacy validator calling
        its module's own draft-specific walker, where the current one calls the walker it
        imports; one body cannot serve both. A helper that is an identical copy, or a call to
        the member itself, says nothing: the copy then carries its callee along. Calls through
        ``self`` are not read so: a class's own hooks under one skeleton are what a base class
        with a template method is for (two batchers' flush loops, later unified upstream).
        """
        own_a, own_b = self.bound(a), self.bound(b)
        for name in own_a.keys() & own_b.keys():
            one, other = own_a[name], own_b[name]
            if one is not None and other is not None and self.different(one, other, a, b):
                return True
        return False

    def bound(self, unit: Unit) -> dict[str, Key | None]:
        """Each name the unit calls bare, with the repository's function or class it reaches:
        its module's own, or one imported by name from another module; None when unknown
        (a builtin, a library, a module-qualified or star import)."""
        found = self._bound.get(unit.key)
        if found is not None:
            return found
        found = {}
        node = self.streams.node(unit)
        if node is not None:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                    name = sub.func.id
                    key: Key | None = (unit.path, name)
                    if key not in self.everything:
                        key = self.hierarchy.imported(unit.path, name)
                    found[name] = key if key in self.everything else None
        self._bound[unit.key] = found
        return found

    def different(self, one: Key, other: Key, a: Unit, b: Unit) -> bool:
        """Two definitions of one called name that are not the members themselves, not one
        copy of the other, and not one definition."""
        if one == other or {one, other} & {a.key, b.key}:
            return False
        x, y = self.everything[one], self.everything[other]
        return x.features.exact_hash != y.features.exact_hash

    def side_by_side(self, a: Unit, b: Unit) -> bool:
        """Variants one change of the batch wrote into one module: a per-keyword validator
        beside its sibling, a bytes entry point beside the text one.

        Their author wrote each to differ, in one diff its reviewer read whole; drift is what
        parallel branches, or a branch and older code, wrote apart. An identical pair is
        still reported: that is a slip, not a variant. Across modules the same reading was
        tried and dropped: a branch pasting one older helper into two modules wrote two
        copies of it, not two variants, and the pair between the copies holds the group.
        """
        change = self.introduced.get(a.key)
        return change is not None and a.path == b.path and change == self.introduced.get(b.key)

    def rare_block(self, x: IndexedUnit, y: IndexedUnit) -> bool:
        """The pair shares several statement shapes no other function of the repository has: a
        block of specific logic written twice, not one template filled in two ways.

        Variants one change writes side by side share the template of their job (sibling
        validators, per-draft walkers, ``request``/``stream``: at most one shape of their own
        in real history); a copied parsing routine carries its rare lines along, and the next
        fix to them must find both (alembic's two ``Config`` list getters share three).
        """
        return self.structure.shared(x.features, y.features)[2] >= RARE_BLOCK

    def ported(self, x: IndexedUnit, y: IndexedUnit) -> bool:
        """One is a coroutine that awaits calls the other makes synchronously: its async port.

        Each side does its own I/O, so what they share is the port's, not a routine to call
        from both (gunicorn's ``AsyncRequest._parse`` awaits the reads ``Request.parse``
        runs). A coroutine awaiting none of the other's calls runs the same work behind an
        async signature (a hook that waits on an event at its end): it may still re-implement.
        """
        if x.unit.kind.startswith("async") == y.unit.kind.startswith("async"):
            return False
        coroutine, function = (x, y) if x.unit.kind.startswith("async") else (y, x)
        made = {_plain(call.rsplit(".", 1)[-1]) for call in function.features.calls}
        return bool(self.awaited(coroutine.unit) & made)

    def awaited(self, unit: Unit) -> frozenset[str]:
        """The names of the calls a coroutine awaits, without underscores or async words."""
        found = self._awaited.get(unit.key)
        if found is None:
            node = self.streams.node(unit)
            found = frozenset(
                _plain(_called(n.value.func))
                for n in (ast.walk(node) if node is not None else ())
                if isinstance(n, ast.Await) and isinstance(n.value, ast.Call)
            ) - {""}
            self._awaited[unit.key] = found
        return found

    def distribution(self, path: str) -> str:
        """The folder of the packaging manifest (``pyproject.toml``, ``setup.py``,
        ``setup.cfg``) nearest above ``path``: what is built and shipped as one."""
        folder = path.rpartition("/")[0]
        found = self._distributions.get(folder)
        if found is None:
            found = folder
            while found and not any(
                self.sources(f"{found}/{manifest}") is not None for manifest in _MANIFESTS
            ):
                found = found.rpartition("/")[0]
            self._distributions[folder] = found
        return found

    def script(self, path: str) -> bool:
        """A standalone program: a module that runs itself (a top-level ``__main__`` guard)
        or that packaging tools run (a top-level ``setup(...)`` of setuptools), from a folder
        that is no package (no ``__init__.py``), so nothing imports it.

        A second distribution's ``setup_server.py`` copied from ``setup.py`` keeps its own
        version reader: a build runs each script alone, before anything is installed.
        """
        found = self._scripts.get(path)
        if found is None:
            runs = bool(self._main(path)) or _setup_script(self.sources(path) or "")
            found = runs and not is_package(path.rpartition("/")[0], self.sources)
            self._scripts[path] = found
        return found

    def sample(self, unit: Unit) -> bool:
        """Test or sample code: a test, example or docs module, a module of unittest tests
        wherever it lives, or a module's self-demo (a function defined under
        ``if __name__ == "__main__":``)."""
        found = self._sample.get(unit.key)
        if found is None:
            found = (
                is_test(unit)
                or self.hierarchy.in_test_case(unit)
                or self.hierarchy.in_test_module(unit.path)
                or any(start < unit.start_line <= end for start, end in self._main(unit.path))
            )
            self._sample[unit.key] = found
        return found

    def _main(self, path: str) -> list[tuple[int, int]]:
        """The line spans of a module's top-level ``if __name__ == "__main__":`` blocks."""
        blocks = self._main_blocks.get(path)
        if blocks is None:
            blocks = []
            text = self.sources(path) or ""
            if "__main__" in text:
                lines = text.splitlines()
                for i, line in enumerate(lines):
                    if _MAIN_GUARD.match(line):
                        end = next(
                            (
                                j
                                for j in range(i + 1, len(lines))
                                if lines[j][:1] not in ("", " ", "\t", "#")
                            ),
                            len(lines),
                        )
                        blocks.append((i + 1, end))
            self._main_blocks[path] = blocks
        return blocks

    def similarity(self, x: IndexedUnit, y: IndexedUnit) -> tuple[float, float] | None:
        """(blind, exact) token-stream similarity, through the cache of earlier reviews.

        Both depend only on the two token streams, which the exact hashes name; the exact
        ratio is left at 0 when the blind one is already too low to matter.
        """
        first, second = sorted((x, y), key=lambda item: item.features.exact_hash)
        key = (first.features.exact_hash, second.features.exact_hash)
        found = self.matches.get(key)
        if found is not None:
            return found
        sa, sb = self.streams.get(first.unit), self.streams.get(second.unit)
        if sa is None or sb is None:
            return None
        blind_sim = _ratio(sa.blind, sb.blind)
        exact_sim = (
            _ratio(sa.exact, sb.exact) if blind_sim >= self.options.type3_similarity else 0.0
        )
        self.matches[key] = (blind_sim, exact_sim)
        return blind_sim, exact_sim

    def needed(
        self, x: IndexedUnit, y: IndexedUnit, similarity: float, names: float = 1.0
    ) -> float:
        """The distinctiveness a structural match of this similarity must show.

        The closer the copy, the less it needs: a 97% match of a small function is a copy
        even when its statements are ordinary; an 83% match of ordinary statements is a
        shape. Closeness counts only as far as the copy kept its names (``names``, the
        share of the token stream that matches with the original names): a near-miss that
        also renamed most of what it touches is two small functions written to one idiom
        (one list filter per cloud service), and needs the full bar, never more. Neighbours
        in one module share its idioms by design and must show more.
        """
        closeness = min(max((similarity - 0.85) / 0.1, 0.0), 1.0)
        kept = min(max((names - NAMES_KEPT_FROM) / (NAMES_KEPT_AT - NAMES_KEPT_FROM), 0.0), 1.0)
        needed = self.options.min_shared_structure * (1.0 - 0.4 * closeness * kept)
        return needed * (2.0 if x.unit.path == y.unit.path else 1.0)

    def structural(
        self, x: IndexedUnit, y: IndexedUnit, similarity: float, names: float = 1.0
    ) -> str | None:
        """Why a structural match is distinctive enough, or None when the shared shapes are
        common in the repository (constructors storing arguments, set-up-call-assert)."""
        info, count, unique = self.structure.shared(x.features, y.features)
        if info < self.needed(x, y, similarity, names):
            return None
        return (
            f"{count} statement shapes in common, {unique} of them in no other function "
            f"(distinctiveness {info:.1f})"
        )

    def family_slice(self, group: Sequence[Pair]) -> bool:
        """A group of near-misses that another unit stays out of, though it is as close to one
        of them as the members are to each other: a slice of a template family. The other unit
        is looked for among those holding every statement shape the members share, and among
        each member's nearest sketches (a sibling that varies one of those statements).

        What the members share is then the repository's way of writing one kind of job
        (typeguard's per-call-site checkers, scrapy's per-codec decompressors, uvicorn's
        protocol hooks), and the group is an arbitrary slice of its family; on real history no
        such group was worth acting on (the sketch siblings removed 7 judged noise and no worth
        finding). The whole family as one group still reports, and so does a copy closer to its
        original than the siblings are; an identical pair always does.
        """
        if any(p.clone_type in ("type-1", "concept") for p in group):
            return False
        members = [self.by_key[k] for k in dict.fromkeys(k for p in group for k in (p.a, p.b))]
        weakest = max(self.options.type3_similarity, min(p.score for p in group))
        for other in self.structure.holders(members)[:FAMILY_PEEKS]:
            for member in members:
                found = self.similarity(member, other)
                if found is not None and found[0] >= weakest:
                    return True
        # A sibling that varies one statement holds fewer shapes than the members share; the
        # sketch finds it where the near-misses were found. A unit holding a member, or held
        # by one, is the member itself seen from outside (a class of one method).
        for member in members:
            for other in self.sketch_neighbours(member, FAMILY_PEEKS + 1):
                if any(
                    other.unit.key == m.unit.key
                    or other.unit.contains(m.unit)
                    or m.unit.contains(other.unit)
                    for m in members
                ):
                    continue
                found = self.similarity(member, other)
                if found is not None and found[0] >= weakest:
                    return True
        return False

    def sketch_neighbours(self, item: IndexedUnit, limit: int) -> list[IndexedUnit]:
        """Of the ``limit`` eligible units whose sketches share most hashes with ``item``'s,
        those other than ``item``. A shingle in more units than a stop-shingle is an idiom of
        the repository: it ties nothing distinctive, and counting its postings for every unit
        would be quadratic."""
        if self._postings is None:
            self._postings = defaultdict(list)
            for pos, other in enumerate(self.eligible):
                for h in other.features.sketch:
                    self._postings[h].append(pos)
        common = max(50, len(self.eligible) // 100)
        counts: Counter[int] = Counter()
        for h in item.features.sketch:
            found = self._postings.get(h, ())
            if len(found) <= common:
                counts.update(found)
        ranked = (self.eligible[pos] for pos, _ in counts.most_common(limit))
        return [other for other in ranked if other.unit.key != item.unit.key]

    def clone(self, x: IndexedUnit, y: IndexedUnit) -> Pair | None:
        """x and y as a Type-1, Type-2 or Type-3 clone pair, verified; or None."""
        fx, fy = x.features, y.features
        if fx.exact_hash == fy.exact_hash:
            kind: CloneType = "type-1"
            if not self.admissible(x, y, kind):
                return None
            return Pair(x.unit.key, y.unit.key, kind, 1.0, ("identical code",))
        if fx.blind_hash == fy.blind_hash:
            kind = "type-2"
            if self.shapes[fx.blind_hash] >= FAMILY_SIZE:
                return None  # a template family (see _clone_pairs)
            # A copy with its own names or literals changed is as close as copies get; one
            # reading other attributes or calling other functions holds other data in the same
            # shape (a getter per field, a constructor per header): it needs the evidence of
            # an ordinary near-miss.
            renamed = fx.alpha_hash == fy.alpha_hash
            if fx.literals != fy.literals and _short(x, y):
                return None
            why = self.structural(x, y, 1.0 if renamed else self.options.type3_similarity)
            if why is None or not self.admissible(x, y, kind):
                return None
            return Pair(
                x.unit.key,
                y.unit.key,
                kind,
                1.0,
                (
                    "the same code with its own names or literals changed"
                    if renamed
                    else "same structure with identifiers or literals renamed",
                    why,
                ),
            )
        return self.near_miss(x, y)

    def near_miss(self, x: IndexedUnit, y: IndexedUnit) -> Pair | None:
        """A Type-3 pair verified on the token streams, or None."""
        options = self.options
        fx, fy = x.features, y.features
        small, big = sorted((fx.tokens, fy.tokens))
        if small / big < options.type3_similarity - 0.1 or _short(x, y):
            return None
        if _estimated_jaccard(fx.sketch, fy.sketch) < 0.3:
            return None
        # Set arithmetic first: cheaper than the relations, far cheaper than the token match.
        if self.structure.shared(x.features, y.features)[0] < self.needed(x, y, 1.0):
            return None
        if not self.admissible(x, y, "type-3"):
            return None
        similarity = self.similarity(x, y)
        if similarity is None:
            return None
        blind_sim, exact_sim = similarity
        if blind_sim < options.type3_similarity or exact_sim < options.type3_min_exact:
            return None
        # Names, literals and statements all different: the likeness is in the shape alone,
        # which needs to be closer to count.
        if (
            exact_sim < 0.6
            and not set(fx.literals) & set(fy.literals)
            and fx.statements != fy.statements
            and blind_sim < options.type3_similarity + 0.08
        ):
            return None
        if blind_sim >= 0.99 and self.sketches[fx.sketch] >= FAMILY_SIZE:
            return None  # one of a family of near-identical shapes, like a Type-2 family
        # One shape holding other data earns no closeness, whichever way it was reached.
        other_data = fx.blind_hash == fy.blind_hash and fx.alpha_hash != fy.alpha_hash
        # Every statement kept and only names changed is a systematic rename (what an agent
        # copying a helper does): its names are no sign of an idiom.
        names = exact_sim if blind_sim < RENAMED_ONLY else 1.0
        why = self.structural(x, y, options.type3_similarity if other_data else blind_sim, names)
        if why is None:
            return None
        return Pair(
            x.unit.key,
            y.unit.key,
            "type-3",
            round(blind_sim, 3),
            (
                f"near-miss: {blind_sim:.0%} of the normalized token stream matches "
                f"({exact_sim:.0%} with the original names)",
                why,
            ),
        )

    def same_concept(
        self, x: IndexedUnit, y: IndexedUnit, threshold: float | None = None
    ) -> Pair | None:
        """A same-concept pair: rare shared anchors and a weighted multi-channel score
        reaching ``threshold`` times the pair's bar (all of it by default)."""
        ux, uy = x.unit, y.unit
        if "class" in (ux.kind, uy.kind) or self.sample(ux) or self.sample(uy):
            return None
        if is_dunder(ux) or _by_design(ux, uy):
            return None
        if not self.admissible(x, y, "concept") or self.inherited(x, y) or self.inherited(y, x):
            return None
        # A copy's clone pair already says what the batch duplicated. Its concept neighbours
        # that predate the batch are, nearly always, its original's neighbours too: a
        # resemblance older than the batch, which joined 69 such members to right findings
        # in the quality benchmark (bench/quality/README.md). Units the batch introduced
        # still join: a third, differently written implementation is this batch's drift.
        if (self.copied(x) and self.predates(y)) or (self.copied(y) and self.predates(x)):
            return None
        if min(x.features.statements, y.features.statements) < MIN_CONCEPT_STATEMENTS:
            return None
        small, big = sorted((x.features.tokens, y.features.tokens))
        if small / big < MIN_CONCEPT_SIZE_RATIO or self.ported(x, y):
            return None
        score, matched = _concept_score(x.features, y.features, self.concept, self.options)
        if score < self.concept_bar(ux, uy) * (1.0 if threshold is None else threshold):
            return None
        if not self.between_branches(ux, uy) and not self.shares_code(x, y):
            return None
        return Pair(ux.key, uy.key, "concept", round(score, 3), matched)

    def shares_code(self, x: IndexedUnit, y: IndexedUnit) -> bool:
        """The two units have a run of MIN_CONCEPT_RUN syntax-tree tokens in common, names
        and literals included: at least a statement of one written as in the other.

        Vocabulary alone (the same API calls, the same words in names) is what two different
        jobs of one domain share: a weather engine's condition table and another's day table,
        two breadth-first walks over different tries. Of the 116 same-concept findings judged in
        bench/realworld, 42 not written by two branches had no such run: 33 wrong, 8 noise, one
        worth acting on. A unit re-implementing another keeps some of its statements (a copied
        error branch, a header policy). Two branches of one batch writing one thing twice need
        no shared line: that is the drift the review is for (see concept_bar).
        """
        sx, sy = self.streams.get(x.unit), self.streams.get(y.unit)
        if sx is None or sy is None:
            return True  # unreadable here: the score stands alone, as before
        found = SequenceMatcher(None, sx.exact, sy.exact, autojunk=False).find_longest_match(
            0, len(sx.exact), 0, len(sy.exact)
        )
        return found.size >= MIN_CONCEPT_RUN

    def concept_bar(self, a: Unit, b: Unit) -> float:
        """The score a same-concept pair must reach.

        A unit compared with everything older meets many chance resemblances; compared with
        what another branch of the same batch added, few: parallel branches writing one
        thing twice is the drift the review is for, so that pair needs less evidence to join
        a finding (founding one takes the full bar: see ``founded``).
        """
        share = BETWEEN_BRANCHES if self.between_branches(a, b) else 1.0
        return self.options.concept_similarity * share

    def founded(self, group: Sequence[Pair]) -> bool:
        """The group holds a pair that meets the full bar of its kind: a clone, a concept pair
        scoring ``concept_similarity``, or one whose code is the same but for its names and
        literals (a copy too small for the clone detector to count an edited one, written by
        two branches: the quality benchmark's small renamed copies).

        Two branches of one batch meeting only the lowered bar of concept_bar share a domain's
        vocabulary more often than a job: of the 20 same-concept findings between two branches
        judged in bench/realworld, the 11 under the full bar were all noise or wrong (aider's
        chart scripts sharing matplotlib set-up, two ``subprocess.Popen`` read loops, two
        calls of one library class with other settings), and the 2 worth acting on scored
        over 0.9. A third branch's implementation still joins a finding another pair founded
        (the demo's ``list_available_models``), since it is close to all of its members.
        """
        for p in group:
            if p.clone_type != "concept" or p.score >= self.options.concept_similarity:
                return True
            found = self.similarity(self.by_key[p.a], self.by_key[p.b])
            if found is not None and found[0] >= RENAMED_ONLY:
                return True
        return False

    def between_branches(self, a: Unit, b: Unit) -> bool:
        """Two different branches of the batch added ``a`` and ``b``."""
        first, second = self.introduced.get(a.key), self.introduced.get(b.key)
        return first is not None and second is not None and first != second

    def inherited(self, x: IndexedUnit, y: IndexedUnit) -> bool:
        """x shares y's vocabulary only as a copy of something y is close to by design.

        A copy of ``Command.format_help_text`` shares calls and docstring terms with
        ``Command.format_epilog`` because its original sits next to it; that pair is not
        compared (one module), so neither is the copy's.
        """
        return any(
            c.unit.key == y.unit.key
            or c.unit.contains(y.unit)
            or y.unit.contains(c.unit)
            or _by_design(c.unit, y.unit)
            or calls(c, y)
            or calls(y, c)
            for c in self.copies.get(x.unit.key, ())
        )

    def copied(self, x: IndexedUnit) -> bool:
        """x, or a unit it is nested in, has a clone partner: it is part of a copy."""
        parts = x.unit.qualname.split(".")
        return any(
            (x.unit.path, ".".join(parts[:i])) in self.copies for i in range(len(parts), 0, -1)
        )

    def predates(self, x: IndexedUnit) -> bool:
        return x.unit.key not in self.introduced

    def close(self, a: Key, b: Key) -> Pair | None:
        """The pair (a, b): found among the candidates, else verified now (memoized).

        Inside a group a concept tie may be weaker than a candidate's (down to half the
        threshold): the group as a whole must still average the threshold.
        """
        ident = (min(a, b), max(a, b))
        found = self.pairs.get(ident)
        if found is not None:
            return found
        if ident not in self._verified:
            x, y = self.by_key[ident[0]], self.by_key[ident[1]]
            self._verified[ident] = self.clone(x, y) or self.same_concept(x, y, 0.5)
        return self._verified[ident]


def find_redundancy(
    index: Sequence[IndexedUnit],
    queries: Iterable[Key],
    introduced: Mapping[Key, str],
    sources: Callable[[str], str | None],
    options: RedundancyOptions | None = None,
    matches: MutableMapping[tuple[str, str], tuple[float, float]] | None = None,
) -> tuple[Finding, ...]:
    """Group the query units with their clones and same-concept twins into findings.

    ``matches`` caches token-stream similarities by the pair of exact hashes (read and
    extended), so that a review of unchanged code does not redo them.

    ``index`` is every unit at the batch head; ``queries`` the keys the batch added or changed;
    ``introduced`` maps a key to the branch that added it; ``sources(path)`` returns a module's
    text at the head (or None). Findings made only of pre-batch code are left out.
    """
    options = options or RedundancyOptions()
    hierarchy = Hierarchy(index, sources)  # small base classes and methods count too
    eligible = [
        item
        for item in index
        if _eligible(item, options)
        and (
            options.include_tests
            or not (is_test_case(item.unit) or hierarchy.in_test_case(item.unit))
        )
    ]
    by_key = {item.unit.key: item for item in eligible}
    query_items = [by_key[k] for k in dict.fromkeys(queries) if k in by_key]
    if not query_items:
        return ()
    detector = _Detector(
        index,
        eligible,
        introduced,
        sources,
        options,
        query_items,
        {} if matches is None else matches,
        hierarchy,
    )
    _clone_pairs(detector, query_items)
    _near_miss_pairs(detector, query_items)
    for pair in detector.pairs.values():
        detector.copies[pair.a].append(by_key[pair.b])
        detector.copies[pair.b].append(by_key[pair.a])
    _concept_pairs(detector, query_items)
    pairs = prune_nested(list(detector.pairs.values()), by_key)
    # A group averages at least the lowest bar one of its pairs could have met.
    floor = options.concept_similarity * BETWEEN_BRANCHES
    groups = complete_groups(pairs, detector.close, floor, options.max_group)
    groups = [
        group for group in groups if detector.founded(group) and not detector.family_slice(group)
    ]
    return build_findings(groups, by_key, introduced)


def _clone_pairs(detector: _Detector, queries: list[IndexedUnit]) -> None:
    """Type-1 and Type-2: equal hashes."""
    q_exact = {q.features.exact_hash for q in queries}
    q_blind = {q.features.blind_hash for q in queries}
    exact: dict[str, list[IndexedUnit]] = defaultdict(list)
    blind: dict[str, list[IndexedUnit]] = defaultdict(list)
    for item in detector.eligible:
        f = item.features
        if f.exact_hash in q_exact:
            exact[f.exact_hash].append(item)
        if f.blind_hash in q_blind:
            blind[f.blind_hash].append(item)
    for q in queries:
        seen = {q.unit.key}
        same = exact.get(q.features.exact_hash, [])
        shaped = blind.get(q.features.blind_hash, [])
        if len(shaped) >= FAMILY_SIZE:
            # A shape three or more units share, names and literals aside, is a template of
            # the repository: an API family written side by side (``template_filter``,
            # ``template_global``, ``template_test``), accessors, handlers, generated tables.
            # Weak evidence of a copy, and quadratic to pair. Identical copies still count.
            shaped = []
            same = same[: detector.options.max_group]
        for other in (*same, *shaped):
            if other.unit.key in seen:
                continue
            seen.add(other.unit.key)
            pair = detector.clone(q, other)
            if pair is not None:
                detector.add(pair)


def _near_miss_pairs(detector: _Detector, queries: list[IndexedUnit]) -> None:
    """Type-3: candidates from the MinHash sketches, verified on token streams."""
    for q in queries:
        for other in detector.sketch_neighbours(q, detector.options.max_candidates):
            ident = (min(q.unit.key, other.unit.key), max(q.unit.key, other.unit.key))
            if ident in detector.pairs:
                continue
            pair = detector.near_miss(q, other)
            if pair is not None:
                detector.add(pair)


def _concept_pairs(detector: _Detector, queries: list[IndexedUnit]) -> None:
    """Same concept, different name: candidates share a rare anchor (a literal, an API)."""
    concept, options = detector.concept, detector.options
    for q in queries:
        candidates: set[int] = set()
        for term in concept.items(q.features):
            if concept.anchor(term, options):
                candidates.update(concept.postings.get(term, ()))
        for pos in candidates:
            other = detector.eligible[pos]
            ident = (min(q.unit.key, other.unit.key), max(q.unit.key, other.unit.key))
            if ident in detector.pairs:
                continue
            pair = detector.same_concept(q, other)
            if pair is not None:
                detector.add(pair)
