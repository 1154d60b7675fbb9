"""A broker made the pysaml2 way, for comparison only: pysaml2's Server with its default crypto backend.

The default backend runs the xmlsec1 program once per operation. Per login: the Redirect signature of
the AuthnRequest (pysaml2 checks it in-process), three `xmlsec1 --encrypt` (KvK, RSIN, pseudonym),
`xmlsec1 --sign` for the assertion and the Response, `xmlsec1 --verify` of the ArtifactResolve and
`xmlsec1 --sign` of the ArtifactResponse. Artifacts live in the same Redis store as the mock's, so it
runs under gunicorn with several workers "built the same way". Not part of the project's broker.

    PYSAML2_BROKER='{"base_url": "http://127.0.0.1:8490", "store_url": "redis://127.0.0.1:6379/0"}' \\
        gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:8490 --chdir bench 'pysaml2_broker:create()'
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from flask import Flask, Response, redirect, request  # noqa: E402
from lxml import etree  # noqa: E402

ENV = "PYSAML2_BROKER"


IDENTIFIER_TYPES = ("urn:etoegang:1.9:EntityConcernedID:KvKnr", "urn:etoegang:1.9:EntityConcernedID:RSIN",
                    "urn:etoegang:1.9:EntityConcernedID:Pseudo")


def make_server(settings, tmp: Path):
    """pysaml2's IdP Server with its default backend (xmlsec1), the broker's keys, the portal's metadata."""
    from saml2 import BINDING_HTTP_REDIRECT, BINDING_SOAP
    from saml2.config import IdPConfig
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT
    from saml2.server import Server

    from testdv import dv_metadata

    md = tmp / "dv-metadata.xml"
    md.write_bytes(dv_metadata())
    cfg = IdPConfig()
    cfg.load({
        "entityid": settings.entity_id,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "key_file": str(settings.key_file), "cert_file": str(settings.cert_file),
        "metadata": {"local": [str(md)]},
        "allow_unknown_attributes": True,
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(settings.sso_url, BINDING_HTTP_REDIRECT)],
                          "artifact_resolution_service": [(settings.artifact_url, BINDING_SOAP)]},
            "name_id_format": [NAMEID_FORMAT_TRANSIENT],
            "want_authn_requests_signed": True,
            "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None,
                                   "name_form": NAME_FORMAT_URI}},
        }},
    })
    return Server(config=cfg)


