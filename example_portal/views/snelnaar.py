"""The dashboard's 'Snel naar' menu (the FAQ's screenshot): Financiën, Instellingen, Statische wijzigingen; its
fourth item, Toegang verlenen, is views/toegang.py. All read-only."""

from __future__ import annotations

from flask import Blueprint, render_template

from .. import access, data
from ..web import db
from .portal import current

bp = Blueprint("snelnaar", __name__)


@bp.get("/financien")
def finances():
    rec, _ = current("view_finances")
    conn = db()
    employer = data.employer(conn, rec["represented_kvk"])
    rows = data.payroll(conn, employer.contract_id) if employer else []
    return render_template("financien.html", rec=rec, employer=employer, rows=rows)


@bp.get("/instellingen")
def settings_page():
    rec, rights = current("view_settings")
    conn = db()
    return render_template("instellingen.html", rec=rec, employer=data.employer(conn, rec["represented_kvk"]),
                           added=data.portal_kvks(conn, rec["represented_kvk"]), can_change=rights == access.EDIT)


@bp.get("/wijzigingen")
def changes():
    rec, _ = current("view_changes")
    return render_template("wijzigingen.html", rec=rec, changes=data.changes(db(), rec["represented_kvk"]))
