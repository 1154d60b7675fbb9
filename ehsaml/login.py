"""Validating a login answer as a careful DV does: the named checks of `ehsaml.checks`, in order.

`validate_response` never raises on bad input: it returns a LoginResult whose `failure` is the
first failed Check (with its rule), and whose `checks` records every check made up to there.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree

from . import checks as C
from . import eherkenning as eh
from . import ns, xenc
from .checks import Check
from .errors import SamlError
from .eherkenning import Level
from .keys import KeyPair
from .metadata import EntityMetadata
from .timeutil import utcnow

Status = tuple[str | None, str | None, str | None]

# Where an identifier goes, by the NameQualifier of its NameID
_QUALIFIER_FIELD = {eh.ID_KVK: "kvk", eh.ID_RSIN: "rsin", eh.ID_EIDAS: "eidas", eh.ID_PSEUDO: "pseudonym"}
_IDENTIFIER_ATTRS = (eh.ATTR_LEGAL_SUBJECT, eh.ATTR_ACTING_SUBJECT)


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    status: Status
    checks: tuple[Check, ...]
    level: Level | None = None
    service_id: str | None = None
    service_uuid: str | None = None
    kvk: str | None = None
    rsin: str | None = None
    eidas: str | None = None
    pseudonym: str | None = None
    branch: str | None = None
    intermediary_kvk: str | None = None
    intermediary_name: str | None = None
    represented_name: str | None = None
    in_response_to: str | None = None
    name_id: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    failure: Check | None = None
    session_index: str | None = None  # for a LogoutRequest
    name_id_qualifier: str | None = None  # the AD entity ID, for a LogoutRequest

    def explain(self) -> str:
        if self.ok:
            return "login accepted: every check passed"
        return self.failure.explain() if self.failure else "login refused"


class _Run:
    """Records checks; `ok(check)` is False once one fails (the caller stops there).

    `ignore` names checks a deliberately weakened DV lets pass (only to test the tools that test DVs).
    """

    def __init__(self, prior: Iterable[Check] = (), ignore: Iterable[str] = ()):
        self.checks: list[Check] = list(prior)
        self.ignore = frozenset(ignore)

    def ok(self, check: Check) -> bool:
        if not check.passed and check.check in self.ignore:
            check = Check(check.check, True, f"IGNORED by a weakened DV: {check.actual}", check.expected, check.rule)
        self.checks.append(check)
        return check.passed

    def result(self, status: Status = (None, None, None), **found) -> LoginResult:
        failure = next((c for c in self.checks if not c.passed), None)
        return LoginResult(ok=failure is None, status=status, checks=tuple(self.checks), failure=failure, **found)


def validate_response(
    response_el: etree._Element,
    *,
    dv_entity_id: str,
    dv_keypair: KeyPair,
    hm: EntityMetadata,
    acs_url: str,
    expected_request_ids: Container[str],
    now: datetime | None = None,
    skew_seconds: float = 60,
    min_level: Level | None = None,
    own_service_ids: Iterable[str] | None = None,
    own_service_uuids: Iterable[str] | None = None,
    in_artifact_response: bool = False,
    require_response_signature: bool | None = None,
    prior_checks: Iterable[Check] = (),
    max_age_seconds: float = 600,
    allow_rsin_only: bool = False,
    branch_service_ids: Iterable[str] | None = None,
    ignore_checks: Iterable[str] = (),
) -> LoginResult:
    """Check a samlp:Response as a careful DV does; read everything only from verified elements.

    The Response signature is required unless the Response came inside an ArtifactResponse (or
    `require_response_signature=False`). The caller removes the used request ID from
    `expected_request_ids` (single use). `prior_checks` (e.g. of the ArtifactResponse) are kept in front.
    `max_age_seconds` bounds how old an IssueInstant may be; `allow_rsin_only` accepts a LegalSubjectID
    of an RSIN alone; `branch_service_ids` are the services whose catalogue entry allows a Vestigingsnr
    (None: not checked). `ignore_checks` switches named checks off: only for deliberately weakened test DVs.
    """
    run = _Run(prior_checks, ignore_checks)
    now = now or utcnow()
    skew = timedelta(seconds=skew_seconds)
    if require_response_signature is None:
        require_response_signature = not in_artifact_response
    r = response_el
    if not run.ok(C.check_element(r, "Response", check="response_element")):
        return run.result()
    if not run.ok(C.check_signature(r, hm, check="response_signature", required=require_response_signature,
                                    what="samlp:Response")):
        return run.result()
    irt = r.get("InResponseTo")
    for check in (
        C.check_issuer(r, hm.entity_id, check="response_issuer", what="Response"),
        C.check_destination(r, acs_url, required=not in_artifact_response),
        C.check_in_response_to(r, expected_request_ids, check="response_in_response_to"),
    ):
        if not run.ok(check):
            return run.result(in_response_to=irt)
    status = C.read_status(r)
    if not run.ok(C.check_status(r)):
        return run.result(status, in_response_to=irt)

    assertion, error = _the_assertion(r, dv_keypair)
    if not run.ok(C.check_single_assertion(r, assertion, error)):
        return run.result(status, in_response_to=irt)
    # From here on, read only from the verified assertion element.
    if not run.ok(C.check_signature(assertion, hm, check="assertion_signature", required=True, what="saml:Assertion")):
        return run.result(status, in_response_to=irt)
    for check in (
        C.check_issuer(assertion, hm.entity_id, check="assertion_issuer", what="Assertion"),
        C.check_conditions_time(assertion, now, skew),
        C.check_audience(assertion, dv_entity_id),
        C.check_confirmation_method(assertion),
    ):
        if not run.ok(check):
            return run.result(status, in_response_to=irt)
    data = C.bearer_confirmation_data(assertion)
    for check in (
        C.check_confirmation_recipient(data, acs_url),
        C.check_confirmation_in_response_to(data, irt),
        C.check_confirmation_expiry(data, now, skew),
        C.check_issue_instant(r, now, skew, timedelta(seconds=max_age_seconds), what="Response"),
        C.check_issue_instant(assertion, now, skew, timedelta(seconds=max_age_seconds), what="Assertion"),
    ):
        if not run.ok(check):
            return run.result(status, in_response_to=irt)
    level_check, level = C.check_level(assertion, min_level)
    if not run.ok(level_check) or not run.ok(C.check_unique_attribute_names(assertion)):
        return run.result(status, in_response_to=irt, level=level)

    attributes, identifiers, id_check, legal = _read_attributes(assertion, dv_keypair)
    found = dict(_subject(assertion), in_response_to=irt, level=level, attributes=attributes, **identifiers)
    if not run.ok(id_check):
        return run.result(status, **found)
    if not run.ok(C.check_legal_subject(legal, allow_rsin_only=allow_rsin_only)) or not run.ok(
            C.check_chain_mandate(attributes.get(eh.ATTR_INTERMEDIATE_KVK, []),
                                  attributes.get(eh.ATTR_INTERMEDIATE_NAME, []), identifiers.get("kvk"))):
        return run.result(status, **found)
    service_ids = attributes.get(eh.ATTR_SERVICE_ID, [])
    service_uuids = attributes.get(eh.ATTR_SERVICE_UUID, [])
    found.update(service_id=_first(service_ids), service_uuid=_first(service_uuids),
                 branch=_first(attributes.get(eh.ATTR_BRANCH, [])),
                 intermediary_kvk=_first(attributes.get(eh.ATTR_INTERMEDIATE_KVK, [])),
                 intermediary_name=_first(attributes.get(eh.ATTR_INTERMEDIATE_NAME, [])),
                 represented_name=_first(attributes.get(eh.ATTR_REPRESENTED_NAME, [])))
    for check in (
        C.check_own_value(service_ids, own_service_ids, check="service_id", attribute=eh.ATTR_SERVICE_ID),
        C.check_own_value(service_uuids, own_service_uuids, check="service_uuid", attribute=eh.ATTR_SERVICE_UUID),
        C.check_service_restriction(attributes.get(eh.ATTR_BRANCH, []), _first(service_ids), branch_service_ids),
        C.check_identifier_formats(kvk=found.get("kvk"), rsin=found.get("rsin"), branch=found["branch"],
                                   intermediary_kvk=found["intermediary_kvk"]),
    ):
        if not run.ok(check):
            break
    return run.result(status, **found)


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _the_assertion(response: etree._Element, keypair: KeyPair) -> tuple[etree._Element | None, str | None]:
    """The one assertion (decrypted if it came encrypted), or None with the reason."""
    plain = response.findall(ns.q("saml", "Assertion"))
    encrypted = response.findall(ns.q("saml", "EncryptedAssertion"))
    if len(plain) + len(encrypted) != 1:
        return None, None
    if plain:
        return plain[0], None
    try:
        assertion = xenc.decrypt(encrypted[0], keypair, where="saml:EncryptedAssertion")
    except SamlError as exc:
        return None, str(exc)
    if assertion.tag != ns.q("saml", "Assertion"):
        return None, f"EncryptedAssertion holds {etree.QName(assertion).localname}, not saml:Assertion"
    return assertion, None


def _subject(assertion: etree._Element) -> dict:
    name_id = assertion.find(f"{ns.q('saml', 'Subject')}/{ns.q('saml', 'NameID')}")
    statement = assertion.find(ns.q("saml", "AuthnStatement"))
    return {
        "name_id": C.text_of(name_id),
        "name_id_qualifier": None if name_id is None else name_id.get("NameQualifier"),
        "session_index": None if statement is None else statement.get("SessionIndex"),
    }


def _read_attributes(assertion: etree._Element, keypair: KeyPair) -> tuple[dict[str, list[str]], dict, Check, list]:
    """All attribute values (EncryptedIDs decrypted), the identifiers switched on NameQualifier (the
    first of each type), and every (type, value) of the LegalSubjectID."""
    attributes: dict[str, list[str]] = {}
    identifiers: dict[str, str] = {}
    legal: list[tuple[str, str]] = []
    problems: list[str] = []
    count = 0
    for attr in C.own_attributes(assertion):
        name = attr.get("Name") or ""
        values = attributes.setdefault(name, [])
        for value_el in attr.findall(ns.q("saml", "AttributeValue")):
            try:
                text, qualifier = _value(value_el, keypair, where=f"Attribute {name}")
            except SamlError as exc:
                problems.append(str(exc))
                continue
            values.append(text)
            if qualifier is not None:
                count += 1
            if name in _IDENTIFIER_ATTRS:
                slot = _QUALIFIER_FIELD.get(qualifier or "")
                if slot is None or (name == eh.ATTR_ACTING_SUBJECT) != (slot == "pseudonym"):
                    problems.append(f"{name} value with NameQualifier {qualifier!r}")
                else:
                    if name == eh.ATTR_LEGAL_SUBJECT:
                        legal.append((slot, text))
                    if name == eh.ATTR_ACTING_SUBJECT or slot not in identifiers:
                        identifiers[slot] = text
    check = Check(
        check="identifiers_decrypted",
        passed=not problems,
        actual=problems or f"{count} identifier(s) read",
        expected="every EncryptedID decrypts to a NameID whose NameQualifier is KvKnr, RSIN, eIDAS or Pseudo",
        rule="eHerkenning encryption: identifiers come as EncryptedID to the DV key; switch on NameQualifier",
    )
    return attributes, identifiers, check, legal


def _value(value_el: etree._Element, keypair: KeyPair, *, where: str) -> tuple[str, str | None]:
    """(text, NameQualifier) of one AttributeValue: plain text, a NameID, or an EncryptedID."""
    encrypted = value_el.find(ns.q("saml", "EncryptedID"))
    name_id = value_el.find(ns.q("saml", "NameID"))
    if encrypted is not None:
        name_id = xenc.decrypt(encrypted, keypair, where=f"{where}: EncryptedID")
        if name_id.tag != ns.q("saml", "NameID"):
            raise SamlError(f"decrypted to {etree.QName(name_id).localname}, not saml:NameID", where=where)
    if name_id is not None:
        return C.text_of(name_id), name_id.get("NameQualifier")
    return C.text_of(value_el), None


# --- the artifact exchange ---------------------------------------------------------------------

@dataclass(frozen=True)
class ArtifactResult:
    ok: bool
    checks: tuple[Check, ...]
    response: etree._Element | None  # the inner samlp:Response, when there is one and all checks passed
    failure: Check | None = None


def validate_artifact_response(
    env_or_el: etree._Element,
    *,
    hm: EntityMetadata,
    artifact_resolve_id: str,
    require_signature: bool = False,
) -> ArtifactResult:
    """Check a samlp:ArtifactResponse (or the SOAP envelope holding it) and hand back its inner Response."""
    run = _Run()
    el = env_or_el
    if isinstance(el, etree._Element) and el.tag == ns.q("soap", "Envelope"):
        body = el.find(ns.q("soap", "Body"))
        el = body[0] if body is not None and len(body) == 1 else None
    inner = None
    if run.ok(C.check_element(el, "ArtifactResponse", check="artifact_response_element")) and all(
        run.ok(check) for check in _artifact_checks(el, hm, artifact_resolve_id, require_signature)
    ):
        has, inner = C.check_has_response(el)
        run.ok(has)
    result = run.result()
    return ArtifactResult(ok=result.ok, checks=result.checks, response=inner if result.ok else None,
                          failure=result.failure)


def _artifact_checks(el, hm: EntityMetadata, resolve_id: str, require_signature: bool):
    """Lazily, so the caller stops at the first failure."""
    yield C.check_signature(el, hm, check="artifact_response_signature", required=require_signature,
                            what="samlp:ArtifactResponse")
    yield C.check_issuer(el, hm.entity_id, check="artifact_response_issuer", what="ArtifactResponse")
    yield C.check_in_response_to(el, {resolve_id}, check="artifact_response_in_response_to")
    yield C.check_status(el, check="artifact_response_status")


def validate_artifact_login(env_or_el: etree._Element, *, artifact_resolve_id: str, hm: EntityMetadata,
                            require_artifact_signature: bool = False, **response_kwargs) -> LoginResult:
    """validate_artifact_response, then validate_response(in_artifact_response=True) on the inner Response.

    One LoginResult for both; `response_kwargs` are those of validate_response (dv_entity_id, …).
    """
    art = validate_artifact_response(env_or_el, hm=hm, artifact_resolve_id=artifact_resolve_id,
                                     require_signature=require_artifact_signature)
    if not art.ok:
        return LoginResult(ok=False, status=(None, None, None), checks=art.checks, failure=art.failure)
    return validate_response(art.response, hm=hm, in_artifact_response=True, prior_checks=art.checks,
                             **response_kwargs)
