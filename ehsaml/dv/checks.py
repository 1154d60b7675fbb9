"""Small named checks a careful DV makes on what the broker sends (eherkenning-interface.md, last section).

Each returns a `Check(check, passed, actual, expected, rule)`; none raises on bad input. The
order and the stopping rule live in `ehsaml.dv.login`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container
from datetime import datetime, timedelta

from lxml import etree

from .. import bindings, dsig, ns
from ..checks import Check
from ..eherkenning import Level
from ..errors import SamlError
from ..metadata import EntityMetadata
from ..timeutil import fmt, parse
from ..xml import local_name


# Every check a careful DV makes, by name: the names `Check.check` takes (here, in ehsaml.dv.login and in a
# DV's own artifact handling: artifact_source before resolving, artifact_resolution for the SOAP call).
# The fault catalogue's `expect.check` and the example portal's refusals name checks from this set only.
CHECK_NAMES = frozenset({
    "response_element", "response_signature", "response_issuer", "response_destination", "response_in_response_to",
    "status", "single_assertion", "assertion_signature", "assertion_issuer", "conditions_time", "audience",
    "subject_confirmation_method", "subject_confirmation_recipient", "subject_confirmation_in_response_to",
    "subject_confirmation_expiry", "issue_instant", "authn_level", "attribute_names_unique", "identifiers_decrypted",
    "legal_subject", "chain_mandate", "service_restriction", "service_id", "service_uuid", "identifier_formats",
    "artifact_source", "artifact_resolution", "artifact_response_element", "artifact_response_signature",
    "artifact_response_issuer", "artifact_response_in_response_to", "artifact_response_status",
    "artifact_response_has_response", "assertion_element", "subject_name_id",
    # before any check: the message arrived (message_present) and could be read (message_readable: base64,
    # well-formed XML without a DOCTYPE, within the limits of ehsaml.xml), at the ACS or as the SOAP answer
    "message_present", "message_readable",
})


def _c(check: str, passed: bool, actual, expected, rule: str) -> Check:
    return Check(check=check, passed=bool(passed), actual=actual, expected=expected, rule=rule)


def exact_text(el: etree._Element | None) -> str | None:
    """The value of an element exactly as sent, not stripped. An element that holds anything but text (a child
    element, a comment) is read as the markup it holds, so no comparison or format check can accept it:
    `1234<x:b>9999</x:b>5678` is never the KvK number 12345678, and a comment cannot truncate a value."""
    if el is None:
        return None
    if len(el) == 0:
        return el.text or ""
    return (el.text or "") + "".join(etree.tostring(child, encoding="unicode", with_tail=True) for child in el)


def text_of(el: etree._Element | None) -> str | None:
    """exact_text without surrounding whitespace: for names compared as a whole (Issuer, Audience, messages)."""
    text = exact_text(el)
    return None if text is None else text.strip()


def _issuer(el: etree._Element) -> str | None:
    return text_of(el.find(ns.q("saml", "Issuer")))


# --- the message itself ------------------------------------------------------------------------

def check_element(el, tag: str, *, check: str) -> Check:
    """The element is the expected SAML message, Version 2.0, with an ID."""
    expected = f"{tag} with Version 2.0 and an ID"
    if not isinstance(el, etree._Element):
        return _c(check, False, type(el).__name__, expected, "SAML core 3.2.2: a SAML protocol message")
    actual = f"{local_name(el)} Version={el.get('Version')!r} ID={el.get('ID')!r}"
    ok = el.tag == ns.q("samlp", tag) and el.get("Version") == "2.0" and bool(el.get("ID"))
    return _c(check, ok, actual, expected, "SAML core 3.2.2: ID and Version 2.0 are required")


def check_signature(el: etree._Element, hm: EntityMetadata, *, check: str, required: bool, what: str) -> Check:
    """Enveloped signature over `el` by a certificate from the broker's metadata (never the KeyInfo)."""
    rule = "eHerkenning signing: signed by the HM certificate in its metadata, rsa-sha256, one Reference to the element"
    expected = "a valid signature by the HM metadata certificate" + ("" if required else " (or none)")
    if dsig.signature_of(el) is None:
        if required:
            return _c(check, False, f"{what} is not signed", expected, rule)
        return _c(check, True, f"{what} is not signed (allowed here)", expected, rule)
    try:
        cert = dsig.verify(el, hm.signing_certs, where=what)
    except SamlError as exc:
        return _c(check, False, str(exc), expected, rule)
    return _c(check, True, f"signed by certificate {cert.key_name[:16]}…", expected, rule)


