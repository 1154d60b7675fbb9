"""ArtifactResolutionService: SOAP 1.1, signed ArtifactResolve in, signed ArtifactResponse out."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ehsaml import bindings, dsig, ns
from ehsaml.errors import MalformedInput, SignatureInvalid
from ehsaml.xml import local_name, parse_own, parse_xml, tostring

from .. import faults
from ..broker import get_broker
from ..response import build_artifact_response

bp = Blueprint("artifact", __name__)


def _fault(message: str, status: int = 400) -> Response:
    # SOAP 1.1 puts faults on HTTP 500; input errors here get 400 so no client mistakes them for a crash.
    return Response(tostring(bindings.soap_fault(message)), status=status, mimetype="text/xml")


@bp.route("/saml/artifact", methods=["POST"])
def resolve():
    broker = get_broker()
    content_type = (request.mimetype or "").lower()
    if content_type not in bindings.SOAP_CONTENT_TYPES:
        broker.log("refused", reason=f"ArtifactResolve with Content-Type {content_type!r}")
        return _fault(f"Content-Type {content_type or 'missing'!r}: send text/xml or application/soap+xml", 415)
    try:
        envelope = parse_xml(request.get_data(cache=False), what="SOAP envelope")
        resolve_el = bindings.soap_body(envelope, what="SOAP envelope")
    except MalformedInput as exc:
        broker.log("refused", reason=f"ArtifactResolve unreadable: {exc}")
        return _fault(str(exc))
    if resolve_el.tag != ns.q("samlp", "ArtifactResolve"):
        broker.log("refused", reason=f"SOAP body holds {local_name(resolve_el)}, not ArtifactResolve")
        return _fault(f"expected samlp:ArtifactResolve, got {local_name(resolve_el)}")
    issuer = (resolve_el.findtext(ns.q("saml", "Issuer")) or "").strip()
    dv = broker.registry.get(issuer)
    if dv is None:
        broker.log("refused", reason=f"ArtifactResolve from unknown DV {issuer!r}", message=resolve_el)
        return _fault(f"unknown DV {issuer!r}: no metadata registered", 403)
    try:
        dsig.verify(resolve_el, dv.metadata.signing_certs, where="ArtifactResolve/ds:Signature")
    except SignatureInvalid as exc:
        broker.log("refused", reason=str(exc), dv=dv.entity_id, message=resolve_el)
        return _fault(str(exc), 403)
    broker.log("received", reason="ArtifactResolve", dv=dv.entity_id, message=resolve_el, binding=ns.BINDING_SOAP)
    inner, reason, fault = _take(broker, dv.entity_id, resolve_el)
    answer = build_artifact_response(settings=broker.settings, keypair=broker.keypair,
                                     in_response_to=resolve_el.get("ID") or "", inner=inner)
    if fault and faults.case_of(fault).waits:
        broker.flush_journal()  # the DV gives up before this answer ends: what it sent is in the journal now
    answer = faults.resolve_answer(broker, fault, answer)  # a catalogue fault kept with the artifact, if any
    if fault and faults.case_of(fault).phase is faults.Phase.RESOLVE:
        broker.log("fault", reason=f"fault {fault} applied to the ArtifactResponse: {faults.case_of(fault).title}",
                   dv=dv.entity_id, fault=fault, fault_applied=True, phase="resolve")
    applied = True if fault else None  # the Response resolved here carries the fault made at answer time
    if isinstance(answer, Response):
        broker.log("sent", reason=f"{reason}; fault {fault}: HTTP {answer.status_code}", dv=dv.entity_id, fault=fault,
                   fault_applied=applied)
        return answer
    text = tostring(answer)  # once: for the journal and, unchanged, for the envelope
    broker.log("sent", reason=reason, dv=dv.entity_id, message=answer, xml=text.decode("utf-8"),
               binding=ns.BINDING_SOAP, fault=fault, fault_applied=applied)
    return Response(bindings.soap_envelope_bytes(text), mimetype="text/xml")


def _take(broker, dv: str, resolve_el):
    text = (resolve_el.findtext(ns.q("samlp", "Artifact")) or "").strip()
    try:
        artifact = bindings.Artifact.decode(text)
    except MalformedInput as exc:
        return None, f"no Response: {exc.message}", None
    if artifact.source_id != bindings.source_id_of(broker.settings.entity_id):
        return None, "no Response: the artifact's SourceID is not this broker's", None
    if artifact.endpoint_index != broker.settings.artifact_endpoint_index:
        return None, f"no Response: EndpointIndex {artifact.endpoint_index} is not this broker's ArtifactResolutionService", None
    record = broker.store.take("artifact", artifact.message_handle.hex())
    if record is None:
        return None, "no Response: the artifact is unknown, expired or already resolved (single use)", None
    if record["dv"] != dv:
        return None, f"no Response: the artifact was issued to {record['dv']}, not to {dv}", None
    return (parse_own(record["xml"], what="stored Response"), "ArtifactResponse with the Response",
            record.get("fault"))
