"""The broker's signed metadata at a stable URL."""

from __future__ import annotations

from flask import Blueprint, Response

from ..broker import get_broker

bp = Blueprint("metadata", __name__)


@bp.route("/saml/metadata")
def metadata():
    return Response(get_broker().metadata_xml, mimetype="application/samlmetadata+xml")
