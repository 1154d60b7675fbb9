"""What the portal publishes (metadata, service catalogue) and /whoami for tests and tools."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, abort, jsonify, session

from .. import access, dvconfig
from ..web import db, login, settings

bp = Blueprint("meta", __name__)


@functools.lru_cache(maxsize=4)
def _metadata(base_url: str, key_file, cert_file) -> bytes:
    return dvconfig.metadata_xml(base_url, keypair=dvconfig.portal_keypair(key_file, cert_file))


@functools.lru_cache(maxsize=4)
def _catalogue(base_url: str, key_file, cert_file) -> bytes:
    return dvconfig.catalogue_xml(base_url, keypair=dvconfig.portal_keypair(key_file, cert_file))


@bp.get("/saml/metadata")
def metadata():
    s = settings()
    return Response(_metadata(s.base_url, s.key_file, s.cert_file), mimetype="application/samlmetadata+xml")


@bp.get("/saml/dienstcatalogus")
def catalogue():
    s = settings()
    return Response(_catalogue(s.base_url, s.key_file, s.cert_file), mimetype="application/xml")


# The portal's icon: browsers ask for one on every first visit; an answer keeps 404s out of the logs.
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
           'fill="#0b4f6c"/><path d="M4 4h8v2H6v1.5h5v2H6V12H4z" fill="#fff"/></svg>')


@bp.get("/favicon.ico")
@bp.get("/favicon.svg")
def favicon():
    return Response(FAVICON, mimetype="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@bp.get("/whoami")
def whoami():
    """Who is logged in, for tools (--testing only, like /_test/: it tells a page's script who you are)."""
    if not settings().testing:
        abort(404)
    rec = login()
    pending = session.get("login") if not rec else None
    rights = access.current_rights(db(), rec)
    return jsonify(
        logged_in=rec is not None and rights is not None,
        represented_kvk=rec and rec.get("represented_kvk"),
        represented_name=rec and rec.get("represented_name"),
        intermediary_kvk=rec and rec.get("intermediary_kvk"),
        intermediary_name=rec and rec.get("intermediary_name"),
        acting_subject=(rec or pending or {}).get("acting_subject"),
        rights=access.as_list(rights),
        route=rec["route"] if rec else ("choose-employer" if pending else None),
        service=(rec or pending or {}).get("service_name"),
        level=(rec or pending or {}).get("level"),
        branch=rec and rec.get("branch"),
        last_refusal=session.get("last_refusal"),
    )
