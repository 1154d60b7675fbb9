"""The login page for local development: pick a person and the organisation to act for, or cancel."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..broker import get_broker
from ..decide import cancelled, for_person
from ..errors import BrokerRefusal
from ..guard import check_form

bp = Blueprint("login", __name__)


def _pending(token: str | None):
    broker = get_broker()
    pending = broker.load_pending(token or "")
    if pending is None:
        raise BrokerRefusal("this login request is unknown or has expired; start the login again at the portal",
                            where="login page", http_status=410)
    return broker, pending


@bp.get("/login")
def page():
    broker, pending = _pending(request.args.get("p"))
    dv = broker.registry.get(pending.dv)
    service = dv.service_by_id(pending.service_id)
    world = broker.world
    people = []
    for person in world.people.values():
        reps = world.representations(person.id, pending.service_id)
        options = []
        for rep in reps:
            if rep.branch:  # a mandate restricted to one branch
                options.append({"rep": rep, "branch": rep.branch})
                continue
            options.append({"rep": rep, "branch": None})
            if service.branch_allowed:
                options.extend({"rep": rep, "branch": b} for b in rep.organisation.branches)
        people.append({"person": person, "options": options, "too_low": person.level < pending.level,
                       "works_for": world.organisations.get(person.works_for or "")})
    return render_template("login/page.html", pending=pending, dv=dv, service=service, people=people,
                           required=pending.level)


@bp.post("/login")
def choose():
    broker, pending = _pending(request.form.get("p"))
    check_form("login", pending.token, where="login form")
    if request.form.get("action") == "cancel":
        return broker.answer(pending, cancelled())
    person = request.form.get("person", "")
    if person not in broker.world.people:
        raise BrokerRefusal(f"person {person!r} is not in the world", where="login form, field 'person'")
    dv = broker.registry.get(pending.dv)
    outcome = for_person(broker.world, dv, pending, person, request.form.get("choice") or None,
                         request.form.get("branch") or None)
    return broker.answer(pending, outcome)
