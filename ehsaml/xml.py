"""The one hardened XML parse: no DTDs, no entities, no network, bounded size."""

from __future__ import annotations

from lxml import etree

from .errors import MalformedInput

# Largest SAML message we read. Real messages are a few kB; metadata of a big federation is larger
# but is not what this project reads.
MAX_XML_BYTES = 1_000_000

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,  # comments stay: removing them would hide comment-injection attacks
    remove_pis=True,
)


def parse_xml(data: bytes | str, *, what: str = "XML") -> etree._Element:
    """Parse untrusted XML; refuse a DOCTYPE (and so every entity trick) outright."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_XML_BYTES:
        raise MalformedInput(f"{what} is {len(data)} bytes; at most {MAX_XML_BYTES} are read", where=what)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise MalformedInput("a DOCTYPE or ENTITY declaration is not allowed in SAML messages", where=what)
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedInput(f"not well-formed XML ({exc.msg}, line {exc.lineno})", where=what) from None
    if root is None:
        raise MalformedInput("empty document", where=what)
    return root


def tostring(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="utf-8", xml_declaration=False)


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname
