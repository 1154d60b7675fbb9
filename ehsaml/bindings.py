"""SAML bindings: HTTP-Redirect (deflate + query signature), HTTP-POST forms, artifacts, SOAP."""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import secrets
import zlib
from dataclasses import dataclass
from urllib.parse import quote_plus, unquote_plus

from lxml import etree

from . import ns
from .errors import MalformedInput, SignatureInvalid
from .keys import Certificate, KeyPair
from .xml import parse_own, parse_xml, tostring

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
MAX_DEFLATED_BYTES = 1_000_000


# --- base64 and deflate -------------------------------------------------------------------------

def b64decode(text: str | bytes, *, what: str) -> bytes:
    if isinstance(text, str):
        text = text.encode("ascii", "replace")
    cleaned = b"".join(text.split())
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput("not valid base64", where=what) from None


def inflate(data: bytes, *, what: str) -> bytes:
    """Raw DEFLATE (RFC 1951), bounded so a small bomb cannot fill memory."""
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(data, MAX_DEFLATED_BYTES + 1)
    except zlib.error:
        raise MalformedInput("not raw-DEFLATE compressed data", where=what) from None
    if len(out) > MAX_DEFLATED_BYTES or d.unconsumed_tail:
        raise MalformedInput(f"inflates to more than {MAX_DEFLATED_BYTES} bytes", where=what)
    return out


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


# --- HTTP-Redirect -------------------------------------------------------------------------------

def redirect_query(param: str, message: etree._Element, *, relay_state: str | None, keypair: KeyPair | None) -> str:
    """The query string for a Redirect-bound message, signed as SAMLBind 3.4.4.1 says when a key is given."""
    encoded = base64.b64encode(deflate(tostring(message))).decode("ascii")
    parts = [f"{param}={quote_plus(encoded)}"]
    if relay_state is not None:
        parts.append(f"RelayState={quote_plus(relay_state)}")
    if keypair is not None:
        parts.append(f"SigAlg={quote_plus(RSA_SHA256)}")
        signed = "&".join(parts).encode("ascii")
        parts.append(f"Signature={quote_plus(base64.b64encode(keypair.sign_rsa_sha256(signed)).decode('ascii'))}")
    return "&".join(parts)


@dataclass(frozen=True)
class RedirectMessage:
    param: str  # SAMLRequest or SAMLResponse
    xml: bytes
    relay_state: str | None
    sig_alg: str | None
    signature: bytes | None
    signed_octets: bytes | None

    def verify(self, trusted: list[Certificate], *, where: str) -> Certificate:
        if self.signature is None or self.signed_octets is None:
            raise SignatureInvalid("Redirect binding message without Signature/SigAlg query parameters", where=where)
        if self.sig_alg != RSA_SHA256:
            raise SignatureInvalid(f"SigAlg {self.sig_alg!r} is refused; rsa-sha256 is required", where=where)
        for cert in trusted:
            if cert.verify_rsa_sha256(self.signature, self.signed_octets):
                return cert
        raise SignatureInvalid("query-string signature does not verify with the certificate in the metadata", where=where)


def parse_redirect(raw_query: str) -> RedirectMessage:
    """Read a Redirect-bound message from the raw query string, keeping the octets as sent for the signature."""
    raw: dict[str, str] = {}
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        if key in raw:
            raise MalformedInput(f"query parameter {key} given twice", where="query string")
        raw[key] = value
    param = "SAMLRequest" if "SAMLRequest" in raw else "SAMLResponse" if "SAMLResponse" in raw else None
    if param is None:
        raise MalformedInput("no SAMLRequest or SAMLResponse parameter", where="query string")
    xml = inflate(b64decode(unquote_plus(raw[param]), what=param), what=param)
    signed = None
    if "Signature" in raw:
        # SAMLBind 3.4.4.1: the octets are the parameters as they were URL-encoded by the sender.
        signed = "&".join(f"{k}={raw[k]}" for k in (param, "RelayState", "SigAlg") if k in raw).encode("ascii", "replace")
    signature = b64decode(unquote_plus(raw["Signature"]), what="Signature") if "Signature" in raw else None
    return RedirectMessage(
        param=param,
        xml=xml,
        relay_state=unquote_plus(raw["RelayState"]) if "RelayState" in raw else None,
        sig_alg=unquote_plus(raw["SigAlg"]) if "SigAlg" in raw else None,
        signature=signature,
        signed_octets=signed,
    )


# --- HTTP-POST -----------------------------------------------------------------------------------

