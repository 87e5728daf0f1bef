"""The outcome of a run, as a table for people and a JSON document for machines.

The same difference seen in several calls (an ``api_version`` that differs everywhere) is one finding
with the other calls listed. Neither output holds response bodies: only call paths, statuses, content
types, key names, kinds of value and counts, so a report from a real account carries no customer data.
Every text goes through a ``Redactor`` last, so a token or secret never reaches a terminal or a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mockserver.probe.compare import Difference
from mockserver.probe.sections import short

SCHEMA = "tap4book-mock-probe/1"


@dataclass
class Finding:
    """One difference, and every call that showed it."""

    difference: Difference
    calls: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = self.difference
        return {
            "call": d.call,
            "request": d.request,
            "where": d.where,
            "kind": d.kind,
            "sandbox": d.sandbox,
            "target": d.target,
            "section": d.section,
            "detail": d.detail,
            "also_in": self.calls[1:],
        }


def group(differences: Iterable[Difference]) -> list[Finding]:
    findings: dict[tuple[Any, ...], Finding] = {}
    for difference in differences:
        finding = findings.setdefault(difference.key(), Finding(difference))
        if difference.call not in finding.calls:
            finding.calls.append(difference.call)
    return list(findings.values())


@dataclass
class SideInfo:
    url: str
    clock: str | None = None
    requests: int = 0
    started_by_probe: bool = False


@dataclass
class Result:
    """Everything a run found; ``exit_status`` is 0 without findings, 1 with."""

    version: str
    started_at: str
    target: SideInfo
    sandbox: SideInfo
    options: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def compared(self) -> int:
        return len(self.calls) - len(self.skipped)

    @property
    def exit_status(self) -> int:
        return 1 if self.findings else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "probe": {"version": self.version, "started_at": self.started_at, "duration_s": round(self.duration_s, 2)},
            "target": _side(self.target),
            "sandbox": _side(self.sandbox),
            "options": self.options,
            "summary": {
                "calls": len(self.calls),
                "compared": self.compared,
                "skipped": len(self.skipped),
                "differences": len(self.findings),
                "exit_status": self.exit_status,
            },
            "differences": [finding.to_json() for finding in self.findings],
            "skipped": [{"call": name, "reason": reason} for name, reason in self.skipped],
            "rules": self.rules,
            "notes": self.notes,
            "warnings": self.warnings,
            "calls": self.calls,
        }


def _side(info: SideInfo) -> dict[str, Any]:
    return {
        "url": info.url,
        "clock": info.clock,
        "requests": info.requests,
        "started_by_probe": info.started_by_probe,
    }


class Redactor:
    """Replaces every secret it knows with ``***`` in a text; the last step before anything is shown."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Longest first, so that a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def to_json_text(result: Result) -> str:
    return json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"


# --- the table -----------------------------------------------------------------------------------

#: Column titles and their widest width; the last column (the target's value) is never cut.
_COLUMNS = (("CALL", 40), ("WHERE", 36), ("WHAT", 15), ("DOCS", 40), ("SANDBOX", 36), ("TARGET", 0))


def _cell(text: str, width: int) -> str:
    text = " ".join(text.split())
    if not width:
        return text
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def _rows(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [
        min(cap, max(len(" ".join(row[i].split())) for row in rows)) if cap else 0
        for i, (_, cap) in enumerate(_COLUMNS)
    ]
    return ["  ".join(_cell(value, width) for value, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def table(result: Result, out_path: str | None = None) -> str:
    lines = [
        f"tap4book-mock probe {result.version}",
        f"target   {result.target.url}  (clock {result.target.clock or '?'}, {result.target.requests} requests)",
        f"sandbox  {result.sandbox.url}  ("
        + ("started by the probe, " if result.sandbox.started_by_probe else "")
        + f"clock {result.sandbox.clock or '?'}, {result.sandbox.requests} requests)",
        "",
    ]
    if result.findings:
        rows = [tuple(name for name, _ in _COLUMNS)]
        for finding in result.findings:
            d = finding.difference
            call = d.call if len(finding.calls) == 1 else f"{d.call} (+{len(finding.calls) - 1} more)"
            rows.append((call, d.where, d.kind, short(d.section) or "-", d.sandbox, d.target))
        lines += [*_rows(rows), ""]
    for name, reason in result.skipped:
        lines.append(f"skipped  {name}: {reason}")
    for note in result.notes:
        lines.append(f"note     {note}")
    for warning in result.warnings:
        lines.append(f"WARNING  {warning}")
    if result.skipped or result.notes or result.warnings:
        lines.append("")
    count = len(result.findings)
    summary = (
        f"{count} difference{'s' if count != 1 else ''}" if count else "No difference"
    ) + f" in {result.compared} calls compared ({len(result.skipped)} skipped), {result.duration_s:.1f} s."
    if out_path:
        summary += f" Report: {out_path}"
    lines.append(summary)
    return "\n".join(lines) + "\n"
