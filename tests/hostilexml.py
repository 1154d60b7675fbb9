"""Hostile variants of a signed SAML document, for the fuzz tests: byte changes, encodings, structural changes,
and signing again with the broker's TEST-ONLY key (as a broker would have signed the changed answer)."""

from __future__ import annotations

import copy
import random

from lxml import etree

from dvfixtures import BROKER, KVK
from ehsaml import dsig, ns
from ehsaml import eherkenning as eh

HOSTILE = [b"<", b">", b"&", b'"', b"'", b"\x00", b"\xff\xfe", b"]]>", b"<!--", b"-->", b"<![CDATA[", b"&x;", b"&#0;",
           b"&#x10FFFF;", b"<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>", b' xml:id="_x"', b" ID=\"_x\"",
           b"<x:y xmlns:x='urn:x'/>", b"\xc0\xaf", b"\xed\xa0\x80", "\u202e".encode(), "\uff11".encode(), b"\n", b" "]
TAGS = ["Issuer", "Audience", "AuthnContextClassRef", "NameID", "AttributeValue", "Assertion", "Conditions",
        "SubjectConfirmationData", "Attribute", "AuthnStatement", "Status", "StatusCode", "Subject"]


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    if not data:  # an earlier mutation cut it all away
        return rng.choice(HOSTILE)
    i = rng.randrange(len(data))
    kind = rng.randrange(7)
    if kind == 0:
        return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
    if kind == 1:
        return data[:i] + rng.choice(HOSTILE) + data[i:]
    if kind == 2:
        return data[:i] + data[i + rng.randrange(1, 40):]
    if kind == 3:
        j = min(len(data), i + rng.randrange(1, 200))
        return data[:j] + data[i:j] + data[j:]
    if kind == 4:
        return data[:i]
    if kind == 5:
        codec = rng.choice(["utf-16", "utf-16-le", "utf-32", "latin-1"])
        head = f'<?xml version="1.0" encoding="{rng.choice(["UTF-16", "UTF-8", "ISO-8859-1", "UTF-32"])}"?>'
        return (head + data.decode("utf-8", "replace")).encode(codec, "replace")
    return rng.choice(HOSTILE[14:15]) + data  # a DOCTYPE up front


def mutate_tree(rng: random.Random, root: etree._Element) -> etree._Element:
    """A structural change anywhere; the caller signs again (as the broker would have)."""
    elements = [el for el in root.iter() if isinstance(el.tag, str) and el.tag != ns.q("ds", "Signature")
                and ns.q("ds", "Signature") not in [a.tag for a in el.iterancestors()]]
    el = rng.choice(elements)
    kind = rng.randrange(8)
    if kind == 0 and el.getparent() is not None:
        el.getparent().remove(el)
    elif kind == 1 and el.getparent() is not None:
        el.addnext(copy.deepcopy(el))
    elif kind == 2:
        el.text = rng.choice(["", " ", "12345678 ", "\u0661\u0662", "EH4", eh.Level.EH4.value, "urn:x", "0" * 8,
                              KVK + KVK, "\u202e" + KVK, "-1", "loa4", "_req1"])
    elif kind == 3:
        el.set(rng.choice(["ID", "Version", "IssueInstant", "NotOnOrAfter", "Format", "NameQualifier", "Method",
                           "Recipient", "InResponseTo", "Destination", "Value", "Name"]), rng.choice(["", "x", "2.0"]))
    elif kind == 4 and el.getparent() is not None:
        target = rng.choice(elements)
        if el not in target.iterancestors() and el is not target:
            target.append(el)
    elif kind == 5:
        el.append(etree.Comment(rng.choice(["", "x", KVK])))
    elif kind == 6:
        etree.SubElement(el, ns.q("saml", rng.choice(TAGS))).text = rng.choice([KVK, "x", eh.Level.EH4.value])
    else:
        el.set("{http://www.w3.org/XML/1998/namespace}id", root.get("ID") or "_x")
    return root


def resign(root: etree._Element) -> bytes:
    for a in root.iter(ns.q("saml", "Assertion")):
        dsig.strip_signature(a)
        if a.get("ID") and len(root.xpath("//*[@ID=$id]", id=a.get("ID"))) == 1:
            dsig.sign(a, BROKER)
    dsig.strip_signature(root)
    if root.get("ID") and len(root.xpath("//*[@ID=$id]", id=root.get("ID"))) == 1:
        try:
            dsig.sign(root, BROKER)
        except Exception as exc:  # noqa: BLE001 - xmlsec refuses some trees (an xml:id clash): sent unsigned
            assert "duplicated id" in str(exc) or "ID" in str(exc), exc
    return etree.tostring(root)
