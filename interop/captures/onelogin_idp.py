"""Captures made with OneLogin's python3-saml toolkit as another broker would use it: answers to another DV.

Runs in the python3-saml interop environment ($INTEROP_VENV_ROOT/python3_saml), never with this project's code.
python3-saml is an SP toolkit, but its utilities do an IdP's crypto: `OneLogin_Saml2_Utils.add_sign` signs a
message or an assertion (its own template: ds: prefix, exc-c14n, the Signature after the Issuer) and
`generate_name_id` makes a saml:EncryptedID (AES-128-CBC, RSA-OAEP, no Recipient) to the DV's certificate.
The elements around them are written here with lxml, in the prefixes the spec asks for (`prefixes: default`:
default namespaces, no samlp:/saml: at all).

    python onelogin_idp.py --spec interop/captures/spec.json --out DIR --dv-cert DIR/dv.TEST-ONLY.crt

writes into DIR: this broker's TEST-ONLY key and certificate (made with openssl) and metadata
(onelogin-broker-metadata.xml), every onelogin capture of the spec in its shapes, and onelogin-manifest.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

sys.path.insert(0, str(Path(__file__).resolve().parent))
import shapes  # noqa: E402  (beside this script; standard library only)

SAMLP, SAML = "urn:oasis:names:tc:SAML:2.0:protocol", "urn:oasis:names:tc:SAML:2.0:assertion"
XS, XSI = "http://www.w3.org/2001/XMLSchema", "http://www.w3.org/2001/XMLSchema-instance"
BROKER = "urn:etoegang:HM:00000003777777770000:entities:0001"
ID = {"kvk": "urn:etoegang:1.9:EntityConcernedID:KvKnr", "rsin": "urn:etoegang:1.9:EntityConcernedID:RSIN",
      "eidas": "urn:etoegang:1.11:EntityConcernedID:eIDASLegalIdentifier",
      "pseudo": "urn:etoegang:1.9:EntityConcernedID:Pseudo"}
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def make_key(out: Path) -> tuple[str, str]:
    key, cert = out / "onelogin-broker.TEST-ONLY.key", out / "onelogin-broker.TEST-ONLY.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "365", "-subj",
                    "/CN=onelogin broker TEST-ONLY", "-keyout", str(key), "-out", str(cert)], check=True,
                   capture_output=True)
    return key.read_text(), cert.read_text()


def metadata(cert_pem: str, spec: dict) -> str:
    b64 = "".join(line for line in cert_pem.splitlines() if "-----" not in line)
    return (f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{BROKER}"><md:IDPSSODescriptor '
            f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing">'
            f'<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
            f'</md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="https://hm.derde-broker.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>')


class Writer:
    """Elements in the spec's prefixes: samlp:/saml: (as OneLogin's own messages have them) or default namespaces."""

    def __init__(self, prefixes: str | None):
        self.default = prefixes == "default"

    def el(self, ns: str, tag: str, parent=None, text: str | None = None, **attrs):
        nsmap = {None: ns} if self.default else {"samlp": SAMLP, "saml": SAML}
        if parent is None:
            node = etree.Element(f"{{{ns}}}{tag}", nsmap=nsmap)
        elif self.default and etree.QName(parent).namespace != ns:
            node = etree.SubElement(parent, f"{{{ns}}}{tag}", nsmap={None: ns})
        else:
            node = etree.SubElement(parent, f"{{{ns}}}{tag}")
        for k, v in attrs.items():
            node.set(k, v)
        if text is not None:
            node.text = text
        return node


def _time(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _id() -> str:
    return "_" + uuid.uuid4().hex


def assertion(w: Writer, spec: dict, c: dict, request_id: str, issued, dv_cert: str) -> etree._Element:
    dv, login = spec["dv"], c["login"]
    acs, until = dv["acs_post"], issued + timedelta(seconds=300)
    a = w.el(SAML, "Assertion", ID=_id(), Version="2.0", IssueInstant=_time(issued))
    w.el(SAML, "Issuer", a, BROKER)
    subject = w.el(SAML, "Subject", a)
    w.el(SAML, "NameID", subject, _id(), Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
         NameQualifier=spec["idp"]["ad"])
    sc = w.el(SAML, "SubjectConfirmation", subject, Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
    w.el(SAML, "SubjectConfirmationData", sc, InResponseTo=request_id, Recipient=acs, NotOnOrAfter=_time(until))
    cond = w.el(SAML, "Conditions", a, NotBefore=_time(issued - timedelta(seconds=30)), NotOnOrAfter=_time(until))
    w.el(SAML, "Audience", w.el(SAML, "AudienceRestriction", cond), dv["entity_id"])
    st = w.el(SAML, "AuthnStatement", a, AuthnInstant=_time(issued), SessionIndex=_id())
    ctx = w.el(SAML, "AuthnContext", st)
    w.el(SAML, "AuthnContextClassRef", ctx, "urn:etoegang:core:assurance-class:" + login["level"])
    w.el(SAML, "AuthenticatingAuthority", ctx, spec["idp"]["ad"])
    attrs = w.el(SAML, "AttributeStatement", a)
    n = str(login["service"])
    prefix = dv["entity_id"].split(":entities:")[0]

    def attribute(name: str, values: list) -> None:
        at = w.el(SAML, "Attribute", attrs, Name=name, NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
        for v in values:
            value = w.el(SAML, "AttributeValue", at)
            if isinstance(v, tuple):  # an identifier: a NameID, encrypted to the DV by OneLogin's generate_name_id
                made = OneLogin_Saml2_Utils.generate_name_id(v[1], None, PERSISTENT, dv_cert if c.get("encrypt")
                                                             == "identifiers" else None, nq=ID[v[0]])
                holder = etree.fromstring(f'<x xmlns:saml="{SAML}">{made}</x>')
                value.append(holder[0])
            else:
                value.set(f"{{{XSI}}}type", "xs:string")  # xs: is declared on the assertion (response())
                value.text = v

    attribute("urn:etoegang:core:ServiceID", [f"{prefix}:services:{n}"])
    attribute("urn:etoegang:core:ServiceUUID", [dv["service_uuids"][n]])
    attribute("urn:etoegang:core:LegalSubjectID", [(k, login[k]) for k in ("kvk", "rsin", "eidas") if login.get(k)])
    attribute("urn:etoegang:core:ActingSubjectID", [("pseudo", "7c" * 32 + "@" + "a1" * 16)])
    attribute("urn:etoegang:1.11:attribute-represented:CompanyName", [login["name"]])
    if login.get("intermediary_kvk"):
        attribute("urn:etoegang:1.9:IntermediateEntityID:KvKnr", [login["intermediary_kvk"]])
        attribute("urn:etoegang:1.13:attribute-intermediate:CompanyName", [login["intermediary_name"]])
    return a


def response(spec: dict, c: dict, request_id: str, issued, key: str, cert: str, dv_cert: str) -> str:
    w = Writer(c.get("prefixes"))
    sign = c.get("sign", ["response", "assertion"])
    r = w.el(SAMLP, "Response", ID=_id(), Version="2.0", IssueInstant=_time(issued), InResponseTo=request_id,
             Destination=spec["dv"]["acs_post"])
    w.el(SAML, "Issuer", r, BROKER)
    w.el(SAMLP, "StatusCode", w.el(SAMLP, "Status", r), Value="urn:oasis:names:tc:SAML:2.0:status:Success")
    a = assertion(w, spec, c, request_id, issued, dv_cert)
    etree.cleanup_namespaces(a, top_nsmap={"xs": XS, "xsi": XSI}, keep_ns_prefixes=["xs", "xsi"])
    if "assertion" in sign:
        a = etree.fromstring(OneLogin_Saml2_Utils.add_sign(etree.tostring(a), key, cert))
    r.append(a)
    xml = etree.tostring(r)
    if "response" in sign:
        xml = OneLogin_Saml2_Utils.add_sign(xml, key, cert)
    return xml.decode() if isinstance(xml, bytes) else xml


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--dv-cert", required=True, type=Path)
    args = p.parse_args()
    spec = json.loads(args.spec.read_text("utf-8"))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    key, cert = make_key(out)
    (out / "onelogin-broker-metadata.xml").write_text(metadata(cert, spec), "utf-8")
    dv_cert = args.dv_cert.read_text()
    manifest = {}
    for c in spec["captures"]:
        if c["idp"] != "onelogin":
            continue
        sent = shapes.now()
        issued = sent - timedelta(seconds=2)
        request_id = _id()
        xml = response(spec, c, request_id, issued, key, cert, dv_cert)
        request_url = "https://hm.derde-broker.example/sso"  # the AuthnRequest went by POST, not recorded here
        manifest[c["id"]] = shapes.write(out, c["id"], "post", xml=xml, request_url=request_url,
                                         acs=spec["dv"]["acs_post"], sent=sent)
        manifest[c["id"]]["issued"] = _time(issued)
    (out / "onelogin-manifest.json").write_text(json.dumps(manifest, indent=1), "utf-8")
    print(json.dumps({"made": len(manifest), "out": str(out)}))


if __name__ == "__main__":
    main()
