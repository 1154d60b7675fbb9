"""Captures made by pysaml2 as the IdP: another broker's answers to another DV, as a support desk gets them.

Runs in the pysaml2 interop environment ($INTEROP_VENV_ROOT/pysaml2, built by tests/interop_env.py), never with
this project's code: pysaml2's own object model and serialiser (its ns0:/ns1: prefixes, xsi:nil on an
AttributeValue that holds a NameID), its Server and Saml2Client, its signatures and encryption by the `xmlsec1`
program, its artifacts.

    python pysaml2_idp.py --spec interop/captures/spec.json --out DIR

writes into DIR: TEST-ONLY keys made now (foreign-broker, stranger, dv), the foreign broker's metadata
(foreign-broker-metadata.xml), the DV's (dv-metadata.xml, by pysaml2 as an SP), every pysaml2 capture of the spec
in its shapes (interop/captures/shapes.py), and pysaml2-manifest.json ({capture id: {shape: file}}).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import (BINDING_HTTP_ARTIFACT, BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP, class_name,
                   element_to_extension_element, saml, samlp)
from saml2.client import Saml2Client
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import sid
from saml2.server import Server
from saml2.sigver import pre_encrypt_assertion, pre_encryption_part, pre_signature_part, signed_instance_factory
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shapes  # noqa: E402  (beside this script; standard library only)

LOA = "urn:etoegang:core:assurance-class:"
ID = {"kvk": "urn:etoegang:1.9:EntityConcernedID:KvKnr", "rsin": "urn:etoegang:1.9:EntityConcernedID:RSIN",
      "eidas": "urn:etoegang:1.11:EntityConcernedID:eIDASLegalIdentifier",
      "pseudo": "urn:etoegang:1.9:EntityConcernedID:Pseudo"}
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"


def make_key(out: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} TEST-ONLY")])
    start = datetime.utcnow() - timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=365)).sign(key, hashes.SHA256()))
    key_file, cert_file = out / f"{name}.TEST-ONLY.key", out / f"{name}.TEST-ONLY.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def sp_config(spec: dict, keys: tuple[Path, Path], idp_metadata: str | None) -> SPConfig:
    dv = spec["dv"]
    conf = {
        "entityid": dv["entity_id"], "key_file": str(keys[0]), "cert_file": str(keys[1]),
        "encryption_keypairs": [{"key_file": str(keys[0]), "cert_file": str(keys[1])}],
        "xmlsec_binary": "/usr/bin/xmlsec1", "allow_unknown_attributes": True,
        "service": {"sp": {"name": "Werkgeversportaal (TEST ONLY)", "authn_requests_signed": True,
                           "want_assertions_signed": True, "want_response_signed": True,
                           "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256,
                           "endpoints": {"assertion_consumer_service": [(dv["acs_post"], BINDING_HTTP_POST),
                                                                        (dv["acs_artifact"], BINDING_HTTP_ARTIFACT)]},
                           # eHerkenning: a RequestedAttribute named by each ServiceID the DV offers
                           "optional_attributes": [f"{_oin_prefix(dv)}:services:{n}" for n in dv["services"]],
                           "requested_attribute_name_format": URI}},
    }
    if idp_metadata:
        conf["metadata"] = {"inline": [idp_metadata]}
    config = SPConfig()
    config.load(conf)
    return config


def idp_config(spec: dict, keys: tuple[Path, Path], sp_metadata: str | None) -> IdPConfig:
    idp = spec["idp"]
    conf = {
        "entityid": idp["entity_id"], "key_file": str(keys[0]), "cert_file": str(keys[1]),
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "service": {"idp": {"name": "Another broker (TEST ONLY)",
                            "endpoints": {"single_sign_on_service": [(idp["sso"], BINDING_HTTP_REDIRECT),
                                                                     (idp["sso"], BINDING_HTTP_POST)],
                                          "artifact_resolution_service": [(idp["artifact"], BINDING_SOAP)]},
                            "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256}},
    }
    if sp_metadata:
        conf["metadata"] = {"inline": [sp_metadata]}
    config = IdPConfig()
    config.load(conf)
    return config


def _oin_prefix(dv: dict) -> str:
    return dv["entity_id"].split(":entities:")[0]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _name_id_value(text: str, qualifier: str) -> saml.AttributeValue:
    value = saml.AttributeValue()
    value.extension_elements = [element_to_extension_element(
        saml.NameID(text=text, name_qualifier=qualifier, format=PERSISTENT))]
    return value


def attributes(spec: dict, login: dict, order: str | None) -> list[saml.Attribute]:
    dv, n = spec["dv"], str(login["service"])
    found = [("urn:etoegang:core:ServiceID", [saml.AttributeValue(text=f"{_oin_prefix(dv)}:services:{n}")]),
             ("urn:etoegang:core:ServiceUUID", [saml.AttributeValue(text=dv["service_uuids"][n])])]
    legal = [_name_id_value(login[k], ID[k]) for k in ("kvk", "rsin", "eidas") if login.get(k)]
    found.append(("urn:etoegang:core:LegalSubjectID", legal))
    pseudonym = "b5" * 32 + "@" + "0e" * 16
    found.append(("urn:etoegang:core:ActingSubjectID", [_name_id_value(pseudonym, ID["pseudo"])]))
    found.append(("urn:etoegang:1.11:attribute-represented:CompanyName", [saml.AttributeValue(text=login["name"])]))
    if login.get("branch"):
        found.append(("urn:etoegang:1.9:ServiceRestriction:Vestigingsnr", [saml.AttributeValue(text=login["branch"])]))
    if login.get("intermediary_kvk"):
        found.append(("urn:etoegang:1.9:IntermediateEntityID:KvKnr",
                      [saml.AttributeValue(text=login["intermediary_kvk"])]))
        found.append(("urn:etoegang:1.13:attribute-intermediate:CompanyName",
                      [saml.AttributeValue(text=login["intermediary_name"])]))
    if order == "reversed":
        found.reverse()
    return [saml.Attribute(name=name, name_format=URI, attribute_value=values) for name, values in found]


def answer(spec: dict, c: dict, request_id: str, issued: datetime) -> tuple[samlp.Response, saml.Assertion | None]:
    dv, idp = spec["dv"], spec["idp"]
    binding = c.get("binding", "post")
    acs = spec[c["acs"]] if c.get("acs") else dv["acs_artifact" if binding == "artifact" else "acs_post"]
    status = c.get("status")
    if status:
        inner = samlp.StatusCode(value=STATUS + status["sub"])
        response_status = samlp.Status(status_code=samlp.StatusCode(value=STATUS + status["code"], status_code=inner),
                                       status_message=samlp.StatusMessage(text=status["message"]))
    else:
        response_status = samlp.Status(status_code=samlp.StatusCode(value=STATUS + "Success"))
    response = samlp.Response(id=sid(), version="2.0", issue_instant=_time(issued), in_response_to=request_id,
                              destination=acs, issuer=saml.Issuer(text=idp["entity_id"]), status=response_status)
    if status:
        return response, None
    login = c["login"]
    audience = spec[c["audience"]] if c.get("audience") else dv["entity_id"]
    start = issued + timedelta(seconds=c.get("not_before_ahead", 0)) - timedelta(seconds=30)
    until = issued + timedelta(seconds=300)
    assertion = saml.Assertion(
        id=sid(), version="2.0", issue_instant=_time(issued), issuer=saml.Issuer(text=idp["entity_id"]),
        subject=saml.Subject(
            name_id=saml.NameID(text=sid(), format=TRANSIENT, name_qualifier=idp["ad"]),
            subject_confirmation=[saml.SubjectConfirmation(
                method="urn:oasis:names:tc:SAML:2.0:cm:bearer",
                subject_confirmation_data=saml.SubjectConfirmationData(
                    in_response_to=request_id, recipient=acs, not_on_or_after=_time(until)))]),
        conditions=saml.Conditions(not_before=_time(start), not_on_or_after=_time(until),
                                   audience_restriction=[saml.AudienceRestriction(
                                       audience=[saml.Audience(text=audience)])]),
        authn_statement=[saml.AuthnStatement(
            authn_instant=_time(issued), session_index=sid(),
            authn_context=saml.AuthnContext(
                authn_context_class_ref=saml.AuthnContextClassRef(text=LOA + login["level"]),
                authenticating_authority=[saml.AuthenticatingAuthority(text=idp["ad"])]))],
        attribute_statement=[saml.AttributeStatement(attribute=attributes(spec, login, c.get("attribute_order")))])
    response.assertion = assertion
    return response, assertion


def signed(server: Server, response: samlp.Response, assertion, sign: list[str]) -> str:
    """pysaml2's own signing (the xmlsec1 program): the assertion first, then the Response around it."""
    to_sign = []
    if assertion is not None and "assertion" in sign:
        assertion.signature = pre_signature_part(assertion.id, server.sec.my_cert, 1, sign_alg=SIG_RSA_SHA256,
                                                 digest_alg=DIGEST_SHA256)
        to_sign.append((class_name(assertion), assertion.id))
    if "response" in sign:
        response.signature = pre_signature_part(response.id, server.sec.my_cert, 2, sign_alg=SIG_RSA_SHA256,
                                                digest_alg=DIGEST_SHA256)
        to_sign.append((class_name(response), response.id))
    return _text(signed_instance_factory(response, server.sec, to_sign) if to_sign else response.to_string())


