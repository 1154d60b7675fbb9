"""SingleLogoutService: a DV's signed LogoutRequest (Redirect or POST) gets a signed LogoutResponse."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request

from ehsaml import bindings, dsig, ns
from ehsaml.errors import MalformedInput, SignatureInvalid
from ehsaml.xml import local_name, parse_xml

from ..broker import get_broker
from ..errors import BrokerRefusal
from ..response import build_logout_response

bp = Blueprint("slo", __name__)


@bp.route("/saml/slo", methods=["GET", "POST"])
def slo():
    broker = get_broker()
    try:
        if request.method == "GET":
            msg = bindings.parse_redirect(request.query_string.decode("latin-1"))
            xml, relay_state = msg.xml, msg.relay_state
        else:
            value = request.form.get("SAMLRequest")
            if not value:
                raise MalformedInput("no SAMLRequest form field", where="HTTP-POST body")
            msg, xml, relay_state = None, bindings.b64decode(value, what="SAMLRequest"), request.form.get("RelayState")
        root = parse_xml(xml, what="SAMLRequest")
    except MalformedInput as exc:
        raise BrokerRefusal(exc.message, where=exc.where) from None
    if root.tag != ns.q("samlp", "LogoutRequest"):
        raise BrokerRefusal(f"expected samlp:LogoutRequest, got {local_name(root)}", where="SAMLRequest")
    issuer = (root.findtext(ns.q("saml", "Issuer")) or "").strip()
    dv = broker.registry.get(issuer)
    if dv is None:
        raise BrokerRefusal(f"unknown DV {issuer!r}: no metadata registered", where="LogoutRequest/Issuer",
                            http_status=403)
    try:
        if msg is not None:
            msg.verify(list(dv.metadata.signing_certs), where="LogoutRequest (Redirect binding)")
        else:
            dsig.verify(root, dv.metadata.signing_certs, where="LogoutRequest/ds:Signature")
    except SignatureInvalid as exc:
        raise BrokerRefusal(str(exc), http_status=403) from None
    broker.log("received", reason="LogoutRequest", dv=dv.entity_id, message=root)
    wanted = ns.BINDING_REDIRECT if request.method == "GET" else ns.BINDING_POST
    endpoints = {e.binding: e for e in dv.metadata.slo}
    endpoint = endpoints.get(wanted) or next(iter(endpoints.values()), None)
    if endpoint is None:
        raise BrokerRefusal("the DV's metadata lists no SingleLogoutService to answer to", where="DV metadata")
    answer = build_logout_response(settings=broker.settings, keypair=broker.keypair, destination=endpoint.location,
                                   in_response_to=root.get("ID") or "",
                                   sign=endpoint.binding != ns.BINDING_REDIRECT)
    broker.log("sent", reason="LogoutResponse Success", dv=dv.entity_id, message=answer, binding=endpoint.binding)
    if endpoint.binding == ns.BINDING_REDIRECT:
        query = bindings.redirect_query("SAMLResponse", answer, relay_state=relay_state, keypair=broker.keypair)
        sep = "&" if "?" in endpoint.location else "?"
        return redirect(endpoint.location + sep + query, code=302)
    form = bindings.post_form(endpoint.location, {"SAMLResponse": bindings.encode_post(answer),
                                                  "RelayState": relay_state})
    return Response(form, mimetype="text/html")
