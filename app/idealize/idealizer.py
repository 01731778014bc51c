"""The idealized diff of every finding and hotspot: prompts, the Anthropic call, the offline plan.

Flow per target: build the prompt from the real code within a token budget (members first, then
context by relevance), look the answer up in the cache by the hash of (model, prompt), else ask
the model for a forced tool call whose schema is ``IdealizedAnswer``; an answer that breaks the
schema gets one repair request, then the offline plan stands in and the report says so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from analyzers import CallSite, Finding, Hotspot, is_python
from app.errors import UsageError, validation_problems
from app.idealize.context import (
    Snippet,
    SymbolChange,
    context_snippets,
    estimate_tokens,
    find_uses,
    fit_snippets,
    numbered,
    symbol_changes,
)
from app.idealize.offline import offline_finding, offline_hotspot
from app.render.templates import render
from app.review.answer import (
    TOOL_NAME,
    Idealized,
    IdealizedAnswer,
    LlmRun,
    Usage,
    answer_model,
    tool_definition,
)
from app.review.report import Report
from app.review.source import CodeReader
from app.settings import LlmSettings
from app.store import Cache

if TYPE_CHECKING:
    import anthropic

PROMPT_VERSION = "1"  # bump when templates or the schema change what a cached answer means
T = TypeVar("T")
Rebuild = Callable[[int], "Prompt"]


@dataclass(frozen=True)
class Prompt:
    """One rendered prompt: the stable system and batch parts, and the target's own part."""

    target: str
    system: str
    batch: str
    body: str
    omitted: tuple[str, ...]
    snippets: tuple[Snippet, ...] = ()
    edits: bool = False  # the tool asks for the concrete edits (draft-PR mode)

    def key(self, model: str, max_tokens: int) -> str:
        """The cache key: the hash of the model, its limits and every byte of the prompt."""
        material = json.dumps(
            [
                PROMPT_VERSION,
                model,
                max_tokens,
                tool_definition(self.edits),
                self.system,
                self.batch,
                self.body,
            ],
            sort_keys=True,
        )
        return "ideal/" + hashlib.sha256(material.encode()).hexdigest()

    @property
    def estimate(self) -> int:
        """Estimated input tokens (system, tool schema, batch and body)."""
        schema = json.dumps(tool_definition(self.edits))
        return sum(estimate_tokens(t) for t in (self.system, schema, self.batch, self.body))

    def messages(self) -> list[Any]:
        """The user turn: the batch (cached: it is the same for every target) then the target."""
        return [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": self.batch, "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": self.body},
                ],
            }
        ]


def _system() -> str:
    return render("system.md.j2", tool_name=TOOL_NAME)