def encrypted(server: Server, spec: dict, response: samlp.Response, assertion, dv_cert: Path) -> str:
    """pysaml2's own steps (Entity._response, part C): the assertion signed, wrapped in an EncryptedAssertion,
    encrypted by the xmlsec1 program to the DV's certificate, then the Response signed around it. The data
    cipher is AES-256-CBC, as eHerkenning wants (pysaml2's default would be triple-DES)."""
    pem = dv_cert.read_text()
    unwrapped = "".join(line for line in pem.splitlines() if "-----" not in line)
    assertion.signature = pre_signature_part(assertion.id, server.sec.my_cert, 1, sign_alg=SIG_RSA_SHA256,
                                             digest_alg=DIGEST_SHA256)
    response.signature = pre_signature_part(response.id, server.sec.my_cert, 2, sign_alg=SIG_RSA_SHA256,
                                            digest_alg=DIGEST_SHA256)
    xml = signed_instance_factory(pre_encrypt_assertion(response), server.sec, [(class_name(assertion), assertion.id)])
    template = pre_encryption_part(msg_enc="http://www.w3.org/2001/04/xmlenc#aes256-cbc", encrypt_cert=unwrapped)
    xml = server.sec.encrypt_assertion(_text(xml), str(dv_cert), template, key_type="aes-256")
    return _text(server.sec.sign_statement(_text(xml), node_name=class_name(response), node_id=response.id))


