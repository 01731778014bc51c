"""A review's report in the machine formats: JSON (the contract users rely on) and SARIF 2.1.0.
The Markdown rendering is a template (``prompts/report.md.j2``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from analyzers import Finding
from app import __version__
from app.review.answer import Idealized, Usage
from app.review.report import Changes, Report

SCHEMA = "idealdiff.report/1"

TOOL_URI = "https://github.com/idealdiff/idealdiff"

RULES: dict[str, tuple[str, str]] = {
    "type-1": ("Type1Clone", "Code duplicated verbatim (layout, comments and docstrings aside)."),
    "type-2": ("Type2Clone", "Code duplicated with identifiers or literals renamed."),
    "type-3": ("Type3Clone", "Near-miss copy: statements added, removed or changed."),
    "concept": ("SameConcept", "One concept implemented twice under different names."),
    "hotspot": ("Hotspot", "A module that several branches of the batch changed."),
}


def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding as the JSON contract has it (``evidence`` is an addition)."""
    return {
        "id": finding.id,
        "kind": finding.kind,
        "score": finding.score,
        "clone_type": finding.clone_type,
        "concept": finding.concept,
        "members": [
            {
                "path": m.unit.path,
                "qualname": m.unit.qualname,
                "kind": m.unit.kind,
                "start_line": m.unit.start_line,
                "end_line": m.unit.end_line,
                "introduced_by": m.introduced_by,
            }
            for m in finding.members
        ],
        "evidence": [
            {
                "between": [f"{e.left[0]}::{e.left[1]}", f"{e.right[0]}::{e.right[1]}"],
                "clone_type": e.clone_type,
                "score": e.score,
                "matched": list(e.matched),
            }
            for e in finding.evidence
        ],
        "idealized": None,
    }


def usage_json(usage: Usage) -> dict[str, int]:
    """Token counts as the Messages API names them."""
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
    }


def idealized_json(ideal: Idealized | None) -> dict[str, Any] | None:
    """An idealized diff: the structured answer plus where it came from."""
    if ideal is None:
        return None
    return {
        "source": ideal.source,
        "model": ideal.model,
        **ideal.answer.model_dump(mode="json"),
        "note": ideal.note,
        "omitted_context": list(ideal.omitted),
        "cached": ideal.cached,
        "usage": usage_json(ideal.usage),
    }


def to_json(report: Report) -> dict[str, Any]:
    """The ``idealdiff.report/1`` document (see DESIGN.md)."""

    def judged(finding: Finding) -> dict[str, Any]:
        return {
            **finding_json(finding),
            "idealized": idealized_json(report.idealized.get(finding.id)),
        }

    return {
        "schema": SCHEMA,
        "repo": report.repo,
        "base": report.base,
        "head_sha": report.head_sha,
        "batch": [
            {
                "id": b.id,
                "title": b.title,
                "author": b.author,
                "merge_sha": b.merge_sha,
                "files": [c.display_path for c in b.files],
            }
            for b in report.batch
        ],
        "hotspots": [
            {
                "path": h.path,
                "branches": list(h.branches),
                "symbols": [
                    {"qualname": s.qualname, "branches": list(s.branches)} for s in h.symbols
                ],
                "idealized": idealized_json(report.idealized.get(f"hotspot:{h.path}")),
            }
            for h in report.hotspots
        ],
        "findings": [judged(f) for f in report.findings],
        # Additive: findings the model judged not worth acting on, with its verdict and reason.
        "dismissed": [judged(f) for f in report.dismissed],
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
        "llm": None
        if report.llm is None
        else {
            "mode": report.llm.mode,
            "model": report.llm.model,
            "calls": report.llm.calls,
            "cache_hits": report.llm.cache_hits,
            "usage": usage_json(report.llm.usage),
            "notes": list(report.llm.notes),
        },
        **({} if report.changes is None else {"changes": changes_json(report.changes)}),
    }


def changes_json(changes: Changes) -> dict[str, Any]:
    """The additive ``changes`` key: where the changes went, and each finding's outcome."""
    return {
        "target": changes.target,
        "records": [
            {"finding": r.finding_id, "status": r.status, "detail": r.detail, "source": r.source}
            for r in changes.records
        ],
    }


def _location(path: str, start: int, end: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": path},
            "region": {"startLine": start, "endLine": end},
        }
    }


def _describe(finding: Finding) -> str:
    parts = []
    for m in finding.members:
        who = m.introduced_by or "before the batch"
        parts.append(f"{m.unit.qualname} ({m.unit.path}:{m.unit.start_line}, {who})")
    return (
        f"{len(finding.members)} implementations of {finding.concept!r} "
        f"({finding.clone_type}, score {finding.score:.2f}): " + "; ".join(parts)
    )


def _repo_uri(repo: str) -> str:
    if "://" in repo:
        return repo
    if repo.count("/") == 1 and not repo.startswith((".", "/")):
        return f"https://github.com/{repo}"
    return "file://" + quote(repo if repo.startswith("/") else "/" + repo)


def to_sarif(report: Report) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one result per finding (at its newest member) and per hotspot."""
    rule_ids = list(RULES)
    results: list[dict[str, Any]] = []
    for finding in report.findings:
        primary = next((m for m in finding.members if m.introduced_by), finding.members[0])
        related = [
            {
                "id": i,
                "message": {"text": f"{m.unit.qualname} ({m.introduced_by or 'before the batch'})"},
                **_location(m.unit.path, m.unit.start_line, m.unit.end_line),
            }
            for i, m in enumerate(finding.members)
            if m is not primary
        ]
        results.append(
            {
                "ruleId": RULES[finding.clone_type][0],
                "ruleIndex": rule_ids.index(finding.clone_type),
                "level": "warning",
                "message": {"text": _describe(finding)},
                "locations": [
                    _location(primary.unit.path, primary.unit.start_line, primary.unit.end_line)
                ],
                "relatedLocations": related,
                "partialFingerprints": {"idealdiffFinding/v1": finding.id},
                "properties": {"score": finding.score, "concept": finding.concept},
            }
        )
    for hotspot in report.hotspots:
        symbols = ", ".join(s.qualname for s in hotspot.symbols) or "different parts"
        results.append(
            {
                "ruleId": RULES["hotspot"][0],
                "ruleIndex": rule_ids.index("hotspot"),
                "level": "note",
                "message": {
                    "text": f"{len(hotspot.branches)} branches changed this file "
                    f"({', '.join(hotspot.branches)}); symbols changed by several: {symbols}"
                },
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": hotspot.path}}}],
                "partialFingerprints": {"idealdiffHotspot/v1": hotspot.path},
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "idealdiff",
                        "version": __version__,
                        "informationUri": TOOL_URI,
                        "rules": [
                            {
                                "id": name,
                                "name": name,
                                "shortDescription": {"text": text},
                                "defaultConfiguration": {
                                    "level": "note" if key == "hotspot" else "warning"
                                },
                            }
                            for key, (name, text) in RULES.items()
                        ],
                    }
                },
                "automationDetails": {"id": f"idealdiff/{report.base}/{report.head_sha[:12]}"},
                "versionControlProvenance": [
                    {"repositoryUri": _repo_uri(report.repo), "revisionId": report.head_sha}
                ],
                "results": results,
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {"level": "note", "message": {"text": f"skipped {s.path}: {s.reason}"}}
                            for s in report.skipped
                        ],
                    }
                ],
            }
        ],
    }
