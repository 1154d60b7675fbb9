"""The one hardened XML parse: no DTDs, no entities, no network, bounded size and shape.

A DOCTYPE is refused on the parsed document, whatever its encoding (a byte search alone misses
UTF-16 or UTF-32); the shape limits keep the cost of checking a hostile document small: the
quadratic parts of exclusive c14n (many attributes or namespaces on one element) never run.
"""

from __future__ import annotations

from lxml import etree

from .errors import MalformedInput

# Largest SAML message we read. Real messages are a few kB; metadata of a big federation is larger
# but is not what this project reads.
MAX_XML_BYTES = 1_000_000
# The shape of a document we read. A broker's Response has ~100 elements, depth ~16 (SOAP, Advice and
# EncryptedKey included), < 10 attributes and < 10 namespace declarations per element.
MAX_ELEMENTS = 10_000
MAX_DEPTH = 64
MAX_ATTRIBUTES = 32  # per element
MAX_NAMESPACES_PER_ELEMENT = 16  # declared on one element
MAX_NAMESPACES = 256  # declared in the whole document

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,  # libxml2's own limits stay on (depth 256, text node size, …)
    remove_comments=False,  # comments stay: removing them would hide comment-injection attacks
    remove_pis=True,
)
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_TOO_DEEP = etree.XPath("boolean(/" + "*/" * MAX_DEPTH + "*)")


def parse_xml(data: bytes | str, *, what: str = "XML") -> etree._Element:
    """Parse untrusted XML; refuse a DOCTYPE (and so every entity trick), xml:id clashes and floods."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_XML_BYTES:
        raise MalformedInput(f"{what} is {len(data)} bytes; at most {MAX_XML_BYTES} are read", where=what)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # the cheap refusal for UTF-8; the parsed check below is the rule
        raise MalformedInput("a DOCTYPE or ENTITY declaration is not allowed in SAML messages", where=what)
    root = _parse(data, what)
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url:
        raise MalformedInput(f"a DOCTYPE is not allowed in SAML messages (found one in a {docinfo.encoding} document)",
                             where=what)
    _check_shape(root, what)
    return root


def parse_own(data: bytes | str, *, what: str = "XML") -> etree._Element:
    """XML this process wrote itself (a stored answer, a fault made on purpose): the same parser, no shape limits."""
    return _parse(data.encode("utf-8") if isinstance(data, str) else data, what)


def _parse(data: bytes, what: str) -> etree._Element:
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedInput(f"not well-formed XML ({exc.msg}, line {exc.lineno})", where=what) from None
    except ValueError as exc:  # e.g. a str with an encoding declaration
        raise MalformedInput(f"not readable XML ({exc})", where=what) from None
    if root is None:
        raise MalformedInput("empty document", where=what)
    return root


def _check_shape(root: etree._Element, what: str) -> None:
    """Counts in one walk over the parsed tree (a few ms for the largest document we read)."""
    if _TOO_DEEP(root):
        raise MalformedInput(f"elements nested more than {MAX_DEPTH} deep", where=what)
    elements = declared = on_this = 0
    ids: dict[str, str] = {}
    for event, item in etree.iterwalk(root, events=("start-ns", "start")):
        if event == "start-ns":
            declared += 1
            on_this += 1
            continue
        elements += 1
        if elements > MAX_ELEMENTS:
            raise MalformedInput(f"more than {MAX_ELEMENTS} elements", where=what)
        if on_this > MAX_NAMESPACES_PER_ELEMENT or declared > MAX_NAMESPACES:
            raise MalformedInput(f"{_name(item)} declares {on_this} namespaces (at most {MAX_NAMESPACES_PER_ELEMENT}"
                                 f" per element, {MAX_NAMESPACES} in all)", where=what)
        on_this = 0
        attrib = item.attrib
        if len(attrib) > MAX_ATTRIBUTES:
            raise MalformedInput(f"{_name(item)} has {len(attrib)} attributes (at most {MAX_ATTRIBUTES})", where=what)
        _note_ids(item, attrib, ids, what)


def _note_ids(item, attrib, ids: dict[str, str], what: str) -> None:
    """An xml:id must not repeat an ID (or another xml:id): a signature's "#ID" would be ambiguous."""
    for key in ("ID", _XML_ID):
        value = attrib.get(key)
        if value is None:
            continue
        if key == _XML_ID and value in ids:
            raise MalformedInput(f"xml:id {value!r} on {_name(item)} repeats the ID of {ids[value]}", where=what)
        if key == "ID" and ids.get(value, "").startswith("xml:id"):
            raise MalformedInput(f"ID {value!r} on {_name(item)} repeats an xml:id ({ids[value]})", where=what)
        ids.setdefault(value, _name(item) if key == "ID" else f"xml:id on {_name(item)}")


def _name(el: etree._Element) -> str:
    qname = etree.QName(el)
    return f"{el.prefix}:{qname.localname}" if el.prefix else qname.localname


def tostring(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="utf-8", xml_declaration=False)


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


def document_text(raw: bytes) -> str:
    """The text of a document's bytes for people and journals: decoded by its BOM (UTF-32, UTF-16), else as
    UTF-8; never failing (undecodable bytes become U+FFFD). Not for parsing: parse the bytes themselves."""
    for bom, codec in ((b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\xfe\xff", "utf-16"),
                       (b"\xff\xfe", "utf-16")):
        if raw.startswith(bom):
            return raw.decode(codec, "replace")
    return raw.decode("utf-8", "replace")
