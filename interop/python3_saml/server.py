"""A login-only portal on OneLogin python3-saml (upstream), served over HTTP for the harness (TEST ONLY).

    server.py --broker URL --port P --entity-id ID --service-id SID --key K --cert C

Its pages: /login (a signed HTTP-Redirect AuthnRequest asking for loa3, answer by HTTP-POST: python3-saml
cannot take Artifact), /saml/acs (process_response against the request this browser started, as the
library's demo does), /home (the company logged in for), a refusal page (HTTP 403) with the library's
error reason, /logout, /whoami (JSON), /saml/metadata. python3-saml does not decrypt EncryptedIDs in
attribute values: the portal decrypts those of the assertion the library validated, with the library's
own OneLogin_Saml2_Utils.decrypt_element, as docs/interop.md says.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import requests
from lxml import etree
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
from driver import LOA3, EHerkenningSettings  # noqa: E402  (the driver's settings: one place for both)
from webapp import Response, logged_in, page, portal_routes, redirect, refuse, serve, wsgi  # noqa: E402

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS = {"saml": SAML, "xenc": "http://www.w3.org/2001/04/xmlenc#"}
LEGAL, ACTING = "urn:etoegang:core:LegalSubjectID", "urn:etoegang:core:ActingSubjectID"


def settings_for(args, base: str) -> dict:
    idp = OneLogin_Saml2_IdPMetadataParser.parse(requests.get(f"{args.broker}/saml/metadata", timeout=10).content)["idp"]
    return {
        "strict": True, "debug": False,
        "sp": {
            "entityId": args.entity_id,
            "assertionConsumerService": {"url": base + "/saml/acs",
                                         "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
            "attributeConsumingService": {
                "index": "1", "serviceName": "python3-saml interop portal (TEST ONLY)",
                "serviceDescription": "a login-only portal on OneLogin python3-saml",
                # eHerkenning: the RequestedAttribute named after the ServiceID tells the broker the service.
                "requestedAttributes": [{"name": args.service_id, "isRequired": False}]},
            "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
            "x509cert": Path(args.cert).read_text(), "privateKey": Path(args.key).read_text(),
        },
        "idp": idp,
        "security": {
            "authnRequestsSigned": True, "wantMessagesSigned": True, "wantAssertionsSigned": True,
            "wantAssertionsEncrypted": False, "wantNameId": True, "signMetadata": True,
            "requestedAuthnContext": [LOA3], "requestedAuthnContextComparison": "minimum",
            "failOnAuthnContextMismatch": False,  # True demands the exact requested context: EH4 would be refused
            "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256", "rejectDeprecatedAlgorithm": True,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--broker", "--entity-id", "--service-id", "--key", "--cert"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    settings = EHerkenningSettings(settings_for(args, base))
    key = Path(args.key).read_text()

    def request_data(req, path: str) -> dict:
        return {"https": "off", "http_host": f"127.0.0.1:{args.port}", "script_name": path, "server_port": str(args.port),
                "get_data": dict(req.query), "post_data": dict(req.form)}

    def login(req):
        auth = OneLogin_Saml2_Auth(request_data(req, "/login"), old_settings=settings)
        url = auth.login(return_to=base + "/home", force_authn=True)
        req.session["request_id"] = auth.get_last_request_id()  # the library's demo keeps it in the session
        return redirect(url)

    def acs(req):
        if req.method != "POST":
            return page("Method not allowed", "", 400)
        auth = OneLogin_Saml2_Auth(request_data(req, "/saml/acs"), old_settings=settings)
        auth.process_response(request_id=req.session.pop("request_id", None))
        if auth.get_errors():
            return refuse(req, auth.get_last_error_reason() or ", ".join(auth.get_errors()))
        try:
            ids = identifiers(auth, key)
        except Exception as exc:  # decrypt_element raises (xmlsec.Error) for an EncryptedID it cannot decrypt
            return refuse(req, f"the identifiers cannot be decrypted ({type(exc).__name__}: {exc})")
        return logged_in(req, ids, auth.get_attributes(), level=auth.get_last_authn_contexts())

    def metadata(req):
        return Response(200, settings.get_sp_metadata().decode(), "application/samlmetadata+xml")

    serve(wsgi({**portal_routes("python3-saml portaal (TEST ONLY)"), "/login": login, "/saml/acs": acs,
                "/saml/metadata": metadata}), args.port)


def identifiers(auth: OneLogin_Saml2_Auth, key: str) -> dict[str, str]:
    """The EncryptedIDs of the assertion python3-saml validated, decrypted and read as python3-saml reads the
    Subject's EncryptedID (response.py get_nameid_data: decrypt_element, then element_text): {NameQualifier: value}."""
    doc = auth.get_last_response_xml()
    root = etree.fromstring(doc.encode() if isinstance(doc, str) else doc)
    assertion_id = auth.get_last_assertion_id()
    found = root.xpath("//saml:Assertion[@ID=$id]", namespaces=NS, id=assertion_id)
    out: dict[str, str] = {}
    for name in (LEGAL, ACTING):
        for enc in found[0].xpath(f"saml:AttributeStatement/saml:Attribute[@Name='{name}']//xenc:EncryptedData",
                                  namespaces=NS) if found else ():
            name_id = OneLogin_Saml2_Utils.decrypt_element(enc, key)
            out.setdefault(name_id.get("NameQualifier"), OneLogin_Saml2_XML.element_text(name_id))
    return out


if __name__ == "__main__":
    main()
