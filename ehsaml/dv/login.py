"""Validating a login answer as a careful DV does: the named checks of `ehsaml.dv.checks`, in order.

`validate_response` never raises on bad input: it returns a LoginResult whose `failure` is the
first failed Check (with its rule), and whose `checks` records every check made. A DV stops at the
first failure (the default); with `DvPolicy(collect_all=True)` every check that can still run is
made, and everything that can be read is read, so a tool can report every finding at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree

from .. import eherkenning as eh
from .. import ns
from ..checks import Check
from ..eherkenning import Level
from ..metadata import EntityMetadata
from ..timeutil import utcnow
from . import attributes as A
from . import checks as C
from . import read
from .policy import DvPolicy

Status = tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class LoginResult:
    """The outcome. Unless `ok`, never act on the fields: with collect_all they may come from unverified parts."""

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

    @property
    def failures(self) -> tuple[Check, ...]:
        """Every failed check (one in a DV's default mode, all that were found with collect_all)."""
        return tuple(c for c in self.checks if not c.passed)

    def explain(self) -> str:
        if self.ok:
            return "login accepted: every check passed"
        return self.failure.explain() if self.failure else "login refused"


class _Run:
    """Records checks. `ok(check)` says whether to go on: False at a failure (the caller stops there),
    unless the policy collects every finding. `ignore` (weakened test DVs only) turns a failure into a pass."""

    def __init__(self, prior: Iterable[Check] = (), *, ignore: Iterable[str] = (), collect_all: bool = False):
        self.checks: list[Check] = list(prior)
        self.ignore = frozenset(ignore)
        self.collect_all = collect_all

    def ok(self, check: Check) -> bool:
        if not check.passed and check.check in self.ignore:
            check = Check(check.check, True, f"IGNORED by a weakened DV: {check.actual}", check.expected, check.rule)
        self.checks.append(check)
        return check.passed or self.collect_all

    def all_ok(self, checks: Iterable[Check]) -> bool:
        """Each check in turn (a generator is stopped at the first failure unless collecting)."""
        return all([self.ok(c) for c in checks]) if self.collect_all else all(self.ok(c) for c in checks)

    def result(self, status: Status = (None, None, None), **found) -> LoginResult:
        failure = next((c for c in self.checks if not c.passed), None)
        return LoginResult(ok=failure is None, status=status, checks=tuple(self.checks), failure=failure, **found)


def validate_response(
    response_el: etree._Element,
    policy: DvPolicy,
    *,
    hm: EntityMetadata,
    outstanding: Mapping[str, str | None],
    now: datetime | None = None,
    in_artifact_response: bool = False,
    prior_checks: Iterable[Check] = (),
) -> LoginResult:
    """Check a samlp:Response as a careful DV does; read everything only from verified elements.

    `outstanding`: this DV's outstanding request IDs, each with the ServiceID its request asked for
    (None: any of the DV's own services). The Response signature is required unless the Response came
    inside an ArtifactResponse. The caller removes the used request ID (single use). `prior_checks`
    (e.g. of the ArtifactResponse) are kept in front.
    """
    run = _Run(prior_checks, ignore=policy.ignore_checks, collect_all=policy.collect_all)
    now = now or utcnow()
    skew = timedelta(seconds=policy.skew_seconds)
    r = response_el
    if not run.ok(C.check_element(r, "Response", check="response_element")) or not _is(r, "samlp", "Response"):
        return run.result()
    irt = r.get("InResponseTo")
    status = C.read_status(r)
    if not run.all_ok(_response_checks(r, policy, hm, outstanding, in_artifact_response)):
        return run.result(status, in_response_to=irt)

    assertion, error = read.the_assertion(r, policy.keypair)
    if not run.ok(C.check_single_assertion(r, assertion, error, allow_encrypted=policy.allow_encrypted_assertion)) \
            or assertion is None:
        return run.result(status, in_response_to=irt)
    found: dict = dict(read.subject(assertion), in_response_to=irt)
    # From here on, read only from the verified assertion element.
    if not run.all_ok(_assertion_checks(assertion, r, policy, hm, now, skew)):
        return run.result(status, **found)
    level_check, found["level"] = C.check_level(assertion, policy.min_level)
    if not run.ok(level_check) or not run.ok(C.check_unique_attribute_names(assertion)):
        return run.result(status, **found)

    attributes, identifiers, id_check, legal = read.read_attributes(assertion, policy.keypair)
    found.update(attributes=attributes, **identifiers)
    found.update({key: _first(attributes.get(name, [])) for key, name in _SINGLE_VALUES.items()})
    if not run.ok(id_check):
        return run.result(status, **found)
    run.all_ok(_attribute_checks(attributes, found, legal, policy, outstanding.get(irt) if irt else None))
    return run.result(status, **found)


_SINGLE_VALUES = {"service_id": eh.ATTR_SERVICE_ID, "service_uuid": eh.ATTR_SERVICE_UUID, "branch": eh.ATTR_BRANCH,
                  "intermediary_kvk": eh.ATTR_INTERMEDIATE_KVK, "intermediary_name": eh.ATTR_INTERMEDIATE_NAME,
                  "represented_name": eh.ATTR_REPRESENTED_NAME}


def _is(el, prefix: str, local: str) -> bool:
    return isinstance(el, etree._Element) and el.tag == ns.q(prefix, local)


def _response_checks(r, policy: DvPolicy, hm: EntityMetadata, outstanding, in_artifact_response: bool):
    """The Response itself, lazily (the caller stops at the first failure unless collecting)."""
    yield C.check_signature(r, hm, check="response_signature", required=not in_artifact_response,
                            what="samlp:Response")
    yield C.check_issuer(r, hm.entity_id, check="response_issuer", what="Response")
    yield C.check_destination(r, policy.acs_url, required=not in_artifact_response)
    yield C.check_in_response_to(r, outstanding, check="response_in_response_to")
    yield C.check_status_without_assertion(r)
    yield C.check_status(r)


def _assertion_checks(a, r, policy: DvPolicy, hm: EntityMetadata, now: datetime, skew: timedelta):
    yield C.check_signature(a, hm, check="assertion_signature", required=True, what="saml:Assertion")
    yield C.check_assertion_element(a)
    yield C.check_issuer(a, hm.entity_id, check="assertion_issuer", what="Assertion")
    yield C.check_name_id(a)
    yield C.check_conditions_time(a, now, skew)
    yield C.check_audience(a, policy.dv_entity_id)
    yield C.check_confirmation_method(a)
    data = C.bearer_confirmation_data(a)
    if data is not None:
        yield C.check_confirmation_recipient(data, policy.acs_url)
        yield C.check_confirmation_in_response_to(data, r.get("InResponseTo"))
        yield C.check_confirmation_expiry(data, now, skew)
    max_age = timedelta(seconds=policy.max_age_seconds)
    yield C.check_issue_instant(r, now, skew, max_age, what="Response")
    yield C.check_issue_instant(a, now, skew, max_age, what="Assertion")


def _attribute_checks(attributes: dict, found: dict, legal: list, policy: DvPolicy, requested: str | None):
    yield A.check_legal_subject(legal, allow_rsin_only=policy.allow_rsin_only)
    yield A.check_chain_mandate(attributes.get(eh.ATTR_INTERMEDIATE_KVK, []),
                                attributes.get(eh.ATTR_INTERMEDIATE_NAME, []), found.get("kvk"))
    service_ids = attributes.get(eh.ATTR_SERVICE_ID, [])
    yield A.check_own_value(service_ids, policy.own_service_ids, check="service_id", attribute=eh.ATTR_SERVICE_ID,
                            requested=requested)
    uuid_of = policy.service_uuid_of or {}
    yield A.check_own_value(attributes.get(eh.ATTR_SERVICE_UUID, []), policy.own_service_uuids, check="service_uuid",
                            attribute=eh.ATTR_SERVICE_UUID, requested=uuid_of.get(_first(service_ids) or ""))
    yield A.check_service_restriction(attributes.get(eh.ATTR_BRANCH, []), _first(service_ids),
                                      policy.branch_service_ids)
    yield A.check_identifier_formats(kvk=found.get("kvk"), rsin=found.get("rsin"), branch=found["branch"],
                                     intermediary_kvk=found["intermediary_kvk"])


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


# --- the artifact exchange ---------------------------------------------------------------------

@dataclass(frozen=True)
class ArtifactResult:
    ok: bool
    checks: tuple[Check, ...]
    response: etree._Element | None  # the inner samlp:Response: when all checks passed (or when collecting)
    failure: Check | None = None


def validate_artifact_response(
    env_or_el: etree._Element,
    *,
    hm: EntityMetadata,
    artifact_resolve_id: str,
    require_signature: bool = True,
    ignore_checks: Iterable[str] = (),
    collect_all: bool = False,
) -> ArtifactResult:
    """Check a samlp:ArtifactResponse (or the SOAP envelope holding it) and hand back its inner Response."""
    run = _Run(ignore=ignore_checks, collect_all=collect_all)
    el = env_or_el
    if _is(el, "soap", "Envelope"):
        body = el.find(ns.q("soap", "Body"))
        el = body[0] if body is not None and len(body) == 1 else None
    inner = None
    if run.ok(C.check_element(el, "ArtifactResponse", check="artifact_response_element")) and _is(
            el, "samlp", "ArtifactResponse") and run.all_ok(
            _artifact_checks(el, hm, artifact_resolve_id, require_signature)):
        has, inner = C.check_has_response(el)
        run.ok(has)
    result = run.result()
    return ArtifactResult(ok=result.ok, checks=result.checks, failure=result.failure,
                          response=inner if result.ok or collect_all else None)


def _artifact_checks(el, hm: EntityMetadata, resolve_id: str, require_signature: bool):
    """Lazily, so the caller stops at the first failure."""
    yield C.check_signature(el, hm, check="artifact_response_signature", required=require_signature,
                            what="samlp:ArtifactResponse")
    yield C.check_issuer(el, hm.entity_id, check="artifact_response_issuer", what="ArtifactResponse")
    yield C.check_in_response_to(el, {resolve_id}, check="artifact_response_in_response_to")
    yield C.check_status(el, check="artifact_response_status")


def validate_artifact_login(env_or_el: etree._Element, policy: DvPolicy, *, hm: EntityMetadata,
                            artifact_resolve_id: str, outstanding: Mapping[str, str | None],
                            now: datetime | None = None) -> LoginResult:
    """validate_artifact_response, then validate_response(in_artifact_response=True) on the inner Response.

    One LoginResult for both (with collect_all, the inner Response is checked even after the
    ArtifactResponse failed, when there is one).
    """
    art = validate_artifact_response(env_or_el, hm=hm, artifact_resolve_id=artifact_resolve_id,
                                     require_signature=policy.require_artifact_signature,
                                     ignore_checks=policy.ignore_checks, collect_all=policy.collect_all)
    if art.response is None:
        return LoginResult(ok=False, status=(None, None, None), checks=art.checks, failure=art.failure)
    return validate_response(art.response, policy, hm=hm, outstanding=outstanding, now=now,
                             in_artifact_response=True, prior_checks=art.checks)
