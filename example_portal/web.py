"""Per-request helpers shared by the blueprints: the database, the login in the session, audit, form input."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, timedelta

from flask import current_app, g, render_template, request, session

from ehsaml.eherkenning import is_kvk

from . import access, data, dvconfig
from .refusals import Refused
from .settings import PortalSettings
from .sp import ServiceProvider

LOGGED_IN_ROUTES = ("employer", "chain", "route-b")


def settings() -> PortalSettings:
    return current_app.extensions["example_portal"]["settings"]


def sp() -> ServiceProvider:
    return current_app.extensions["example_portal"]["sp"]


def db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = current_app.extensions["example_portal"]["db"].get()
    return g.db


def close_db(_exc=None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        current_app.extensions["example_portal"]["db"].put(conn)


def login() -> dict | None:
    """The session's finished login (employer, chain or route-b), or None."""
    rec = session.get("login")
    return rec if rec and rec.get("route") in LOGGED_IN_ROUTES else None


def subject_of(rec: dict | None) -> dict:
    rec = rec or {}
    return {"acting_subject": rec.get("acting_subject"),
            "represented_kvk": rec.get("represented_kvk") or rec.get("advisor_kvk"),
            "intermediary_kvk": rec.get("intermediary_kvk")}


def audit_ok(action: str, detail: str | None = None, *, conn: sqlite3.Connection | None = None,
             rec: dict | None = None) -> None:
    data.audit(conn or db(), action=action, outcome="ok", detail=detail, **subject_of(rec or session.get("login")))


def require_login(action: str) -> dict:
    rec = login()
    if rec is None:
        raise Refused("not_logged_in", action)
    return rec


def require_change(action: str, code: str = "no_change_rights") -> tuple[dict, str]:
    """The login, if its rights (read afresh for route B) include change; else Refused(code)."""
    rec = require_login(action)
    rights = access.current_rights(db(), rec)
    if rights != access.EDIT:
        raise Refused(code, action, detail=f"rights: {rights or 'none'} (route {rec['route']})")
    return rec, rights


def form_kvk(field: str, action: str) -> str:
    value = (request.form.get(field) or "").strip().replace(" ", "").replace(".", "")
    if not is_kvk(value):
        raise Refused("kvk_invalid", action, {"value": (request.form.get(field) or "")[:40]})
    return value


def form_choice(field: str, choices: tuple[str, ...], action: str) -> str:
    value = request.form.get(field, "")
    if value not in choices:
        raise Refused("input_invalid", action, {
            "field": field, "problem_nl": f"kies {' of '.join(choices)}", "problem_en": f"choose {' or '.join(choices)}"})
    return value


def render_refusal(exc: Refused, *, ref: int | None, logged_in: bool):
    """The refusal page of `exc` with its HTTP status: the cause first, then what to do; the reason code only in a
    hidden element for tools, the failed check and the reference under 'Voor de helpdesk'."""
    other = None
    if exc.code == "no_mandate":  # offer the other service: a mandate for one does not cover the other
        asked = session.get("login_service")
        other = next((s for s in dvconfig.services() if s.index != asked), None) if asked else None
    return render_template("refusal.html", r=exc.reason, exc=exc, text_nl=exc.text_nl(), text_en=exc.text_en(),
                           ref=ref, other_service=other, logged_in=logged_in), exc.reason.http_status


def outbox_size() -> int:
    """How many test e-mails the outbox holds (the testing footer links to the mailbox page)."""
    return db().execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


def form_euros(field: str, action: str) -> int:
    raw = (request.form.get(field) or "").strip().replace(".", "")
    if not re.fullmatch(r"[0-9]{1,9}", raw):  # ASCII digits only: '²'.isdigit() is True, int('²') fails
        raise Refused("input_invalid", action, {"field": field, "problem_nl": "geef een heel bedrag in euro's",
                                                "problem_en": "give a whole number of euros"})
    return int(raw)


def form_date(field: str, action: str) -> date:
    """An effective date (ingangsdatum) YYYY-MM-DD within five years back and one ahead; empty: today."""
    raw = (request.form.get(field) or "").strip()
    today = date.today()
    if not raw:
        return today
    try:
        value = date.fromisoformat(raw) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw) else None
    except ValueError:
        value = None
    if value is None or not today - timedelta(days=5 * 366) <= value <= today + timedelta(days=366):
        raise Refused("input_invalid", action, {
            "field": field, "problem_nl": "geef een datum als 2026-01-31, hooguit vijf jaar terug of een jaar vooruit",
            "problem_en": "give a date such as 2026-01-31, at most five years back or one year ahead"})
    return value


def form_text(field: str, action: str, *, max_length: int = 80) -> str:
    value = " ".join((request.form.get(field) or "").split())
    if not value or len(value) > max_length or not value.isprintable():
        raise Refused("input_invalid", action, {
            "field": field, "problem_nl": f"geef 1 tot {max_length} leesbare tekens",
            "problem_en": f"give 1 to {max_length} printable characters"})
    return value
