"""A tiny builder of broker-style responses, for testing the DV side only (the broker has its own), and the DV
that checks them (POLICY, `check`) with the TEST-ONLY keys."""

from __future__ import annotations

import secrets
from datetime import timedelta

from lxml import etree

from dataclasses import replace

from ehsaml import dsig, ns, xenc
from ehsaml import eherkenning as eh
from ehsaml.dv.login import validate_response
from ehsaml.dv.policy import DvPolicy
from ehsaml.keys import Certificate, KeyPair, load_keypair
from ehsaml.metadata import Endpoint, EntityMetadata
from ehsaml.testids import AD_ENTITY_ID, BROKER_ENTITY_ID, PORTAL_ENTITY_ID, PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW
from ehsaml.testkeys import CERTS_DIR
from ehsaml.timeutil import fmt, utcnow

SERVICE_UUID = "11111111-2222-4333-8444-555555555555"
KVK, RSIN, BRANCH = "12345678", "123456782", "000012345678"
PSEUDONYM = "a" * 64 + "@" + "b" * 32

PORTAL = load_keypair(str(CERTS_DIR / "portal.TEST-ONLY.key"), str(CERTS_DIR / "portal.TEST-ONLY.crt"))
BROKER = load_keypair(str(CERTS_DIR / "broker.TEST-ONLY.key"), str(CERTS_DIR / "broker.TEST-ONLY.crt"))
ATTACKER = load_keypair(str(CERTS_DIR / "attacker.TEST-ONLY.key"), str(CERTS_DIR / "attacker.TEST-ONLY.crt"))
ACS = "https://portal.example.test/saml/acs"
ARS = "https://broker.example.test/saml/artifact"
HM = EntityMetadata(entity_id=BROKER_ENTITY_ID, signing_certs=(BROKER.certificate,), encryption_certs=(),
                    artifact_resolution=(Endpoint(ns.BINDING_SOAP, ARS, 0),))
POLICY = DvPolicy(dv_entity_id=PORTAL_ENTITY_ID, acs_url=ACS, keypair=PORTAL, min_level=eh.Level.EH3,
                  own_service_ids={PORTAL_SERVICE_VIEW, PORTAL_SERVICE_EDIT}, own_service_uuids={SERVICE_UUID})


def _sub(parent, prefix, local, text=None, **attrs):
    el = etree.SubElement(parent, ns.q(prefix, local), **attrs)
    if text is not None:
        el.text = text
    return el


def _attribute(statement, name, *values, encrypt_to: Certificate | None = None):
    """Values are plain strings, or (identifier, NameQualifier) pairs: EncryptedIDs (plain NameIDs without a key)."""
    attr = _sub(statement, "saml", "Attribute", Name=name, NameFormat=ns.ATTRNAME_URI)
    for value in values:
        av = _sub(attr, "saml", "AttributeValue")
        value, qualifier = value if isinstance(value, tuple) else (value, None)
        if qualifier is None:
            av.text = value
            continue
        enc = _sub(av, "saml", "EncryptedID") if encrypt_to is not None else av
        nid = etree.Element(ns.q("saml", "NameID"), nsmap={"saml": ns.SAML},
                            Format=ns.NAMEID_PERSISTENT, NameQualifier=qualifier)
        nid.text = value
        enc.append(nid)
        if encrypt_to is not None:
            xenc.encrypt_into(enc, nid, encrypt_to, recipient_entity_id=PORTAL_ENTITY_ID)
    return attr


