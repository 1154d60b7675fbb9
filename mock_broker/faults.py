"""The fault catalogue: deliberately broken or forged answers a careful DV must refuse.

Each case is data (`fault_catalogue/*.yaml`, checked against `faults_schema.json` on load): an id, a
family, a one-line title, the rule it breaks, a named mutation with its params, and what a careful
DV must do (`expect`). The mutations are small functions registered by name in `mutations.py`; they
act in one of three phases of the answer:

- `response`: on the lxml tree of the correct samlp:Response (re-signing with the broker key where
  the attack needs a valid signature elsewhere);
- `artifact`: on the SAMLart sent to the ACS;
- `resolve`: on the ArtifactResolutionService's answer to the ArtifactResolve (the fault's id is
  kept with the stored artifact record).
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ehsaml.datafile import DataFileError, read_yaml, schema_validator

CATALOGUE_DIR = Path(__file__).with_name("fault_catalogue")
_VALIDATOR = schema_validator(Path(__file__).with_name("faults_schema.json"))
FAMILIES = ("signature", "protocol", "eherkenning", "artifact")
DEFAULT_BASE = {"person": "anna-de-vries", "organisation": "bakkerij-de-vries"}

# The named checks of a careful DV (ehsaml.checks / ehsaml.login, and the DV's own artifact handling).
DV_CHECKS = frozenset({
    "response_element", "response_signature", "response_issuer", "response_destination", "response_in_response_to",
    "status", "single_assertion", "assertion_signature", "assertion_issuer", "conditions_time", "audience",
    "subject_confirmation_method", "subject_confirmation_recipient", "subject_confirmation_in_response_to",
    "subject_confirmation_expiry", "issue_instant", "authn_level", "attribute_names_unique", "identifiers_decrypted",
    "legal_subject", "chain_mandate", "service_restriction", "service_id", "service_uuid", "identifier_formats",
    "artifact_source", "artifact_resolution", "artifact_response_element", "artifact_response_signature",
    "artifact_response_issuer", "artifact_response_in_response_to", "artifact_response_status",
    "artifact_response_has_response",
})


class NotApplicable(Exception):
    """The fault cannot be made from this base answer (no assertion, no KvK, no earlier login…)."""


class Phase(enum.Enum):
    RESPONSE = "response"
    ARTIFACT = "artifact"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Mutation:
    name: str
    phase: Phase
    fn: Callable[..., Any]
    doc: str


REGISTRY: dict[str, Mutation] = {}


def mutation(name: str, phase: Phase = Phase.RESPONSE):
    """Register `fn(ctx, **params)` under `name`; the catalogue refers to it by this name only."""
    def register(fn):
        if name in REGISTRY:
            raise ValueError(f"mutation {name!r} registered twice")
        REGISTRY[name] = Mutation(name, phase, fn, (fn.__doc__ or "").strip().splitlines()[0])
        return fn
    return register


@dataclass(frozen=True)
class Expect:
    refused: bool = True
    session: bool = False
    check: str | None = None  # the DV check that must fail first
    note: str | None = None


@dataclass(frozen=True)
class FaultCase:
    id: str
    family: str
    title: str
    rule: str
    mutation: str
    params: dict = field(default_factory=dict)
    expect: Expect = field(default_factory=Expect)
    binding: str = "artifact"  # the answer binding the case needs: artifact or post
    base: dict | None = None  # the correct answer mutated: person/organisation or identity
    setup: str | None = None  # "earlier-login": the same DV session logs in once first
    source: str = ""

    @property
    def phase(self) -> Phase:
        return REGISTRY[self.mutation].phase

    def to_json(self) -> dict:
        return {"id": self.id, "family": self.family, "title": self.title, "rule": self.rule,
                "mutation": self.mutation, "params": self.params, "binding": self.binding,
                "base": self.base or DEFAULT_BASE, "setup": self.setup, "phase": self.phase.value,
                "expect": {k: v for k, v in self.expect.__dict__.items() if v is not None}}


class CatalogueError(DataFileError):
    """A catalogue file that cannot be used; names the file, line, case and field."""


def load_catalogue(directory: Path | str = CATALOGUE_DIR) -> dict[str, FaultCase]:
    """Every case of every *.yaml file in `directory`, checked; ids are unique across files."""
    from . import mutations  # noqa: F401  (registers the mutations)

    cases: dict[str, FaultCase] = {}
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise CatalogueError("no *.yaml catalogue files", file=str(directory))
    for path in files:
        for case in _load_file(path):
            if case.id in cases:
                raise CatalogueError(f"duplicate id {case.id!r} (also in {cases[case.id].source})", file=str(path),
                                     entry=f"case {case.id}", field="id")
            cases[case.id] = case
    return cases


def _load_file(path: Path) -> list[FaultCase]:
    f = read_yaml(path, what="fault catalogue file", error_class=CatalogueError)
    source, data, error = f.source, f.data, f.error
    if not isinstance(data, dict):
        raise CatalogueError("a catalogue file is a mapping with version and cases", file=source, line=1)
    f.check_schema(_VALIDATOR)
    out = []
    for i, item in enumerate(data["cases"]):
        if item["mutation"] not in REGISTRY:
            raise error(("cases", i, "mutation"), f"no mutation named {item['mutation']!r} "
                                                  f"(known: {', '.join(sorted(REGISTRY))})")
        fn = REGISTRY[item["mutation"]].fn
        try:
            inspect.signature(fn).bind(None, **item.get("params", {}))
        except TypeError as exc:
            raise error(("cases", i, "params"), f"params do not fit mutation {item['mutation']!r}: {exc}") from None
        expect = Expect(**item.get("expect", {}))
        if expect.check is not None and expect.check not in DV_CHECKS:
            raise error(("cases", i, "expect", "check"), f"{expect.check!r} is no DV check name")
        out.append(FaultCase(**{**item, "expect": expect, "params": item.get("params", {}), "source": source}))
    return out


# --- applying a fault ------------------------------------------------------------------------------

@dataclass
class FaultContext:
    """What a mutation may use: the broker, the DV, the pending login, the outcome and the element at hand."""

    broker: Any
    case: FaultCase
    dv: Any = None
    pending: Any = None
    outcome: Any = None
    response: Any = None  # samlp:Response (phase response)
    artifact: str | None = None  # SAMLart (phase artifact)
    artifact_response: Any = None  # samlp:ArtifactResponse (phase resolve)
    response_signed: bool = False

    @property
    def keypair(self):
        return self.broker.keypair

    @property
    def params(self) -> dict:
        return self.case.params


@functools.cache
def catalogue() -> dict[str, FaultCase]:
    """The built-in catalogue, loaded once per process."""
    return load_catalogue()


def case_of(broker, fault_id: str) -> FaultCase:
    return catalogue()[fault_id]


def build_response(broker, fault_id: str, *, dv, pending, outcome):
    """The correct Response for `outcome`, then the fault's response mutation (if it has one)."""
    from . import mutations
    from .response import build_response as build_correct

    case = case_of(broker, fault_id)
    # Mutations work on a plain assertion; the DV's EncryptedAssertion switch is applied after them.
    plain_dv = replace(dv, options=replace(dv.options, encrypt_assertion=False))
    response = build_correct(settings=broker.settings, keypair=broker.keypair, dv=plain_dv, pending=pending,
                             outcome=outcome)
    if case.phase is Phase.RESPONSE and outcome.identity is None:
        broker.log("fault", reason=f"fault {case.id} not applied: the base answer is a refusal "
                                   f"({outcome.reason}), not a login", fault=case.id)
        return build_correct(settings=broker.settings, keypair=broker.keypair, dv=dv, pending=pending,
                             outcome=outcome)
    if case.phase is not Phase.RESPONSE:
        return mutations.encrypt_assertions(response, broker, dv) if dv.options.encrypt_assertion else response
    ctx = FaultContext(broker=broker, case=case, dv=dv, pending=pending, outcome=outcome, response=response,
                       response_signed=dv.options.sign_response)
    try:
        response = REGISTRY[case.mutation].fn(ctx, **case.params)
    except NotApplicable as exc:  # answered correctly instead, and the journal says why
        broker.log("fault", reason=f"fault {case.id} not applied: {exc}", fault=case.id)
        response = build_correct(settings=broker.settings, keypair=broker.keypair, dv=plain_dv, pending=pending,
                                 outcome=outcome)
    if dv.options.encrypt_assertion:
        response = mutations.encrypt_assertions(response, broker, dv)
    return response


