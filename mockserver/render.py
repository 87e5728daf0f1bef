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
from collections.abc import Mapping
from typing import Any

from flask import Response

from mockserver.errors import InvalidParameter

FORMATS = ("json", "xml", "csv")
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
_MEDIA = {
    "application/json": "json",
    "text/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "application/csv": "csv",
}
_PREFERENCE = {"json": 3, "xml": 2, "csv": 1}


def negotiate(format_param: str | None, accept: Any) -> str:
    """``format`` wins; otherwise the Accept type with the highest q among JSON, XML and CSV, JSON by default.

    A browser's Accept (text/html first, XML with q=0.9, */*) gets JSON, as the documentation's
    "JSON est maintenant le format par défaut pour tous les navigateurs" promises: only an explicitly
    listed XML or CSV type that outranks text/html selects them.
    """
    if format_param is not None:
        fmt = format_param.strip().lower()
        if fmt not in FORMATS:
            raise InvalidParameter(
                f"Unsupported format {format_param!r}: use json, xml or csv",
                details={"parameter": "format", "allowed": list(FORMATS)},
            )
        return fmt
    best, best_q = "json", 0.0
    html_q = 0.0
    for media, quality in accept or ():
        media = media.lower()
        if media == "text/html":
            html_q = max(html_q, quality)
        fmt = _MEDIA.get(media)
        if fmt and quality > 0 and (quality, _PREFERENCE[fmt]) > (best_q, _PREFERENCE[best]):
            best, best_q = fmt, quality
    if best_q == 0.0 or html_q >= best_q:
        return "json"
    return best


def respond(
    envelope: Mapping[str, Any], fmt: str, status: int, item: str = "item", columns: tuple[str, ...] = ()
) -> Response:
    """The response for an envelope in a format.

    ``item`` names the elements of a top-level data array in XML; ``columns`` is the CSV header to use
    when a list is empty, so that an export of zero rows still says what its columns are.
    """
    headers: dict[str, str] = {}
    if fmt == "xml":
        body = to_xml(envelope, item)
    elif fmt == "csv":
        body = to_csv(envelope, columns)
        pagination = envelope.get("pagination")
        if pagination:
            headers.update({f"X-Pagination-{_title(k)}": _scalar(v) for k, v in pagination.items()})
    else:
        body = to_json(envelope)
    return Response(body, status=status, headers=headers, content_type=CONTENT_TYPES[fmt])


def _title(key: str) -> str:
    return "-".join(part.capitalize() for part in key.split("_"))


# --- JSON ----------------------------------------------------------------------------------------

_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def to_json(envelope: Mapping[str, Any]) -> bytes:
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
    for key, value in envelope.items():
        _xml_value(etree, root, key, value, item if key == "data" else ARRAY_ITEMS.get(key, "item"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _xml_value(etree: Any, parent: Any, key: str, value: Any, item: str = "item") -> None:
    if _XML_NAME.match(key) and not key.lower().startswith("xml"):
        node = etree.SubElement(parent, key)
    else:
        node = etree.SubElement(parent, "entry", key=_XML_INVALID.sub("", key))
    if isinstance(value, Mapping):
        for child_key, child in value.items():
            _xml_value(etree, node, str(child_key), child, ARRAY_ITEMS.get(str(child_key), "item"))
    elif isinstance(value, list | tuple):
        for element in value:
            _xml_value(etree, node, item, element)
    elif value is None:
        node.set("nil", "true")
    else:
        node.text = _XML_INVALID.sub("", _scalar(value))


# --- CSV -----------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
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
    text = _scalar(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
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
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(column)) for column in columns])
    return out.getvalue().encode()
