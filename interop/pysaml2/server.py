"""A login-only portal on pysaml2 as a plain SAML SP, served over HTTP for the harness (TEST ONLY).

    server.py --broker URL --port P --entity-id ID --key K --cert C

A plain SAML SP: its metadata names no eHerkenning ServiceID (register it with options.services), its
entity ID is a URL. Pages: /login (a signed HTTP-Redirect AuthnRequest asking for loa3), /saml2/acs
(parse_authn_request_response against the requests this browser started), /home, a refusal page (HTTP
403) naming pysaml2's exception, /logout, /whoami, /saml2/metadata. EncryptedIDs in attribute values
pysaml2 leaves encrypted: the portal decrypts those of the validated assertion with pysaml2's own
SecurityContext.decrypt (the xmlsec1 program).

HTTP-POST only: pysaml2's own way to take an artifact (artifact2message, then
parse_artifact_resolve_response) re-serialises the ArtifactResponse with ElementTree
(saml2/soap.py, parse_soap_enveloped_saml_thingy), which renames its namespace prefixes, and then
cannot verify the broker's signature on it: every Artifact login fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import requests
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from webapp import Response, logged_in, portal_routes, redirect, refuse, serve, wsgi  # noqa: E402

LOA3 = "urn:etoegang:core:assurance-class:loa3"
NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
LEGAL, ACTING = "urn:etoegang:core:LegalSubjectID", "urn:etoegang:core:ActingSubjectID"


def sp_config(args, base: str, idp_metadata: str) -> SPConfig:
    config = SPConfig()
    config.load({
        "entityid": args.entity_id,
        "key_file": args.key, "cert_file": args.cert,
        # the broker encrypts identifiers (and, if asked, the assertion) to this key pair
        "encryption_keypairs": [{"key_file": args.key, "cert_file": args.cert}],
        "metadata": {"inline": [idp_metadata]},
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "allow_unknown_attributes": True,  # the eHerkenning attribute URIs are in no pysaml2 attribute map
        "accepted_time_diff": 60,  # seconds of clock skew, as deployments set it (default: none at all)
        "service": {"sp": {
            "name": "pysaml2 interop portal (TEST ONLY)",
            "endpoints": {"assertion_consumer_service": [(base + "/saml2/acs", BINDING_HTTP_POST)]},
            "authn_requests_signed": True, "want_assertions_signed": True, "want_response_signed": True,
            "allow_unsolicited": False, "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256,
        }},
    })
    return config


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--broker", "--entity-id", "--key", "--cert"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    args.key, args.cert = str(Path(args.key).resolve()), str(Path(args.cert).resolve())
    base = f"http://127.0.0.1:{args.port}"
    config = sp_config(args, base, requests.get(f"{args.broker}/saml/metadata", timeout=10).text)
    client = Saml2Client(config)
    metadata_xml = create_metadata_string(None, config=config, sign=True, valid=24)

    def login(req):
        context = RequestedAuthnContext(authn_context_class_ref=[AuthnContextClassRef(text=LOA3)],
                                        comparison="minimum")
        request_id, info = client.prepare_for_authenticate(
            binding=BINDING_HTTP_REDIRECT, requested_authn_context=context, force_authn="true", sign=True,
            sigalg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256, response_binding=BINDING_HTTP_POST)
        req.session.setdefault("outstanding", {})[request_id] = base + "/home"
        return redirect(dict(info["headers"])["Location"])

    def acs(req):
        return finish(req, lambda outstanding: client.parse_authn_request_response(
            req.form["SAMLResponse"], BINDING_HTTP_POST, outstanding))

    def finish(req, parse):
        outstanding = req.session.get("outstanding", {})
        try:
            response = parse(outstanding)
            if response is None:
                raise ValueError("pysaml2 returned no response")
        except Exception as exc:  # pysaml2 signals a refusal by raising (many classes)
            return refuse(req, f"{type(exc).__name__}: {exc}")
        outstanding.pop(response.in_response_to, None)  # a request is answered once
        assertion = response.assertion
        try:
            ids = identifiers(client, str(assertion))
        except Exception as exc:  # SecurityContext.decrypt raises DecryptError for an EncryptedID it cannot decrypt
            return refuse(req, f"the identifiers cannot be decrypted ({type(exc).__name__}: {exc})")
        return logged_in(req, ids, response.ava,
                         level=[s.authn_context.authn_context_class_ref.text for s in assertion.authn_statement])

    def metadata(req):
        text = metadata_xml.decode() if isinstance(metadata_xml, bytes) else metadata_xml
        return Response(200, text, "application/samlmetadata+xml")

    serve(wsgi({**portal_routes("pysaml2 portaal (TEST ONLY)"), "/login": login, "/saml2/acs": acs,
                "/saml2/metadata": metadata}), args.port)


def identifiers(client: Saml2Client, assertion_xml: str) -> dict[str, str]:
    """The EncryptedIDs of the validated assertion, decrypted by pysaml2 (xmlsec1) and read as pysaml2 reads the
    Subject's (response.py get_subject: saml.name_id_from_string, None for anything but a NameID):
    {NameQualifier: value}."""
    root = etree.fromstring(assertion_xml.encode())
    out: dict[str, str] = {}
    for name in (LEGAL, ACTING):
        for enc in root.xpath(f"saml:AttributeStatement/saml:Attribute[@Name='{name}']//saml:EncryptedID",
                              namespaces=NS):
            plain = etree.fromstring(client.sec.decrypt(etree.tostring(enc).decode()).encode())
            inner = next((c for c in plain if not c.tag.endswith("EncryptedKey")), None) \
                if plain.tag.endswith("EncryptedID") else plain
            name_id = saml.name_id_from_string(etree.tostring(inner).decode()) if inner is not None else None
            if name_id is not None:
                out.setdefault(name_id.name_qualifier, name_id.text)
    return out


if __name__ == "__main__":
    main()
