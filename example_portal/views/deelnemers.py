"""The dashboard's 'Deelnemers' widget: search and change, download the list, register a participant, change a
group. Every change needs change rights ("Bekijk en wijzig gegevens", P3) and goes into the change log with its
effective date (ingangsdatum)."""

from __future__ import annotations

import csv
import io
import re

from flask import Blueprint, Response, render_template, request, url_for

from .. import access, data
from ..db import transaction
from ..refusals import Refused
from ..web import audit_ok, db, form_date, form_euros, form_text, require_change
from .portal import current

bp = Blueprint("deelnemers", __name__)


def _log(conn, rec: dict, participant_id: int | None, what: str, effective) -> None:
    data.add_change(conn, employer_kvk=rec["represented_kvk"], participant_id=participant_id, what=what,
                    effective=effective, acting_subject=rec.get("acting_subject"),
                    intermediary_kvk=rec.get("intermediary_kvk"))


@bp.get("/deelnemers")
def search():
    rec, rights = current("view_participants")
    query = " ".join(request.args.get("q", "").split())[:80]
    return render_template("deelnemers.html", rec=rec, query=query, can_change=rights == access.EDIT,
                           participants=data.participants(db(), rec["represented_kvk"], query))


@bp.get("/deelnemers.csv")
def download():
    rec, _ = current("download_participants")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["naam", "salaris", "geactiveerd"])
    for p in data.participants(db(), rec["represented_kvk"]):
        # a cell that starts with = + - @ is a formula to a spreadsheet: quote it as text
        name = "'" + p["name"] if p["name"][:1] in "=+-@" else p["name"]
        writer.writerow([name, p["salary"], "ja" if p["activated"] else "nee"])
    audit_ok("download_participants", rec=rec)
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="deelnemers-{rec["represented_kvk"]}.csv"'})


@bp.post("/deelnemers/<int:participant_id>/wijzig")
def change(participant_id: int):
    action = "change_participant"
    rec, _ = require_change(action)
    conn = db()
    row = data.participant(conn, participant_id, rec["represented_kvk"])
    if row is None:
        raise Refused("not_found", action, {"what_nl": f"Deelnemer {participant_id}",
                                            "what_en": f"Participant {participant_id}"})
    salary = form_euros("salaris", action)
    effective = form_date("ingangsdatum", action)
    with transaction(conn):
        data.set_salary(conn, participant_id, salary)
        _log(conn, rec, participant_id, f"salaris {row['salary']} → {salary}", effective)
        audit_ok(action, f"participant {participant_id} ({row['name']}): salary {row['salary']} -> {salary}",
                 conn=conn, rec=rec)
    return render_template("message.html", title_nl="Wijziging opgeslagen", title_en="Change saved",
                           nl=f"Het salaris van {row['name']} is gewijzigd in € {salary} per jaar, met ingang van "
                              f"{effective.isoformat()}.",
                           en=f"The salary of {row['name']} was changed to € {salary} a year, from "
                              f"{effective.isoformat()}.", back=url_for("portal.dashboard"))


@bp.route("/deelnemers/aanmelden", methods=["GET", "POST"])
def register():
    action = "register_participant"
    rec, _ = require_change(action)
    if request.method == "GET":
        return render_template("aanmelden.html", rec=rec)
    name = form_text("naam", action)
    salary = form_euros("salaris", action)
    effective = form_date("ingangsdatum", action)
    conn = db()
    with transaction(conn):
        new_id = data.add_participant(conn, rec["represented_kvk"], name, salary)
        _log(conn, rec, new_id, f"aangemeld met salaris {salary}", effective)
        audit_ok(action, f"participant {new_id} ({name}) registered", conn=conn, rec=rec)
    return render_template("message.html", title_nl="Deelnemer aangemeld", title_en="Participant registered",
                           nl=f"{name} is aangemeld met ingang van {effective.isoformat()}.",
                           en=f"{name} was registered from {effective.isoformat()}.", back=url_for("deelnemers.search"))


@bp.route("/deelnemers/groep", methods=["GET", "POST"])
def group():
    """A group change: every participant's salary by the same percentage (an index, a collective raise)."""
    action = "change_group"
    rec, _ = require_change(action)
    conn = db()
    people = data.participants(conn, rec["represented_kvk"])
    if request.method == "GET":
        return render_template("groep.html", rec=rec, count=len(people))
    raw = (request.form.get("percentage") or "").strip().replace(",", ".")
    pct = float(raw) if re.fullmatch(r"[-+]?[0-9]{1,2}([.][0-9])?", raw) else None  # ASCII digits only
    if pct is None or not -20 <= pct <= 20 or pct == 0:
        raise Refused("input_invalid", action, {"field": "percentage", "problem_nl": "geef een percentage van -20 tot "
                      "20, niet 0", "problem_en": "give a percentage from -20 to 20, not 0"})
    effective = form_date("ingangsdatum", action)
    with transaction(conn):
        for p in people:
            data.set_salary(conn, p["id"], round(p["salary"] * (100 + pct) / 100))
        _log(conn, rec, None, f"groepswijziging: salaris {pct:+g}% voor {len(people)} deelnemers", effective)
        audit_ok(action, f"salaries {pct:+g}% for {len(people)} participants", conn=conn, rec=rec)
    return render_template("message.html", title_nl="Groepswijziging opgeslagen", title_en="Group change saved",
                           nl=f"De salarissen van {len(people)} deelnemers zijn met {pct:+g}% gewijzigd, met ingang van "
                              f"{effective.isoformat()}.",
                           en=f"The salaries of {len(people)} participants changed by {pct:+g}%, from "
                              f"{effective.isoformat()}.", back=url_for("portal.dashboard"))
