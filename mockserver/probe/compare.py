"""One call, two answers: the differences between them, each once.

In this order, and a difference that explains the rest stops the comparison: HTTP status (with the
error codes), error_code, Content-Type (a different format stops here), the body's shape in its format
(JSON keys, order, types and the values that do not depend on the data; XML elements; CSV header row,
quoting, line ending), then the self-consistency rules whose outcome differs between the sides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mockserver.probe import consistency, sections
from mockserver.probe.calls import Call, Observation
from mockserver.probe.fetch import Answer
from mockserver.probe.shapes import (
    CsvShape,
    Node,
    XmlShape,
    csv_shape,
    error_code,
    format_of,
    json_shape,
    parse_json,
    xml_shape,
)
from mockserver.probe.side import Side

ENVELOPE = "(envelope)"
#: Envelope values every answer must share, whatever the data.
_ENVELOPE_VALUES = ("success", "api_version", "format")
#: XML attributes that come from the data (nil="true" marks a null).
_DATA_ATTRIBUTES = {"nil"}


@dataclass(frozen=True)
class Difference:
    call: str
    request: str  # as sent to the target (secrets masked)
    where: str  # the path in the body, or (status), (Content-Type), (header)...
    kind: str
    sandbox: str
    target: str
    section: str | None = None
    detail: str = ""

    def key(self) -> tuple[str, str, str, str, str | None]:
        """What makes two differences the same one, whichever call showed it."""
        return (self.kind, self.where, self.sandbox, self.target, self.section)


class _Found:
    def __init__(self, call: Call, request: str) -> None:
        self.call = call
        self.request = request
        self.items: list[Difference] = []

    def add(
        self, where: str, kind: str, sandbox: str, target: str, section: str | None = None, detail: str = ""
    ) -> None:
        self.items.append(Difference(self.call.name, self.request, where, kind, sandbox, target, section, detail))


def compare(sandbox: Observation, target: Observation, sandbox_side: Side, target_side: Side) -> list[Difference]:
    """The differences between two answers to the same call (both sides answered)."""
    assert sandbox.answer is not None and target.answer is not None
    call = sandbox.call
    found = _Found(call, target.shown or sandbox.shown)
    s, t = sandbox.answer, target.answer
    s_code, t_code = error_code(s), error_code(t)
    if s.status != t.status:
        found.add("(status)", "status", f"{s.status} {s_code}", f"{t.status} {t_code}", call.section)
        return found.items
    if s_code != t_code:
        found.add("error_code", "error_code", s_code, t_code, call.section)
    if _content_type(s) != _content_type(t):
        found.add("(Content-Type)", "content_type", s.content_type or "-", t.content_type or "-", sections.NEGOTIATION)
    fmt = format_of(s)
    if fmt != format_of(t):
        return found.items
    if fmt == "json":
        _json(found, s, t)
    elif fmt == "xml":
        _xml(found, s, t)
    elif fmt == "csv":
        _csv(found, s, t)
    _rules(found, sandbox, target, sandbox_side, target_side)
    return found.items


def _content_type(answer: Answer) -> str:
    return answer.content_type.replace(" ", "").lower()


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return text if len(text) <= 80 else text[:79] + "…"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _section(found: _Found, where: str, *, error: bool) -> str | None:
    """The section of a shape difference: the field's own, else the call's for statistics and errors."""
    own = sections.for_field(where, error=error)
    if own:
        return own
    return found.call.section if found.call.kind in ("statistics", "error") else None


def _keys(
    found: _Found, where: str, mine: list[str], theirs: list[str], kind: str, *, error: bool, fixed: str | None = None
) -> None:
    """Missing or extra keys (one difference), then the order of the common ones (another).

    ``fixed`` is the section of every difference found (XML and CSV layouts); else each key's own section,
    then the call's (see ``_section``).
    """
    only_sandbox = [key for key in mine if key not in theirs]
    only_target = [key for key in theirs if key not in mine]
    if only_sandbox or only_target:
        own = next((s for key in only_sandbox + only_target if (s := sections.for_field(key, error=error))), None)
        found.add(
            where or ENVELOPE,
            kind,
            ", ".join(only_sandbox) or "-",
            ", ".join(only_target) or "-",
            fixed or own or _section(found, where, error=error),
            detail=f"sandbox: {', '.join(mine)}; target: {', '.join(theirs)}",
        )
    common_mine = [key for key in mine if key in theirs]
    common_theirs = [key for key in theirs if key in mine]
    if common_mine != common_theirs:
        found.add(
            where or ENVELOPE,
            kind.replace("keys", "order").replace("elements", "order").replace("header", "order"),
            ", ".join(common_mine),
            ", ".join(common_theirs),
            fixed or _section(found, where, error=error),
        )


def _body_problem(found: _Found, fmt: str, problem: str) -> None:
    found.add("(body)", "body", f"valid {fmt}", problem[:120], sections.NEGOTIATION)


# --- JSON ----------------------------------------------------------------------------------------


def _json(found: _Found, s: Answer, t: Answer) -> None:
    try:
        mine = parse_json(s.body)
    except ValueError as exc:
        found.add("(body)", "body", str(exc)[:120], "-")
        return
    try:
        theirs = parse_json(t.body)
    except ValueError as exc:
        _body_problem(found, "JSON", str(exc))
        return
    error = isinstance(mine, dict) and mine.get("success") is False
    _nodes(found, json_shape(mine), json_shape(theirs), "", error=error)
    paths = [*_ENVELOPE_VALUES, *found.call.values]
    if not error:
        paths.append("message")
    for path in paths:
        here, there = _at(mine, path), _at(theirs, path)
        if here is not _MISSING and there is not _MISSING and here != there:
            found.add(path, "value", _show(here), _show(there), _section(found, path, error=error))


def _nodes(found: _Found, mine: Node, theirs: Node, where: str, *, error: bool) -> None:
    kinds, other = mine.typed, theirs.typed
    if kinds and other and kinds != other:
        timed = any("datetime" in kind for kind in kinds | other)  # a timestamp format: the time-zone reading
        section = sections.TIMES if timed else _section(found, where, error=error)
        found.add(where or ENVELOPE, "type", "/".join(sorted(kinds)), "/".join(sorted(other)), section)
        return
    if "object" in kinds and "object" in other:
        _keys(found, where, mine.keys, theirs.keys, "keys", error=error)
        for key in mine.keys:
            if key in theirs.fields:
                _nodes(found, mine.fields[key], theirs.fields[key], _join(where, key), error=error)
    if "array" in kinds and "array" in other and mine.items is not None and theirs.items is not None:
        _nodes(found, mine.items, theirs.items, f"{where}[]", error=error)


_MISSING = object()


def _at(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


# --- XML -----------------------------------------------------------------------------------------


def _xml(found: _Found, s: Answer, t: Answer) -> None:
    try:
        mine = xml_shape(s.body)
    except ValueError as exc:
        found.add("(body)", "body", str(exc)[:120], "-")
        return
    try:
        theirs = xml_shape(t.body)
    except ValueError as exc:
        _body_problem(found, "XML", str(exc))
        return
    _xml_document(found, mine, theirs)


def _xml_document(found: _Found, mine: XmlShape, theirs: XmlShape) -> None:
    if mine.declaration != theirs.declaration:
        found.add("(declaration)", "xml-declaration", mine.declaration, theirs.declaration, sections.XML)
    if mine.root != theirs.root:
        found.add("(root)", "xml-root", mine.root, theirs.root, sections.XML)
        return
    _xml_nodes(found, mine.tree, theirs.tree, mine.root)


def _xml_nodes(found: _Found, mine: Node, theirs: Node, where: str) -> None:
    kinds, other = mine.typed, theirs.typed
    if kinds and other and kinds != other:
        found.add(where, "xml-type", "/".join(sorted(kinds)), "/".join(sorted(other)), sections.XML)
        return
    attributes, their_attributes = mine.attributes - _DATA_ATTRIBUTES, theirs.attributes - _DATA_ATTRIBUTES
    if attributes != their_attributes:
        found.add(
            where,
            "xml-attributes",
            ", ".join(sorted(attributes)) or "-",
            ", ".join(sorted(their_attributes)) or "-",
            sections.XML,
        )
    if "element" in kinds and "element" in other:
        _keys(found, where, mine.keys, theirs.keys, "xml-elements", error=False, fixed=sections.XML)
        for key in mine.keys:
            if key in theirs.fields:
                _xml_nodes(found, mine.fields[key], theirs.fields[key], f"{where}/{key}")


# --- CSV -----------------------------------------------------------------------------------------


def _csv(found: _Found, s: Answer, t: Answer) -> None:
    try:
        mine = csv_shape(s.body)
    except ValueError as exc:
        found.add("(body)", "body", str(exc)[:120], "-")
        return
    try:
        theirs = csv_shape(t.body)
    except ValueError as exc:
        _body_problem(found, "CSV", str(exc))
        return
    _csv_layout(found, mine, theirs)
    names = sorted(name for name in s.headers if name.startswith("x-pagination-"))
    their_names = sorted(name for name in t.headers if name.startswith("x-pagination-"))
    if names != their_names:
        found.add(
            "(HTTP headers)",
            "csv-headers",
            ", ".join(_title(n) for n in names if n not in their_names) or "-",
            ", ".join(_title(n) for n in their_names if n not in names) or "-",
            sections.CSV,
        )


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _csv_layout(found: _Found, mine: CsvShape, theirs: CsvShape) -> None:
    _keys(found, "(header)", mine.header, theirs.header, "csv-header", error=False, fixed=sections.CSV)
    for label, here, there in (
        ("(quoting)", mine.quoting, theirs.quoting),
        ("(line ending)", mine.line_end, theirs.line_end),
        ("(delimiter)", repr(mine.delimiter), repr(theirs.delimiter)),
        ("(byte order mark)", "yes" if mine.bom else "no", "yes" if theirs.bom else "no"),
    ):
        if label == "(line ending)" and "none" in (here, there):
            continue  # a one-line body says nothing about line endings
        if here != there:
            found.add(label, "csv-" + label.strip("()").replace(" ", "-"), here, there, sections.CSV)


# --- self-consistency ----------------------------------------------------------------------------


def _rules(found: _Found, sandbox: Observation, target: Observation, sandbox_side: Side, target_side: Side) -> None:
    for rule in consistency.RULES:
        mine = consistency.outcome(rule, sandbox, sandbox_side)
        theirs = consistency.outcome(rule, target, target_side)
        if mine is None or theirs is None or mine == theirs:
            continue
        if consistency.HOLDS not in (mine, theirs):
            continue  # both fail: the sides agree that the rule does not hold
        found.add(rule.where, "rule", mine, theirs, rule.section, detail=f"{rule.id}: {rule.text}")
