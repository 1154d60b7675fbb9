"""Reading a DV's signed request (AuthnRequest, LogoutRequest) by HTTP-Redirect or HTTP-POST.

Failures here get an error page (4xx) and no SAML answer: until the DV and its signature are
known, the broker does not know where it may safely answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Request
from lxml import etree

from ehsaml import bindings, dsig, ns
from ehsaml.errors import MalformedInput, SignatureInvalid
from ehsaml.xml import local_name, parse_xml

from .errors import BrokerRefusal
from .registry import RegisteredDV, Registry


@dataclass(frozen=True)
class Inbound:
    element: etree._Element
    dv: RegisteredDV
    relay_state: str | None
    binding: str  # "HTTP-Redirect" or "HTTP-POST", as the journal names it


def read_signed_request(request: Request, *, expected: str, registry: Registry) -> Inbound:
    """The request of type `expected` (e.g. "AuthnRequest"), from a registered DV, signature checked."""
    try:
        if request.method == "GET":
            redirect = bindings.parse_redirect(request.query_string.decode("latin-1"))
            xml, relay_state, binding = redirect.xml, redirect.relay_state, "HTTP-Redirect"
        else:
            value = request.form.get("SAMLRequest")
            if not value:
                raise MalformedInput("no SAMLRequest form field", where="HTTP-POST body")
            redirect, binding = None, "HTTP-POST"
            xml, relay_state = bindings.b64decode(value, what="SAMLRequest"), request.form.get("RelayState")
        root = parse_xml(xml, what="SAMLRequest")
    except MalformedInput as exc:
        raise BrokerRefusal(exc.message, where=exc.where) from None
    if root.tag != ns.q("samlp", expected):
        raise BrokerRefusal(f"expected samlp:{expected}, got {local_name(root)}", where="SAMLRequest")
    issuer = (root.findtext(ns.q("saml", "Issuer")) or "").strip()
    if not issuer:
        raise BrokerRefusal("no saml:Issuer: the broker cannot tell which DV asks", where=f"{expected}/Issuer")
    dv = registry.get(issuer)
    if dv is None:
        raise BrokerRefusal(f"unknown DV {issuer!r}: no metadata for it is registered with the broker",
                            where=f"{expected}/Issuer", http_status=403)
    try:
        if redirect is not None:
            redirect.verify(list(dv.metadata.signing_certs), where=f"{expected} (Redirect binding)")
        else:
            dsig.verify(root, dv.metadata.signing_certs, where=f"{expected}/ds:Signature")
    except SignatureInvalid as exc:
        raise BrokerRefusal(str(exc), http_status=403, dv=dv.entity_id) from None
    return Inbound(element=root, dv=dv, relay_state=relay_state, binding=binding)
