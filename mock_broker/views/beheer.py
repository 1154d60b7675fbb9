"""The management page (beheerportaal stand-in): change the world while the broker runs, with plain forms.

In the scheme the machtigingenbeheerder (mandate administrator) manages the company's means, services
and mandates in the supplier's management portal. This page does the same to the mock's world, through
the very checks of the control API's POST /_mock/world/changes (mock_broker/world_changes.py). It is part
of the control surface: off with --no-control-api.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request

from ..broker import Broker, get_broker
from ..guard import beheer_session, check_form, set_beheer_cookie
from ..world_changes import KINDS, ChangeError, change_world, describe

bp = Blueprint("beheer", __name__)

LEVELS = ("EH2", "EH2+", "EH3", "EH4")


@bp.before_request
def _enabled():
    if not get_broker().settings.control_api:
        abort(404)


@bp.get("/beheer")
def page():
    session, new = beheer_session()
    response = make_response(_render(session))
    if new:
        set_beheer_cookie(response, session)
    return response


@bp.post("/beheer")
def change():
    broker = get_broker()
    session, new = beheer_session()
    # A form of this page carries a token bound to the browser's /beheer cookie (HttpOnly, SameSite=Strict).
    check_form("beheer", None if new else session, where="management page form")
    try:
        record = change_world(broker, change_from_form(request.form), via="management page")
    except ChangeError as exc:
        return _render(session, refused=str(exc), kind=request.form.get("change")), 400
    return _render(session, done=describe(record["change"]))


@bp.post("/beheer/reset")
def reset():
    """The page's reset: the same as POST /_mock/reset (world changes, queued answers, pending logins, artifacts
    and the journal cleared; registered DVs kept)."""
    broker = get_broker()
    session, new = beheer_session()
    check_form("beheer", None if new else session, where="management page reset")
    broker.reset()
    broker.log("control", reason="reset from the management page: queued answers, pending logins, artifacts, "
                                 "journal and world changes cleared")
    return _render(session, done="reset: the world is the file's again")


def change_from_form(form) -> dict:
    """The change object of a submitted form (fields named as in the control API's JSON)."""
    kind = form.get("change", "").strip()
    change: dict = {"change": kind}
    required, optional = KINDS.get(kind, ((), ()))
    for name in required + optional:
        if name == "services":
            values = [v for v in form.getlist("services") if v.strip()]
            if values or name in required:
                change["services"] = values
        elif name == "employees":
            change["employees"] = [{"person": p} for p in form.getlist("employees") if p.strip()]
        else:
            value = form.get(name, "").strip()
            if value or name in required:
                change[name] = value
    return change


def _render(session: str, *, done: str | None = None, refused: str | None = None, kind: str | None = None):
    broker = get_broker()
    world = broker.world
    names = _service_names(broker)
    label = lambda s: names.get(world.services.get(s, s)) or world.service_alias(s) or s  # noqa: E731
    services = [{"value": alias, "name": names.get(sid) or alias, "service_id": sid}
                for alias, sid in world.services.items()]
    aliased = set(world.services.values())
    services += [{"value": sid, "name": name, "service_id": sid} for sid, name in names.items() if sid not in aliased]
    people = [{
        "person": p,
        "works_for": world.organisations.get(p.works_for or ""),
        "mandates": [{"organisation": world.organisations[m.organisation], "branch": m.branch,
                      "services": [label(s) for s in m.services]} for m in world.mandates if m.person == p.id],
        "chains": [{"chain": c, "services": [label(s) for s in c.effective_services(p.id)]}
                   for c in world.chain_mandates if any(e.person == p.id for e in c.employees)],
    } for p in world.people.values()]
    chains = [{"chain": c, "represented": world.organisations[c.represented],
               "intermediary": world.organisations[c.intermediary], "services": [label(s) for s in c.services],
               "employees": [{"person": world.people[e.person],
                              "services": None if e.services is None else [label(s) for s in e.services]}
                             for e in c.employees]} for c in world.chain_mandates]
    changes = [{**r, "text": describe(r["applied"])} for r in broker.world_changes.records()]
    return render_template("beheer/page.html", world=world, people=people, chains=chains, services=services,
                           levels=LEVELS, changes=changes, done=done, refused=refused, kind=kind, session=session,
                           organisations=list(world.organisations.values()))


def _service_names(broker: Broker) -> dict[str, str]:
    """ServiceID → name, of the registered DVs' services."""
    return {s.service_id: s.name for dv in broker.registry.all() for s in dv.services}
