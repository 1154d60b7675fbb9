"""Enveloped XML signatures (exc-c14n, RSA-SHA256): made with lxml and `cryptography`, checked with python-xmlsec.

Signing builds the same ds:Signature that xmlsec's template makes (SignedInfo with exclusive c14n,
one Reference to the element with the enveloped-signature and exc-c14n transforms, KeyInfo with a
KeyName and the X509 certificate), digests the element's exclusive canonical form without the
signature, and signs the canonical SignedInfo: one RSA operation and two small c14n passes, no
template round trip through libxmlsec. Verification (the DV side) stays python-xmlsec: it trusts only
the certificates it is given (from metadata), never the KeyInfo of the message, and refuses anything
but one Reference to the signed element itself: the usual defences against signature wrapping. The
tests check every message the broker signs with python-xmlsec and with the `xmlsec1` program.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterable

import xmlsec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from . import ns
from .errors import SignatureInvalid
from .keys import Certificate, KeyPair
from .xml import local_name


class SignatureMethod(enum.Enum):
    RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"  # weak: only faults use it


class DigestMethod(enum.Enum):
    SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"  # weak: only faults use it


EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

_HASHES = {SignatureMethod.RSA_SHA256: hashes.SHA256, SignatureMethod.RSA_SHA1: hashes.SHA1,
           DigestMethod.SHA256: hashes.SHA256, DigestMethod.SHA1: hashes.SHA1}
_DS = {"ds": ns.DS}
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def _ds(parent: etree._Element | None, local: str, **attrs) -> etree._Element:
    tag = ns.q("ds", local)
    return etree.Element(tag, attrs, nsmap=_DS) if parent is None else etree.SubElement(parent, tag, attrs)


def c14n(element: etree._Element) -> bytes:
    """Exclusive XML canonicalisation without comments of `element` and its subtree."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def _digest(data: bytes, method: DigestMethod) -> str:
    h = hashes.Hash(_HASHES[method]())
    h.update(data)
    return base64.b64encode(h.finalize()).decode("ascii")


