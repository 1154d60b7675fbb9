"""Drive pysaml2 as an eHerkenning DV (service provider) against the mock broker; print JSON.

pysaml2 is a dependency of the project itself, so this runs with the project's interpreter (in its own
process, like the other drivers). Its crypto backend is the `xmlsec1` program.

    driver.py --broker URL --workdir DIR setup --key K --cert C --entity-id ID --service-id SID [--binding post|artifact]
        writes the SP configuration to DIR/config.json and prints {"metadata": <SP metadata by pysaml2>}
    driver.py --broker URL --workdir DIR login [--replay]
        sends a signed HTTP-Redirect AuthnRequest asking for loa3 (minimum), takes the broker's answer
        (auto-post form, or 302 with SAMLart which pysaml2 resolves over SOAP), parses it with
        Saml2Client.parse_authn_request_response against the outstanding request and prints what it
        concluded plus the assertion XML (the test decrypts the EncryptedIDs in attribute values).
        --replay hands the same answer in again after the outstanding request was used.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import traceback
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests
from saml2 import BINDING_HTTP_ARTIFACT, BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

BASE_URL = "http://portal.interop.test"
ACS_URL = BASE_URL + "/saml2/acs"
LOA3 = "urn:etoegang:core:assurance-class:loa3"


def sp_config(conf: dict) -> SPConfig:
    binding = BINDING_HTTP_ARTIFACT if conf["binding"] == "artifact" else BINDING_HTTP_POST
    config = SPConfig()
    config.load({
        "entityid": conf["entity_id"],
        "key_file": conf["key"],
        "cert_file": conf["cert"],
        # The broker encrypts identifiers (and, if asked, the assertion) to this key pair.
        "encryption_keypairs": [{"key_file": conf["key"], "cert_file": conf["cert"]}],
        "metadata": {"inline": [conf["idp_metadata"]]},
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "allow_unknown_attributes": True,  # the eHerkenning attribute URIs are in no pysaml2 attribute map
        "service": {"sp": {
            "name": "Interop portal (TEST ONLY)",
            "endpoints": {"assertion_consumer_service": [(ACS_URL, binding)]},
            "authn_requests_signed": True,
            "want_assertions_signed": True,
            "want_response_signed": conf["binding"] == "post",
            "allow_unsolicited": False,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            # eHerkenning: the RequestedAttribute named after the ServiceID tells the broker the service.
            # (pysaml2 writes one AttributeConsumingService, index 1, from optional_attributes).
            "optional_attributes": [conf["service_id"]],
            "requested_attribute_name_format": NAME_FORMAT_URI,
        }},
    })
    return config


def setup(args) -> dict:
    conf = {"entity_id": args.entity_id, "key": str(Path(args.key).resolve()), "cert": str(Path(args.cert).resolve()),
            "service_id": args.service_id, "binding": args.binding,
            "idp_metadata": requests.get(f"{args.broker}/saml/metadata", timeout=10).text}
    (args.workdir / "config.json").write_text(json.dumps(conf))
    metadata = create_metadata_string(None, config=sp_config(conf), sign=True, valid=24)
    return {"metadata": metadata.decode() if isinstance(metadata, bytes) else metadata}


def form_fields(html: str) -> tuple[str, dict[str, str]]:
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', html).group(1))
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)}
    return action, fields


def acs(client: Saml2Client, answer: dict, outstanding: dict) -> dict:
    """The portal's ACS: pysaml2 checks InResponseTo against the outstanding requests it is given."""
    try:
        if answer["binding"] == "artifact":
            # pysaml2 resolves the artifact itself: a signed ArtifactResolve over SOAP to the broker.
            http = client.artifact2message(answer["SAMLart"], "idpsso")
            if http.status_code != 200:
                return {"error": f"ArtifactResolve got HTTP {http.status_code}: {http.text[:300]}"}
            saml_response = _inner_response(http.text)
            if saml_response is None:
                return {"error": "the ArtifactResponse holds no Response"}
            # the inner Response, taken out of the ArtifactResponse, is parsed as received by HTTP-Artifact
            # (pysaml2's unravel() base64-decodes what comes by HTTP-Artifact)
            response = client.parse_authn_request_response(base64.b64encode(saml_response.encode()).decode(),
                                                           BINDING_HTTP_ARTIFACT, outstanding)
        else:
            response = client.parse_authn_request_response(answer["SAMLResponse"], BINDING_HTTP_POST, outstanding)
    except Exception as exc:  # pysaml2 signals refusals by exceptions of many classes
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=3)}
    if response is None:
        return {"error": "parse_authn_request_response returned None"}
    out = {"status_ok": response.status_ok() if hasattr(response, "status_ok") else None,
           "in_response_to": response.in_response_to}
    assertion = response.assertion
    out["name_id"] = assertion.subject.name_id.text if assertion.subject and assertion.subject.name_id else None
    out["name_id_format"] = assertion.subject.name_id.format if assertion.subject and assertion.subject.name_id else None
    out["level"] = [s.authn_context.authn_context_class_ref.text for s in assertion.authn_statement]
    out["attributes"] = {k: [v if isinstance(v, str) else None for v in vals] for k, vals in response.ava.items()}
    out["assertion_id"] = assertion.id
    out["assertion_xml"] = str(assertion)
    return out


