"""What a body looks like, per format, with the data taken out: the only module that parses answers.

Two sides never hold the same records, so the probe compares shapes, not values:

* JSON and XML become a ``Node`` tree: at each path, the kinds of value seen (``number``, ``boolean``,
  ``string``, or a string that is a date, a time, a date-time with an offset...), the keys or child
  elements in their order, and for arrays (JSON) or repeated elements (XML) one merged element.
* CSV becomes a ``CsvShape``: header row, rows, cells per row, quoting style, line ending, BOM, delimiter.

``null`` and empty elements say nothing about a type (whether a field is empty depends on the data),
and JSON integers and decimals are both ``number`` (whether a rate of 1 is written ``1`` or ``1.0`` is
the data's doing too).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from mockserver.probe.fetch import Answer

NULL = "null"
EMPTY = "empty"
#: Kinds that match any other: they come from the data, not from the API's design.
WILDCARDS = frozenset({NULL, EMPTY})

_STRING_KINDS = (
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$"), "string:datetime+offset"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"), "string:datetime-Z"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$"), "string:datetime-no-zone"),
    (re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"), "string:sql-datetime"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "string:date"),
    (re.compile(r"^\d{2}:\d{2}:\d{2}$"), "string:hh:mm:ss"),
    (re.compile(r"^\d{2}:\d{2}$"), "string:hh:mm"),
)
_XML_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")
DATETIME_OFFSET = _STRING_KINDS[0][0]


def string_kind(text: str) -> str:
    for pattern, kind in _STRING_KINDS:
        if pattern.match(text):
            return kind
    return "string"


@dataclass
class Node:
    """One path of a body: the kinds seen there, and for containers what they hold."""

    kinds: set[str] = field(default_factory=set)
    keys: list[str] = field(default_factory=list)  # object keys / child element names, first-seen order
    fields: dict[str, Node] = field(default_factory=dict)
    items: Node | None = None  # JSON arrays: every element merged
    attributes: set[str] = field(default_factory=set)  # XML

    def child(self, name: str) -> Node:
        if name not in self.fields:
            self.keys.append(name)
            self.fields[name] = Node()
        return self.fields[name]

    @property
    def typed(self) -> set[str]:
        """The kinds that say something about the API: without null and empty."""
        return self.kinds - WILDCARDS


# --- JSON ----------------------------------------------------------------------------------------


def json_shape(value: Any) -> Node:
    node = Node()
    _add_json(node, value)
    return node


def _add_json(node: Node, value: Any) -> None:
    if isinstance(value, bool):
        node.kinds.add("boolean")
    elif isinstance(value, int | float):
        node.kinds.add("number")
    elif isinstance(value, str):
        node.kinds.add(string_kind(value))
    elif value is None:
        node.kinds.add(NULL)
    elif isinstance(value, dict):
        node.kinds.add("object")
        for key, child in value.items():
            _add_json(node.child(str(key)), child)
    elif isinstance(value, list):
        node.kinds.add("array")
        if node.items is None:
            node.items = Node()
        for element in value:
            _add_json(node.items, element)


def walk_strings(value: Any, where: str = "") -> list[tuple[str, str]]:
    """Every string of a JSON value with its generic path (``data[].created_at``), in document order."""
    found: list[tuple[str, str]] = []
    if isinstance(value, str):
        found.append((where, value))
    elif isinstance(value, dict):
        for key, child in value.items():
            found += walk_strings(child, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for child in value:
            found += walk_strings(child, f"{where}[]")
    return found


# --- XML -----------------------------------------------------------------------------------------


@dataclass
class XmlShape:
    declaration: str  # "1.0 UTF-8", or "none"
    root: str
    tree: Node


def xml_shape(body: bytes) -> XmlShape:
    """The element structure of an XML body; ValueError when it is not well-formed."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:100]
    if head.startswith(b"<?xml"):
        info = root.getroottree().docinfo
        declaration = f"{info.xml_version} {(info.encoding or '').upper()}".strip()
    else:
        declaration = "none"
    node = Node()
    _add_xml(node, root)
    return XmlShape(declaration, str(root.tag), node)


def _add_xml(node: Node, element: Any) -> None:
    node.attributes.update(str(name) for name in element.attrib)
    children = [child for child in element if isinstance(child.tag, str)]  # no comments or PIs
    if children:
        node.kinds.add("element")
        for child in children:
            _add_xml(node.child(str(child.tag)), child)
        return
    text = (element.text or "").strip()
    if element.get("nil") == "true":
        node.kinds.add(NULL)
    elif not text:
        node.kinds.add(EMPTY)
    elif text in ("true", "false"):
        node.kinds.add("boolean")
    elif _XML_NUMBER.match(text):
        node.kinds.add("number")
    else:
        node.kinds.add(string_kind(text))


