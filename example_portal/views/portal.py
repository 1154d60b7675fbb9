"""The represented employer's dashboard, the change action (needs change rights), and the route-B chooser (P7)."""

from __future__ import annotations

import re

from flask import Blueprint, redirect, render_template, request, session, url_for

from .. import access, data
from ..db import transaction
from ..refusals import Refused
from ..web import audit_ok, db, require_change, require_login

bp = Blueprint("portal", __name__)


@bp.get("/dashboard")
def dashboard():
    rec = require_login("view_dashboard")
    conn = db()
    rights = access.current_rights(conn, rec)
    if rights is None:  # a route-B grant withdrawn since login
        raise Refused("employer_not_selectable", "view_dashboard", {"kvk": rec["represented_kvk"]})
    return render_template(
        "dashboard.html", rec=rec, rights=rights, can_change=rights == access.EDIT,
        participants=data.participants(conn, rec["represented_kvk"]),
        added_kvks=data.portal_kvks(conn, rec["represented_kvk"]),
        employer=data.employer(conn, rec["represented_kvk"]))


@bp.post("/deelnemers/<int:participant_id>/wijzig")
def change_participant(participant_id: int):
    action = "change_participant"
    rec, _ = require_change(action)
    conn = db()
    row = data.participant(conn, participant_id, rec["represented_kvk"])
    if row is None:
        raise Refused("not_found", action, {"what_nl": f"Deelnemer {participant_id}",
                                            "what_en": f"Participant {participant_id}"})
    raw = (request.form.get("salaris") or "").strip().replace(".", "")
    if not re.fullmatch(r"[0-9]{1,9}", raw):  # ASCII digits only: '²'.isdigit() is True, int('²') fails
        raise Refused("input_invalid", action, {"field": "salaris", "problem_nl": "geef een heel bedrag in euro's",
                                                "problem_en": "give a whole number of euros"})
    with transaction(conn):
        data.set_salary(conn, participant_id, int(raw))
        audit_ok(action, f"participant {participant_id} ({row['name']}): salary {row['salary']} -> {int(raw)}",
                 conn=conn, rec=rec)
    return render_template("message.html", title_nl="Wijziging opgeslagen", title_en="Change saved",
                           nl=f"Het salaris van {row['name']} is gewijzigd.", en=f"The salary of {row['name']} was "
                           "changed.", back=url_for("portal.dashboard"))


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
        return render_template("kies_werkgever.html", rec=rec, employers=employers)
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
