"""Content negotiation and the three renderers: the only module that knows output formats.

Every renderer takes the same envelope (a dict) and returns the body bytes; ``respond`` wraps them in a
response with the format's content type. The layouts are documented in docs/formats.md:

* JSON: compact UTF-8, keys in the documented order.
* XML: ``<response>`` holding one element per envelope key; an array becomes repeated child elements
  named after the array (``data`` of calendars -> ``<calendar>``, ``daily_breakdown`` -> ``<day>``, any
  other -> ``<item>``); ``true``/``false`` for booleans; ``nil="true"`` on an empty element for null.
* CSV: the ``data`` only (pagination goes to ``X-Pagination-*`` headers): one row per record, nested
  objects flattened as ``parent.child``, arrays of scalars joined with ``|``; an object holding an array
  of objects gives one row per element (columns ``array.field``) with the object's scalars repeated.
  Cells a spreadsheet would run as a formula get a leading apostrophe (docs/formats.md#csv-injection).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from mockserver.answer import Answer
from mockserver.errors import InvalidParameter


@dataclass(frozen=True)
class Format:
    """One output format: what it is called, what it is served as, and how an envelope becomes its body.

    ``headers`` adds response headers (CSV carries the pagination there, having no envelope); ``preference``
    breaks ties between Accept types of equal quality.
    """

    name: str
    content_type: str
    media_types: tuple[str, ...]
    preference: int
    render: Callable[[Mapping[str, Any], str, tuple[str, ...]], bytes]
    headers: Callable[[Mapping[str, Any]], dict[str, str]] = lambda _envelope: {}


REGISTRY: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Add a format; the order of registration is the order GET /api/ lists them in."""
    REGISTRY[fmt.name] = fmt
    _MEDIA.update(dict.fromkeys(fmt.media_types, fmt.name))
    return fmt


_MEDIA: dict[str, str] = {}


def negotiate(format_param: str | None, accept: Any) -> str:
    """``format`` wins; otherwise the Accept type with the highest q among JSON, XML and CSV, JSON by default.

    A browser's Accept (text/html first, XML with q=0.9, */*) gets JSON, as the documentation's
    "JSON est maintenant le format par défaut pour tous les navigateurs" promises: only an explicitly
    listed XML or CSV type that outranks text/html selects them.
    """
    if format_param is not None:
        fmt = format_param.strip().lower()
        if fmt not in REGISTRY:
            raise InvalidParameter(
                f"Unsupported format {format_param!r}: use {', '.join(REGISTRY)}",
                details={"parameter": "format", "allowed": list(REGISTRY)},
            )
        return fmt
    best, best_q = "json", 0.0
    html_q = 0.0
    for media, quality in accept or ():
        media = media.lower()
        if media == "text/html":
            html_q = max(html_q, quality)
        fmt = _MEDIA.get(media)
        if fmt and quality > 0 and (quality, REGISTRY[fmt].preference) > (best_q, REGISTRY[best].preference):
            best, best_q = fmt, quality
    if best_q == 0.0 or html_q >= best_q:
        return "json"
    return best


def respond(
    envelope: Mapping[str, Any], fmt: str, status: int, item: str = "item", columns: tuple[str, ...] = ()
) -> Answer:
    """The answer for an envelope in a format.

    ``item`` names the elements of a top-level data array in XML; ``columns`` is the CSV header to use
    when a list is empty, so that an export of zero rows still says what its columns are.
    """
    chosen = REGISTRY[fmt]
    body = chosen.render(envelope, item, columns)
    return Answer(status, body, [("Content-Type", chosen.content_type), *chosen.headers(envelope).items()])


def content_type(fmt: str) -> str:
    return REGISTRY[fmt].content_type


def _title(key: str) -> str:
    return "-".join(part.capitalize() for part in key.split("_"))


