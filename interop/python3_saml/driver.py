"""Drive OneLogin python3-saml (upstream) as an eHerkenning DV against the mock broker; print JSON.

Run with the interpreter of this library's own virtual environment (tests/interop_env.py builds it):

    driver.py --broker URL --workdir DIR setup --key K --cert C --entity-id ID --service-id SID [--encrypted]
        writes the SP settings (IdP part parsed from the broker's metadata by the library's own
        OneLogin_Saml2_IdPMetadataParser) to DIR/settings.json; prints {"metadata": <SP metadata>}
    driver.py --broker URL --workdir DIR login [--replay]
        sends a signed HTTP-Redirect AuthnRequest asking for loa3 (minimum) with an HTTP-POST ACS,
        takes the broker's auto-post form and hands its SAMLResponse to the library's ACS processing;
        prints the outcome: errors, NameID, attributes, level, and the (decrypted) assertion XML so the
        test can decrypt the EncryptedIDs in attribute values (python3-saml does not). --replay hands
        the same SAMLResponse in a second time while a new login is pending.
"""

from __future__ import annotations

import argparse
import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import urlparse

import requests
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.metadata import OneLogin_Saml2_Metadata
from onelogin.saml2.settings import OneLogin_Saml2_Settings

BASE_URL = "http://portal.interop.test"
ACS_PATH = "/saml/acs"
LOA3 = "urn:etoegang:core:assurance-class:loa3"


class EHerkenningMetadata(OneLogin_Saml2_Metadata):
    """python3-saml lists an encryption key only when it wants encrypted assertions or NameIDs; an
    eHerkenning DV always needs one (identifiers come as EncryptedIDs in attribute values)."""

    @classmethod
    def add_x509_key_descriptors(cls, metadata, cert=None, add_encryption=True):
        return super().add_x509_key_descriptors(metadata, cert, True)


class EHerkenningSettings(OneLogin_Saml2_Settings):
    metadata_class = EHerkenningMetadata


def setup(args) -> dict:
    idp = OneLogin_Saml2_IdPMetadataParser.parse(
        requests.get(f"{args.broker}/saml/metadata", timeout=10).content)["idp"]
    settings = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": args.entity_id,
            "assertionConsumerService": {"url": BASE_URL + ACS_PATH,
                                         "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
            "attributeConsumingService": {
                "index": args.service_index,
                "serviceName": "Interop portal (TEST ONLY)",
                "serviceDescription": "python3-saml against the eHerkenning broker mock",
                # eHerkenning: the RequestedAttribute named after the ServiceID tells the broker the service.
                "requestedAttributes": [{"name": args.service_id, "isRequired": False}],
            },
            "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
            "x509cert": Path(args.cert).read_text(),
            "privateKey": Path(args.key).read_text(),
        },
        "idp": idp,
        "security": {
            "authnRequestsSigned": True,
            "wantMessagesSigned": True,
            "wantAssertionsSigned": True,
            "wantAssertionsEncrypted": args.encrypted,
            "wantNameId": True,
            "wantNameIdEncrypted": False,
            "signMetadata": True,
            "requestedAuthnContext": [LOA3],
            "requestedAuthnContextComparison": "minimum",
            "failOnAuthnContextMismatch": False,
            "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
            "rejectDeprecatedAlgorithm": True,
        },
    }
    (args.workdir / "settings.json").write_text(json.dumps(settings))
    saml_settings = EHerkenningSettings(settings)
    metadata = saml_settings.get_sp_metadata()
    errors = saml_settings.validate_metadata(metadata)
    return {"metadata": metadata.decode() if isinstance(metadata, bytes) else metadata, "metadata_errors": errors,
            "idp": {k: idp[k] for k in ("entityId", "singleSignOnService")}}


def request_data(post: dict | None = None, get: dict | None = None) -> dict:
    url = urlparse(BASE_URL)
    return {"https": "off", "http_host": url.netloc, "script_name": ACS_PATH, "server_port": "80",
            "get_data": get or {}, "post_data": post or {}}


def form_fields(html: str) -> tuple[str, dict[str, str]]:
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', html).group(1))
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)}
    return action, fields


def acs(settings: dict, saml_response: str, pending_request_id: str, seen_assertions: set) -> dict:
    """What a portal's ACS view does with python3-saml: process_response against the pending request ID."""
    auth = OneLogin_Saml2_Auth(request_data(post={"SAMLResponse": saml_response}), old_settings=settings)
    auth.process_response(request_id=pending_request_id)
    errors = auth.get_errors()
    out = {"errors": errors, "error_reason": auth.get_last_error_reason(), "authenticated": auth.is_authenticated()}
    if not errors:
        assertion_id = auth.get_last_assertion_id()
        # python3-saml leaves replay detection to the portal: it keeps the IDs of assertions it used.
        out["assertion_replayed"] = assertion_id in seen_assertions
        seen_assertions.add(assertion_id)
        out.update(
            name_id=auth.get_nameid(),
            name_id_format=auth.get_nameid_format(),
            attributes=auth.get_attributes(),
            level=auth.get_last_authn_contexts(),
            session_index=auth.get_session_index(),
            assertion_id=assertion_id,
        )
    doc = auth.get_last_response_xml()
    out["response_xml"] = doc.decode() if isinstance(doc, bytes) else doc
    return out


def login(args) -> dict:
    settings = OneLogin_Saml2_Settings(json.loads((args.workdir / "settings.json").read_text()))
    auth = OneLogin_Saml2_Auth(request_data(), old_settings=settings)
    redirect = auth.login(return_to=BASE_URL + "/home", force_authn=True)
    request_id = auth.get_last_request_id()
    browser = requests.Session()
    sso = browser.get(redirect, allow_redirects=False, timeout=20)
    out: dict = {"request_id": request_id, "sso_url": redirect.split("?")[0], "broker_status": sso.status_code}
    if sso.status_code != 200 or 'name="SAMLResponse"' not in sso.text:
        out["broker_body"] = sso.text[:2000]
        out["broker_location"] = sso.headers.get("Location")
        return out
    action, fields = form_fields(sso.text)
    out["acs_url"] = action
    out["relay_state"] = fields.get("RelayState")
    seen: set = set()
    out["first"] = acs(settings, fields["SAMLResponse"], request_id, seen)
    if args.replay:
        # The portal now has a new login pending; the old response is posted to its ACS again.
        new_auth = OneLogin_Saml2_Auth(request_data(), old_settings=settings)
        new_auth.login()
        out["replay"] = acs(settings, fields["SAMLResponse"], new_auth.get_last_request_id(), seen)
        # ... and without any pending request (an unsolicited replay), only the portal's ID cache stops it.
        out["replay_unsolicited"] = acs(settings, fields["SAMLResponse"], None, seen)
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
    s.add_argument("--service-index", default="1")
    s.add_argument("--encrypted", action="store_true")
    lg = sub.add_parser("login")
    lg.add_argument("--replay", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(json.dumps(setup(args) if args.command == "setup" else login(args)))


if __name__ == "__main__":
    main()
