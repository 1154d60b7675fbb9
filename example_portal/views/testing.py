"""Test-only endpoints (404 unless the portal runs with --testing): seed, outbox, audit, state, reset."""

from __future__ import annotations

import re

from flask import Blueprint, abort, jsonify, render_template, request

from ehsaml import websec

from .. import data, seed
from ..db import clear
from ..web import db, settings, sp

bp = Blueprint("testing", __name__, url_prefix="/_test")


@bp.before_request
def _only_when_testing():
    if not settings().testing:
        abort(404)


@bp.errorhandler(seed.SeedError)
def _bad_seed(exc):
    return jsonify(error=str(exc)), 400


@bp.errorhandler(websec.JsonInputError)
def _bad_json(exc):
    return jsonify(error=f"{exc}"), exc.status


@bp.post("/seed")
def seed_data():
    body = websec.read_json()  # application/json only: no form of another page can send it
    return jsonify(added=seed.load(db(), body)), 201


@bp.post("/reset")
def reset():
    """Empty every table and forget outstanding requests; {"seed": "default"} loads the default seed file after."""
    body = websec.read_json(empty={})
    if not isinstance(body, dict) or set(body) - {"seed"} or body.get("seed") not in (None, "default"):
        raise seed.SeedError('reset: give no body, {} or {"seed": "default"}')
    conn = db()
    clear(conn)
    sp().pending.clear()
    added = None
    if body.get("seed") == "default":
        if settings().seed_file is None:
            raise seed.SeedError("reset: this portal runs without a seed file (--no-seed)")
        added = seed.load_file(conn, settings().seed_file)
    return jsonify(reset=True, added=added)


@bp.get("/outbox")
def outbox():
    return jsonify(messages=data.outbox(db()))


@bp.get("/mailbox")
def mailbox():
    """The outbox as a mailbox page: each test e-mail with its confirmation link to click (--testing only)."""
    return render_template("mailbox.html", messages=list(reversed(data.outbox(db()))))


@bp.get("/audit")
def audit():
    raw = request.args.get("since", "0")
    if not re.fullmatch(r"[0-9]{1,18}", raw):
        raise seed.SeedError("since: give an audit entry id (a whole number)")
    since = int(raw)
    return jsonify(entries=data.audit_trail(db(), since))


@bp.get("/state")
def state():
    """Row counts and a digest of every business table (all but the audit trail)."""
    conn = db()
    return jsonify(counts=data.counts(conn), digest=data.snapshot(conn),
                   grants=[dict(r) | {"token_hash": None} for r in conn.execute("SELECT * FROM grants ORDER BY id")],
                   portal_kvks=[dict(r) for r in conn.execute("SELECT * FROM portal_kvks ORDER BY rowid")],
                   participants=[dict(r) for r in conn.execute("SELECT * FROM participants ORDER BY id")])
