"""Every message the broker signs verifies with python-xmlsec and with the `xmlsec1` program, and every
identifier or assertion it encrypts decrypts with both.

The broker signs and encrypts with `cryptography` and lxml (ehsaml.dsig, ehsaml.xenc); these tests are the
cross-check by two independent implementations of XML-DSig and XML-Enc, on the exact bytes the broker sent
(its journal keeps them), over real HTTP logins by Artifact and by POST, for each per-DV switch.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from lxml import etree

from conftest import journal, queue
from ehsaml import dsig, ns, testkeys, xenc
from ehsaml.keys import load_certificate
from ehsaml.testids import PORTAL_OIN
from testdv import TestDV, dv_catalogue, dv_metadata, portal_keypair

XMLSEC1 = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"
BROKER_CERT = testkeys.cert_file("broker")
ID_ATTRS = [f"{ns.SAMLP}:Response", f"{ns.SAML}:Assertion", f"{ns.SAMLP}:ArtifactResponse",
            f"{ns.SAMLP}:LogoutResponse", f"{ns.MD}:EntityDescriptor"]
OPTIONS = {
    "default": {},
    "gcm": {"data_cipher": "aes256-gcm"},
    "encrypted-assertion": {"encrypt_assertion": True},
    "advice": {"advice": True},
}


def _xmlsec1(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    if not Path(XMLSEC1).exists():
        pytest.fail("the xmlsec1 program is not installed (Debian package xmlsec1; scripts/setup.sh installs it)")
    return subprocess.run([XMLSEC1, *args], cwd=cwd, capture_output=True, text=True, timeout=30)


def verify_everywhere(element: etree._Element, tmp_path: Path) -> None:
    """Check `element`'s own enveloped signature with python-xmlsec and, standalone, with xmlsec1."""
    dsig.verify(element, [load_certificate(str(BROKER_CERT))], where=etree.QName(element).localname)
    path = tmp_path / f"{etree.QName(element).localname}-{element.get('ID')}.xml"
    path.write_bytes(etree.tostring(element))
    id_attrs = [a for attr in ID_ATTRS for a in ("--id-attr:ID", attr)]
    done = _xmlsec1("--verify", "--pubkey-cert-pem", str(BROKER_CERT), *id_attrs, path.name, cwd=tmp_path)
    assert done.returncode == 0 and "OK" in done.stderr, f"xmlsec1 does not verify {path.name}:\n{done.stderr}"


def decrypt_everywhere(container: etree._Element, tmp_path: Path) -> etree._Element:
    """Decrypt an EncryptedID / EncryptedAssertion with python-xmlsec and with xmlsec1; both must agree."""
    keypair = portal_keypair()
    plain = xenc.decrypt(container, keypair, where=etree.QName(container).localname)
    path = tmp_path / "encrypted.xml"
    path.write_bytes(etree.tostring(container))
    done = _xmlsec1("--decrypt", f"--privkey-pem:{keypair.certificate.key_name}", str(testkeys.key_file("portal")),
                    path.name, cwd=tmp_path)
    assert done.returncode == 0, f"xmlsec1 does not decrypt it:\n{done.stderr}"
    by_program = etree.fromstring(done.stdout.encode("utf-8"))[0]
    assert etree.tostring(by_program, method="c14n") == etree.tostring(plain, method="c14n")
    return plain


def _signed_elements(root: etree._Element) -> list[etree._Element]:
    return [sig.getparent() for sig in root.iter(ns.q("ds", "Signature"))]


@pytest.fixture(params=list(OPTIONS), ids=list(OPTIONS))
def switched_dv(request, broker_url) -> TestDV:
    """A DV of its own (entity number 91xx) registered with one set of per-DV switches."""
    entity_id = f"urn:etoegang:DV:{PORTAL_OIN}:entities:{9120 + list(OPTIONS).index(request.param)}"
    resp = requests.post(f"{broker_url}/_mock/sps", timeout=10, json={
        "metadata": dv_metadata(entity_id).decode(), "catalogue": dv_catalogue().decode(),
        "options": OPTIONS[request.param]})
    assert resp.status_code == 201, resp.text
    return TestDV(broker_url, entity_id=entity_id)


