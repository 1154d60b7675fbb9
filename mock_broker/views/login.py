"""The login page for local development: pick a person and the organisation to act for, give a free identity,
or cancel. Grouped by organisation, with a filter (a GET form; live as you type where JavaScript runs)."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request


from .. import loginpage
from ..broker import get_broker
from ..decide import cancelled, check_inline, for_person, inline_identity
from ..errors import BrokerRefusal
from ..guard import check_form

bp = Blueprint("login", __name__)

LEVELS = ("EH2", "EH2+", "EH3", "EH4")
# The free identity form's fields, named as the control API's inline identity (POST /_mock/next "identity").
IDENTITY_FIELDS = ("kvk", "rsin", "represented_name", "level", "service_id", "intermediary_kvk", "intermediary_name",
                   "branch")


def _pending(token: str | None):
    broker = get_broker()
    pending = broker.load_pending(token or "")
    if pending is None:
        finished = broker.finished_login(token or "")
        raise BrokerRefusal("this login request is unknown or has expired; start the login again at the portal"
                            if finished is None else "this login is finished already: its answer went to the portal; "
                            "start a new login there", where="login page", http_status=410,
                            dv=finished.get("dv") if finished else None)
    return broker, pending


def _render(broker, pending, *, identity_error: str | None = None, form: dict | None = None, status: int = 200):
    dv = broker.registry.get(pending.dv)
    service = dv.service_by_id(pending.service_id)
    query = " ".join(request.args.get("q", "").split())[:80]
    names = {s.service_id: s.name for d in broker.registry.all() for s in d.services}
    groups = loginpage.build(broker.world, broker.initial_world, service, pending.level, names)
    shown = [loginpage.Group(gr.organisation, [e for e in gr.entries if loginpage.matches(e, query)])
             for gr in groups] if query else groups
    g.csp_script_src = "'self'"  # the filter's script, /static/login-filter.js: no inline script
    shown = [gr for gr in shown if gr.entries]
    return render_template("login/page.html", pending=pending, dv=dv, service=service, required=pending.level,
                           groups=shown, shown=sum(len(gr.entries) for gr in shown),
                           total=sum(len(gr.entries) for gr in groups),
                           query=query, levels=LEVELS, identity_error=identity_error, form=form or {},
                           world=broker.world, branch_label=loginpage.branch_label), status


@bp.get("/login")
def page():
    broker, pending = _pending(request.args.get("p"))
    return _render(broker, pending)


@bp.post("/login")
def choose():
    broker, pending = _pending(request.form.get("p"))
    check_form("login", pending.token, where="login form")
    action = request.form.get("action")
    if action == "cancel":
        return broker.answer(pending, cancelled())
    dv = broker.registry.get(pending.dv)
    if action == "identity":
        form = {name: (request.form.get(name) or "").strip() for name in IDENTITY_FIELDS}
        data = {k: v for k, v in form.items() if v}
        try:
            if data.get("service_id") and dv.service_by_id(data["service_id"]) is None:
                raise ValueError(f"identity.service_id: {data['service_id']!r} is not a service of this DV")
            identity = check_inline(data, broker.world)
        except ValueError as exc:
            return _render(broker, pending, identity_error=str(exc), form=form, status=400)
        return broker.answer(pending, inline_identity(identity, dv, pending))
    person = request.form.get("person", "")
    if person not in broker.world.people:
        raise BrokerRefusal(f"person {person!r} is not in the world", where="login form, field 'person'")
    outcome = for_person(broker.world, dv, pending, person, request.form.get("choice") or None,
                         request.form.get("branch") or None)
    return broker.answer(pending, outcome)
