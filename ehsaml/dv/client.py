"""What a DV (service provider) sends: AuthnRequest, ArtifactResolve (over SOAP), LogoutRequest.

Used by the example portal, by the broker's tests as a test client, and by the harness.
"""

from __future__ import annotations

import copy
import secrets
from datetime import datetime

from lxml import etree

from .. import bindings, dsig, ns
from ..eherkenning import Level
from ..errors import MalformedInput, SamlError
from ..keys import KeyPair
from ..timeutil import fmt, utcnow
from ..xml import local_name, parse_xml

SOAP_ACTION = "http://www.oasis-open.org/committees/security"
MAX_SOAP_ANSWER_BYTES = 1_000_000


class ArtifactResolutionFailed(SamlError):
    """The ArtifactResolve could not be answered: network error, timeout, HTTP error or SOAP fault."""


def new_id() -> str:
    """A SAML ID: "_" followed by 40 hex digits (160 random bits), never starting with a digit."""
    return "_" + secrets.token_hex(20)


def _message(tag: str, *, msg_id: str, destination: str, issuer: str, now: datetime | None) -> etree._Element:
    el = etree.Element(ns.q("samlp", tag), nsmap={"samlp": ns.SAMLP, "saml": ns.SAML})
    el.set("ID", msg_id)
    el.set("Version", "2.0")
    el.set("IssueInstant", fmt(now or utcnow()))
    el.set("Destination", destination)
    etree.SubElement(el, ns.q("saml", "Issuer")).text = issuer
    return el


# --- AuthnRequest --------------------------------------------------------------------------------

def build_authn_request(
    *,
    dv: str,
    destination: str,
    acs_index: int | None = None,
    acs_url: str | None = None,
    protocol_binding: str | None = None,
    service_index: int | None = None,
    requested_level: Level | None = None,
    force_authn: bool = True,
    request_id: str | None = None,
    now: datetime | None = None,
) -> tuple[str, etree._Element]:
    """An unsigned samlp:AuthnRequest; returns (ID, element). Sign it through redirect_url or post_form_fields.

    Name the ACS by `acs_index`, or by `acs_url` + `protocol_binding` (not both); neither leaves it
    to the broker (the DV metadata's default ACS). `service_index` becomes the
    AttributeConsumingServiceIndex; `requested_level` a RequestedAuthnContext (Comparison minimum).
    """
    if acs_index is not None and acs_url is not None:
        raise ValueError("give acs_index or acs_url + protocol_binding, not both")
    if acs_url is not None and protocol_binding is None:
        raise ValueError("acs_url needs a protocol_binding (the binding the ACS takes the response by)")
    msg_id = request_id or new_id()
    el = _message("AuthnRequest", msg_id=msg_id, destination=destination, issuer=dv, now=now)
    if force_authn:
        el.set("ForceAuthn", "true")
    if acs_index is not None:
        el.set("AssertionConsumerServiceIndex", str(acs_index))
    if acs_url is not None:
        el.set("AssertionConsumerServiceURL", acs_url)
        el.set("ProtocolBinding", protocol_binding)
    if service_index is not None:
        el.set("AttributeConsumingServiceIndex", str(service_index))
    if requested_level is not None:
        rac = etree.SubElement(el, ns.q("samlp", "RequestedAuthnContext"), Comparison="minimum")
        etree.SubElement(rac, ns.q("saml", "AuthnContextClassRef")).text = requested_level.value
    return msg_id, el


def redirect_url(sso_url: str, request_element: etree._Element, keypair: KeyPair, relay_state: str | None) -> str:
    """The HTTP-Redirect URL for a request, signed in the query string (SAMLBind 3.4.4.1)."""
    if dsig.signature_of(request_element) is not None:
        raise ValueError("a Redirect-bound message carries its signature in the query, not in the XML")
    query = bindings.redirect_query("SAMLRequest", request_element, relay_state=relay_state, keypair=keypair)
    return f"{sso_url}{'&' if '?' in sso_url else '?'}{query}"


def post_form_fields(request_element: etree._Element, keypair: KeyPair, relay_state: str | None) -> dict[str, str]:
    """Form fields for the HTTP-POST binding: a signed copy of the request (enveloped), base64."""
    signed = copy.deepcopy(request_element)
    dsig.strip_signature(signed)
    dsig.sign(signed, keypair)
    fields = {"SAMLRequest": bindings.encode_post(signed)}
    if relay_state is not None:
        fields["RelayState"] = relay_state
    return fields


# --- ArtifactResolve over SOAP -------------------------------------------------------------------

def build_artifact_resolve(
    *, dv: str, destination: str, artifact: str, keypair: KeyPair, resolve_id: str | None = None,
    now: datetime | None = None,
) -> etree._Element:
    """A signed samlp:ArtifactResolve for `artifact` (the SAMLart value as received)."""
    el = _message("ArtifactResolve", msg_id=resolve_id or new_id(), destination=destination, issuer=dv, now=now)
    etree.SubElement(el, ns.q("samlp", "Artifact")).text = artifact
    dsig.sign(el, keypair)
    return el


