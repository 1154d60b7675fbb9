"""Per-request helpers shared by the blueprints: the database, the login in the session, audit, form input."""

from __future__ import annotations

import sqlite3

from flask import current_app, g, request, session

from ehsaml.eherkenning import is_kvk

from . import access, data
from .db import connect
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
        g.db = connect(settings().db_path)
    return g.db


def close_db(_exc=None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


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
