"""Mutations of the artifact family: the SAMLart sent, and the ArtifactResolutionService's answer."""

from __future__ import annotations

import copy
import secrets
import time

from flask import Response
from lxml import etree

from ehsaml import bindings, dsig

from ..registry import Phase, last_answer, mutation
from ...response import new_id, status_element
from ._common import STATUS, _q, attacker



@mutation("artifact", phase=Phase.ARTIFACT)
def artifact(ctx, kind):
    """Send another SAMLart: unknown, of another SourceID, another EndpointIndex, or the DV's earlier one."""
    settings = ctx.broker.settings
    real = bindings.Artifact.decode(ctx.artifact)
    if kind == "earlier":
        earlier = last_answer(ctx.broker, ctx.dv.entity_id)
        return earlier["artifact"] if earlier and earlier.get("artifact") else ctx.artifact
    source = bindings.source_id_of("urn:etoegang:HM:00000009999999999000:entities:9001") \
        if kind == "wrong-source" else real.source_id
    index = settings.artifact_endpoint_index + 1 if kind == "wrong-index" else real.endpoint_index
    handle = secrets.token_bytes(20) if kind == "unknown" else real.message_handle
    return bindings.Artifact(endpoint_index=index, source_id=source, message_handle=handle).encode()


@mutation("resolve_http", phase=Phase.RESOLVE)
def resolve_http(ctx, status=500, body="Internal Server Error (fault case)", content_type="text/plain"):
    """The ArtifactResolutionService answers with this HTTP status and body instead of an ArtifactResponse."""
    return Response(body, status=status, mimetype=content_type)


@mutation("resolve_hang", phase=Phase.RESOLVE, waits=True)
def resolve_hang(ctx, seconds=8):
    """Answer only after `seconds` (at most 10): the DV must time out, not hang."""
    time.sleep(min(float(seconds), 10.0))
    return ctx.artifact_response


@mutation("artifact_response", phase=Phase.RESOLVE)
def artifact_response(ctx, unsigned=False, attacker_key=False, in_response_to=None, issuer=None, status=None,
                      second_response=False):
    """Change the ArtifactResponse: unsigned, signed by the attacker, another InResponseTo/Issuer/status, two Responses."""
    ar = ctx.artifact_response
    if in_response_to == "random":
        ar.set("InResponseTo", "_" + secrets.token_hex(20))
    if issuer:
        ar.find(_q("Issuer")).text = issuer
    if status:
        old = ar.find(_q("Status", "samlp"))
        old.addprevious(status_element(etree.Element("holder"), STATUS[status], None, "fault case"))
        ar.remove(old)
    if second_response:
        inner = ar.find(_q("Response", "samlp"))
        if inner is not None:
            twin = copy.deepcopy(inner)
            twin.set("ID", new_id())
            inner.addnext(twin)
    dsig.strip_signature(ar)
    if not unsigned:
        dsig.sign(ar, attacker() if attacker_key else ctx.keypair)
    return ar