def _member_views(
    report: Report, finding: Finding, reader: CodeReader, room: int
) -> list[dict[str, Any]]:
    """Each member's numbered code; cut to an equal share of ``room`` tokens when too long."""
    share = max(room // max(len(finding.members), 1), 200)
    views: list[dict[str, Any]] = []
    for member in finding.members:
        unit = member.unit
        code = reader.lines(unit.path, unit.start_line, unit.end_line)
        cut = ""
        if estimate_tokens(code) > share:
            lines = code.splitlines()
            keep = max(int(share * 3 / max(len(code) / max(len(lines), 1), 1)), 5)
            cut = f"the first {keep} of {len(lines)} lines"
            code = "\n".join(lines[:keep])
        views.append(
            {
                "member": member,
                "code": numbered(code, unit.start_line),
                "branch": report.branch(member.introduced_by),
                "cut": cut,
            }
        )
    return views


def finding_prompt(
    report: Report,
    finding: Finding,
    reader: CodeReader,
    uses: dict[str, list[CallSite]],
    budget: int,
    drop: int = 0,
    edits: bool = False,
) -> Prompt:
    """The idealized-diff prompt of one finding: members first, then context while it fits.

    With ``edits``, the tool also asks for the concrete change a draft pull request carries out.

    ``drop`` leaves out that many more of the least relevant snippets (after an exact count).
    """
    system, batch = _system(), render("batch.md.j2", report=report)
    fixed = estimate_tokens(system) + estimate_tokens(json.dumps(tool_definition(edits)))
    fixed += estimate_tokens(batch) + 400  # the template's own words
    members = _member_views(report, finding, reader, budget - fixed)

    def body(snippets: list[Snippet], omitted: list[str]) -> str:
        return render(
            "finding.md.j2",
            finding=finding,
            members=members,
            snippets=snippets,
            omitted=omitted,
            tool_name=TOOL_NAME,
            edits=edits,
        )

    base = fixed + estimate_tokens(body([], []))
    all_sites = [s for sites in uses.values() for s in sites]
    candidates = context_snippets(reader, [m.unit for m in finding.members], all_sites)
    kept, omitted = fit_snippets(candidates, budget - base, lambda s: sum(x.tokens for x in s))
    if drop:
        omitted = [s.title for s in kept[len(kept) - drop :]] + omitted
        kept = kept[: max(len(kept) - drop, 0)]
    kept.sort(key=lambda s: (s.path, s.start))
    return Prompt(
        finding.id, system, batch, body(kept, omitted), tuple(omitted), tuple(kept), edits
    )


def hotspot_prompt(
    report: Report, hotspot: Hotspot, reader: CodeReader, changes: list[SymbolChange], budget: int
) -> Prompt:
    """The idealized-diff prompt of one hotspot: each branch's change, then the merged code."""
    system, batch = _system(), render("batch.md.j2", report=report)
    units = {u.qualname: u for u in reader.units(hotspot.path)}
    head = [
        {
            "unit": units[s.qualname],
            "code": numbered(
                reader.lines(
                    hotspot.path, units[s.qualname].start_line, units[s.qualname].end_line
                ),
                units[s.qualname].start_line,
            ),
        }
        for s in hotspot.symbols
        if s.qualname in units
    ]
    shown = list(changes)
    omitted: list[str] = []

    def body() -> str:
        return render(
            "hotspot.md.j2",
            hotspot=hotspot,
            changes=shown,
            head=head,
            omitted=omitted,
            tool_name=TOOL_NAME,
        )

    fixed = sum(estimate_tokens(t) for t in (system, batch, json.dumps(tool_definition())))
    text = body()
    while shown and fixed + estimate_tokens(text) > budget:
        dropped = shown.pop()
        omitted.append(f"the diff of {dropped.branch} on `{dropped.qualname}`")
        text = body()
    return Prompt(f"hotspot:{hotspot.path}", system, batch, text, tuple(omitted))


def _rebuilder(
    report: Report,
    finding: Finding,
    reader: CodeReader,
    uses: dict[str, list[CallSite]],
    budget: int,
    edits: bool = False,
) -> Rebuild:
    def rebuild(drop: int) -> Prompt:
        return finding_prompt(report, finding, reader, uses, budget, drop, edits)

    return rebuild


def _usage(raw: Any) -> Usage:
    return Usage(
        input_tokens=getattr(raw, "input_tokens", 0) or 0,
        output_tokens=getattr(raw, "output_tokens", 0) or 0,
        cache_read_tokens=getattr(raw, "cache_read_input_tokens", 0) or 0,
        cache_write_tokens=getattr(raw, "cache_creation_input_tokens", 0) or 0,
    )


def _parse(message: Any, edits: bool = False) -> tuple[IdealizedAnswer | None, str | None, Any]:
    """The answer in a Messages response, or why there is none, and the tool_use block."""
    block = next((b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
    if block is None:
        return None, f"the answer did not call {TOOL_NAME}", None
    try:
        return answer_model(edits).model_validate(block.input), None, block
    except ValidationError as exc:
        return None, validation_problems(exc), block


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, also when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class DiffIdealizer:
    """Gives every finding and hotspot of a report its idealized diff."""

    def __init__(self, settings: LlmSettings, store: Cache | None = None) -> None:
        self.settings = settings
        self.store = store

    def run(self, report: Report, reader: CodeReader) -> tuple[dict[str, Idealized], LlmRun]:
        """Idealized diffs keyed by finding id or ``hotspot:<path>``, and what it cost."""
        titles = {b.id: f'"{b.title}"' for b in report.batch}
        notes: list[str] = []
        offline: dict[str, Idealized] = {}
        prompts: dict[str, tuple[Prompt, Rebuild | None]] = {}
        budget = self.settings.prompt_budget
        edits = self.settings.edits
        for finding in report.findings:
            uses, note = find_uses(reader, finding, cache=self.store)
            if note:
                notes.append(f"{finding.id}: {note}")
            answer = offline_finding(reader, finding, uses, titles)
            offline[finding.id] = Idealized(source="offline", answer=answer)
            if self.settings.online:
                prompts[finding.id] = (
                    finding_prompt(report, finding, reader, uses, budget, edits=edits),
                    _rebuilder(report, finding, reader, uses, budget, edits),
                )
        for hotspot in report.hotspots:
            if not is_python(hotspot.path):
                continue  # listed in the report; a code-shaped plan for docs or data misleads
            changes = symbol_changes(reader, report, hotspot)
            key = f"hotspot:{hotspot.path}"
            offline[key] = Idealized(
                source="offline", answer=offline_hotspot(reader, hotspot, changes)
            )
            if self.settings.online:
                prompts[key] = (hotspot_prompt(report, hotspot, reader, changes, budget), None)
        if not self.settings.online:
            return offline, LlmRun(mode="offline", model=None, notes=tuple(notes))
        session = _Session(self.settings, self.store, offline)
        results = _run_sync(session.all(prompts))
        return results, LlmRun(
            mode="anthropic",
            model=self.settings.model,
            calls=sum(r.calls for r in results.values()),
            cache_hits=sum(r.cached for r in results.values()),
            usage=sum((r.usage for r in results.values()), Usage()),
            notes=tuple(notes + session.notes),
        )


class _Session:
    """One review's conversation with the API: concurrency, the spend ceiling, the cache."""

    def __init__(
        self, settings: LlmSettings, store: Cache | None, offline: dict[str, Idealized]
    ) -> None:
        self.settings = settings
        self.store = store
        self.offline = offline
        self.notes: list[str] = []
        self.spent = 0
        self.reserved = 0
        self.disabled: str | None = None
        self.ceiling_hit = 0

    async def all(self, prompts: dict[str, tuple[Prompt, Rebuild | None]]) -> dict[str, Idealized]:
        # Imported here, not at the top: it costs ~1 s to import and offline reviews never use it.
        import anthropic

        key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=self.settings.base_url,
            max_retries=self.settings.max_retries,
            timeout=self.settings.timeout,
        )
        gate = asyncio.Semaphore(self.settings.concurrency)
        try:
            pairs = await asyncio.gather(
                *(
                    self._one(client, gate, target, prompt, rebuild)
                    for target, (prompt, rebuild) in prompts.items()
                )
            )
        finally:
            await client.close()
        if self.ceiling_hit:
            self.notes.append(
                f"the spend ceiling of {self.settings.review_token_ceiling:,} tokens was "
                f"reached: {self.ceiling_hit} target(s) got the offline plan "
                "(raise IDEALDIFF_TOKEN_CEILING to idealize them all)"
            )
        results = dict(self.offline)
        results.update(dict(pairs))
        return results

    def _fallback(self, target: str, note: str, **extra: Any) -> tuple[str, Idealized]:
        return target, replace(self.offline[target], note=note, **extra)

    async def _one(
        self,
        client: anthropic.AsyncAnthropic,
        gate: asyncio.Semaphore,
        target: str,
        prompt: Prompt,
        rebuild: Rebuild | None,
    ) -> tuple[str, Idealized]:
        model, max_tokens = self.settings.model, self.settings.max_tokens
        key = prompt.key(model, max_tokens)
        if self.store is not None and (raw := self.store.get_value(key)) is not None:
            try:
                cached = json.loads(raw)
                answer = answer_model(prompt.edits).model_validate(cached["answer"])
                return target, Idealized(
                    source="anthropic",
                    answer=answer,
                    model=model,
                    omitted=tuple(cached.get("omitted", ())),
                    cached=True,
                )
            except (ValueError, KeyError, ValidationError):
                pass  # a damaged entry is asked again
        async with gate:
            if self.disabled:
                return self._fallback(target, self.disabled)
            need = prompt.estimate + max_tokens
            if self.spent + self.reserved + need > self.settings.review_token_ceiling:
                self.ceiling_hit += 1
                return self._fallback(target, "spend ceiling reached; offline plan used")
            self.reserved += need
            try:
                return await self._ask(client, target, prompt, key, rebuild)
            finally:
                self.reserved -= need

    async def _ask(
        self,
        client: anthropic.AsyncAnthropic,
        target: str,
        prompt: Prompt,
        key: str,
        rebuild: Rebuild | None,
    ) -> tuple[str, Idealized]:
        import anthropic  # already loaded by all(): its error classes are needed below

        model, max_tokens = self.settings.model, self.settings.max_tokens
        system: Any = [
            {"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}
        ]
        tools: Any = [tool_definition(prompt.edits)]
        choice: Any = {"type": "tool", "name": TOOL_NAME}
        usage = Usage()
        calls = 0
        try:
            counted = await client.messages.count_tokens(
                model=model,
                system=system,
                tools=tools,
                messages=prompt.messages(),
            )
            drop = 0
            # The estimate is conservative, but a prompt the API counts above the budget
            # sheds its least relevant context, halving what is left each round.
            while counted.input_tokens > self.settings.prompt_budget and rebuild is not None:
                if drop >= len(prompt.snippets) + drop:
                    break
                drop = max(drop + 1, drop * 2)
                prompt = rebuild(drop)
                counted = await client.messages.count_tokens(
                    model=model,
                    system=system,
                    tools=tools,
                    messages=prompt.messages(),
                )
                if not prompt.snippets:
                    break
            messages: Any = prompt.messages()

            async def ask(turns: Any) -> Any:
                return await client.messages.create(
                    model=model,
                    max_tokens=max_tokens,
                    system=system,
                    tools=tools,
                    tool_choice=choice,
                    messages=turns,
                )

            reply = await ask(messages)
            calls += 1
            usage = usage + _usage(reply.usage)
            answer, problem, block = _parse(reply, prompt.edits)
            if answer is None:
                reply = await ask([*messages, *_repair_turns(reply, block, problem or "")])
                calls += 1
                usage = usage + _usage(reply.usage)
                answer, second, _ = _parse(reply, prompt.edits)
                if answer is None:
                    self.spent += usage.total
                    return self._fallback(
                        target,
                        f"the model's answer broke the schema twice ({second}); offline plan used",
                        usage=usage,
                        calls=calls,
                        model=model,
                    )
        except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
            self.disabled = (
                f"the Anthropic API refused the key (HTTP {exc.status_code}); offline plan used"
            )
            return self._fallback(target, self.disabled, usage=usage, calls=calls)
        except anthropic.APITimeoutError:
            note = (
                f"the Anthropic API did not answer within {self.settings.timeout:g} s "
                f"({self.settings.max_retries} retries); offline plan used"
            )
            return self._fallback(target, note, usage=usage, calls=calls)
        except anthropic.APIStatusError as exc:
            note = (
                f"the Anthropic API failed with HTTP {exc.status_code} after "
                f"{self.settings.max_retries} retries; offline plan used"
            )
            return self._fallback(target, note, usage=usage, calls=calls)
        except anthropic.APIConnectionError:
            note = "the Anthropic API could not be reached; offline plan used"
            return self._fallback(target, note, usage=usage, calls=calls)
        self.spent += usage.total
        if self.store is not None:
            entry = {"answer": answer.model_dump(mode="json"), "omitted": list(prompt.omitted)}
            self.store.put_value(key, json.dumps(entry).encode())
        return target, Idealized(
            source="anthropic",
            answer=answer,
            model=model,
            omitted=prompt.omitted,
            usage=usage,
            calls=calls,
        )


def _repair_turns(reply: Any, block: Any, problem: str) -> list[Any]:
    """The turns asking once for a corrected tool call, after an answer that broke the schema."""
    instruction = (
        f"Your answer did not match the {TOOL_NAME} input schema: {problem}. "
        f"Call {TOOL_NAME} again with a complete, corrected input."
    )
    if block is None:
        text = "".join(getattr(b, "text", "") for b in reply.content) or "(no text)"
        return [
            {"role": "assistant", "content": [{"type": "text", "text": text}]},
            {"role": "user", "content": [{"type": "text", "text": instruction}]},
        ]
    return [
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": block.id,
                    "is_error": True,
                    "content": instruction,
                }
            ],
        },
    ]


def make_idealizer(llm: LlmSettings, store: Cache | None = None, **overrides: Any) -> DiffIdealizer:
    """An idealizer from the settings, with this run's choices (``mode`` as ``--llm
    auto|anthropic|offline``, ``model``, ``edits``) over them; None leaves a setting as read."""
    values = {**dict(llm), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        settings = LlmSettings.model_validate(values)
    except ValidationError as exc:
        raise UsageError(f"invalid model settings: {validation_problems(exc)}") from None
    if settings.mode == "anthropic" and settings.api_key is None:
        raise UsageError("--llm anthropic needs ANTHROPIC_API_KEY in the environment")
    return DiffIdealizer(settings, store)
