"""The idealized diff's answer: the tool schema the model fills in, and what a review keeps of it.

``IdealizedAnswer`` is the edge (pydantic: it validates what the model sent and gives the tool's
input schema); ``Idealized`` and ``LlmRun`` are what the report carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TOOL_NAME = "submit_idealized_diff"
TOOL_DESCRIPTION = (
    "Submit the idealized diff: the excellent version of this code described concretely, "
    "compared with the code that exists, and the plan to get there."
)


Verdict = Literal["act", "leave", "unrelated"]
"""Whether a maintainer should act on a finding: the model's triage, before its plan."""


class Gap(BaseModel):
    """One difference between the ideal and what exists."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location: str = Field(min_length=1, description="path:line or qualified name it concerns")
    current: str = Field(min_length=1, description="what the code does now")
    ideal: str = Field(min_length=1, description="what the excellent version does instead")
    why: str = Field(min_length=1, description="why the difference matters to users or callers")


class MemberAssumptions(BaseModel):
    """The assumptions one implementation encodes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member: str = Field(min_length=1, description="qualified name of the implementation")
    assumptions: list[str] = Field(
        description="what it takes for granted: defaults, errors, formats, environment"
    )


class IdealizedAnswer(BaseModel):
    """The structured idealized diff, for one finding or one hotspot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concept: str = Field(
        min_length=1,
        max_length=80,
        description="the one thing this code does, in a few words (e.g. 'model discovery')",
    )
    summary: str = Field(min_length=1, description="two or three sentences: the verdict")
    verdict: Verdict = Field(
        description="act: a maintainer should carry out the plan within the week (the code does "
        "the same job for the same callers, so the next fix would land in one copy only, or one "
        "copy carries a bug the other does not have); leave: alike, but the repetition is this "
        "codebase's idiom or unifying would make it worse (variants kept parallel on purpose, "
        "such as one per backend or a sync and an async twin, tests, protocol pairs, a wrapper "
        "and what it wraps, overrides in a class hierarchy, generated, vendored or deprecated "
        "code); unrelated: the implementations do different jobs and only look alike"
    )
    verdict_reason: str = Field(
        min_length=1, max_length=400, description="one sentence: why this verdict"
    )
    ideal_design: str = Field(
        min_length=1,
        description="the excellent version, concretely: names, where it lives, data flow, "
        "how errors and edge cases are handled",
    )
    interface: list[str] = Field(
        description="signatures of the ideal version's public functions, methods or classes"
    )
    canonical_location: str = Field(
        min_length=1, description="path and qualified name where the unified code should live"
    )
    gaps: list[Gap] = Field(min_length=1, description="how what exists differs from the ideal")
    assumptions: list[MemberAssumptions] = Field(
        description="for each implementation, the assumptions it encodes"
    )
    plan: list[str] = Field(min_length=1, description="ordered steps to reach the ideal")
    risks: list[str] = Field(description="what could break, and how to check it does not")
    confidence: float = Field(ge=0.0, le=1.0, description="0 to 1: how sure the plan is right")


class CodeEdit(BaseModel):
    """One concrete edit of the draft pull request, addressed by qualified name, not by line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, description="repository path of the module to edit")
    action: Literal["replace", "remove", "insert_after", "add_import"] = Field(
        description="replace: the definition `target` becomes `code`; remove: delete the "
        "definition `target`; insert_after: put `code` after the definition `target` (an empty "
        "target means the end of the module); add_import: add the import statement `code`"
    )
    target: str = Field(
        default="",
        description="qualified name of an existing function, method or class "
        "(e.g. 'Client.generate'); empty for add_import",
    )
    code: str = Field(
        default="",
        description="complete Python source of the new definition or import, without line "
        "numbers; empty for remove",
    )


class IdealizedChange(IdealizedAnswer):
    """The idealized diff with the concrete change a draft pull request carries out."""

    edits: list[CodeEdit] = Field(
        description="the edits that carry out the plan: the unified implementation at the "
        "canonical location, each redundant member removed or reduced to a thin delegation or "
        "re-export, and the callers redirected; only the members' files and their callers; "
        "empty when the verdict is not act",
    )

    @model_validator(mode="after")
    def _edits_when_acting(self) -> IdealizedChange:
        # A verdict to act without a change to carry it out is an answer to repair.
        if self.verdict == "act" and not self.edits:
            raise ValueError("edits: at least one edit is needed when the verdict is act")
        return self


def answer_model(edits: bool = False) -> type[IdealizedAnswer]:
    """The schema the model fills in: with the concrete edits in draft-PR mode."""
    return IdealizedChange if edits else IdealizedAnswer


def tool_definition(edits: bool = False) -> dict[str, object]:
    """The Messages API tool whose input schema is the answer model's JSON schema."""
    return {
        "name": TOOL_NAME,
        "description": TOOL_DESCRIPTION
        + (" Include the concrete edits that carry out the plan." if edits else ""),
        "input_schema": answer_model(edits).model_json_schema(),
    }


@dataclass(frozen=True)
class Usage:
    """Tokens one call (or a total) used, as the Messages API reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )

    @property
    def total(self) -> int:
        """Every token billed: input (fresh, cached and cache writes) and output."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )


Source = Literal["anthropic", "offline"]


@dataclass(frozen=True)
class Idealized:
    """The idealized diff of one finding or hotspot, and how it was obtained."""

    source: Source
    answer: IdealizedAnswer
    model: str | None = None
    note: str | None = None  # e.g. why the offline plan stands in for the model's answer
    omitted: tuple[str, ...] = ()  # context left out of the prompt to fit the budget
    usage: Usage = field(default_factory=Usage)
    cached: bool = False
    calls: int = 0

    @property
    def acted(self) -> bool:
        """Whether the answer says to act on it (the offline plan always does)."""
        return self.answer.verdict == "act"


@dataclass(frozen=True)
class LlmRun:
    """What the idealizer did in one review: mode, model, calls, cache hits, tokens, notes."""

    mode: Source
    model: str | None
    calls: int = 0
    cache_hits: int = 0
    usage: Usage = field(default_factory=Usage)
    notes: tuple[str, ...] = ()
