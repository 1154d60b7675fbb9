"""Route B, "Toegang verlenen" (P6): grant an advisor KvK access, confirm by the e-mail link, change the rights."""

from __future__ import annotations

import secrets

from flask import Blueprint, render_template, request, url_for

from .. import access, data
from ..db import transaction
from ..refusals import Refused
from ..web import audit_ok, db, form_choice, form_kvk, login, require_change, settings, subject_of

bp = Blueprint("toegang", __name__)
RIGHTS = (access.VIEW, access.EDIT)
RIGHTS_NAME = access.RIGHTS_NAME


def _employer_with_edit(action: str) -> dict:
    rec, _ = require_change(action, code="grant_needs_edit_rights")
    if rec["route"] != "employer":  # an advisor (route A or B) cannot pass access on
        raise Refused("grant_needs_edit_rights", action, detail=f"route {rec['route']} may not grant access")
    return rec


@bp.get("/toegang")
def overview():
    rec = _employer_with_edit("view_grants")
    return render_template("toegang.html", rec=rec, grants=data.grants_of_employer(db(), rec["represented_kvk"]),
                           rights_name=RIGHTS_NAME)


@bp.post("/toegang")
def grant():
    action = "grant_access"
    rec = _employer_with_edit(action)
    advisor_kvk = form_kvk("kvk", action)
    rights = form_choice("rechten", RIGHTS, action)
    conn = db()
    advisor = data.advisor(conn, advisor_kvk)
    if advisor is None:
        raise Refused("advisor_unknown", action, {"kvk": advisor_kvk})
    if data.grant(conn, rec["represented_kvk"], advisor_kvk) is not None:
        raise Refused("grant_exists", action, {"kvk": advisor_kvk})
    employer = data.employer(conn, rec["represented_kvk"])
    token = secrets.token_urlsafe(32)
    link = f"{settings().base_url}{url_for('toegang.confirm', token=token)}"
    body = (f"Beste werkgever,\n\nU heeft in het werkgeversportaal toegang verleend aan adviseur {advisor.name} "
            f"(KvK {advisor.kvk}) met de rechten '{RIGHTS_NAME[rights]}'. Bevestig dit via de link:\n{link}\n\n"
            "Pas na het bevestigen kan uw adviseur uw werkgeversportaal selecteren.\n\n"
            f"Dear employer, you granted advisor {advisor.name} (KvK {advisor.kvk}) access with the rights "
            f"'{RIGHTS_NAME[rights]}'. Confirm it with the link above; only then can your advisor select your portal.\n")
    with transaction(conn):
        data.add_grant(conn, employer_kvk=employer.kvk, advisor_kvk=advisor.kvk, rights=rights, token=token)
        data.send_mail(conn, to_address=employer.email, to_kvk=employer.kvk,
                       subject="Bevestig de toegang van uw adviseur / Confirm your advisor's access",
                       body=body, link=link)
        audit_ok(action, f"pending grant '{rights}' for advisor {advisor.kvk}; confirmation e-mail to {employer.email}",
                 conn=conn, rec=rec)
    return render_template("message.html", title_nl="Bevestigingsmail verstuurd", title_en="Confirmation e-mail sent",
                           nl=f"We hebben een e-mail met een bevestigingslink gestuurd naar {employer.email}. Na het "
                              f"bevestigen kan adviseur {advisor.name} (KvK {advisor.kvk}) uw portaal selecteren.",
                           en=f"We sent an e-mail with a confirmation link to {employer.email}. Once confirmed, advisor "
                              f"{advisor.name} (KvK {advisor.kvk}) can select your portal.",
                           back=url_for("toegang.overview"))


@bp.post("/toegang/<int:grant_id>/rechten")
def change_rights(grant_id: int):
    action = "change_grant_rights"
    rec = _employer_with_edit(action)
    rights = form_choice("rechten", RIGHTS, action)
    conn = db()
    row = data.grant_by_id(conn, grant_id, rec["represented_kvk"])
    if row is None:
        raise Refused("not_found", action, {"what_nl": f"Toegang {grant_id}", "what_en": f"Grant {grant_id}"})
    with transaction(conn):
        data.set_grant_rights(conn, grant_id, rights)
        audit_ok(action, f"advisor {row['advisor_kvk']}: {row['rights']} -> {rights}", conn=conn, rec=rec)
    return render_template("message.html", title_nl="Rechten gewijzigd", title_en="Rights changed",
                           nl=f"Adviseur {row['advisor_kvk']} heeft nu de rechten '{RIGHTS_NAME[rights]}'.",
                           en=f"Advisor {row['advisor_kvk']} now has the rights '{RIGHTS_NAME[rights]}'.",
                           back=url_for("toegang.overview"))


@bp.route("/toegang/bevestig/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The e-mail link: GET shows what will be confirmed (link scanners change nothing), POST confirms, once."""
    action = "confirm_grant"
    conn = db()
    row = data.grant_by_token(conn, token) if len(token) <= 100 else None
    who = subject_of(login()) | ({"represented_kvk": row["employer_kvk"], "intermediary_kvk": row["advisor_kvk"]}
                                 if row is not None else {})
    if row is None or row["status"] != "pending":
        raise Refused("confirm_link_invalid", action, audit_subject=who)
    if data.grant_link_expired(row, settings().grant_link_days):
        raise Refused("confirm_link_expired", action, audit_subject=who)
    if request.method == "GET":
        return render_template("bevestig.html", row=row, rights_name=RIGHTS_NAME)
    with transaction(conn):
        if not data.confirm_grant(conn, row["id"]):
            raise Refused("confirm_link_invalid", action, audit_subject=who)
        data.audit(conn, action=action, outcome="ok", detail=f"grant {row['id']} confirmed by e-mail link", **who)
    return render_template("message.html", title_nl="Toegang bevestigd", title_en="Access confirmed",
                           nl=f"De toegang voor adviseur {row['advisor_kvk']} is bevestigd. Uw adviseur kan nu uw "
                              "werkgeversportaal selecteren.",
                           en=f"Access for advisor {row['advisor_kvk']} is confirmed. Your advisor can now select your "
                              "employer portal.")