def check_issuer(el: etree._Element, hm_entity_id: str, *, check: str, what: str) -> Check:
    issuer = el.find(ns.q("saml", "Issuer"))
    fmt_attr = None if issuer is None else issuer.get("Format")
    ok = _issuer(el) == hm_entity_id and fmt_attr in (None, ns.NAMEID_ENTITY)
    actual = _issuer(el) if fmt_attr in (None, ns.NAMEID_ENTITY) else f"{_issuer(el)} (Format {fmt_attr})"
    return _c(check, ok, actual, hm_entity_id, f"SAML core 2.2.5 / eHerkenning: the {what} Issuer is the HM entity ID")


def check_destination(el: etree._Element, acs_url: str, *, required: bool) -> Check:
    got = el.get("Destination")
    ok = got == acs_url or (got is None and not required)
    expected = acs_url if required else f"{acs_url} (or absent inside an ArtifactResponse)"
    return _c("response_destination", ok, got, expected,
              "SAML core 3.2.2 / SAMLBind 3.5.5.2: Destination must be this DV's ACS URL")


def check_in_response_to(el: etree._Element, expected_ids: Container[str], *, check: str) -> Check:
    got = el.get("InResponseTo")
    ok = got is not None and got in expected_ids
    return _c(check, ok, got, "the ID of a request this DV sent and has not used yet",
              "SAML profiles 4.1.4.3: InResponseTo names an outstanding request of this DV (single use)")


def read_status(el: etree._Element) -> tuple[str | None, str | None, str | None]:
    """(top-level StatusCode, second-level StatusCode, StatusMessage)."""
    status = el.find(ns.q("samlp", "Status"))
    if status is None:
        return None, None, None
    top = status.find(ns.q("samlp", "StatusCode"))
    second = None if top is None else top.find(ns.q("samlp", "StatusCode"))
    message = text_of(status.find(ns.q("samlp", "StatusMessage")))
    return (None if top is None else top.get("Value"), None if second is None else second.get("Value"),
            message)


def check_status_without_assertion(response: etree._Element) -> Check:
    """A Response whose status is not Success carries no assertion: one that does is no broker's answer (and may be
    addressed to another DV), so it is refused as such, not shown as the broker's refusal."""
    top, _, _ = read_status(response)
    found = [local_name(a) for a in response.iter(ns.q("saml", "Assertion"), ns.q("saml", "EncryptedAssertion"))]
    ok = not top or top == ns.STATUS_SUCCESS or not found  # no status (code) at all: check_status says so
    actual = f"status {(top or 'none').rsplit(':', 1)[-1]} with {len(found)} assertion(s)"
    return _c("single_assertion", ok, actual, "no assertion in a Response whose status is not Success",
              "SAML core 3.3.3 / profiles 4.1.4.2: an error Response carries no assertion")


def check_status(el: etree._Element, *, check: str = "status") -> Check:
    top, second, message = read_status(el)
    actual = " / ".join(s.rsplit(":", 1)[-1] for s in (top, second) if s) or "no samlp:Status"
    if message:
        actual += f" ({message})"
    return _c(check, top == ns.STATUS_SUCCESS, actual, "Success",
              "SAML core 3.2.2.2 / eHerkenning errors: only a Success status carries a login")


# --- the assertion -----------------------------------------------------------------------------