def signed_answer(server, settings, *, identifiers, identity: dict, in_response_to: str, destination: str,
                  sp_entity_id: str, transient: str):
    """The answer the pysaml2 way: one `xmlsec1 --encrypt` per identifier (AES-256-CBC, RSA-OAEP), then the
    Response and its assertion signed by one `xmlsec1 --sign` each. Returns (response, encrypted identifiers)."""
    from saml2 import saml
    from saml2.saml import NAMEID_FORMAT_TRANSIENT, NameID
    from saml2.sigver import make_temp, pre_encryption_part
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    from ehsaml.testkeys import CERTS_DIR as CERTS

    portal_cert = str(CERTS / "portal.TEST-ONLY.crt")
    encrypted = []
    for qualifier, value in identifiers:
        name_id = NameID(format=saml.NAMEID_FORMAT_PERSISTENT, name_qualifier=qualifier, text=value)
        template = make_temp(str(pre_encryption_part(
            msg_enc="http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            key_enc="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p")).encode(), decode=False)
        encrypted.append(server.sec.crypto.encrypt(str(name_id), portal_cert, template.name, "aes-256"))
    response = server.create_authn_response(
        identity=identity, in_response_to=in_response_to, destination=destination, sp_entity_id=sp_entity_id,
        name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=transient),
        authn={"class_ref": "urn:etoegang:core:assurance-class:loa3", "authn_auth": settings.ad_entity_id},
        sign_response=True, sign_assertion=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    return response, encrypted


def create() -> Flask:
    from saml2 import BINDING_HTTP_REDIRECT, samlp
    from saml2.s_utils import sid
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    from ehsaml.testids import PORTAL_SERVICE_EDIT
    from ehsaml.testkeys import CERTS_DIR as CERTS
    from mock_broker.settings import BrokerSettings
    from mock_broker.store import open_store

    opts = json.loads(os.environ.get(ENV, "{}"))
    settings = BrokerSettings(base_url=opts.get("base_url", "http://127.0.0.1:8490"), metadata_dir=None)
    store = open_store(opts.get("store_url", "memory"), base_url="pysaml2:" + settings.base_url)
    if opts.get("workdir"):  # a folder of this worker's own in the bench's temporary folder, gone with it
        workdir = Path(opts["workdir"]) / f"pysaml2-worker-{os.getpid()}"
        workdir.mkdir()
    else:
        workdir = Path(tempfile.mkdtemp(prefix="pysaml2-broker-"))
    server = make_server(settings, workdir)
    portal_cert = str(CERTS / "portal.TEST-ONLY.crt")
    app = Flask(__name__)

    @app.get("/saml/metadata")
    def ready():
        return Response("pysaml2 comparison broker", mimetype="text/plain")

    @app.get("/saml/sso")
    def sso():
        req = server.parse_authn_request(request.args["SAMLRequest"], BINDING_HTTP_REDIRECT,
                                         relay_state=request.args.get("RelayState"),
                                         sigalg=request.args.get("SigAlg"), signature=request.args.get("Signature"))
        authn_request = req.message
        acs = authn_request.assertion_consumer_service_url or "http://127.0.0.1:8481/saml/acs"
        response, _ = signed_answer(
            server, settings, identifiers=zip(IDENTIFIER_TYPES, ("12345678", "812345678", "ab" * 32 + "@" + "cd" * 16)),
            identity={"urn:etoegang:core:ServiceID": [PORTAL_SERVICE_EDIT],
                      "urn:etoegang:1.9:attribute:RepresentedCompanyName": ["Bakkerij (TEST)"]},
            in_response_to=authn_request.id, destination=acs, sp_entity_id=authn_request.issuer.text,
            transient=sid())
        artifact = server.use_artifact(response, 0)
        server.artifact.pop(artifact, None)
        store.put("artifact", artifact, {"dv": authn_request.issuer.text, "xml": str(response)}, 120)
        params = {"SAMLart": artifact}
        if request.args.get("RelayState") is not None:
            params["RelayState"] = request.args["RelayState"]
        return redirect(acs + "?" + urlencode(params), code=302)

    @app.post("/saml/artifact")
    def resolve():
        body = request.get_data().decode("utf-8")
        resolve_msg = server.parse_artifact_resolve(body)
        inner = etree.tostring(etree.fromstring(body.encode())[-1][0]).decode()  # the ArtifactResolve element
        server.sec.crypto.validate_signature(inner, portal_cert, "pem", node_name=samlp.ArtifactResolve.c_namespace
                                             + ":" + "ArtifactResolve", node_id=resolve_msg.id)
        record = store.take("artifact", resolve_msg.artifact.text)
        if record is not None:
            server.artifact[resolve_msg.artifact.text] = samlp.response_from_string(record["xml"])
            unsigned = server.create_artifact_response(resolve_msg, resolve_msg.artifact.text, sign=False)
            server.artifact.pop(resolve_msg.artifact.text, None)
        else:
            unsigned = server._status_response(samlp.ArtifactResponse, None, None, sign=False,
                                               in_response_to=resolve_msg.id)
        # pysaml2 signs before adding the inner message when asked to sign; sign afterwards, with xmlsec1
        answer = server.sign(unsigned, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        answer = str(answer)
        if answer.startswith("<?xml"):
            answer = answer.split("?>", 1)[1].lstrip()
        envelope = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                    f"{answer}</soap:Body></soap:Envelope>")
        return Response(envelope, mimetype="text/xml")

    return app
