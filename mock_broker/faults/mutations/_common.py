"""Helpers the mutations share: finding parts of the Response, setting values, signing again."""

from __future__ import annotations

import secrets
from datetime import timedelta

from lxml import etree

from ehsaml import dsig, ns, testkeys, timeutil
from ehsaml import eherkenning as eh
from ehsaml.keys import load_keypair

from ..registry import NotApplicable

ATTRS = {"ServiceID": eh.ATTR_SERVICE_ID, "ServiceUUID": eh.ATTR_SERVICE_UUID, "LegalSubjectID": eh.ATTR_LEGAL_SUBJECT,
         "ActingSubjectID": eh.ATTR_ACTING_SUBJECT, "Vestigingsnr": eh.ATTR_BRANCH,
         "IntermediateKvK": eh.ATTR_INTERMEDIATE_KVK, "IntermediateName": eh.ATTR_INTERMEDIATE_NAME,
         "RepresentedName": eh.ATTR_REPRESENTED_NAME}
QUALIFIERS = {"KvKnr": eh.ID_KVK, "RSIN": eh.ID_RSIN, "eIDAS": eh.ID_EIDAS, "Pseudo": eh.ID_PSEUDO,
              "Unknown": "urn:etoegang:1.9:EntityConcernedID:Unknown"}
STATUS = {"Empty": "", "Success": ns.STATUS_SUCCESS, "Requester": ns.STATUS_REQUESTER, "Responder": ns.STATUS_RESPONDER,
          "AuthnFailed": ns.STATUS_AUTHN_FAILED, "RequestUnsupported": ns.STATUS_REQUEST_UNSUPPORTED}
SIG_METHODS = {"rsa-sha256": dsig.SignatureMethod.RSA_SHA256, "rsa-sha1": dsig.SignatureMethod.RSA_SHA1}
DIGESTS = {"sha256": dsig.DigestMethod.SHA256, "sha1": dsig.DigestMethod.SHA1}
OTHER_ACS = "https://portal.other-dv.example/saml/acs"
OTHER_DV = "urn:etoegang:DV:00000009998887776000:entities:9001"
OTHER_SERVICE = "urn:etoegang:DV:00000009998887776000:services:1"


def attacker():
    return load_keypair(str(testkeys.key_file("attacker")), str(testkeys.cert_file("attacker")))


def _xp(el, path: str):
    """The first match by XPath: lxml's find() can miss nodes that xmlsec created (another name dictionary)."""
    return el.xpath(path, namespaces=ns.NSMAP)[0]


def _q(local: str, prefix: str = "saml") -> str:
    return ns.q(prefix, local)


def _assertions(response) -> list:
    return response.findall(_q("Assertion"))


def _assertion(ctx):
    found = _assertions(ctx.response)
    if not found:
        raise NotApplicable("the base answer has no assertion")
    return found[0]


def _sign(element, keypair, **kwargs) -> None:
    dsig.strip_signature(element)
    dsig.sign(element, keypair, **kwargs)


def _resign(ctx, *, assertion: bool = True, response: bool | None = None) -> None:
    """Sign again with the broker key what a mutation changed: the assertion(s), then the Response."""
    if assertion:
        for a in _assertions(ctx.response):
            dsig.strip_signature(a)
            if a.get("ID"):  # an assertion whose ID a fault removed cannot be signed: it goes out unsigned
                dsig.sign(a, ctx.keypair)
    dsig.strip_signature(ctx.response)
    if (ctx.response_signed if response is None else response) and ctx.response.get("ID"):
        dsig.sign(ctx.response, ctx.keypair)


def _time(offset_seconds: float) -> str:
    return timeutil.fmt(timeutil.utcnow() + timedelta(seconds=offset_seconds))


def _set(el, name: str, *, value=None, remove=False, offset_seconds=None, random_id=False) -> None:
    if remove:
        el.attrib.pop(name, None)
    elif offset_seconds is not None:
        el.set(name, _time(offset_seconds))
    elif random_id:
        el.set(name, "_" + secrets.token_hex(20))
    else:
        el.set(name, value)


def _find(assertion, element: str):
    paths = {"Assertion": ".", "Conditions": "saml:Conditions",
             "SubjectConfirmation": "saml:Subject/saml:SubjectConfirmation",
             "SubjectConfirmationData": "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData",
             "AudienceRestriction": "saml:Conditions/saml:AudienceRestriction",
             "AuthnStatement": "saml:AuthnStatement", "AttributeStatement": "saml:AttributeStatement",
             "Issuer": "saml:Issuer", "Subject": "saml:Subject", "NameID": "saml:Subject/saml:NameID",
             "Audience": "saml:Conditions/saml:AudienceRestriction/saml:Audience",
             "AuthnContext": "saml:AuthnStatement/saml:AuthnContext",
             "AuthnContextClassRef": "saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef"}
    found = assertion.xpath(paths[element], namespaces=ns.NSMAP)
    if not found:
        raise NotApplicable(f"the assertion has no {element}")
    return found[0]


def _find_in_response(response, element: str):
    paths = {"Response": ".", "Issuer": "saml:Issuer", "Status": "samlp:Status",
             "StatusCode": "samlp:Status/samlp:StatusCode"}
    found = response.xpath(paths[element], namespaces=ns.NSMAP)
    if not found:
        raise NotApplicable(f"the Response has no {element}")
    return found[0]


def set_text(el, value: str, *, markup: bool = False) -> None:
    """The element's content: `value` as text, or (markup) as an XML fragment (mixed content, a comment…)."""
    for child in list(el):
        el.remove(child)
    if not markup:
        el.text = value
        return
    holder = etree.fromstring(f'<holder xmlns:x="urn:test-only:markup">{value}</holder>')
    el.text = holder.text
    for child in list(holder):
        el.append(child)


# --- signatures ----------------------------------------------------------------------------------