def _pagination_headers(envelope: Mapping[str, Any]) -> dict[str, str]:
    pagination = envelope.get("pagination")
    return {f"X-Pagination-{_title(k)}": _scalar(v) for k, v in pagination.items()} if pagination else {}


# --- JSON ----------------------------------------------------------------------------------------

_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def assembled_json(text: str) -> Any:
    """A value already written as JSON (by SQLite: paging.one_page's json_fields), embedded as it is."""
    return orjson.Fragment(text)


def to_json(envelope: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, keys in order. orjson writes the same bytes as the standard encoder set up like
    ``_json`` (tests/test_formats.py holds it), a dozen times faster; anything it refuses (an integer past 64
    bits, a number that is not finite) goes to the standard encoder, which says why."""
    try:
        return orjson.dumps(envelope)
    except TypeError:
        return _json.encode(envelope).encode()


# --- XML -----------------------------------------------------------------------------------------

ARRAY_ITEMS = {
    "daily_breakdown": "day",
    "calendars": "calendar",
    "top_clients": "client",
    "supported_formats": "format",
    "rules": "rule",
}
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")
# Characters XML 1.0 cannot carry at all; they are dropped rather than failing the whole response.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def to_xml(envelope: Mapping[str, Any], item: str = "item") -> bytes:
    from lxml import etree  # imported on first XML response: most sandboxes never serve one

    root = etree.Element("response")
    sub = etree.SubElement
    for key, value in envelope.items():
        _xml_value(sub, root, key, value, item if key == "data" else ARRAY_ITEMS.get(key, "item"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@lru_cache(maxsize=1024)
def _xml_tag(key: str) -> tuple[str, dict[str, str] | None]:
    """The element name for a key, or ``entry`` with a ``key`` attribute when the key is no XML name."""
    if _XML_NAME.match(key) and not key.lower().startswith("xml"):
        return key, None
    return "entry", {"key": _XML_INVALID.sub("", key)}


def _xml_text(text: str) -> str:
    return text if text.isprintable() else _XML_INVALID.sub("", text)


def _xml_scalar(node: Any, value: Any) -> bool:
    """Put a plain value into an element; False (nothing done) for an object or an array."""
    kind = type(value)
    if kind is str:
        node.text = _xml_text(value)
    elif kind is int or kind is float:
        node.text = str(value)
    elif kind is bool:
        node.text = "true" if value else "false"
    elif value is None:
        node.set("nil", "true")
    else:
        return False
    return True


def _xml_value(sub: Any, parent: Any, key: str, value: Any, item: str = "item") -> None:
    # Exact type checks first: this runs for every field of every record, and ABC checks are slow.
    tag, attributes = _xml_tag(key)
    node = sub(parent, tag, attributes) if attributes else sub(parent, tag)
    if _xml_scalar(node, value):
        return
    if isinstance(value, Mapping):
        for child_key, child in value.items():
            name = str(child_key)
            _xml_value(sub, node, name, child, ARRAY_ITEMS.get(name, "item"))
    elif isinstance(value, list | tuple):
        if value and type(value[0]) is dict:
            _xml_records(sub, node, item, value)
        else:
            for element in value:
                _xml_value(sub, node, item, element)
    else:
        node.text = _xml_text(str(value))


def _xml_records(sub: Any, parent: Any, item: str, records: list[Any] | tuple[Any, ...]) -> None:
    """A list of records with the same flat fields: each is a copy of one prototype element, filled in.

    Copying an element with its children is one call into lxml, against one per field otherwise: this
    is what keeps an XML page close to the cost of a JSON one.
    """
    keys = tuple(records[0])
    prototype = sub(parent, item)
    for key in keys:
        tag, attributes = _xml_tag(key)
        sub(prototype, tag, attributes) if attributes else sub(prototype, tag)
    parent.remove(prototype)
    for record in records:
        if type(record) is not dict or tuple(record) != keys:
            _xml_value(sub, parent, item, record)
            continue
        node = deepcopy(prototype)
        for child, key, value in zip(node, keys, record.values(), strict=True):
            if not _xml_scalar(child, value):  # a nested value: this one field the general way
                node.replace(child, _detached(sub, key, value))
        parent.append(node)


def _detached(sub: Any, key: str, value: Any) -> Any:
    from lxml import etree

    scratch = etree.Element("scratch")
    _xml_value(sub, scratch, key, value)
    return scratch[0]


# --- CSV -----------------------------------------------------------------------------------------

_FORMULA_CHARS = "=+-@\t\r"
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def safe_cell(value: Any) -> str:
    """A cell text that a spreadsheet shows as typed: formulas are defused with a leading apostrophe.

    Plain numbers (a phone number such as +33612345678, a negative amount) cannot run anything and are
    left as they are, so that a program reading the CSV gets the same value as from JSON.
    """
    kind = type(value)
    if kind is int or kind is float:  # this runs for every cell of an export: the common cases first
        return str(value)
    text = value if kind is str else _scalar(value)
    if text[:1] in _FORMULA_CHARS and text and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    if not prefix and all(type(child) in _SCALARS for child in value.values()):
        return value if type(value) is dict else dict(value)  # a flat record, as most are
    flat: dict[str, Any] = {}
    for key, child in value.items():
        name = f"{prefix}{key}"
        if isinstance(child, Mapping):
            flat.update(_flatten(child, name + "."))
        elif isinstance(child, list | tuple) and not any(isinstance(x, Mapping) for x in child):
            flat[name] = "|".join(_scalar(x) for x in child)
        else:
            flat[name] = child
    return flat


_SCALARS = {str, int, float, bool, type(None)}


def csv_rows(data: Any) -> list[dict[str, Any]]:
    """The rows of a ``data`` value, by the rule in this module's docstring."""
    if data is None:
        return []
    if isinstance(data, list | tuple):
        return [_flatten(x) if isinstance(x, Mapping) else {"value": x} for x in data]
    if not isinstance(data, Mapping):
        return [{"value": data}]
    flat = _flatten(data)
    nested = [(k, v) for k, v in flat.items() if isinstance(v, list | tuple)]
    if not nested:
        return [flat]
    array_key, elements = nested[0]
    scalars = {k: v for k, v in flat.items() if not isinstance(v, list | tuple)}
    if not elements:
        return [scalars]
    return [{**scalars, **_flatten(element, array_key + ".")} for element in elements]


def to_csv(envelope: Mapping[str, Any], empty_columns: tuple[str, ...] = ()) -> bytes:
    if envelope.get("success") is False:
        rows = [{k: v for k, v in envelope.items() if not isinstance(v, Mapping | list)}]
    else:
        rows = csv_rows(envelope.get("data"))
    columns: dict[str, None] = {} if rows else dict.fromkeys(empty_columns)
    shapes = set()
    for row in rows:
        shape = tuple(row)
        if shape not in shapes:
            shapes.add(shape)
            columns.update(dict.fromkeys(shape))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    order = tuple(columns)
    for row in rows:
        values = row.values() if tuple(row) == order else (row.get(column) for column in order)
        writer.writerow([safe_cell(value) for value in values])
    return out.getvalue().encode()


register(
    Format(
        "json",
        "application/json; charset=utf-8",
        ("application/json", "text/json"),
        3,
        lambda envelope, _item, _columns: to_json(envelope),
    )
)
register(
    Format(
        "xml",
        "application/xml; charset=utf-8",
        ("application/xml", "text/xml"),
        2,
        lambda envelope, item, _columns: to_xml(envelope, item),
    )
)
register(
    Format(
        "csv",
        "text/csv; charset=utf-8",
        ("text/csv", "application/csv"),
        1,
        lambda envelope, _item, columns: to_csv(envelope, columns),
        _pagination_headers,
    )
)
#: The format names, in the order GET /api/ lists them.
FORMATS = tuple(REGISTRY)
