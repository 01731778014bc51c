"""The offline idealizer: a deterministic plan written from the analysis alone, no model.

It cannot imagine a better design than the code holds, but it can say which member to keep and
why (callers, tests, completeness, age), how the members differ (parameters, errors, returns,
side effects), and exactly which call sites to redirect. Same input, same plan, every time.
"""

from __future__ import annotations

import ast
import difflib
import re
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from analyzers import (
    CallSite,
    Finding,
    Hotspot,
    Member,
    UnitProfile,
    is_test,
    is_test_path,
    profile_function,
)
from analyzers.imports import Modules, bindings_of, imported_modules
from analyzers.profile import docstring_node
from analyzers.unify import UnitRef, beside, shared_base
from app.idealize.context import UNRESOLVED, SymbolChange, dotted, member_id
from app.review.answer import Gap, IdealizedAnswer, MemberAssumptions
from app.review.source import CodeReader

CONFIDENCE = {"type-1": 0.9, "type-2": 0.8, "type-3": 0.7, "concept": 0.5}
MAX_SITES_LISTED = 8
# The offline planner cannot see intent, so it never holds a finding back: every finding the
# analysis kept gets a plan, and only a model's verdict can leave one alone.
OFFLINE_VERDICT = "offline plan: no model judged whether this is worth acting on"


@dataclass(frozen=True)
class MemberFacts:
    """What the offline plan knows about one member."""

    member: Member
    profile: UnitProfile | None
    callers: tuple[CallSite, ...]
    tests: tuple[CallSite, ...]
    score: float
    reasons: tuple[str, ...]
    code: str = ""  # the member's own lines

    @property
    def receiver(self) -> str:
        """A method's ``self`` or ``cls``, shown in its signature; "" for anything else."""
        if self.profile is None or self.member.unit.kind not in ("method", "async_method"):
            return ""
        return self.profile.receiver

    @property
    def is_test(self) -> bool:
        """Test or sample code: a member that only exercises the others."""
        return is_test(self.member.unit)

    @property
    def name(self) -> str:
        """The member's qualified name."""
        return self.member.unit.qualname

    @property
    def where(self) -> str:
        """``path:start-end``."""
        u = self.member.unit
        return f"{u.path}:{u.start_line}-{u.end_line}"


MAX_DIFF_LINES = 3


