"""Adding another KvK number to the employer's portal (P9): only KvK numbers in the same pension contract."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from .. import data
from ..db import transaction
from ..refusals import Refused
from ..web import audit_ok, db, form_kvk, require_change, require_login

bp = Blueprint("kvk", __name__)


@bp.get("/kvk-toevoegen")
def form():
    rec = require_login("view_add_kvk")
    conn = db()
    return render_template("kvk_toevoegen.html", rec=rec, added=data.portal_kvks(conn, rec["represented_kvk"]))


@bp.post("/kvk-toevoegen")
def add():
    action = "add_kvk"
    rec, _ = require_change(action)
    kvk = form_kvk("kvk", action)
    conn = db()
    own = data.employer(conn, rec["represented_kvk"])
    other = data.employer(conn, kvk)
    if own is None or other is None or other.contract_id != own.contract_id or other.kvk == own.kvk:
        raise Refused("kvk_not_in_contract", action, {"kvk": kvk})
    with transaction(conn):
        added = data.add_portal_kvk(conn, own.kvk, other.kvk, rec.get("acting_subject"))
        audit_ok(action, f"KvK {other.kvk} ({other.name}) {'added' if added else 'was already there'}",
                 conn=conn, rec=rec)
    return render_template("message.html", title_nl="KvK-nummer toegevoegd", title_en="KvK number added",
                           nl=f"KvK-nummer {other.kvk} ({other.name}) is toegevoegd aan uw werkgeversportaal.",
                           en=f"KvK number {other.kvk} ({other.name}) was added to your employer portal.",
                           back=url_for("portal.dashboard"))