def sign(
    element: etree._Element,
    keypair: KeyPair,
    *,
    signature_method: SignatureMethod = SignatureMethod.RSA_SHA256,
    digest_method: DigestMethod = DigestMethod.SHA256,
    key_name: bool = True,
    x509_data: bool = True,
    reference_uri: str | None = None,
) -> etree._Element:
    """Sign `element` in place (enveloped); the ds:Signature goes right after its saml:Issuer.

    `reference_uri` (faults only) points the Reference elsewhere: "" is the whole document, "#X" the
    element whose ID is X.
    """
    elem_id = element.get("ID")
    if not elem_id:
        raise ValueError("the element to sign has no ID attribute")
    uri = f"#{elem_id}" if reference_uri is None else reference_uri
    signature = _ds(None, "Signature")
    signed_info = _ds(signature, "SignedInfo")
    _ds(signed_info, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _ds(signed_info, "SignatureMethod", Algorithm=signature_method.value)
    ref = _ds(signed_info, "Reference", URI=uri)
    transforms = _ds(ref, "Transforms")
    _ds(transforms, "Transform", Algorithm=ENVELOPED)
    _ds(transforms, "Transform", Algorithm=EXC_C14N)
    _ds(ref, "DigestMethod", Algorithm=digest_method.value)
    digest_value = _ds(ref, "DigestValue")
    signature_value = _ds(signature, "SignatureValue")
    if key_name or x509_data:
        key_info = _ds(signature, "KeyInfo")
        if key_name:
            _ds(key_info, "KeyName").text = keypair.certificate.key_name
        if x509_data:
            _ds(_ds(key_info, "X509Data"), "X509Certificate").text = keypair.certificate.b64
    # Digested before the signature goes in: that is what the enveloped-signature transform leaves of the
    # referenced subtree once the signature is in it (and a Reference elsewhere does not contain it).
    digest_value.text = _digest(c14n(_referenced(element, uri)), digest_method)
    issuer = element.find(ns.q("saml", "Issuer"))
    if issuer is not None:
        issuer.addnext(signature)
    else:
        element.insert(0, signature)
    value = keypair.private_key.sign(c14n(signed_info), padding.PKCS1v15(), _HASHES[signature_method]())
    signature_value.text = base64.b64encode(value).decode("ascii")
    return signature


def _referenced(element: etree._Element, uri: str) -> etree._Element:
    if uri == "":
        return element.getroottree().getroot()
    if not uri.startswith("#"):
        raise ValueError(f"reference URI {uri!r}: only '' and '#ID' are supported")
    if uri[1:] == element.get("ID"):
        return element
    found = element.getroottree().getroot().xpath("//*[@ID=$id]", id=uri[1:])
    if not found:
        raise ValueError(f"reference URI {uri!r}: no element with that ID in the document")
    return found[0]


def signature_of(element: etree._Element) -> etree._Element | None:
    """The ds:Signature that is a direct child of `element`, if any."""
    return element.find(ns.q("ds", "Signature"))


def verify(
    element: etree._Element,
    trusted: Iterable[Certificate],
    *,
    where: str,
    allow_weak: bool = False,
) -> Certificate:
    """Check the enveloped signature of `element` against trusted certificates; return the one that fits.

    Raises SignatureInvalid naming the element and what is wrong.
    """
    signature = signature_of(element)
    if signature is None:
        raise SignatureInvalid("not signed (no ds:Signature)", where=where)
    _check_structure(element, signature, where=where, allow_weak=allow_weak)
    certs = list(trusted)
    if not certs:
        raise SignatureInvalid("no trusted certificate to check the signature with", where=where)
    for cert in certs:
        ctx = xmlsec.SignatureContext()
        ctx.key = cert.xmlsec_key
        try:
            ctx.register_id(element, "ID")
        except xmlsec.Error:  # _check_structure names the usual clashes; this catches what it did not foresee
            raise SignatureInvalid(f"the ID {element.get('ID')!r} cannot be registered (it clashes with another ID "
                                   "in the document)", where=where) from None
        for transform in (xmlsec.Transform.ENVELOPED, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.SHA256,
                          *( (xmlsec.Transform.SHA1,) if allow_weak else ())):
            ctx.enable_reference_transform(transform)
        try:
            ctx.verify(signature)
        except xmlsec.Error:
            continue
        return cert
    raise SignatureInvalid(
        "signature does not verify with the certificate in the metadata "
        "(signed by another key, or the content was changed after signing)",
        where=where,
    )


def _check_structure(element, signature, *, where: str, allow_weak: bool) -> None:
    elem_id = element.get("ID")
    if not elem_id:
        raise SignatureInvalid("the signed element has no ID", where=where)
    root = element.getroottree().getroot()
    found = root.xpath("//*[@ID=$id or @xml:id=$id]", id=elem_id)  # one walk of the document for both
    same_id = [e for e in found if e.get("ID") == elem_id]
    if len(same_id) != 1:
        raise SignatureInvalid(f"ID {elem_id!r} occurs {len(same_id)} times in the document", where=where)
    # An xml:id (or a second ID-typed attribute) with the same value makes the reference ambiguous: xmlsec
    # would resolve "#ID" to whichever it registered first. Name the element, as a support desk needs it.
    clash = [e for e in found if e.get(_XML_ID) == elem_id]
    if clash:
        raise SignatureInvalid(f"xml:id {elem_id!r} on {_name(clash[0])} clashes with the ID of the signed element",
                               where=where)
    signed_info = signature.find(ns.q("ds", "SignedInfo"))
    if signed_info is None:
        raise SignatureInvalid("ds:Signature has no ds:SignedInfo", where=where)
    c14n = signed_info.find(ns.q("ds", "CanonicalizationMethod"))
    if c14n is None or c14n.get("Algorithm") != EXC_C14N:
        raise SignatureInvalid("CanonicalizationMethod must be exclusive c14n", where=where)
    method = signed_info.find(ns.q("ds", "SignatureMethod"))
    allowed_methods = {m.value for m in SignatureMethod} if allow_weak else {SignatureMethod.RSA_SHA256.value}
    if method is None or method.get("Algorithm") not in allowed_methods:
        got = None if method is None else method.get("Algorithm")
        raise SignatureInvalid(f"SignatureMethod {got!r} is refused; rsa-sha256 is required", where=where)
    refs = signed_info.findall(ns.q("ds", "Reference"))
    if len(refs) != 1:
        raise SignatureInvalid(f"{len(refs)} ds:Reference elements; exactly one is allowed", where=where)
    ref = refs[0]
    if ref.get("URI") != f"#{elem_id}":
        raise SignatureInvalid(
            f"ds:Reference URI {ref.get('URI')!r} does not point at the signed element (#{elem_id})", where=where
        )
    digest = ref.find(ns.q("ds", "DigestMethod"))
    allowed_digests = {d.value for d in DigestMethod} if allow_weak else {DigestMethod.SHA256.value}
    if digest is None or digest.get("Algorithm") not in allowed_digests:
        got = None if digest is None else digest.get("Algorithm")
        raise SignatureInvalid(f"DigestMethod {got!r} is refused; sha256 is required", where=where)
    transforms = ref.find(ns.q("ds", "Transforms"))
    algs = [t.get("Algorithm") for t in transforms] if transforms is not None else []
    if any(a not in (ENVELOPED, EXC_C14N) for a in algs) or len(algs) != len(set(algs)):
        # each at most once: a thousand exc-c14n transforms would make xmlsec canonicalise a thousand times
        shown = algs if len(algs) <= 4 else f"{len(algs)} transforms"
        raise SignatureInvalid(f"transforms {shown} are refused; only enveloped-signature and exc-c14n, once each",
                               where=where)


def _name(el: etree._Element) -> str:
    return f"{el.prefix}:{local_name(el)}" if el.prefix else local_name(el)


def strip_signature(element: etree._Element) -> None:
    sig = signature_of(element)
    if sig is not None:
        element.remove(sig)


__all__ = ["sign", "verify", "signature_of", "strip_signature", "SignatureMethod", "DigestMethod", "local_name"]