def _body_lines(code: str) -> list[tuple[str, str]]:
    """A unit's statements as (line, line with its local names blanked): no header, docstring,
    comment or blank line. Lines that differ only by a local's name compare equal."""
    text = textwrap.dedent(code)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return [(line.strip(), line.strip()) for line in text.splitlines() if line.strip()]
    func = tree.body[0] if tree.body else None
    if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
        return [(line.strip(), line.strip()) for line in text.splitlines() if line.strip()]
    body = func.body
    skip = set(range(1, body[0].lineno)) if body else set()
    if (doc := docstring_node(func)) is not None:
        skip |= set(range(doc.lineno, (doc.end_lineno or doc.lineno) + 1))
    local = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)} | {
        n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    blank = re.compile(r"\b(" + "|".join(map(re.escape, sorted(local))) + r")\b") if local else None
    out: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if number in skip or not stripped or stripped.startswith("#"):
            continue
        out.append((stripped, blank.sub("_", stripped) if blank else stripped))
    return out


def _differing_lines(left: str, right: str) -> tuple[list[str], list[str]]:
    """The lines only ``left`` has and the lines only ``right`` has (a few of each)."""
    a, b = _body_lines(left), _body_lines(right)
    only_a: list[str] = []
    only_b: list[str] = []
    matcher = difflib.SequenceMatcher(None, [n for _, n in a], [n for _, n in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            only_a.extend(line for line, _ in a[i1:i2])
        if tag in ("replace", "insert"):
            only_b.extend(line for line, _ in b[j1:j2])
    return _clipped(only_a), _clipped(only_b)


def _clipped(lines: list[str]) -> list[str]:
    return [x if len(x) <= 80 else x[:77] + "..." for x in lines[:MAX_DIFF_LINES]]


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word}{'es' if word.endswith(('s', 'sh', 'ch', 'x')) else 's'}"


def member_facts(
    reader: CodeReader, finding: Finding, uses: dict[str, list[CallSite]]
) -> list[MemberFacts]:
    """Profile every member, count its callers and tests, and score it as the one to keep."""
    facts: list[MemberFacts] = []
    below = _lower_layers(reader, {m.unit.path for m in finding.members})
    for member in finding.members:
        unit = member.unit
        code = reader.lines(unit.path, unit.start_line, unit.end_line)
        profile = profile_function(code) if unit.kind != "class" else None
        sites = uses.get(member_id(unit), [])
        tests = tuple(s for s in sites if is_test_path(s.path))
        callers = tuple(s for s in sites if not is_test_path(s.path))
        score = 0.0
        reasons: list[str] = []
        if member.introduced_by is None:
            score += 3
            reasons.append("it predates the batch, so existing code already relies on it")
        if callers:
            score += 2 * min(len(callers), 5)
            reasons.append(f"{_plural(len(callers), 'use')} in the code")
        if tests:
            score += 3 * min(len(tests), 3)
            reasons.append(f"{_plural(len(tests), 'use')} in tests")
        if profile is not None:
            if profile.raises or profile.catches:
                score += 1
                reasons.append("it handles errors explicitly")
            if profile.has_docstring:
                score += 0.5
            if "writes to standard output" in profile.effects:
                score -= 6  # presentation mixed in: a poor home for shared logic
            if profile.returns == "nothing":
                score -= 3  # callers need the result; a procedure cannot serve them
            score += 0.25 * len(profile.params)
        if unit.kind in ("function", "async_function") and unit.parent is None:
            score += 1
            reasons.append("it is a module-level function any caller can import")
        if importers := below.get(unit.path):
            score += 4
            reasons.append(
                f"its module is below {', '.join(f'`{p}`' for p in importers)}, which already "
                "imports it: the others can call it without an import cycle"
            )
        if is_test(unit):
            score -= 20  # the package's own code is what tests exercise, never the reverse
        facts.append(MemberFacts(member, profile, callers, tests, score, tuple(reasons), code))
    return facts


def _lower_layers(reader: CodeReader, paths: set[str]) -> dict[str, list[str]]:
    """For each member module that another member module imports at run time, the importers:
    the canonical copy belongs in the lower layer (``sansio/app.py`` under ``app.py``)."""
    modules = Modules(reader.head_tree)
    names = {path: dotted(modules, path) for path in paths}
    below: dict[str, list[str]] = {}
    for path in sorted(paths):
        try:
            tree = ast.parse(reader.text(path) or "")
        except (SyntaxError, ValueError, RecursionError):
            continue
        bindings = bindings_of(tree, names[path], path.endswith("__init__.py"))
        reads = imported_modules(bindings, modules)
        for other in sorted(paths - {path}):
            if names[other] in reads:
                below.setdefault(other, []).append(path)
    return below


Fit = Literal["serves", "adapts", "incompatible"]


def _shapes(fact: MemberFacts) -> set[tuple[str, int]]:
    """The shapes of what a member hands back: (``value``, 1) or (``tuple``, N)."""
    if fact.profile is None:
        return set()
    return {
        ("tuple", int(r.split(":")[1])) if r.startswith("tuple:") else ("value", 1)
        for r in fact.profile.results
    }


def fit(keep: MemberFacts, other: MemberFacts) -> Fit:
    """Whether ``keep`` can stand in for ``other``'s callers: it hands back the same shape
    (``serves``); it hands back tuples whose first item is what ``other`` returns, so ``other``
    becomes a thin adapter (``adapts``: ``split_lines`` on top of ``split_lines_terminator``);
    or neither (``incompatible``: a generator for a function, pairs for single values)."""
    if keep.profile is None or other.profile is None:
        return "serves"
    if (keep.profile.returns == "yields values") != (other.profile.returns == "yields values"):
        return "incompatible"
    mine, theirs = _shapes(keep), _shapes(other)
    if not mine or not theirs or mine == theirs:
        return "serves"
    firsts = {r.split(":", 2)[2] for r in keep.profile.results if r.startswith("tuple:")}
    values = {r.split(":", 1)[1] for r in other.profile.results if r.startswith("value:")}
    plain = all(r.startswith("value:") for r in other.profile.results)
    if theirs == {("value", 1)} and plain and firsts and values <= firsts:
        return "adapts"
    return "incompatible"


def choose_canonical(facts: list[MemberFacts]) -> MemberFacts:
    """The member to keep: one that can stand in for every other's callers (or that the others
    can adapt), then the highest score; ties go to the oldest, then the first path."""
    order = {f.member.introduced_by: i for i, f in enumerate(facts)}
    rank = {"serves": 0, "adapts": 1, "incompatible": 2}
    return max(
        facts,
        key=lambda f: (
            -max((rank[fit(f, o)] for o in facts if o is not f), default=0),
            f.score,
            f.member.introduced_by is None,
            -order.get(f.member.introduced_by, 0),
            [-ord(c) for c in f.where],
        ),
    )


def _other_class_method(keep: MemberFacts, other: MemberFacts) -> bool:
    """Both are methods, of different classes: a copy callers reach through their object."""
    a, b = keep.member.unit, other.member.unit
    methods = ("method", "async_method")
    return a.kind in methods and b.kind in methods and a.parent != b.parent


def _into_shared_base(reader: CodeReader, keep: MemberFacts, others: list[MemberFacts]) -> str:
    """The step for methods copied between classes: one definition in a base they share.
    Calls through ``self`` or an instance are not redirected: they find the inherited method,
    and a subclass's override still wins."""
    texts = _HeadTexts(reader)
    members = [
        UnitRef(f.member.unit.path, f.member.unit.qualname, f.member.unit.kind)
        for f in (keep, *others)
    ]
    base = shared_base(texts, members)
    method = keep.name.rsplit(".", 1)[-1]
    classes = ", ".join(f"`{f.member.unit.parent}`" for f in (keep, *others))
    copies = ", ".join(f"`{f.name}` (`{f.where}`)" for f in others)
    if base is not None and beside(base[0], [f.member.unit.path for f in (keep, *others)]):
        path, name = base
        return (
            f"Move `{method}` into `{name}` (`{path}`), the class {classes} all derive from, "
            f"and delete the copies {copies} and `{keep.name}`: calls through `self` or an "
            "instance keep reaching it, and a subclass's override still wins."
        )
    why = (
        f"their shared base `{base[1]}` is in another package (`{base[0].rpartition('/')[0]}`), "
        f"a layer the move would change"
        if base is not None
        else "they share no base class"
    )
    return (
        f"{classes}: {why}. Move `{keep.name}` into one mixin beside them that they all "
        f"take (or into a module-level function each method calls), and delete the copies "
        f"{copies}; calls through `self` or an instance keep working, and a subclass's "
        "override still wins."
    )


class _HeadTexts(Mapping[str, str]):
    """The head's Python files as a mapping, read only when asked (a class's bases, not the
    whole repository)."""

    def __init__(self, reader: CodeReader) -> None:
        self.reader = reader
        self.paths = sorted(p for p in reader.head_tree if p.endswith(".py"))

    def __getitem__(self, path: str) -> str:
        text = self.reader.text(path) if path in self.reader.head_tree else None
        if text is None:
            raise KeyError(path)
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


def _handed_back(fact: MemberFacts) -> str:
    """``yields pairs (2-tuples)``, ``returns single values``: for a plan's sentence."""
    shapes = sorted(_shapes(fact))
    verb = "yields" if fact.profile and fact.profile.returns == "yields values" else "returns"
    words = [f"{n}-tuples" if kind == "tuple" else "single values" for kind, n in shapes]
    return f"{verb} {' or '.join(words) or 'nothing it names'}"


def _signature(fact: MemberFacts, params: tuple[str, ...] | None = None) -> str:
    name = fact.name.rsplit(".", 1)[-1].split("@")[0]
    if fact.profile is None:
        return f"class {name}" if fact.member.unit.kind == "class" else name
    prefix = "async def" if fact.profile.is_async else "def"
    listed = list(params if params is not None else fact.profile.params)
    if fact.receiver:
        listed.insert(0, fact.receiver)  # a method is shown as one: ``def discover(self)``
    return f"{prefix} {name}({', '.join(listed)})"


def _returning(returns: str) -> str:
    """A profile's return description as a verb phrase: "returns a value", "yields values"."""
    return returns if returns.startswith("yields") else f"returns {returns}"


def _describe(profile: UnitProfile | None, field: str) -> str:
    if profile is None:
        return "(a class)"
    if field == "params":
        return ", ".join(profile.params) or "no parameters"
    if field == "raises":
        return ", ".join(profile.raises) or "raises nothing of its own"
    if field == "catches":
        return ", ".join(profile.catches) or "catches nothing"
    if field == "returns":
        return profile.returns
    return ", ".join(profile.effects) or "no side effects"


def _assumptions(fact: MemberFacts) -> list[str]:
    p = fact.profile
    if p is None:
        return ["a class: its state and methods are the contract"]
    out: list[str] = []
    for param in p.params:
        if "=" in param:
            name, default = param.split("=", 1)
            out.append(f"`{name}` defaults to `{default}`")
    if p.raises:
        out.append("signals failure by raising " + ", ".join(f"`{r}`" for r in p.raises))
    if p.catches:
        out.append("absorbs " + ", ".join(f"`{c}`" for c in p.catches) + " itself")
    if not p.raises and not p.catches:
        out.append("lets every error of what it calls reach its caller")
    out.append(_returning(p.returns))
    out.extend(f"{effect}" for effect in p.effects)
    return out


def _sites(sites: tuple[CallSite, ...] | list[CallSite]) -> str:
    listed = [f"`{s.path}:{s.line}`" + (f" ({s.caller})" if s.caller else "") for s in sites]
    extra = len(listed) - MAX_SITES_LISTED
    text = ", ".join(listed[:MAX_SITES_LISTED])
    return text + (f" and {extra} more" if extra > 0 else "")


def offline_finding(
    reader: CodeReader,
    finding: Finding,
    uses: dict[str, list[CallSite]],
    branch_titles: dict[str, str],
) -> IdealizedAnswer:
    """The deterministic unification plan for one redundancy finding."""
    facts = member_facts(reader, finding, uses)
    keep = choose_canonical(facts)
    others = [f for f in facts if f is not keep]
    params, folded = _ideal_params(finding, keep, others)
    signature = _signature(keep, tuple(params)) if keep.profile else _signature(keep)
    fits = {other.name: fit(keep, other) for other in others}
    method_copies = [o for o in others if _other_class_method(keep, o)]
    between_classes = bool(method_copies) and len(method_copies) == len(others)
    shared = _into_shared_base(reader, keep, method_copies) if between_classes else None
    plan = _plan(finding, keep, others, folded, fits, shared, branch_titles)

    kept_profile = keep.profile
    returns = _returning(kept_profile.returns) if kept_profile else "returns an instance"
    errors = (
        "raises " + ", ".join(kept_profile.raises)
        if kept_profile and kept_profile.raises
        else "lets errors propagate"
    )
    owner = keep.member.unit.parent
    reach = (
        "Every caller reaches it through its own object (`self`, an instance), as now"
        if between_classes
        else f"Every caller reaches it through `{owner}`"
        if keep.receiver and owner
        else "Every caller imports it from there"
    )
    total_sites = sum(len(f.callers) + len(f.tests) for f in facts)
    return IdealizedAnswer(
        concept=finding.concept[:80],
        summary=f"{_plural(len(facts), 'implementation')} of {finding.concept} exist "
        f"({finding.clone_type}, score {finding.score:.2f}). "
        + (
            "No copy can stand in for the others' callers as it is: extract their shared part "
            "into one helper they all call"
            if "incompatible" in fits.values()
            else (
                f"Keep `{keep.name}` as the one definition, in a class all of "
                f"{', '.join(f'`{f.member.unit.parent}`' for f in facts)} take"
                if between_classes
                else f"Keep `{keep.name}` and make the others delegate to it"
            )
        )
        + f"; {_plural(total_sites, 'use')} found in the repository.",
        verdict="act",
        verdict_reason=OFFLINE_VERDICT,
        ideal_design=f"One implementation of {finding.concept} in `{keep.member.unit.path}`: "
        f"`{signature}`. It {returns} and {errors}. {reach}; no other module carries its "
        "own copy.",
        interface=[signature],
        canonical_location=f"{keep.member.unit.path} ({keep.name})",
        gaps=_gaps(finding, keep, others, facts),
        assumptions=[MemberAssumptions(member=f.name, assumptions=_assumptions(f)) for f in facts],
        plan=plan,
        risks=_risks(finding, keep, facts, uses),
        confidence=CONFIDENCE.get(finding.clone_type, 0.5),
    )


def _ideal_params(
    finding: Finding, keep: MemberFacts, others: list[MemberFacts]
) -> tuple[list[str], list[str]]:
    """The ideal parameters (the canonical's, plus the keyword parameters others added) and
    the additions, each named with the version it comes from."""
    params = list(keep.profile.params) if keep.profile else []
    have = {p.split("=")[0].lstrip("*") for p in params}
    folded: list[str] = []
    # Type-1/2 copies rename parameters; only near-misses and look-alikes add real ones, and
    # only those past the canonical's own positions are additions rather than renamings.
    renamed_only = finding.clone_type in ("type-1", "type-2")
    for other in [] if renamed_only else others:
        extra = other.profile.params[len(params) :] if other.profile else ()
        for param in extra:
            name = param.split("=")[0].lstrip("*")
            if "=" in param and name not in have:
                params.append(param)
                have.add(name)
                folded.append(f"`{param}` (from `{other.name}`)")
    return params, folded


def _gaps(
    finding: Finding, keep: MemberFacts, others: list[MemberFacts], facts: list[MemberFacts]
) -> list[Gap]:
    """How the code that exists differs from the one implementation: each copy, the lines
    that make near copies differ, and each behaviour the members do not share."""
    gaps: list[Gap] = []
    for other in others:
        who = other.member.introduced_by
        origin = f"added by {who}" if who else "already in the repository"
        gaps.append(
            Gap(
                location=other.where,
                current=f"`{other.name}` ({origin}) is a separate implementation of "
                f"{finding.concept} ({finding.clone_type})",
                ideal=f"one implementation, `{keep.name}` in `{keep.member.unit.path}`; "
                f"`{other.name}` delegates to it or is removed",
                why="two copies drift apart: the next fix or feature lands in one of them only",
            )
        )
    if finding.clone_type == "type-3":  # near copies: the lines that make them differ
        for other in others:
            only_keep, only_other = _differing_lines(keep.code, other.code)
            if not only_keep and not only_other:
                continue
            sides = [
                f"only in `{name}`: " + "; ".join(f"`{line}`" for line in lines)
                for name, lines in ((other.name, only_other), (keep.name, only_keep))
                if lines
            ]
            gaps.append(
                Gap(
                    location=other.where,
                    current=" — ".join(sides),
                    ideal=f"one behaviour, chosen on purpose in `{keep.name}`, with a test for it",
                    why=f"this is what a caller of `{other.name}` gains or loses when it is "
                    "redirected",
                )
            )
    for field, label in (
        ("params", "parameters"),
        ("raises", "errors raised"),
        ("catches", "errors handled"),
        ("returns", "return value"),
        ("effects", "side effects"),
    ):
        values = {f.name: _describe(f.profile, field) for f in facts if f.profile is not None}
        if len(set(values.values())) > 1:
            gaps.append(
                Gap(
                    location=", ".join(f"`{name}`" for name in values),
                    current=f"{label} differ: "
                    + "; ".join(f"`{n}`: {v}" for n, v in values.items()),
                    ideal=f"one deliberate choice of {label}, made in `{keep.name}`",
                    why="callers get different behaviour for the same request depending on "
                    "which copy they reached",
                )
            )
    return gaps


def _plan(
    finding: Finding,
    keep: MemberFacts,
    others: list[MemberFacts],
    folded: list[str],
    fits: dict[str, Fit],
    shared: str | None,
    branch_titles: dict[str, str],
) -> list[str]:
    """The steps: keep the canonical, give it what the others added, move the copies into a
    shared base (``shared``, when they are methods of other classes) or redirect or rewrite
    each other member, and cover the result with tests."""
    reasons = list(keep.reasons)
    if "adapts" in fits.values():
        reasons.insert(0, "what it hands back carries what the others return")
    plan = [
        f"Keep `{keep.name}` (`{keep.where}`) as the implementation of {finding.concept}"
        + (": " + "; ".join(reasons) + "." if reasons else ".")
    ]
    if folded:
        plan.append("Give it what the other versions added: " + ", ".join(folded) + ".")
    if shared is not None:
        plan.append(shared)
    for other in [] if shared is not None else others:
        plan.append(_plan_step(keep, other, fits[other.name], branch_titles))
    plan.append(
        f"Cover `{keep.name}` with a test of every behaviour the copies had "
        + (
            "(it has tests already: extend them)"
            if keep.tests
            else "(no test could be tied to it: tests that reach it through an instance are "
            "not counted, so find what covers it)"
        )
        + ", then run the test suite."
    )
    return plan


def _plan_step(
    keep: MemberFacts, other: MemberFacts, how: Fit, branch_titles: dict[str, str]
) -> str:
    """The step for one other member: fold a test, rewrite on top, extract, or redirect."""
    who = other.member.introduced_by
    origin = f", from {who} {branch_titles.get(who, '')}".rstrip() if who else ""
    if other.is_test and keep.is_test:
        # Tests are not redirected to one another: they become one case of a table.
        return (
            f"Fold `{other.name}` (`{other.where}`{origin}) into `{keep.name}` as one "
            "parametrized test, or move their shared set-up into a fixture."
        )
    sites = [*other.callers, *other.tests]
    if how == "adapts":
        verb = "yields" if keep.profile and keep.profile.returns == "yields values" else "returns"
        return (
            f"Rewrite `{other.name}` (`{other.where}`{origin}) on top of `{keep.name}`: it "
            f"{verb} the first item of each tuple `{keep.name}` {verb}, so its "
            f"{_plural(len(sites), 'use')} keep the single values they rely on."
        )
    if how == "incompatible":
        return (
            f"`{other.name}` (`{other.where}`{origin}) {_handed_back(other)} where "
            f"`{keep.name}` {_handed_back(keep)}: neither can replace the other for its "
            "callers. Extract the part they share into one helper that both call, each "
            "keeping the result its callers use."
        )
    step = f"Replace `{other.name}` (`{other.where}`{origin}) by a call to `{keep.name}`"
    if other.profile and "writes to standard output" in other.profile.effects:
        step += "; keep only its presentation (printing) where it is"
    if sites:
        step += f", and redirect its {_plural(len(sites), 'use')}: {_sites(sites)}"
    return step + "."


def _risks(
    finding: Finding,
    keep: MemberFacts,
    facts: list[MemberFacts],
    uses: dict[str, list[CallSite]],
) -> list[str]:
    """What may break when the members are unified."""
    profiles = [f.profile for f in facts if f.profile is not None]
    risks: list[str] = []
    if finding.clone_type in ("type-3", "concept"):
        risks.append(
            "The members are not identical: callers of a removed copy may rely on its own "
            "behaviour; compare the differences above before redirecting them."
        )
    if len({p.returns for p in profiles}) > 1:
        risks.append("Return values differ: check each redirected caller uses the result right.")
    if len({p.raises for p in profiles}) > 1 or len({p.catches for p in profiles}) > 1:
        risks.append("Error handling differs: a caller may now see an exception it did not.")
    if not keep.tests:
        risks.append(f"`{keep.name}` has no test that names it: add one before unifying.")
    if unknown := uses.get(UNRESOLVED, []):
        risks.append(
            f"{_plural(len(unknown), 'other use')} of these names on receivers whose type the "
            f"analysis cannot tell ({_sites(unknown)}): check whether they reach a member."
        )
    return risks


def offline_hotspot(
    reader: CodeReader, hotspot: Hotspot, changes: list[SymbolChange]
) -> IdealizedAnswer:
    """The deterministic review plan for a module that several branches changed."""
    gaps: list[Gap] = []
    plan: list[str] = []
    assumptions: list[MemberAssumptions] = []
    interface: list[str] = []
    head_units = {u.qualname: u for u in reader.units(hotspot.path)}
    for symbol in hotspot.symbols:
        own = [c for c in changes if c.qualname == symbol.qualname]
        unit = head_units.get(symbol.qualname)
        location = f"{hotspot.path}:{unit.start_line}-{unit.end_line}" if unit else hotspot.path
        head = (
            profile_function(reader.lines(hotspot.path, unit.start_line, unit.end_line))
            if (unit and unit.kind != "class")
            else None
        )
        described: list[str] = []
        for change in own:
            before = profile_function(change.before) if change.before else None
            after = profile_function(change.after) if change.after else None
            text = _what_changed(before, after, change)
            described.append(f"{change.branch} {text}")
            assumptions.append(
                MemberAssumptions(
                    member=f"{symbol.qualname} after {change.branch}",
                    assumptions=[text] + (_assumptions_of(after) if after else []),
                )
            )
        if head is not None:
            name = symbol.qualname.rsplit(".", 1)[-1]
            interface.append(f"def {name}({', '.join(head.params)})")
        gaps.append(
            Gap(
                location=location,
                current=f"`{symbol.qualname}` was changed in parallel: " + "; ".join(described),
                ideal="one design that serves every branch's intent, written once, with the "
                "branches' behaviours tested together",
                why="parallel edits merged line by line can combine without anyone having "
                "designed the combination",
            )
        )
        plan.append(
            f"Read `{symbol.qualname}` (`{location}`) as one design: " + "; ".join(described) + "."
        )
        if head is not None and len(head.params) > 4:
            plan.append(
                f"`{symbol.qualname}` now takes {len(head.params)} parameters: consider "
                "splitting it by intent instead of adding flags."
            )
    branches = ", ".join(hotspot.branches)
    if not hotspot.symbols:
        gaps.append(
            Gap(
                location=hotspot.path,
                current=f"{branches} changed different parts of this module",
                ideal="a module whose parts still share one set of conventions",
                why="parallel branches add parts in different styles without seeing each other",
            )
        )
        plan.append(f"Read the changes of {branches} to `{hotspot.path}` together.")
    plan.append(f"Run the tests each of {branches} added against the merged module.")
    symbols = ", ".join(f"`{s.qualname}`" for s in hotspot.symbols) or "the module"
    return IdealizedAnswer(
        concept=f"parallel changes to {hotspot.path}"[:80],
        summary=f"{_plural(len(hotspot.branches), 'branch')} ({branches}) changed "
        f"`{hotspot.path}`; {symbols} changed in more than one. Check the merged result is "
        "one coherent design.",
        verdict="act",
        verdict_reason=OFFLINE_VERDICT,
        ideal_design=f"`{hotspot.path}` reads as if one author had made every change of "
        f"{branches}: {symbols} with one signature, one error policy and tests covering each "
        "branch's intent together.",
        interface=interface,
        canonical_location=hotspot.path,
        gaps=gaps,
        assumptions=assumptions,
        plan=plan,
        risks=[
            "Each branch's tests passed on its own branch; the combination may not have been "
            "tested as a whole."
        ],
        confidence=0.5,
    )


def _assumptions_of(profile: UnitProfile) -> list[str]:
    out = [f"parameters: {', '.join(profile.params) or 'none'}", _returning(profile.returns)]
    if profile.raises:
        out.append("raises " + ", ".join(profile.raises))
    return out


def _what_changed(
    before: UnitProfile | None, after: UnitProfile | None, change: SymbolChange
) -> str:
    if not change.before:
        return "added it"
    if not change.after:
        return "removed it"
    parts: list[str] = []
    if before and after:
        old = {p.split("=")[0] for p in before.params}
        new = {p.split("=")[0] for p in after.params}
        if added := [p for p in after.params if p.split("=")[0] not in old]:
            parts.append("added parameter " + ", ".join(f"`{p}`" for p in added))
        if removed := sorted(old - new):
            parts.append("removed parameter " + ", ".join(f"`{p}`" for p in removed))
        if new_raises := [r for r in after.raises if r not in before.raises]:
            parts.append("now raises " + ", ".join(f"`{r}`" for r in new_raises))
        if before.returns != after.returns:
            parts.append(f"now {_returning(after.returns)}")
    diff = change.diff.splitlines()
    plus = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    minus = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    parts.append(f"+{plus}/-{minus} lines")
    return ", ".join(parts)
