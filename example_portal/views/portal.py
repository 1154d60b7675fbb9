"""The represented employer's dashboard (the FAQ's widgets and 'Snel naar' menu) and the route-B chooser (P7)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from .. import access, data
from ..refusals import Refused
from ..web import audit_ok, db, require_login

bp = Blueprint("portal", __name__)


def current(action: str) -> tuple[dict, str]:
    """The login and its rights now (route B: read afresh); a route-B grant withdrawn since login is refused."""
    rec = require_login(action)
    rights = access.current_rights(db(), rec)
    if rights is None:
        raise Refused("employer_not_selectable", action, {"kvk": rec["represented_kvk"]})
    return rec, rights


def percentage(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


@bp.get("/dashboard")
def dashboard():
    rec, rights = current("view_dashboard")
    conn = db()
    kvk = rec["represented_kvk"]
    activated, people = data.activation(conn, kvk)
    timely, changes = data.timeliness(conn, kvk)
    return render_template(
        "dashboard.html", rec=rec, rights=rights, can_change=rights == access.EDIT,
        participants=data.participants(conn, kvk), added_kvks=data.portal_kvks(conn, kvk),
        employer=data.employer(conn, kvk),
        activated=(activated, people, percentage(activated, people)),
        timely=(timely, changes, percentage(timely, changes)))


@bp.route("/kies-werkgever", methods=["GET", "POST"])
def choose():
    """Route B: an advisor logged in with its own KvK picks an employer with a CONFIRMED grant for exactly that KvK."""
    action = "choose_employer"
    rec = session.get("login")
    if not rec or rec.get("route") not in ("choose", "route-b"):
        raise Refused("not_logged_in", action)
    advisor_kvk = rec.get("advisor_kvk") or rec.get("intermediary_kvk")
    conn = db()
    employers = data.confirmed_employers(conn, advisor_kvk)
    if request.method == "GET":
        return render_template("kies_werkgever.html", rec=rec, employers=employers, rights_name=access.RIGHTS_NAME)
    chosen = (request.form.get("kvk") or "").strip()
    match = next((e for e in employers if e["kvk"] == chosen), None)
    if match is None:
        raise Refused("employer_not_selectable", action, {"kvk": chosen[:20] or "?"},
                      audit_subject={"acting_subject": rec["acting_subject"], "represented_kvk": chosen[:20] or None,
                                     "intermediary_kvk": advisor_kvk})
    new = {k: v for k, v in rec.items() if k not in ("advisor_kvk", "advisor_name")}
    new.update(route="route-b", represented_kvk=match["kvk"], represented_name=match["name"],
               intermediary_kvk=advisor_kvk, intermediary_name=rec.get("advisor_name") or rec.get("intermediary_name"),
               advisor_kvk=advisor_kvk)
    session["login"] = new
    audit_ok(action, f"route B: advisor {advisor_kvk} acts for {match['kvk']} with grant {match['rights']}", rec=new)
    return redirect(url_for("portal.dashboard"), code=303)