# The auto-post form's one script: fixed text, so a page's Content-Security-Policy allows it by its hash
# (POST_FORM_SCRIPT_CSP) and no other inline script runs there (no onload= attribute: CSP would block it).
POST_FORM_SCRIPT = "document.forms[0].submit();"
POST_FORM_SCRIPT_CSP = "'sha256-" + base64.b64encode(hashlib.sha256(POST_FORM_SCRIPT.encode()).digest()).decode() + "'"


def post_form(action: str, fields: dict[str, str], *, title: str = "Continue") -> str:
    """An auto-submitting form, usable without JavaScript (a Continue button).

    Serve it with a Content-Security-Policy whose script-src is POST_FORM_SCRIPT_CSP."""
    inputs = "\n".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items() if v is not None
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body>
<form method="post" action="{html.escape(action)}">
{inputs}
<noscript><p>JavaScript is off: press the button to continue.</p></noscript>
<button type="submit">{html.escape(title)}</button>
</form>
<script>{POST_FORM_SCRIPT}</script>
</body></html>"""


def encode_post(message: etree._Element) -> str:
    return base64.b64encode(tostring(message)).decode("ascii")


def decode_post(value: str, *, what: str) -> etree._Element:
    return parse_xml(b64decode(value, what=what), what=what)


# --- HTTP-Artifact (SAMLBind 3.6.4) ---------------------------------------------------------------

ARTIFACT_TYPE = b"\x00\x04"


@dataclass(frozen=True)
class Artifact:
    endpoint_index: int
    source_id: bytes  # SHA-1 of the issuer's entity ID
    message_handle: bytes

    def encode(self) -> str:
        raw = ARTIFACT_TYPE + self.endpoint_index.to_bytes(2, "big") + self.source_id + self.message_handle
        return base64.b64encode(raw).decode("ascii")

    @classmethod
    def new(cls, issuer_entity_id: str, endpoint_index: int) -> "Artifact":
        return cls(endpoint_index, source_id_of(issuer_entity_id), secrets.token_bytes(20))

    @classmethod
    def decode(cls, text: str) -> "Artifact":
        raw = b64decode(text, what="SAMLart")
        if len(raw) != 44:
            raise MalformedInput(f"artifact is {len(raw)} bytes; a type 0x0004 artifact is 44", where="SAMLart")
        if raw[:2] != ARTIFACT_TYPE:
            raise MalformedInput(f"artifact type {raw[:2].hex()} is not 0004", where="SAMLart")
        return cls(int.from_bytes(raw[2:4], "big"), raw[4:24], raw[24:44])


def source_id_of(entity_id: str) -> bytes:
    return hashlib.sha1(entity_id.encode("utf-8")).digest()


# --- SOAP 1.1 ------------------------------------------------------------------------------------

SOAP_CONTENT_TYPES = ("text/xml", "application/soap+xml")


def soap_envelope_bytes(body: etree._Element | bytes) -> bytes:
    """The bytes of a SOAP 1.1 envelope around `body` (an element, or its bytes as serialised already).

    The body's bytes go into the envelope's text unchanged. Not appended: moving an element into another
    document, lxml maps every namespace of the subtree onto the first declaration of that namespace URI it
    finds from the moved element up, so a message nested with other prefixes (a saml2p:Response in an
    ArtifactResponse) would be re-prefixed, and exc-c14n, which is prefix-sensitive, would break its
    signature. `body` itself is left as it was."""
    data = body if isinstance(body, bytes) else etree.tostring(body)
    return f'<soap:Envelope xmlns:soap="{ns.SOAP}"><soap:Body>'.encode() + data + b"</soap:Body></soap:Envelope>"


def soap_envelope(body: etree._Element) -> etree._Element:
    """The envelope of `soap_envelope_bytes`, parsed (for code that changes it further)."""
    return parse_own(soap_envelope_bytes(body), what="SOAP envelope")  # our own bytes: no shape limits


def soap_body(envelope: etree._Element, *, what: str) -> etree._Element:
    if envelope.tag != ns.q("soap", "Envelope"):
        raise MalformedInput(f"root element is {envelope.tag}, not a SOAP 1.1 Envelope", where=what)
    body = envelope.find(ns.q("soap", "Body"))
    if body is None or len(body) != 1:
        raise MalformedInput("SOAP Body must hold exactly one element", where=what)
    return body[0]


def soap_fault(message: str) -> etree._Element:
    env = etree.Element(ns.q("soap", "Envelope"), nsmap={"soap": ns.SOAP})
    body = etree.SubElement(env, ns.q("soap", "Body"))
    fault = etree.SubElement(body, ns.q("soap", "Fault"))
    etree.SubElement(fault, "faultcode").text = "soap:Client"
    etree.SubElement(fault, "faultstring").text = message
    return env