def artifact_response(server: Server, spec: dict, inner_xml: str, sign: list[str], issued: datetime) -> tuple[str, str, str]:
    """The answer by HTTP-Artifact: pysaml2's artifact for the message, its ArtifactResolve and ArtifactResponse."""
    art = server.use_artifact(inner_xml, endpoint_index=0)
    resolve = samlp.ArtifactResolve(id=sid(), version="2.0", issue_instant=_time(issued),
                                    destination=spec["idp"]["artifact"], artifact=samlp.Artifact(text=art),
                                    issuer=saml.Issuer(text=spec["dv"]["entity_id"]))
    ok = samlp.Status(status_code=samlp.StatusCode(value=STATUS + "Success"))
    msg = samlp.ArtifactResponse(id=sid(), version="2.0", issue_instant=_time(issued), in_response_to=resolve.id,
                                 issuer=saml.Issuer(text=spec["idp"]["entity_id"]), status=ok)
    if "artifact_response" in sign:
        msg.signature = pre_signature_part(msg.id, server.sec.my_cert, 3, sign_alg=SIG_RSA_SHA256,
                                           digest_alg=DIGEST_SHA256)
    # The Response goes in as it was signed: pysaml2's own re-serialisation (element_to_extension_element, as
    # its create_artifact_response does) rewrites the prefixes inside and breaks the assertion's signature.
    template = _text(msg.to_string())
    close = template.rindex("</")
    xml = template[:close] + inner_xml + template[close:]
    if "artifact_response" in sign:
        xml = _text(server.sec.sign_statement(xml, node_name=class_name(msg), node_id=msg.id))
    resolve_soap = ('<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>'
                    f'{_text(resolve.to_string())}</SOAP-ENV:Body></SOAP-ENV:Envelope>')
    return _strip_declaration(xml), art, resolve_soap


