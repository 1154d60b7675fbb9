"""Building the broker's signed (and encrypted) answers with stable prefixes and `Z` timestamps."""

from __future__ import annotations

import secrets
from datetime import timedelta

from lxml import etree

from ehsaml import dsig, ns, timeutil, xenc
from ehsaml import eherkenning as eh
from ehsaml.keys import KeyPair
from ehsaml.xml import parse_own

from .authn import PendingLogin
from .decide import Identity, Outcome
from .registry import RegisteredDV
from .settings import BrokerSettings

SAML_NSMAP = {"saml": ns.SAML}
RESPONSE_NSMAP = {"samlp": ns.SAMLP, "saml": ns.SAML}


def new_id() -> str:
    return "_" + secrets.token_hex(16)


def _sub(parent, prefix, local, text=None, **attrs):
    el = etree.SubElement(parent, ns.q(prefix, local), {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def status_element(parent, top: str, second: str | None, message: str | None):
    status = _sub(parent, "samlp", "Status")
    code = _sub(status, "samlp", "StatusCode", Value=top)
    if second:
        _sub(code, "samlp", "StatusCode", Value=second)
    if message:
        _sub(status, "samlp", "StatusMessage", message)
    return status


def build_response(*, settings: BrokerSettings, keypair: KeyPair, dv: RegisteredDV, pending: PendingLogin,
                   outcome: Outcome) -> etree._Element:
    now = timeutil.utcnow()
    response = etree.Element(ns.q("samlp", "Response"), nsmap=RESPONSE_NSMAP, ID=new_id(), Version="2.0",
                             IssueInstant=timeutil.fmt(now), Destination=pending.acs_url,
                             InResponseTo=pending.request_id)
    _sub(response, "saml", "Issuer", settings.entity_id)
    status_element(response, outcome.top, outcome.second, outcome.message)
    if outcome.identity is not None:
        assertion = build_assertion(settings=settings, keypair=keypair, dv=dv, pending=pending,
                                    identity=outcome.identity, now=now)
        if dv.options.encrypt_assertion:
            holder = _sub(response, "saml", "EncryptedAssertion")
            holder.append(assertion)
            xenc.encrypt_into(holder, assertion, _encryption_cert(dv), recipient_entity_id=dv.entity_id,
                              cipher=_cipher(dv))
        else:
            response.append(assertion)
    if dv.options.sign_response:
        dsig.sign(response, keypair)
    return response


def build_assertion(*, settings, keypair, dv, pending, identity: Identity, now) -> etree._Element:
    until = timeutil.fmt(now + timedelta(seconds=settings.assertion_lifetime_seconds))
    assertion = etree.Element(ns.q("saml", "Assertion"), nsmap=SAML_NSMAP, ID=new_id(), Version="2.0",
                              IssueInstant=timeutil.fmt(now))
    _sub(assertion, "saml", "Issuer", settings.entity_id)
    subject = _sub(assertion, "saml", "Subject")
    _sub(subject, "saml", "NameID", secrets.token_hex(20), Format=ns.NAMEID_TRANSIENT,
         NameQualifier=settings.ad_entity_id)
    confirmation = _sub(subject, "saml", "SubjectConfirmation", Method=ns.CM_BEARER)
    _sub(confirmation, "saml", "SubjectConfirmationData", InResponseTo=pending.request_id, Recipient=pending.acs_url,
         NotOnOrAfter=until)
    conditions = _sub(assertion, "saml", "Conditions", NotBefore=timeutil.fmt(now), NotOnOrAfter=until)
    restriction = _sub(conditions, "saml", "AudienceRestriction")
    _sub(restriction, "saml", "Audience", dv.entity_id)
    if dv.options.advice:
        _advice(assertion, settings=settings, keypair=keypair, dv=dv, identity=identity, now=now, until=until,
                name_id=subject.find(ns.q("saml", "NameID")).text)
    authn = _sub(assertion, "saml", "AuthnStatement", AuthnInstant=timeutil.fmt(now), SessionIndex=new_id())
    context = _sub(authn, "saml", "AuthnContext")
    _sub(context, "saml", "AuthnContextClassRef", eh.Level[identity.level].value)
    _sub(context, "saml", "AuthenticatingAuthority", settings.ad_entity_id)
    _attributes(assertion, dv=dv, identity=identity)
    dsig.sign(assertion, keypair)
    return assertion


def _attributes(assertion, *, dv: RegisteredDV, identity: Identity) -> None:
    statement = _sub(assertion, "saml", "AttributeStatement")
    service = dv.service_by_id(identity.service_id)

    def attribute(name, values):
        values = [v for v in values if v is not None]
        if not values:
            return
        attr = _sub(statement, "saml", "Attribute", Name=name, NameFormat=ns.ATTRNAME_URI)
        for value in values:
            av = _sub(attr, "saml", "AttributeValue")
            if isinstance(value, tuple):
                _identifier(av, dv, *value)
            else:
                av.text = value

    attribute(eh.ATTR_SERVICE_ID, [identity.service_id])
    attribute(eh.ATTR_SERVICE_UUID, [service.service_uuid if service else None])
    attribute(eh.ATTR_LEGAL_SUBJECT, [
        (eh.ID_KVK, identity.kvk) if identity.kvk else None,
        (eh.ID_RSIN, identity.rsin) if identity.rsin else None,
        (eh.ID_EIDAS, identity.eidas) if identity.eidas else None,
    ])
    attribute(eh.ATTR_ACTING_SUBJECT, [(eh.ID_PSEUDO, identity.pseudonym)])
    attribute(eh.ATTR_REPRESENTED_NAME, [identity.represented_name])
    attribute(eh.ATTR_BRANCH, [identity.branch])
    attribute(eh.ATTR_INTERMEDIATE_KVK, [identity.intermediary_kvk])
    attribute(eh.ATTR_INTERMEDIATE_NAME, [identity.intermediary_name])


def _identifier(attribute_value, dv: RegisteredDV, qualifier: str, value: str) -> None:
    """An identifier as a persistent NameID, inside an EncryptedID unless the DV wants them plain."""
    name_id = etree.Element(ns.q("saml", "NameID"), nsmap=SAML_NSMAP, Format=ns.NAMEID_PERSISTENT,
                            NameQualifier=qualifier)
    name_id.text = value
    if not dv.options.encrypt_identifiers:
        attribute_value.append(name_id)
        return
    holder = _sub(attribute_value, "saml", "EncryptedID")
    holder.append(name_id)
    xenc.encrypt_into(holder, name_id, _encryption_cert(dv), recipient_entity_id=dv.entity_id, cipher=_cipher(dv))


def _encryption_cert(dv: RegisteredDV):
    if not dv.metadata.encryption_certs:
        raise RuntimeError(f"DV {dv.entity_id} has no encryption certificate in its metadata")
    return dv.metadata.encryption_certs[0]


def _cipher(dv: RegisteredDV) -> xenc.DataCipher:
    return xenc.DataCipher.AES256_GCM if dv.options.data_cipher == "aes256-gcm" else xenc.DataCipher.AES256_CBC


def _advice(assertion, *, settings, keypair, dv, identity: Identity, now, until, name_id: str) -> None:
    """The AD's and MR's own assertions, nested as brokers may do (a per-DV switch), about the same subject
    (SAML core 2.7.2: an assertion with an AuthnStatement must have a Subject)."""
    advice = _sub(assertion, "saml", "Advice")
    for issuer, what in ((settings.ad_entity_id, "authn"), (settings.mr_entity_id, "mandate")):
        inner = _sub(advice, "saml", "Assertion", ID=new_id(), Version="2.0", IssueInstant=timeutil.fmt(now))
        _sub(inner, "saml", "Issuer", issuer)
        _sub(_sub(inner, "saml", "Subject"), "saml", "NameID", name_id, Format=ns.NAMEID_TRANSIENT,
             NameQualifier=settings.ad_entity_id)
        conditions = _sub(inner, "saml", "Conditions", NotBefore=timeutil.fmt(now), NotOnOrAfter=until)
        _sub(_sub(conditions, "saml", "AudienceRestriction"), "saml", "Audience", settings.entity_id)
        if what == "authn":
            authn = _sub(inner, "saml", "AuthnStatement", AuthnInstant=timeutil.fmt(now))
            _sub(_sub(authn, "saml", "AuthnContext"), "saml", "AuthnContextClassRef", eh.Level[identity.level].value)
        else:
            statement = _sub(inner, "saml", "AttributeStatement")
            attr = _sub(statement, "saml", "Attribute", Name=eh.ATTR_SERVICE_ID, NameFormat=ns.ATTRNAME_URI)
            _sub(attr, "saml", "AttributeValue", identity.service_id)
        dsig.sign(inner, keypair)


def build_artifact_response(*, settings: BrokerSettings, keypair: KeyPair, in_response_to: str,
                            inner: etree._Element | None) -> etree._Element:
    """ArtifactResponse: always Success; an unknown or used artifact gets no inner message (SAML core 3.5.2)."""
    ar = etree.Element(ns.q("samlp", "ArtifactResponse"), nsmap=RESPONSE_NSMAP, ID=new_id(), Version="2.0",
                       IssueInstant=timeutil.fmt(timeutil.utcnow()), InResponseTo=in_response_to)
    _sub(ar, "saml", "Issuer", settings.entity_id)
    status_element(ar, ns.STATUS_SUCCESS, None, None)
    if inner is not None:
        # Spliced in as text, not appended: on append lxml drops the inner message's own declaration of a
        # namespace the ArtifactResponse declares too (by URI), so a Response with other prefixes
        # (saml2p:) would be re-prefixed, and exc-c14n, which is prefix-sensitive, would break its signature.
        text = etree.tostring(ar, encoding="unicode")
        closing = text.rindex("</")
        ar = parse_own(text[:closing] + etree.tostring(inner, encoding="unicode") + text[closing:],
                       what="ArtifactResponse")  # our own text: no shape limits
    dsig.sign(ar, keypair)
    return ar


def build_logout_response(*, settings, keypair, destination: str, in_response_to: str, top: str = ns.STATUS_SUCCESS,
                          second: str | None = None, message: str | None = None, sign: bool = True) -> etree._Element:
    lr = etree.Element(ns.q("samlp", "LogoutResponse"), nsmap=RESPONSE_NSMAP, ID=new_id(), Version="2.0",
                       IssueInstant=timeutil.fmt(timeutil.utcnow()), Destination=destination,
                       InResponseTo=in_response_to)
    _sub(lr, "saml", "Issuer", settings.entity_id)
    status_element(lr, top, second, message)
    if sign:
        dsig.sign(lr, keypair)
    return lr