def xml_text(body: bytes, tag: str) -> str | None:
    """The text of a top-level element (``error_code``) of an XML envelope, or None."""
    try:
        shape_root = _root(body)
    except ValueError:
        return None
    found = shape_root.find(tag)
    return None if found is None else (found.text or "")


def _root(body: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(str(exc)) from None


# --- CSV -----------------------------------------------------------------------------------------


@dataclass
class CsvShape:
    header: list[str]
    rows: list[list[str]]
    quoting: str
    line_end: str
    bom: bool
    delimiter: str

    @property
    def widths(self) -> set[int]:
        return {len(row) for row in self.rows}

    def column(self, name: str) -> list[str]:
        if name not in self.header:
            return []
        index = self.header.index(name)
        return [row[index] for row in self.rows if index < len(row)]


def csv_shape(body: bytes) -> CsvShape:
    """The layout of a CSV body (RFC 4180 reading); ValueError when it is not UTF-8 or not CSV."""
    bom = body.startswith(b"\xef\xbb\xbf")
    try:
        text = body[3:].decode("utf-8") if bom else body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    first_break = text.find("\n")
    line_end = "none" if first_break < 0 else ("CRLF" if text[first_break - 1 : first_break] == "\r" else "LF")
    delimiter = _delimiter(text)
    cells = _cells(text, delimiter)
    if not cells:
        return CsvShape([], [], "minimal", line_end, bom, delimiter)
    return CsvShape(
        header=[value for value, _ in cells[0]],
        rows=[[value for value, _ in row] for row in cells[1:]],
        quoting=_quoting(cells, delimiter),
        line_end=line_end,
        bom=bom,
        delimiter=delimiter,
    )


def _delimiter(text: str) -> str:
    line = text.split("\n", 1)[0]
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {mark: outside.count(mark) for mark in (",", ";", "\t", "|")}
    best = max(counts, key=lambda mark: counts[mark])
    return best if counts[best] else ","


def _cells(text: str, delimiter: str) -> list[list[tuple[str, bool]]]:
    """Rows of (value, was it quoted) cells; ValueError on a quote that never closes."""
    rows: list[list[tuple[str, bool]]] = []
    row: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            j, value = i + 1, []
            while True:
                k = text.find('"', j)
                if k < 0:
                    raise ValueError("a quoted CSV field never closes")
                value.append(text[j:k])
                if k + 1 < n and text[k + 1] == '"':
                    value.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            row.append(("".join(value), True))
        else:
            j = i
            while j < n and text[j] not in (delimiter, "\r", "\n"):
                j += 1
            row.append((text[i:j], False))
            i = j
        if i < n and text[i] == delimiter:
            i += 1
            if i == n:
                row.append(("", False))
            continue
        if i < n and text[i] == "\r":
            i += 1
        if i < n and text[i] == "\n":
            i += 1
        rows.append(row)
        row = []
    if row:
        rows.append(row)
    return [r for r in rows if r != [("", False)]]


def _quoting(cells: list[list[tuple[str, bool]]], delimiter: str) -> str:
    flat = [(value, quoted) for row in cells for value, quoted in row]
    special = (delimiter, '"', "\r", "\n")
    if all(quoted for _, quoted in flat):
        return "every field quoted"
    if any(quoted and value and not any(mark in value for mark in special) for value, quoted in flat):
        return "more quotes than needed"
    return "minimal (RFC 4180)"


# --- any answer ----------------------------------------------------------------------------------


def format_of(answer: Answer) -> str:
    """json, xml, csv or the media type itself, from the Content-Type."""
    media = answer.media_type
    if media.endswith("json"):
        return "json"
    if media.endswith("xml"):
        return "xml"
    if media in ("text/csv", "application/csv"):
        return "csv"
    return media or "none"


def parse_json(body: bytes) -> Any:
    """The JSON value of a body; ValueError when it is none."""
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from None


def error_code(answer: Answer) -> str:
    """The envelope's error_code in whatever format the answer is, or '-' when it has none."""
    fmt = format_of(answer)
    code: Any = None
    if fmt == "json":
        try:
            value = parse_json(answer.body)
        except ValueError:
            value = None
        code = value.get("error_code") if isinstance(value, dict) else None
    elif fmt == "xml":
        code = xml_text(answer.body, "error_code")
    elif fmt == "csv":
        try:
            shape = csv_shape(answer.body)
        except ValueError:
            return "-"
        column = shape.column("error_code")
        code = column[0] if len(column) == 1 else ("SUCCESS" if answer.status == 200 else None)
    return str(code) if isinstance(code, str) and code else "-"
