"""The frozen dataclasses the analysis core takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

UnitKind = Literal["function", "async_function", "method", "async_method", "class"]
CloneType = Literal["type-1", "type-2", "type-3", "concept"]
FileStatus = Literal["added", "modified", "deleted", "renamed"]

# Clone types from the most to the least specific: a finding takes the least specific of its pairs.
CLONE_ORDER: tuple[CloneType, ...] = ("type-1", "type-2", "type-3", "concept")


@dataclass(frozen=True)
class FileChange:
    """One file in one branch's diff: where it was, where it is, and which lines moved."""

    path: str  # path after the change ("" when deleted)
    old_path: str  # path before the change ("" when added)
    status: FileStatus
    is_binary: bool
    added_lines: tuple[int, ...]  # 1-based line numbers in the new file
    removed_lines: tuple[int, ...]  # 1-based line numbers in the old file

    @property
    def display_path(self) -> str:
        """The path a reader knows the file by: the new one, or the old one when deleted."""
        return self.path or self.old_path


@dataclass(frozen=True)
class Unit:
    """A function, method or class in a module, with its exact span (decorators included)."""

    path: str
    qualname: str
    kind: UnitKind
    start_line: int  # 1-based, inclusive, first decorator line when decorated
    end_line: int  # 1-based, inclusive, last line of code in the body
    docstring: str | None = None
    parent: str | None = None  # qualname of the enclosing unit, if any

    @property
    def key(self) -> tuple[str, str]:
        """Identity of the unit within one tree."""
        return (self.path, self.qualname)

    @property
    def lines(self) -> int:
        """Number of lines the unit spans."""
        return self.end_line - self.start_line + 1

    def contains(self, other: Unit) -> bool:
        """True when ``other`` is nested inside this unit (same file, strictly inside)."""
        return (
            self.path == other.path
            and self != other
            and self.start_line <= other.start_line
            and other.end_line <= self.end_line
            and other.qualname.startswith(self.qualname + ".")
        )


@dataclass(frozen=True)
class Features:
    """What the redundancy index knows of one unit, computed once per blob and cached."""

    tokens: int  # size of the normalized token sequence
    statements: int
    exact_hash: str  # Type-1: identical but for layout, comments and docstrings
    blind_hash: str  # Type-2: identical once identifiers and literals are blinded
    sketch: tuple[int, ...]  # bottom-k MinHash of blinded token shingles, for Type-3 candidates
    name_terms: tuple[str, ...]  # sub-tokens of the unit's own name and its class
    ident_terms: tuple[str, ...]  # sub-tokens of identifiers used in the body
    calls: tuple[str, ...]  # called APIs, dotted where the receiver is a plain name
    literals: tuple[str, ...]  # meaningful string literals
    doc_terms: tuple[str, ...]  # terms of the docstring
    # Hashes of the normalized statements (blind tokens, a compound statement by its header):
    # how common each piece of structure is in the repository weighs the evidence of a match.
    fragments: tuple[int, ...] = ()
    bases: tuple[str, ...] = ()  # of a class: the last names of its base classes
    # Identical up to a consistent renaming of the names the unit binds (itself, parameters,
    # locals) and its literal values: a copy renamed, where a Type-2 match reading other
    # attributes or calling other functions is one shape holding other data (a getter per field).
    alpha_hash: str = ""


@dataclass(frozen=True)
class IndexedUnit:
    """A unit and its features: one entry of the repository index."""

    unit: Unit
    features: Features


@dataclass(frozen=True)
class Skip:
    """A file the analysis left out, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class ModuleScan:
    """Everything the analysis keeps of one module: its units, and what of it was skipped and
    why (the whole module, with no units; or some definitions, such as generated ones)."""

    path: str
    units: tuple[IndexedUnit, ...] = ()
    skip: Skip | None = None


@dataclass(frozen=True)
class Hotspot:
    """A file, and the symbols in it, that two or more branches changed."""

    path: str
    branches: tuple[str, ...]
    symbols: tuple[SymbolHotspot, ...] = ()


@dataclass(frozen=True)
class SymbolHotspot:
    """A function, method or class that two or more branches changed."""

    qualname: str
    branches: tuple[str, ...]


@dataclass(frozen=True)
class Member:
    """One implementation inside a finding, attributed to the branch that introduced it."""

    unit: Unit
    introduced_by: str | None  # branch id, or None when it predates the batch


@dataclass(frozen=True)
class Evidence:
    """Why two members were judged redundant."""

    left: tuple[str, str]
    right: tuple[str, str]
    clone_type: CloneType
    score: float
    matched: tuple[str, ...] = field(default=())  # human-readable matched evidence


@dataclass(frozen=True)
class Finding:
    """A group of units that implement one thing more than once."""

    id: str
    kind: Literal["redundancy"]
    score: float
    clone_type: CloneType
    concept: str
    members: tuple[Member, ...]
    evidence: tuple[Evidence, ...]
