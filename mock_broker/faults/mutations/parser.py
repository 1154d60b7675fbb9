"""Mutations of the parser family: what a DV's XML parser must refuse before any check runs.

The document is the correct, signed answer, made hostile in its bytes (a DOCTYPE in any encoding, entities,
a second root, a NUL) or its shape (floods, nesting, an xml:id that clashes with a signed ID). By HTTP-POST the
Response itself goes out hostile (`hostile_response`); by Artifact the SOAP answer of the resolution does
(`hostile_resolve`). Floods are kept just above the DV's limits (ehsaml.xml): enough to be refused, never a
load on the broker itself.
"""

from __future__ import annotations

from flask import Response
from lxml import etree

from ehsaml import bindings
from ehsaml.xml import MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS, MAX_NAMESPACES_PER_ELEMENT, document_text, tostring

from ..registry import NotApplicable, Phase, RawDocument, mutation
from ._common import _assertion, _q, _resign

XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
KINDS = ("doctype", "doctype-utf16", "doctype-utf32", "doctype-system", "entity-external", "entity-laughs",
         "xml-id-clash", "attribute-flood", "namespace-flood", "element-flood", "depth-flood", "second-root",
         "nul-byte", "encoding-mismatch")
_LAUGHS = ('<!ENTITY a "aaaaaaaaaaaaaaaa">' + "".join(
    f'<!ENTITY {n} "{("&" + p + ";") * 16}">' for p, n in zip("abcdefg", "bcdefgh")))


@mutation("hostile_response")
def hostile_response(ctx, kind):
    """The Response, made hostile in its bytes or shape (HTTP-POST: no ArtifactResponse can carry it)."""
    return RawDocument(hostile_bytes(ctx.response, kind), ctx.response)


@mutation("hostile_resolve", phase=Phase.RESOLVE)
def hostile_resolve(ctx, kind):
    """The SOAP answer of the ArtifactResolutionService, made hostile in its bytes or shape."""
    envelope = bindings.soap_envelope(ctx.artifact_response)
    return Response(hostile_bytes(envelope, kind), mimetype="text/xml")


def hostile_bytes(root: etree._Element, kind: str) -> bytes:
    """`root` serialised with the hostile change `kind` (tree changes first, then the bytes). Signatures are left
    as they were: a DV refuses these documents while parsing, before it looks at any signature."""
    if kind not in KINDS:
        raise NotApplicable(f"no hostile document kind {kind!r}")
    if kind in _TREE:
        _TREE[kind](root)
    body = tostring(root).decode("utf-8")
    doctype = f"<!DOCTYPE {_qname(root)} [<!ENTITY note \"TEST-ONLY\">]>"
    if kind == "doctype":
        return (doctype + body).encode("utf-8")
    if kind in ("doctype-utf16", "doctype-utf32"):
        codec = kind.removeprefix("doctype-").upper().replace("UTF", "UTF-")
        return (f'<?xml version="1.0" encoding="{codec}"?>' + doctype + body).encode(codec.lower())
    if kind == "doctype-system":
        return (f'<!DOCTYPE {_qname(root)} SYSTEM "http://127.0.0.1:9/saml.dtd">' + body).encode("utf-8")
    if kind == "entity-external":
        return (f'<!DOCTYPE {_qname(root)} [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                + _with_reference(body, "x")).encode("utf-8")
    if kind == "entity-laughs":
        return (f"<!DOCTYPE {_qname(root)} [{_LAUGHS}]>" + _with_reference(body, "h")).encode("utf-8")
    if kind == "second-root":
        return (body + body).encode("utf-8")
    if kind == "nul-byte":
        return body.encode("utf-8").replace(b"><", b">\x00<", 1)
    if kind == "encoding-mismatch":  # labelled UTF-16, sent as UTF-8
        return ('<?xml version="1.0" encoding="UTF-16"?>' + body).encode("utf-8")
    return body.encode("utf-8")


def _with_reference(body: str, entity: str) -> str:
    """An entity reference inside the first Issuer's text, where a DV reads it."""
    marker = "</saml:Issuer>"
    if marker not in body:
        raise NotApplicable("the document has no saml:Issuer to put the entity reference in")
    return body.replace(marker, f"&{entity};{marker}", 1)


def _qname(root) -> str:
    return f"{root.prefix}:{etree.QName(root).localname}" if root.prefix else etree.QName(root).localname


def _issuer_of(root):
    found = list(root.iter(_q("Issuer")))
    if not found:
        raise NotApplicable("the document has no saml:Issuer")
    return found[0]


def _xml_id_clash(root) -> None:
    """An xml:id on the Issuer equal to the signed element's ID (the Response, or the ArtifactResponse)."""
    signed = root if root.get("ID") else next((c for c in root.iter() if c.get("ID")), None)
    if signed is None:
        raise NotApplicable("the document has no ID")
    _issuer_of(signed).set(XML_ID, signed.get("ID"))


def _extensions(root):
    """A samlp:Extensions in the message that holds the first Issuer (where unknown content is allowed)."""
    message = _issuer_of(root).getparent()
    ext = message.find(_q("Extensions", "samlp"))
    if ext is None:
        ext = etree.Element(_q("Extensions", "samlp"))
        _issuer_of(root).addnext(ext)
    return ext


def _attribute_flood(root) -> None:
    el = etree.SubElement(_extensions(root), "x")
    for i in range(MAX_ATTRIBUTES * 4):
        el.set(f"a{i}", "x")


def _namespace_flood(root) -> None:
    nsmap = {f"f{i}": f"urn:test-only:flood:{i}" for i in range(MAX_NAMESPACES_PER_ELEMENT * 4)}
    etree.SubElement(_extensions(root), "x", nsmap=nsmap)


def _element_flood(root) -> None:
    ext = _extensions(root)
    for _ in range(MAX_ELEMENTS + 1):
        etree.SubElement(ext, "x")


def _depth_flood(root) -> None:
    el = _extensions(root)
    for _ in range(MAX_DEPTH + 4):
        el = etree.SubElement(el, "x")


_TREE = {"xml-id-clash": _xml_id_clash, "attribute-flood": _attribute_flood, "namespace-flood": _namespace_flood,
         "element-flood": _element_flood, "depth-flood": _depth_flood}


def raw_text(raw: bytes) -> str:
    """The journal's text of bytes sent as they are (the browser's hop record decodes them the same way)."""
    return document_text(raw)


@mutation("processing_instruction")
def processing_instruction(ctx, element="AuthnContextClassRef"):
    """A processing instruction inside a signed value (signed with it): a parser that drops PIs reads other bytes."""
    target = _assertion(ctx).find(f".//{_q(element)}")
    if target is None:
        raise NotApplicable(f"the assertion has no saml:{element}")
    text = target.text or ""
    target.text = text[: len(text) // 2]
    pi = etree.ProcessingInstruction("test-only", "split")
    pi.tail = text[len(text) // 2:]
    target.append(pi)
    _resign(ctx)
    return ctx.response
