"""The transport floor, for comparison only: a Flask app with the broker's two login endpoints and no SAML.

`GET /saml/sso` reads the query's SAMLRequest and answers 302 with a SAMLart; `POST /saml/artifact` reads
the body and answers with an ArtifactResponse envelope the mock broker sent earlier in the same bench
run (the same bytes, so the same sizes on the wire). No parsing, signing, store or journal: what is left
is what gunicorn, Werkzeug and Flask cost for the two requests of a login. Not part of the project.

    BARE_BROKER='{"answer_file": "/tmp/answer.xml", "acs": "http://127.0.0.1:1/acs"}' \\
        gunicorn -w 1 -k gthread --threads 4 -b 127.0.0.1:8491 --chdir bench 'bare_broker:create()'
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from flask import Flask, Response, redirect, request

ENV = "BARE_BROKER"


def create() -> Flask:
    settings = json.loads(os.environ[ENV])
    answer = Path(settings["answer_file"]).read_bytes()
    app = Flask(__name__)

    @app.get("/saml/metadata")
    def metadata():
        return "ready"

    @app.get("/saml/sso")
    def sso():
        if not request.args.get("SAMLRequest"):
            return "no SAMLRequest", 400
        return redirect(f"{settings['acs']}?SAMLart={secrets.token_urlsafe(33)}", code=302)

    @app.post("/saml/artifact")
    def artifact():
        if not request.get_data():
            return "no body", 400
        return Response(answer, mimetype="text/xml")

    return app
