"""SingleSignOnService: one URL for HTTP-Redirect (GET) and HTTP-POST AuthnRequests."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from ..authn import PendingLogin, check_destination, check_request, find_acs
from ..broker import Broker, get_broker
from ..decide import Outcome, cancelled, for_person, inline_identity, status_outcome
from ..errors import SamlRefusal
from ..inbound import read_signed_request

bp = Blueprint("sso", __name__)


@bp.route("/saml/sso", methods=["GET", "POST"])
def sso():
    broker = get_broker()
    received = read_signed_request(request, expected="AuthnRequest", registry=broker.registry)
    check_destination(received, broker.settings)
    dv = received.dv
    broker.log("received", reason=f"AuthnRequest by {received.binding}", dv=dv.entity_id, message=received.element,
               binding=received.binding)
    acs_url, answer_binding = find_acs(received.element, dv)
    replayed = broker.store.remember("request", f"{dv.entity_id} {received.element.get('ID')}",
                                     ttl=broker.settings.pending_ttl_seconds * 4)
    try:
        pending = check_request(received, acs_url=acs_url, binding=answer_binding, settings=broker.settings,
                                replayed=replayed)
    except SamlRefusal as exc:
        outcome = Outcome(reason=f"request refused: {exc.message}", top=exc.top, second=exc.second,
                          message=exc.message)
        return broker.answer(PendingLogin.refused(received, acs_url, answer_binding), outcome)
    queued = broker.store.dequeue(pending.dv)
    if queued is not None:
        return broker.answer(pending, outcome_for_queued(broker, pending, queued), fault=queued.get("fault"))
    broker.save_pending(pending)
    return redirect(url_for("login.page", p=pending.token), code=302)


def outcome_for_queued(broker: Broker, pending: PendingLogin, queued: dict) -> Outcome:
    dv = broker.registry.get(pending.dv)
    kind = queued["kind"]
    if kind == "person":
        return for_person(broker.world, dv, pending, queued["person"], queued.get("organisation"), queued.get("branch"))
    if kind == "identity":
        return inline_identity(queued["identity"], dv, pending)
    if kind == "cancel":
        return cancelled()
    return status_outcome(queued["status"], queued.get("sub"), queued.get("message"),
                          reason="status queued through the control API")