def artifact_to_send(broker, fault_id: str | None, *, dv, artifact: str) -> str:
    """The SAMLart the ACS gets: the real one, or the fault's (unknown, replayed, wrong SourceID…)."""
    if not fault_id or case_of(broker, fault_id).phase is not Phase.ARTIFACT:
        return artifact
    case = case_of(broker, fault_id)
    return REGISTRY[case.mutation].fn(FaultContext(broker=broker, case=case, dv=dv, artifact=artifact), **case.params)


def resolve_answer(broker, fault_id: str | None, artifact_response):
    """The ArtifactResponse to send, or a whole Flask Response (an HTTP error, a wrong body), for a resolve fault."""
    if not fault_id or case_of(broker, fault_id).phase is not Phase.RESOLVE:
        return artifact_response
    case = case_of(broker, fault_id)
    broker.log("fault", reason=f"fault {case.id} applied to the ArtifactResponse: {case.title}", fault=case.id)
    ctx = FaultContext(broker=broker, case=case, artifact_response=artifact_response)
    return REGISTRY[case.mutation].fn(ctx, **case.params)


def remember_answer(broker, *, dv: str, request_id: str, response_xml: str, artifact: str | None) -> None:
    """Keep the last answer per DV: the replay faults send it again."""
    broker.store.put("last-answer", dv, {"request_id": request_id, "xml": response_xml, "artifact": artifact},
                     broker.settings.pending_ttl_seconds)


def last_answer(broker, dv: str) -> dict | None:
    return broker.store.get("last-answer", dv)
