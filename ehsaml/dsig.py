"""Enveloped XML signatures (exc-c14n, RSA-SHA256) with python-xmlsec, in-process.

Verification trusts only the certificates it is given (from metadata), never the KeyInfo of the
message, and refuses anything but one Reference to the signed element itself: the usual
defences against signature wrapping.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import xmlsec
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

_XMLSEC_SIG = {SignatureMethod.RSA_SHA256: xmlsec.Transform.RSA_SHA256, SignatureMethod.RSA_SHA1: xmlsec.Transform.RSA_SHA1}
_XMLSEC_DIGEST = {DigestMethod.SHA256: xmlsec.Transform.SHA256, DigestMethod.SHA1: xmlsec.Transform.SHA1}


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
    """Sign `element` in place (enveloped); the ds:Signature goes right after its saml:Issuer."""
    elem_id = element.get("ID")
    if not elem_id:
        raise ValueError("the element to sign has no ID attribute")
    signature = xmlsec.template.create(element, xmlsec.Transform.EXCL_C14N, _XMLSEC_SIG[signature_method], ns="ds")
    issuer = element.find(ns.q("saml", "Issuer"))
    if issuer is not None:
        issuer.addnext(signature)
    else:
        element.insert(0, signature)
    uri = f"#{elem_id}" if reference_uri is None else reference_uri
    ref = xmlsec.template.add_reference(signature, _XMLSEC_DIGEST[digest_method], uri=uri)
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    if key_name:
        xmlsec.template.add_key_name(key_info).text = keypair.certificate.key_name
    if x509_data:
        x509 = xmlsec.template.add_x509_data(key_info)
        xmlsec.template.x509_data_add_certificate(x509).text = keypair.certificate.b64
    ctx = xmlsec.SignatureContext()
    ctx.key = keypair.xmlsec_key
    ctx.register_id(element, "ID")
    ctx.sign(signature)
    return signature


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
    same_id = root.xpath("//*[@ID=$id]", id=elem_id)
    if len(same_id) != 1:
        raise SignatureInvalid(f"ID {elem_id!r} occurs {len(same_id)} times in the document", where=where)
    # An xml:id (or a second ID-typed attribute) with the same value makes the reference ambiguous: xmlsec
    # would resolve "#ID" to whichever it registered first. Name the element, as a support desk needs it.
    clash = root.xpath("//*[@xml:id=$id]", id=elem_id)
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
