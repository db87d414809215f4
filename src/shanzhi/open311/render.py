"""Writing Open311 documents as JSON or as XML with the element names the GeoReport v2 spec uses."""

import json
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

# In XML a list becomes a wrapper element holding one element per item, named as the spec does.
ITEM_NAMES = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


@dataclass(frozen=True)
class Document:
    """What an endpoint answers: the data, and how XML names its root and list items."""

    data: Any
    root: str
    item: str = ""
    status: int = 200


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any, item: str = "") -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child, ITEM_NAMES.get(key, ""))
    elif isinstance(value, list):
        for child in value:
            _fill(ET.SubElement(element, item or "item"), child)
    else:
        element.text = _text(value)


def to_xml(document: Document) -> bytes:
    root = ET.Element(document.root)
    _fill(root, document.data, document.item)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def to_json(document: Document) -> bytes:
    return json.dumps(document.data, ensure_ascii=False).encode()


def respond(document: Document, fmt: str) -> HttpResponse:
    """The document in `fmt` ("json" or "xml") with its HTTP status."""
    body = to_xml(document) if fmt == "xml" else to_json(document)
    return HttpResponse(body, status=document.status, content_type=FORMATS[fmt])


def error_document(status: int, description: str) -> Document:
    """Open311's error shape: a list of {code, description}, in XML <errors><error>…."""
    return Document(
        data=[{"code": status, "description": description}],
        root="errors",
        item="error",
        status=status,
    )
