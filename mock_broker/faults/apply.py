"""Applying a fault case to an answer, in the phase its mutation acts in.

- `response`: on the lxml tree of the correct samlp:Response, built once (re-signing with the broker key
  where the attack needs a valid signature elsewhere);
- `artifact`: on the SAMLart sent to the ACS;
- `resolve`: on the ArtifactResolutionService's answer (the fault's id is kept with the stored artifact).

A fault is applied only to a login: when the broker's own decision is a refusal (no mandate, level too
low…), or the mutation finds nothing to act on, the answer goes out correct and `Applied.applied` is
False with the reason, so the journal and the harness never count a broker refusal as the DV's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lxml import etree

from ehsaml import ns

from ..response import build_response as build_correct
from .catalogue import case_of
from .mutations import encrypt_assertions
from .registry import REGISTRY, FaultContext, NotApplicable, Phase, RawDocument


@dataclass(frozen=True)
class Applied:
    response: etree._Element
    applied: bool
    reason: str  # one line for the journal: what was done, or why not
    raw: bytes | None = None  # the exact bytes to send instead of the serialised response (HTTP-POST only)


def build_response(broker, fault_id: str, *, dv, pending, outcome) -> Applied:
    """The answer for `outcome` with the fault `fault_id` applied (response phase) or armed (later phases)."""
    case = case_of(fault_id)
    if outcome.identity is None:
        response = build_correct(settings=broker.settings, keypair=broker.keypair, dv=dv, pending=pending,
                                 outcome=outcome)
        return Applied(response, False, f"fault {case.id} not applied: the broker's own answer is a refusal "
                                        f"({outcome.reason}), not a login the DV could be fooled by")
    if case.phase is not Phase.RESPONSE:
        response = build_correct(settings=broker.settings, keypair=broker.keypair, dv=dv, pending=pending,
                                 outcome=outcome)
        return Applied(response, True, f"fault {case.id} ({case.phase.value} phase) armed: {case.title}")
    # Mutations work on a plain assertion; the DV's EncryptedAssertion switch is applied after them.
    plain_dv = replace(dv, options=replace(dv.options, encrypt_assertion=False))
    response = build_correct(settings=broker.settings, keypair=broker.keypair, dv=plain_dv, pending=pending,
                             outcome=outcome)
    ctx = FaultContext(broker=broker, case=case, dv=dv, pending=pending, outcome=outcome, response=response,
                       response_signed=dv.options.sign_response)
    raw = None
    try:
        response = REGISTRY[case.mutation].fn(ctx, **case.params)
        if isinstance(response, RawDocument):
            if pending.binding != ns.BINDING_POST:
                raise NotApplicable("these bytes can only go by HTTP-POST (no ArtifactResponse can hold them)")
            response, raw = response.element, response.data
        applied, reason = True, f"fault {case.id} applied to the Response: {case.title}"
    except NotApplicable as exc:  # a mutation may have half-changed the tree: answer with a fresh, correct one
        response = build_correct(settings=broker.settings, keypair=broker.keypair, dv=plain_dv, pending=pending,
                                 outcome=outcome)
        applied, reason = False, f"fault {case.id} not applied: {exc}"
    if dv.options.encrypt_assertion and raw is None:
        response = encrypt_assertions(response, broker, dv)
    return Applied(response, applied, reason, raw if applied else None)


def artifact_to_send(broker, fault_id: str | None, *, dv, artifact: str) -> str:
    """The SAMLart the ACS gets: the real one, or the fault's (unknown, replayed, wrong SourceID…)."""
    if not fault_id or case_of(fault_id).phase is not Phase.ARTIFACT:
        return artifact
    case = case_of(fault_id)
    return REGISTRY[case.mutation].fn(FaultContext(broker=broker, case=case, dv=dv, artifact=artifact), **case.params)


def resolve_answer(broker, fault_id: str | None, artifact_response):
    """The ArtifactResponse to send, or a whole Flask Response (an HTTP error, a wrong body), for a resolve fault."""
    if not fault_id or case_of(fault_id).phase is not Phase.RESOLVE:
        return artifact_response
    case = case_of(fault_id)
    ctx = FaultContext(broker=broker, case=case, artifact_response=artifact_response)
    return REGISTRY[case.mutation].fn(ctx, **case.params)
