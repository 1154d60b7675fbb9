"""The decisions a broker makes: who logs in, for which organisation, at which level — or why not."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from ehsaml import ns
from ehsaml.eherkenning import ID_EIDAS, ID_KVK, ID_RSIN, Level, is_branch, is_kvk, is_rsin

from .authn import PendingLogin
from .registry import RegisteredDV
from .world import World

SECOND_LEVEL = {"AuthnFailed": ns.STATUS_AUTHN_FAILED, "RequestUnsupported": ns.STATUS_REQUEST_UNSUPPORTED,
                "UnknownPrincipal": ns.STATUS_UNKNOWN_PRINCIPAL}
TOP_LEVEL = {"Requester": ns.STATUS_REQUESTER, "Responder": ns.STATUS_RESPONDER}


@dataclass(frozen=True)
class Identity:
    """What the assertion says."""

    level: str  # Level name
    service_id: str
    pseudonym: str
    kvk: str | None = None
    rsin: str | None = None
    eidas: str | None = None
    represented_name: str | None = None
    branch: str | None = None
    intermediary_kvk: str | None = None
    intermediary_name: str | None = None
    person: str | None = None  # world id, for the journal only


@dataclass(frozen=True)
class Outcome:
    reason: str  # for the journal: the decision in words
    identity: Identity | None = None
    top: str = ns.STATUS_SUCCESS
    second: str | None = None
    message: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def cancelled() -> Outcome:
    msg = "The user cancelled the login at the broker / De gebruiker heeft het inloggen afgebroken."
    return Outcome(reason="cancelled by the user", top=ns.STATUS_RESPONDER, second=ns.STATUS_AUTHN_FAILED, message=msg)


def status_outcome(top: str, second: str | None, message: str | None, reason: str) -> Outcome:
    return Outcome(reason=reason, top=TOP_LEVEL[top], second=SECOND_LEVEL[second] if second else None, message=message)


def for_person(world: World, dv: RegisteredDV, pending: PendingLogin, person_id: str,
               choice: str | None = None, branch: str | None = None) -> Outcome:
    """A person of the world logs in; `choice` is a Representation key (or an organisation id or KvK)."""
    person = world.people[person_id]
    service = dv.service_by_id(pending.service_id)
    required = pending.level
    if person.level < required:
        msg = (f"The eHerkenning means of {person.name} is {person.level.label}; the service "
               f"'{service.name}' requires at least {required.label}. / Het inlogmiddel heeft niveau "
               f"{person.level.label}; voor deze dienst is minimaal {required.label} nodig.")
        return Outcome(reason=f"level {person.level.label} below required {required.label}",
                       top=ns.STATUS_RESPONDER, second=ns.STATUS_AUTHN_FAILED, message=msg)
    reps = world.representations(person_id, pending.service_id)
    if not reps:
        msg = (f"{person.name} has no mandate (machtiging) for the service '{service.name}'. The "
               f"machtigingenbeheerder must add this service to the means. / Er is geen machtiging voor "
               f"de dienst '{service.name}'.")
        return Outcome(reason=f"no mandate for service {service.service_id}",
                       top=ns.STATUS_RESPONDER, second=ns.STATUS_REQUEST_UNSUPPORTED, message=msg)
    if choice is None:
        rep = reps[0]
    else:
        rep = next((r for r in reps if choice in (r.key, r.organisation.id, r.organisation.kvk)), None)
        if rep is None:
            msg = (f"{person.name} has no mandate for service '{service.name}' on behalf of {choice!r}. / "
                   f"Geen machtiging voor deze dienst namens {choice!r}.")
            return Outcome(reason=f"no mandate for {choice!r} on {service.service_id}",
                           top=ns.STATUS_RESPONDER, second=ns.STATUS_REQUEST_UNSUPPORTED, message=msg)
    org = rep.organisation
    allowed = service.identifier_types
    ids = {ID_KVK: org.kvk if ID_KVK in allowed else None,
           ID_RSIN: org.rsin if ID_RSIN in allowed else None,
           ID_EIDAS: org.eidas if ID_EIDAS in allowed else None}
    if not any(ids.values()):
        kinds = "an eIDAS identifier" if org.eidas else "a KvK number/RSIN"
        msg = (f"{org.name} has {kinds}, which the service '{service.name}' does not accept (catalogue: "
               f"{', '.join(t.rsplit(':', 1)[-1] for t in allowed)}).")
        return Outcome(reason=f"identifier type of {org.id} not allowed by the catalogue",
                       top=ns.STATUS_RESPONDER, second=ns.STATUS_REQUEST_UNSUPPORTED, message=msg)
    chosen_branch = rep.branch.number if rep.branch else None
    if branch and not chosen_branch:
        if branch not in {b.number for b in org.branches}:
            return Outcome(reason=f"branch {branch} is not a branch of {org.id}", top=ns.STATUS_RESPONDER,
                           second=ns.STATUS_REQUEST_UNSUPPORTED, message=f"{branch} is not a branch of {org.name}.")
        chosen_branch = branch
    identity = Identity(
        level=person.level.name,
        service_id=service.service_id,
        pseudonym=world.pseudonym(person_id, dv.entity_id, org.id),
        kvk=ids[ID_KVK],
        rsin=ids[ID_RSIN],
        eidas=ids[ID_EIDAS],
        represented_name=org.name,
        branch=chosen_branch if service.branch_allowed else None,
        intermediary_kvk=rep.intermediary.kvk if rep.intermediary else None,
        intermediary_name=rep.intermediary.name if rep.intermediary else None,
        person=person_id,
    )
    via = f" via {rep.intermediary.name} (ketenmachtiging)" if rep.intermediary else ""
    return Outcome(reason=f"{person.name} logs in for {org.name}{via} at {person.level.label}", identity=identity)


def inline_identity(data: dict, dv: RegisteredDV, pending: PendingLogin) -> Outcome:
    """An identity given whole by a test: answered as given (already validated by `check_inline`)."""
    service_id = data.get("service_id") or pending.service_id
    org_key = data.get("kvk") or data.get("eidas") or data.get("rsin") or "inline"
    identity = Identity(
        level=Level.parse(data.get("level") or pending.required_level).name,
        service_id=service_id,
        pseudonym=data.get("pseudonym") or _inline_pseudonym(data.get("name", "inline"), dv.entity_id, org_key),
        kvk=data.get("kvk"),
        rsin=data.get("rsin"),
        eidas=data.get("eidas"),
        represented_name=data.get("represented_name"),
        branch=data.get("branch"),
        intermediary_kvk=data.get("intermediary_kvk"),
        intermediary_name=data.get("intermediary_name"),
    )
    return Outcome(reason="inline identity from the control API, answered as given", identity=identity)


def _inline_pseudonym(name: str, dv: str, org: str) -> str:
    """Same shape as the world's pseudonyms: <64 hex>@<32 hex>, stable per name, DV and organisation."""
    return (hashlib.sha256(f"inline|{name}|{dv}|{org}".encode()).hexdigest() + "@"
            + hashlib.sha256(dv.encode()).hexdigest()[:32])