def _strip_declaration(xml: str) -> str:
    return xml.split("?>", 1)[1].lstrip() if xml.startswith("<?xml") else xml


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    args = p.parse_args()
    spec = json.loads(args.spec.read_text("utf-8"))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    keys = {name: make_key(out, name) for name in ("foreign-broker", "stranger", "dv")}
    dv_metadata = _text(create_metadata_string(None, config=sp_config(spec, keys["dv"], None), valid=24))
    idp_metadata = _text(create_metadata_string(None, config=idp_config(spec, keys["foreign-broker"], None), valid=24))
    (out / "dv-metadata.xml").write_text(dv_metadata, "utf-8")
    (out / "foreign-broker-metadata.xml").write_text(idp_metadata, "utf-8")
    servers = {name: Server(config=idp_config(spec, keys[name], dv_metadata)) for name in ("foreign-broker", "stranger")}
    client = Saml2Client(config=sp_config(spec, keys["dv"], idp_metadata))
    manifest = {}
    for c in spec["captures"]:
        if c["idp"] != "pysaml2":
            continue
        sent = shapes.now() - timedelta(seconds=c.get("issued_ago", 0)) + timedelta(seconds=2)
        issued = sent - timedelta(seconds=2)
        binding = c.get("binding", "post")
        request_id, request = client.create_authn_request(spec["idp"]["sso"], binding=BINDING_HTTP_POST if binding ==
                                                          "post" else BINDING_HTTP_ARTIFACT)
        info = client.apply_binding(BINDING_HTTP_REDIRECT, _text(str(request)), spec["idp"]["sso"],
                                    relay_state=shapes.RELAY_STATE, sign=True, sigalg=SIG_RSA_SHA256)
        request_url = dict(info["headers"])["Location"]
        server = servers[c.get("key", "foreign-broker")]
        response, assertion = answer(spec, c, request_id, issued)
        sign = c.get("sign", ["response", "assertion"])
        xml = encrypted(server, spec, response, assertion, keys["dv"][1]) if c.get("encrypt") == "assertion" \
            else signed(server, response, assertion, [s for s in sign if s != "artifact_response"])
        xml = _strip_declaration(xml)
        acs = response.destination
        # a HAR records when the browser sent it: the capture is judged as of then (issued_ago: pasted later)
        har_time = shapes.now() if c.get("issued_ago") else sent
        if binding == "artifact":
            art_xml, art, resolve_soap = artifact_response(server, spec, xml, sign, issued)
            manifest[c["id"]] = shapes.write(out, c["id"], "artifact", xml=art_xml, request_url=request_url, acs=acs,
                                             sent=har_time, artifact=art, resolve_soap=resolve_soap,
                                             artifact_url=spec["idp"]["artifact"])
        else:
            manifest[c["id"]] = shapes.write(out, c["id"], "post", xml=xml, request_url=request_url, acs=acs,
                                             sent=har_time)
        manifest[c["id"]]["issued"] = _time(issued)
    (out / "pysaml2-manifest.json").write_text(json.dumps(manifest, indent=1), "utf-8")
    print(json.dumps({"made": len(manifest), "out": str(out)}))


if __name__ == "__main__":
    main()