@pytest.mark.parametrize("binding", ["artifact", "post"])
def test_every_message_of_a_login_verifies_and_decrypts_with_both_implementations(broker_url, switched_dv,
                                                                                  binding, tmp_path):
    queue(broker_url, person="anna-de-vries", organisation="bakkerij-de-vries", dv=switched_dv.entity_id)
    answer = switched_dv.login(service_index=2, **({"acs_index": 1} if binding == "post" else {}))
    assert answer.result.ok, answer.result.explain()
    sent = [etree.fromstring(e["xml"].encode("utf-8")) for e in journal(broker_url)
            if e["event"] == "sent" and e.get("xml")]
    kinds = {etree.QName(m).localname for m in sent}
    assert "Response" in kinds and (binding == "post" or "ArtifactResponse" in kinds)
    checked = decrypted = 0
    for message in sent:
        for element in _signed_elements(message):
            verify_everywhere(element, tmp_path)
            checked += 1
        for container in [*message.iter(ns.q("saml", "EncryptedID")), *message.iter(ns.q("saml", "EncryptedAssertion"))]:
            plain = decrypt_everywhere(container, tmp_path)
            for inner in _signed_elements(plain):  # an encrypted assertion is signed inside
                verify_everywhere(inner, tmp_path)
                checked += 1
            for nested in plain.iter(ns.q("saml", "EncryptedID")):
                decrypt_everywhere(nested, tmp_path)
                decrypted += 1
            decrypted += 1
    # Response and assertion signed (and the ArtifactResponse by Artifact); KvK, RSIN and pseudonym encrypted.
    assert checked >= (2 if binding == "post" else 3)
    assert decrypted >= 3


def test_the_broker_metadata_verifies_with_both_implementations(broker_url, tmp_path):
    metadata = etree.fromstring(requests.get(f"{broker_url}/saml/metadata", timeout=5).content)
    assert _signed_elements(metadata) == [metadata]
    verify_everywhere(metadata, tmp_path)


def test_a_logout_response_verifies_with_both_implementations(tmp_path):
    from mock_broker.response import build_logout_response
    from mock_broker.settings import BrokerSettings
    from ehsaml.keys import load_keypair

    settings = BrokerSettings(metadata_dir=None)
    element = build_logout_response(settings=settings, keypair=load_keypair(str(settings.key_file),
                                                                            str(settings.cert_file)),
                                    destination="http://127.0.0.1:8481/saml/slo", in_response_to="_lr")
    verify_everywhere(element, tmp_path)


def test_a_changed_message_fails_both_implementations(broker_url, dv, tmp_path):
    """The oracle can fail: one changed character after signing and neither implementation verifies."""
    queue(broker_url, person="anna-de-vries", organisation="bakkerij-de-vries")
    assert dv.login(service_index=2, acs_index=1).result.ok
    xml = next(e["xml"] for e in journal(broker_url) if e["event"] == "sent" and e.get("message_type") == "Response")
    response = etree.fromstring(xml.replace("Bakkerij De Vries", "Bakkerij De Vriez").encode("utf-8"))
    assertion = response.find(ns.q("saml", "Assertion"))
    with pytest.raises(Exception, match="does not verify"):
        dsig.verify(assertion, [load_certificate(str(BROKER_CERT))], where="Assertion")
    path = tmp_path / "changed.xml"
    path.write_bytes(etree.tostring(assertion))
    done = _xmlsec1("--verify", "--pubkey-cert-pem", str(BROKER_CERT), "--id-attr:ID", f"{ns.SAML}:Assertion",
                    path.name, cwd=tmp_path)
    assert done.returncode != 0


@pytest.mark.parametrize("twin", ["ID", "xml:id"])
def test_a_second_element_carrying_the_signed_id_is_named(twin):
    # a document not read by parse_xml (which refuses both earlier): the signature check itself names the twin
    kp = portal_keypair()
    root = etree.fromstring(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                            b'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc">'
                            b'<saml:Issuer>x</saml:Issuer><saml:Extra/></samlp:Response>')
    dsig.sign(root, kp)
    extra = root.find(ns.q("saml", "Extra"))
    extra.set("ID" if twin == "ID" else "{http://www.w3.org/XML/1998/namespace}id", "_abc")
    words = "ID '_abc' occurs 2 times" if twin == "ID" else "xml:id '_abc' on saml:Extra clashes with the ID"
    with pytest.raises(dsig.SignatureInvalid, match=words):
        dsig.verify(root, [kp.certificate], where="Response")