def check_single_assertion(response: etree._Element, assertion: etree._Element | None, error: str | None, *,
                           allow_encrypted: bool = True) -> Check:
    """Exactly one Assertion or EncryptedAssertion directly in the Response, and no stray (encrypted) assertion
    elsewhere (in Extensions, a Signature's Object, a StatusDetail…). An EncryptedAssertion only if allowed."""
    kinds = (ns.q("saml", "Assertion"), ns.q("saml", "EncryptedAssertion"))
    plain = response.findall(kinds[0])
    encrypted = response.findall(kinds[1])
    # The assertion's own Advice is covered by its signature. Keep the elements (not their id()):
    # lxml makes a new proxy object per access once the old one is gone, so ids are not stable.
    allowed = plain + encrypted + [x for a in plain for x in a.iter(*kinds)]
    stray = [a for a in response.iter(*kinds) if not any(a is x for x in allowed)]
    actual = f"{len(plain)} Assertion, {len(encrypted)} EncryptedAssertion, {len(stray)} elsewhere"
    if encrypted and not allow_encrypted:
        error = "this DV takes no EncryptedAssertion"
    if error:
        actual += f": {error}"
    ok = len(plain) + len(encrypted) == 1 and not stray and assertion is not None and not (
        encrypted and not allow_encrypted)
    return _c("single_assertion", ok, actual, "exactly one (Encrypted)Assertion in the Response",
              "SAML profiles 4.1.4.2 / eHerkenning: exactly one assertion; no second assertion anywhere in the document")


def check_conditions_time(assertion: etree._Element, now: datetime, skew: timedelta) -> Check:
    rule = "SAML core 2.5.1.2: NotBefore <= now < NotOnOrAfter (with clock skew)"
    cond = assertion.find(ns.q("saml", "Conditions"))
    if cond is None:
        return _c("conditions_time", False, "no saml:Conditions", "a Conditions validity window", rule)
    try:
        # absent is allowed (SAML core 2.5.1.2); present but empty or malformed is not
        not_before = parse(cond.get("NotBefore"), where="Conditions@NotBefore") if "NotBefore" in cond.attrib else None
        not_after = parse(cond.get("NotOnOrAfter"), where="Conditions@NotOnOrAfter")
    except SamlError as exc:
        return _c("conditions_time", False, str(exc), "UTC timestamps with a Z suffix", rule)
    expected = f"{cond.get('NotBefore') or '(no NotBefore)'} <= now < {cond.get('NotOnOrAfter')}"
    ok = (not_before is None or now + skew >= not_before) and now - skew < not_after
    return _c("conditions_time", ok, f"now is {fmt(now)} (skew {skew.total_seconds():.0f}s)", expected, rule)


def check_audience(assertion: etree._Element, dv_entity_id: str) -> Check:
    restrictions = assertion.findall(f"{ns.q('saml', 'Conditions')}/{ns.q('saml', 'AudienceRestriction')}")
    audiences = [[text_of(a) for a in r.findall(ns.q("saml", "Audience"))] for r in restrictions]
    ok = bool(restrictions) and all(dv_entity_id in group for group in audiences)
    actual = [a for group in audiences for a in group] or "no AudienceRestriction"
    return _c("audience", ok, actual, dv_entity_id,
              "SAML core 2.5.1.4 / eHerkenning: Audience must be the DV entity ID")


def bearer_confirmation_data(assertion: etree._Element) -> etree._Element | None:
    for sc in assertion.findall(f"{ns.q('saml', 'Subject')}/{ns.q('saml', 'SubjectConfirmation')}"):
        if sc.get("Method") == ns.CM_BEARER:
            data = sc.find(ns.q("saml", "SubjectConfirmationData"))
            return data if data is not None else etree.Element(ns.q("saml", "SubjectConfirmationData"))
    return None


