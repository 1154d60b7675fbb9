"""SingleLogoutService: a DV's signed LogoutRequest (Redirect or POST) gets a signed LogoutResponse."""

from __future__ import annotations

from flask import Blueprint, redirect, request

from ehsaml import bindings, ns

from ..broker import get_broker
from ..errors import BrokerRefusal
from ..guard import auto_post_response
from ..inbound import read_signed_request
from ..response import build_logout_response

bp = Blueprint("slo", __name__)


@bp.route("/saml/slo", methods=["GET", "POST"])
def slo():
    broker = get_broker()
    received = read_signed_request(request, expected="LogoutRequest", registry=broker.registry)
    root, dv, relay_state = received.element, received.dv, received.relay_state
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
    return auto_post_response(form)