INLINE_FIELDS = {"level", "service", "service_id", "kvk", "rsin", "eidas", "represented_name", "branch",
                 "intermediary_kvk", "intermediary_name", "pseudonym", "name"}


def check_inline(data: dict, world: World) -> dict:
    """Validate an inline identity from the control API; returns it normalised. Raises ValueError naming the field."""
    unknown = set(data) - INLINE_FIELDS
    if unknown:
        raise ValueError(f"identity: unknown field(s) {sorted(unknown)}; known: {sorted(INLINE_FIELDS)}")
    wrong = sorted(k for k, v in data.items() if v is not None and not isinstance(v, str))
    if wrong:
        raise ValueError(f"identity.{wrong[0]}: give a string, not {type(data[wrong[0]]).__name__}")
    out = dict(data)
    if "level" in out:
        try:
            out["level"] = Level.parse(str(out["level"])).label
        except ValueError as exc:
            raise ValueError(f"identity.level: {exc}") from None
    if "service" in out:
        alias = out.pop("service")
        out["service_id"] = world.services.get(alias, alias)
    checks = {"kvk": (is_kvk, "8 digits"), "intermediary_kvk": (is_kvk, "8 digits"),
              "rsin": (is_rsin, "9 digits passing the 11-test"), "branch": (is_branch, "12 digits")}
    for name, (ok, what) in checks.items():
        if name in out and out[name] is not None and not ok(str(out[name])):
            raise ValueError(f"identity.{name}: {out[name]!r} is not {what}")
    if not any(out.get(k) for k in ("kvk", "rsin", "eidas")):
        raise ValueError("identity: give at least one of kvk, rsin or eidas")
    return out