def check_confirmation_method(assertion: etree._Element) -> Check:
    methods = [sc.get("Method") for sc in
               assertion.findall(f"{ns.q('saml', 'Subject')}/{ns.q('saml', 'SubjectConfirmation')}")]
    return _c("subject_confirmation_method", ns.CM_BEARER in methods, methods or "no SubjectConfirmation",
              ns.CM_BEARER, "SAML profiles 4.1.4.2: a bearer SubjectConfirmation is required")


def check_confirmation_recipient(data: etree._Element, acs_url: str) -> Check:
    got = data.get("Recipient")
    return _c("subject_confirmation_recipient", got == acs_url, got, acs_url,
              "SAML profiles 4.1.4.2: SubjectConfirmationData Recipient must be this DV's ACS URL")


def check_confirmation_in_response_to(data: etree._Element, response_irt: str | None) -> Check:
    got = data.get("InResponseTo")
    return _c("subject_confirmation_in_response_to", got is not None and got == response_irt, got, response_irt,
              "SAML profiles 4.1.4.2: SubjectConfirmationData InResponseTo must be the request's ID")


def check_confirmation_expiry(data: etree._Element, now: datetime, skew: timedelta) -> Check:
    rule = "SAML profiles 4.1.4.2: SubjectConfirmationData NotOnOrAfter is required and not passed"
    try:
        not_after = parse(data.get("NotOnOrAfter"), where="SubjectConfirmationData@NotOnOrAfter")
    except SamlError as exc:
        return _c("subject_confirmation_expiry", False, str(exc), "a NotOnOrAfter in the future", rule)
    return _c("subject_confirmation_expiry", now - skew < not_after, f"now is {fmt(now)}",
              f"before {data.get('NotOnOrAfter')}", rule)


def check_level(assertion: etree._Element, min_level: Level | None) -> tuple[Check, Level | None]:
    """The AuthnContextClassRef is exactly a level's URN (no label, no short name, no whitespace), high enough."""
    rule = "eHerkenning LoA: AuthnContextClassRef is exactly urn:etoegang:core:assurance-class:loa…, at least the " \
           "level the service requires"
    statements = assertion.findall(ns.q("saml", "AuthnStatement"))
    refs = [exact_text(r) for s in statements
            for r in s.findall(f"{ns.q('saml', 'AuthnContext')}/{ns.q('saml', 'AuthnContextClassRef')}")]
    expected = f"at least {min_level.label} ({min_level.value})" if min_level else "a known eHerkenning level"
    if len(statements) != 1 or len(refs) != 1:
        return _c("authn_level", False, f"{len(statements)} AuthnStatement, {len(refs)} AuthnContextClassRef",
                  f"one AuthnStatement with {expected}", rule), None
    level = next((lv for lv in Level if lv.value == refs[0]), None)
    if level is None:
        return _c("authn_level", False, repr(refs[0]), expected, rule), None
    ok = min_level is None or level >= min_level
    return _c("authn_level", ok, level.label, expected, rule), level


def check_assertion_element(assertion: etree._Element) -> Check:
    """The assertion itself: Version 2.0, an ID and an IssueInstant (its time is issue_instant's)."""
    actual = (f"Version={assertion.get('Version')!r} ID={assertion.get('ID')!r} "
              f"IssueInstant={assertion.get('IssueInstant')!r}")
    ok = assertion.get("Version") == "2.0" and bool(assertion.get("ID")) and assertion.get("IssueInstant") is not None
    return _c("assertion_element", ok, actual, "Version 2.0, an ID and an IssueInstant",
              "SAML core 2.3.3: Version (2.0), ID and IssueInstant are required on an Assertion")


