"""Mutations of the eHerkenning family: levels, service attributes, identifiers, chain mandates, branches."""

from __future__ import annotations

import copy

from lxml import etree

from ehsaml import dsig, ns, xenc
from ehsaml import eherkenning as eh

from ehsaml.errors import SamlError

from ..registry import mutation
from ...response import _cipher, _encryption_cert
from ._common import ATTRS, QUALIFIERS, _assertion, _assertions, _q, _resign, _sign, attacker, set_text



def _attribute(assertion, name):
    return assertion.find(f"saml:AttributeStatement/saml:Attribute[@Name='{name}']", ns.NSMAP)


def _values(assertion, name):
    return _attribute(assertion, name).findall(_q("AttributeValue"))


def _clear(attr) -> None:
    for value in list(attr):
        attr.remove(value)


def _attribute_el(ctx, name):
    a = _assertion(ctx)
    attr = _attribute(a, name)
    if attr is None:
        attr = etree.SubElement(a.find(_q("AttributeStatement")), _q("Attribute"), Name=name,
                                NameFormat=ns.ATTRNAME_URI)
    return attr


@mutation("level")
def level(ctx, value, raw=False, markup=False):
    """Another AuthnContextClassRef: a level name such as EH2 (written as its URN), or (raw) exactly this text."""
    text = value
    if not raw and not markup:
        try:
            text = eh.Level.parse(value).value
        except ValueError:
            pass
    set_text(_assertion(ctx).find(".//saml:AuthnContextClassRef", ns.NSMAP), text, markup=markup)
    _resign(ctx)
    return ctx.response


@mutation("attribute_values")
def attribute_values(ctx, name, values=(), remove=False, markup=False):
    """Plain-text values for an attribute (ServiceID, ServiceUUID, Vestigingsnr…), or markup, or remove it."""
    attr = _attribute_el(ctx, ATTRS.get(name, name))
    if remove:
        attr.getparent().remove(attr)
    else:
        _clear(attr)
        for v in values:
            set_text(etree.SubElement(attr, _q("AttributeValue")), v, markup=markup)
    _resign(ctx)
    return ctx.response


@mutation("identifiers")
def identifiers(ctx, name="LegalSubjectID", values=(), encrypt_to="dv", remove=False, markup=False):
    """Identifier values [[qualifier, value], …] as EncryptedIDs to the DV (or the attacker key), or plain;
    with markup, each value is an XML fragment (mixed content) inside the NameID."""

    attr = _attribute_el(ctx, ATTRS.get(name, name))
    if remove:
        attr.getparent().remove(attr)
    else:
        _clear(attr)
        cert = {"dv": lambda: _encryption_cert(ctx.dv), "attacker": lambda: attacker().certificate,
                "none": lambda: None}[encrypt_to]()
        for qualifier, value in values:
            av = etree.SubElement(attr, _q("AttributeValue"))
            nid = etree.Element(_q("NameID"), nsmap={"saml": ns.SAML}, Format=ns.NAMEID_PERSISTENT,
                                NameQualifier=QUALIFIERS.get(qualifier, qualifier))
            set_text(nid, value, markup=markup)
            holder = etree.SubElement(av, _q("EncryptedID")) if cert else av
            holder.append(nid)
            if cert:
                xenc.encrypt_into(holder, nid, cert, recipient_entity_id=ctx.dv.entity_id)
    _resign(ctx)
    return ctx.response


@mutation("duplicate_attribute")
def duplicate_attribute(ctx, name):
    """The same attribute Name twice."""
    attr = _attribute_el(ctx, ATTRS.get(name, name))
    attr.addnext(copy.deepcopy(attr))
    _resign(ctx)
    return ctx.response


# --- encrypted assertions, for DVs that want them ---------------------------------------------------



def encrypt_assertions(response, broker, dv):
    """Wrap each direct-child assertion in an EncryptedAssertion; re-sign the Response if it was validly signed."""
    try:
        was_valid = dsig.signature_of(response) is not None and bool(
            dsig.verify(response, [broker.keypair.certificate], where="Response"))
    except SamlError:  # not validly signed: it stays as the fault made it
        was_valid = False
    for assertion in _assertions(response):
        holder = etree.Element(_q("EncryptedAssertion"))
        assertion.addprevious(holder)
        holder.append(assertion)
        xenc.encrypt_into(holder, assertion, _encryption_cert(dv), recipient_entity_id=dv.entity_id,
                          cipher=_cipher(dv))
    if was_valid:
        _sign(response, broker.keypair)
    return response


# --- the artifact and its resolution ---------------------------------------------------------------
