"""Mutations of the control family: answers a correct DV must ACCEPT (positive controls).

Each one changes the correct, signed Response in a way the scheme allows (other time precision, an
extra Audience beside the DV's own, saml:Advice, other namespace prefixes, another allowed data cipher)
and signs again with the broker key, so a DV that refuses it refuses a legitimate answer. A portal that
refuses everything fails these.
"""

from __future__ import annotations

import re
from datetime import timedelta

from lxml import etree

from ehsaml import ns, timeutil, xenc
from ehsaml import eherkenning as eh

from ...response import _advice, _encryption_cert
from ..registry import NotApplicable, mutation
from ._common import QUALIFIERS, _assertion, _find, _q, _resign

_TIME_ATTRIBUTES = ("IssueInstant", "NotBefore", "NotOnOrAfter", "AuthnInstant")
_FRACTION = re.compile(r"\.\d+Z$")


@mutation("time_precision")
def time_precision(ctx, digits=6):
    """Write every timestamp with `digits` fractional digits (0: whole seconds), as xs:dateTime allows."""
    for el in ctx.response.iter():
        for name in _TIME_ATTRIBUTES:
            value = el.get(name)
            if value:
                el.set(name, _with_digits(value, digits))
    _resign(ctx)
    return ctx.response


def _with_digits(value: str, digits: int) -> str:
    moment = timeutil.parse(value, where="time")
    whole = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        # whole seconds must not move NotOnOrAfter earlier nor NotBefore later than the broker meant
        return whole + "Z"
    fraction = f"{moment.microsecond:06d}"[:digits].ljust(digits, "7")
    return f"{whole}.{fraction}Z"


@mutation("extra_audience")
def extra_audience(ctx, value="urn:etoegang:HM:00000003999999990000:entities:9001"):
    """One more Audience beside the DV's own, in the same AudienceRestriction (any one of them suffices)."""
    restriction = _find(_assertion(ctx), "AudienceRestriction")
    etree.SubElement(restriction, _q("Audience")).text = value
    _resign(ctx)
    return ctx.response


@mutation("advice")
def advice(ctx):
    """The AD's and MR's own signed assertions in saml:Advice, as brokers may send (after Conditions)."""
    assertion = _assertion(ctx)
    now = timeutil.utcnow()
    until = timeutil.fmt(now + timedelta(seconds=ctx.broker.settings.assertion_lifetime_seconds))
    _advice(assertion, settings=ctx.broker.settings, keypair=ctx.keypair, dv=ctx.dv, identity=ctx.outcome.identity,
            now=now, until=until, name_id=assertion.find(f"{_q('Subject')}/{_q('NameID')}").text)
    made = assertion.find(_q("Advice"))
    assertion.find(_q("Conditions")).addnext(made)  # schema order: Issuer, Subject, Conditions, Advice, statements
    _resign(ctx)
    return ctx.response


@mutation("namespace_prefixes")
def namespace_prefixes(ctx, saml="saml2", samlp="saml2p"):
    """The same Response with other prefixes for the SAML namespaces (exc-c14n signs namespaces, not prefixes)."""
    prefixes = {ns.SAML: saml, ns.SAMLP: samlp}

    def copy(el, parent):
        if not isinstance(el.tag, str):  # a comment
            parent.append(etree.Comment(el.text))
            parent[-1].tail = el.tail
            return None
        uri = etree.QName(el).namespace
        own = {p: u for p, u in el.nsmap.items() if u not in prefixes and (parent is None or p not in parent.nsmap)}
        if parent is None:
            own.update({p: u for u, p in prefixes.items()})
        elif uri in prefixes and prefixes[uri] not in parent.nsmap:
            own[prefixes[uri]] = uri
        new = etree.Element(el.tag, nsmap=own or None) if parent is None else \
            etree.SubElement(parent, el.tag, nsmap=own or None)
        for name, value in el.attrib.items():
            new.set(name, value)
        new.text, new.tail = el.text, el.tail
        for child in el:
            copy(child, new)
        return new

    ctx.response = copy(ctx.response, None)  # EncryptedIDs stay opaque: the ciphertext keeps its own prefixes
    _resign(ctx)
    return ctx.response


@mutation("identifier_cipher")
def identifier_cipher(ctx, cipher="aes256-gcm"):
    """The identifiers (LegalSubjectID, ActingSubjectID) encrypted again with another allowed data cipher."""
    if not ctx.dv.options.encrypt_identifiers:
        raise NotApplicable("this DV is registered with encrypt_identifiers false: nothing is encrypted")
    data_cipher = {"aes256-gcm": xenc.DataCipher.AES256_GCM, "aes256-cbc": xenc.DataCipher.AES256_CBC}[cipher]
    identity = ctx.outcome.identity
    values = {eh.ATTR_LEGAL_SUBJECT: [(QUALIFIERS[k], v) for k, v in (("KvKnr", identity.kvk), ("RSIN", identity.rsin),
                                                                        ("eIDAS", identity.eidas)) if v],
              eh.ATTR_ACTING_SUBJECT: [(eh.ID_PSEUDO, identity.pseudonym)]}
    assertion = _assertion(ctx)
    for name, pairs in values.items():
        attr = assertion.find(f"saml:AttributeStatement/saml:Attribute[@Name='{name}']", ns.NSMAP)
        if attr is None or not pairs:
            continue
        for value in list(attr):
            attr.remove(value)
        for qualifier, text in pairs:
            holder = etree.SubElement(etree.SubElement(attr, _q("AttributeValue")), _q("EncryptedID"))
            nid = etree.SubElement(holder, _q("NameID"), nsmap={"saml": ns.SAML}, Format=ns.NAMEID_PERSISTENT,
                                   NameQualifier=qualifier)
            nid.text = text
            xenc.encrypt_into(holder, nid, _encryption_cert(ctx.dv), recipient_entity_id=ctx.dv.entity_id,
                              cipher=data_cipher)
    _resign(ctx)
    return ctx.response


__all__ = ["advice", "extra_audience", "identifier_cipher", "namespace_prefixes", "time_precision"]