def check_name_id(assertion: etree._Element) -> Check:
    """One Subject with one transient NameID, with a value and the AD's NameQualifier (eherkenning-interface.md)."""
    rule = "eHerkenning / SAML core 2.2.2, 2.4.1: the Subject has one transient NameID with a NameQualifier (the AD)"
    subjects = assertion.findall(ns.q("saml", "Subject"))
    name_ids = [n for s in subjects for n in s.findall(ns.q("saml", "NameID"))]
    problems = []
    if len(subjects) != 1 or len(name_ids) != 1:
        problems.append(f"{len(subjects)} saml:Subject, {len(name_ids)} saml:NameID in it")
    else:
        nid = name_ids[0]
        value = exact_text(nid)
        if not value or value != value.strip() or len(nid):
            problems.append(f"NameID value {value!r}")
        if nid.get("Format") != ns.NAMEID_TRANSIENT:
            problems.append(f"Format {nid.get('Format')!r}")
        if not nid.get("NameQualifier"):
            problems.append(f"NameQualifier {nid.get('NameQualifier')!r}")
    return _c("subject_name_id", not problems, problems or "one transient NameID with a NameQualifier",
              f"one NameID, Format {ns.NAMEID_TRANSIENT}, a value and a NameQualifier", rule)


def own_attributes(assertion: etree._Element) -> list[etree._Element]:
    """The saml:Attribute elements of the assertion's own AttributeStatements (not those in Advice)."""
    return assertion.findall(f"{ns.q('saml', 'AttributeStatement')}/{ns.q('saml', 'Attribute')}")


def check_unique_attribute_names(assertion: etree._Element) -> Check:
    counts = Counter(a.get("Name") for a in own_attributes(assertion))
    repeated = sorted((n for n, k in counts.items() if k > 1), key=str)
    return _c("attribute_names_unique", not repeated, repeated or "no Name repeated", "no Name repeated",
              "eHerkenning: one saml:Attribute per Name; a repeated Name is refused")


# --- artifacts ---------------------------------------------------------------------------------

def check_artifact_source(artifact: str, hm: EntityMetadata) -> Check:
    """The SAMLart is a type 0x0004 artifact from this broker naming one of its resolution endpoints."""
    rule = "SAMLBind 3.6.4: SourceID = SHA-1(HM entity ID); EndpointIndex names an ArtifactResolutionService"
    expected = f"SourceID {bindings.source_id_of(hm.entity_id).hex()}, index in {[e.index for e in hm.artifact_resolution]}"
    try:
        art = bindings.Artifact.decode(artifact)
    except SamlError as exc:
        return _c("artifact_source", False, str(exc), expected, rule)
    ok = (art.source_id == bindings.source_id_of(hm.entity_id)
          and any(e.index == art.endpoint_index for e in hm.artifact_resolution))
    return _c("artifact_source", ok, f"SourceID {art.source_id.hex()}, index {art.endpoint_index}", expected, rule)


def check_has_response(artifact_response: etree._Element) -> tuple[Check, etree._Element | None]:
    inner = [c for c in artifact_response if isinstance(c.tag, str) and c.tag == ns.q("samlp", "Response")]
    ok = len(inner) == 1
    actual = "1 samlp:Response" if ok else (
        "no Response: artifact unknown or used" if not inner else f"{len(inner)} samlp:Response elements")
    return _c("artifact_response_has_response", ok, actual, "exactly one samlp:Response",
              "SAMLBind 3.6.6 / SAML core 3.5.2: an unknown or used artifact gives an empty ArtifactResponse"), (
        inner[0] if ok else None)


# --- times --------------------------------------------------------------------------------------

def check_issue_instant(el: etree._Element, now: datetime, skew: timedelta, max_age: timedelta, *, what: str) -> Check:
    """IssueInstant is a UTC time not in the future and not older than `max_age` (both with skew)."""
    rule = "SAML core 1.3.3 / 3.2.2: IssueInstant is the UTC time of issue; a message far off the DV's clock is refused"
    expected = f"between {fmt(now - max_age - skew)} and {fmt(now + skew)}"
    try:
        issued = parse(el.get("IssueInstant"), where=f"{what}@IssueInstant")
    except SamlError as exc:
        return _c("issue_instant", False, str(exc), expected, rule)
    ok = now - max_age - skew <= issued <= now + skew
    return _c("issue_instant", ok, f"{what} IssueInstant {el.get('IssueInstant')}", expected, rule)