def build_response(
    *, request_id: str, acs_url: str, dv_cert: Certificate | None, audience: str = PORTAL_ENTITY_ID,
    destination: str | None = None, issuer: str = BROKER_ENTITY_ID, level: eh.Level = eh.Level.EH3,
    service_id: str = PORTAL_SERVICE_VIEW, service_uuid: str = SERVICE_UUID, valid_seconds: int = 300,
    age_seconds: int = 0, status: tuple[str, str | None, str | None] = (ns.STATUS_SUCCESS, None, None),
) -> etree._Element:
    """An unsigned samlp:Response as the broker sends it; sign with `sign` after any change.

    Identifiers are encrypted to `dv_cert` (plain NameIDs when it is None)."""
    now = utcnow() - timedelta(seconds=age_seconds)
    resp = etree.Element(ns.q("samlp", "Response"), nsmap={"samlp": ns.SAMLP, "saml": ns.SAML},
                         ID="_" + secrets.token_hex(20), Version="2.0", IssueInstant=fmt(now),
                         Destination=destination or acs_url, InResponseTo=request_id)
    _sub(resp, "saml", "Issuer", issuer)
    st = _sub(resp, "samlp", "Status")
    code = _sub(st, "samlp", "StatusCode", Value=status[0])
    if status[1]:
        _sub(code, "samlp", "StatusCode", Value=status[1])
    if status[2]:
        _sub(st, "samlp", "StatusMessage", status[2])
    if status[0] != ns.STATUS_SUCCESS:
        return resp
    a = _sub(resp, "saml", "Assertion", ID="_" + secrets.token_hex(20), Version="2.0", IssueInstant=fmt(now))
    _sub(a, "saml", "Issuer", issuer)
    subject = _sub(a, "saml", "Subject")
    _sub(subject, "saml", "NameID", "_" + secrets.token_hex(16), Format=ns.NAMEID_TRANSIENT, NameQualifier=AD_ENTITY_ID)
    sc = _sub(subject, "saml", "SubjectConfirmation", Method=ns.CM_BEARER)
    _sub(sc, "saml", "SubjectConfirmationData", InResponseTo=request_id, Recipient=acs_url,
         NotOnOrAfter=fmt(now + timedelta(seconds=valid_seconds)))
    cond = _sub(a, "saml", "Conditions", NotBefore=fmt(now - timedelta(seconds=30)),
                NotOnOrAfter=fmt(now + timedelta(seconds=valid_seconds)))
    _sub(_sub(cond, "saml", "AudienceRestriction"), "saml", "Audience", audience)
    authn = _sub(a, "saml", "AuthnStatement", AuthnInstant=fmt(now), SessionIndex="_" + secrets.token_hex(8))
    ctx = _sub(authn, "saml", "AuthnContext")
    _sub(ctx, "saml", "AuthnContextClassRef", level.value)
    _sub(ctx, "saml", "AuthenticatingAuthority", AD_ENTITY_ID)
    stmt = _sub(a, "saml", "AttributeStatement")
    _attribute(stmt, eh.ATTR_SERVICE_ID, service_id)
    _attribute(stmt, eh.ATTR_SERVICE_UUID, service_uuid)
    _attribute(stmt, eh.ATTR_LEGAL_SUBJECT, (KVK, eh.ID_KVK), (RSIN, eh.ID_RSIN), encrypt_to=dv_cert)
    _attribute(stmt, eh.ATTR_ACTING_SUBJECT, (PSEUDONYM, eh.ID_PSEUDO), encrypt_to=dv_cert)
    _attribute(stmt, eh.ATTR_BRANCH, BRANCH)
    _attribute(stmt, eh.ATTR_REPRESENTED_NAME, "Bakkerij De Test B.V. (TEST)")
    return resp


def sign(resp: etree._Element, keypair: KeyPair, *, assertion: bool = True, response: bool = True) -> etree._Element:
    for a in resp.findall(ns.q("saml", "Assertion")) if assertion else ():
        dsig.sign(a, keypair)
    if response:
        dsig.sign(resp, keypair)
    return resp


def wire(el: etree._Element) -> etree._Element:
    """Serialise and parse again, as the message would arrive."""
    from ehsaml.xml import parse_xml
    return parse_xml(etree.tostring(el), what="test message")


def response(**kwargs) -> etree._Element:
    """build_response for request _req1 at ACS, identifiers encrypted to the portal key (sign with `sign`)."""
    return build_response(request_id="_req1", acs_url=ACS, dv_cert=PORTAL.certificate, **kwargs)


def check(resp, *, request_ids=("_req1",), now=None, in_artifact_response=False, **changes):
    """Check as the DV of POLICY (with `changes`), the request IDs outstanding for any of its services."""
    return validate_response(wire(resp), replace(POLICY, **changes), hm=HM, outstanding=dict.fromkeys(request_ids),
                             now=now, in_artifact_response=in_artifact_response)