def _inner_response(soap_text: str) -> str | None:
    from lxml import etree

    root = etree.fromstring(soap_text.encode())
    found = root.findall(".//{urn:oasis:names:tc:SAML:2.0:protocol}Response")
    return etree.tostring(found[0]).decode() if found else None


def login(args) -> dict:
    conf = json.loads((args.workdir / "config.json").read_text())
    client = Saml2Client(sp_config(conf))
    authn_context = RequestedAuthnContext(authn_context_class_ref=[AuthnContextClassRef(text=LOA3)],
                                          comparison="minimum")
    binding = BINDING_HTTP_ARTIFACT if conf["binding"] == "artifact" else BINDING_HTTP_POST
    request_id, info = client.prepare_for_authenticate(
        binding=BINDING_HTTP_REDIRECT, relay_state="state-pysaml2", requested_authn_context=authn_context,
        force_authn="true", sign=True, sigalg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256, response_binding=binding)
    location = dict(info["headers"])["Location"]
    browser = requests.Session()
    sso = browser.get(location, allow_redirects=False, timeout=20)
    out: dict = {"request_id": request_id, "sso_url": location.split("?")[0], "broker_status": sso.status_code}
    if sso.status_code == 200 and 'name="SAMLResponse"' in sso.text:
        action, fields = form_fields(sso.text)
        answer = {"binding": "post", "SAMLResponse": fields["SAMLResponse"]}
        out["acs_url"] = action
    elif sso.status_code == 302 and "SAMLart=" in sso.headers.get("Location", ""):
        loc = sso.headers["Location"]
        answer = {"binding": "artifact", "SAMLart": parse_qs(urlparse(loc).query)["SAMLart"][0]}
        out["acs_url"] = loc.split("?")[0]
        out["artifact"] = answer["SAMLart"]
    else:
        out["broker_body"] = sso.text[:2000]
        out["broker_location"] = sso.headers.get("Location")
        return out
    outstanding = {request_id: BASE_URL + "/home"}
    out["first"] = acs(client, answer, outstanding)
    if args.replay:
        # A portal forgets the request once answered; the same answer again finds nothing outstanding.
        outstanding.pop(request_id, None)
        out["replay"] = acs(client, answer, outstanding)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--key", required=True)
    s.add_argument("--cert", required=True)
    s.add_argument("--entity-id", required=True)
    s.add_argument("--service-id", required=True)
    s.add_argument("--binding", choices=("post", "artifact"), default="post")
    lg = sub.add_parser("login")
    lg.add_argument("--replay", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(json.dumps(setup(args) if args.command == "setup" else login(args)))


if __name__ == "__main__":
    main()