def artifact_resolution_url(hm, artifact: str) -> str:
    """The broker's ArtifactResolutionService whose index the artifact names (EntityMetadata `hm`)."""
    index = bindings.Artifact.decode(artifact).endpoint_index
    for ep in hm.artifact_resolution:
        if ep.index == index and ep.binding == ns.BINDING_SOAP:
            return ep.location
    raise MalformedInput(
        f"the artifact names ArtifactResolutionService index {index}, which the broker's metadata does not list",
        where="SAMLart",
    )


def resolve_artifact(
    session_or_requests,
    url: str,
    artifact: str,
    keypair: KeyPair,
    dv: str,
    *,
    timeout: float = 5,
    content_type: str = "text/xml",
    resolve_id: str | None = None,
) -> tuple[str, etree._Element]:
    """POST a signed ArtifactResolve in a SOAP 1.1 envelope; return (ArtifactResolve ID, samlp:ArtifactResponse).

    Check the answer with ehsaml.dv.login.validate_artifact_response(..., artifact_resolve_id=<the ID>).
    Raises ArtifactResolutionFailed on network errors, timeouts, HTTP errors and SOAP faults, and
    MalformedInput when the answer is not a SOAP envelope with an ArtifactResponse.
    """
    import requests  # the HTTP client is only needed here

    resolve_id = resolve_id or new_id()
    body = build_artifact_resolve(dv=dv, destination=url, artifact=artifact, keypair=keypair, resolve_id=resolve_id)
    envelope = bindings.soap_envelope_bytes(body)
    headers = {"Content-Type": f"{content_type}; charset=utf-8", "SOAPAction": SOAP_ACTION}
    where = f"ArtifactResolve to {url}"
    try:
        answer = session_or_requests.post(url, data=envelope, headers=headers, timeout=timeout)
    except requests.Timeout:
        raise ArtifactResolutionFailed(f"no answer within {timeout} seconds", where=where) from None
    except requests.RequestException as exc:
        raise ArtifactResolutionFailed(f"could not reach the broker ({type(exc).__name__}: {exc})", where=where) from None
    content = answer.content or b""
    fault = _soap_fault_text(content)
    if answer.status_code != 200 or fault is not None:
        detail = fault or content[:200].decode("utf-8", "replace").strip() or "(empty body)"
        raise ArtifactResolutionFailed(f"the broker answered HTTP {answer.status_code}: {detail}", where=where)
    if len(content) > MAX_SOAP_ANSWER_BYTES:
        raise MalformedInput(f"answer of {len(content)} bytes is too large", where=where)
    envelope_in = parse_xml(content, what="ArtifactResponse envelope")
    inner = bindings.soap_body(envelope_in, what="ArtifactResponse envelope")
    if inner.tag != ns.q("samlp", "ArtifactResponse"):
        raise MalformedInput(f"the SOAP Body holds {local_name(inner)}, not a samlp:ArtifactResponse", where=where)
    return resolve_id, inner


def _soap_fault_text(content: bytes) -> str | None:
    """The faultstring when `content` is a SOAP Fault, else None."""
    if b"Fault" not in content:
        return None
    try:
        root = parse_xml(content, what="SOAP answer")
        inner = bindings.soap_body(root, what="SOAP answer")
    except SamlError:
        return None
    if inner.tag != ns.q("soap", "Fault"):
        return None
    return f"SOAP Fault: {(inner.findtext('faultstring') or '').strip() or '(no faultstring)'}"


# --- Single logout -------------------------------------------------------------------------------

def build_logout_request(
    *,
    dv: str,
    destination: str,
    name_id: str,
    name_id_format: str | None = ns.NAMEID_TRANSIENT,
    name_qualifier: str | None = None,
    session_index: str | None = None,
    keypair: KeyPair | None = None,
    request_id: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> tuple[str, etree._Element]:
    """A samlp:LogoutRequest for the NameID (and SessionIndex) of the login; returns (ID, element).

    Signed (enveloped, for the POST binding) when `keypair` is given; for the Redirect binding leave
    it out and pass the element to redirect_url, which signs the query.
    """
    msg_id = request_id or new_id()
    el = _message("LogoutRequest", msg_id=msg_id, destination=destination, issuer=dv, now=now)
    if reason:
        el.set("Reason", reason)
    nid = etree.SubElement(el, ns.q("saml", "NameID"))
    nid.text = name_id
    if name_id_format:
        nid.set("Format", name_id_format)
    if name_qualifier:
        nid.set("NameQualifier", name_qualifier)
    if session_index:
        etree.SubElement(el, ns.q("samlp", "SessionIndex")).text = session_index
    if keypair is not None:
        dsig.sign(el, keypair)
    return msg_id, el
