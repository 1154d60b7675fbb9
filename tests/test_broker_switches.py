"""Per-DV switches change what the answer looks like; a DV still reads the same identity."""

from __future__ import annotations

import subprocess

import pytest
import requests
from conftest import queue
from schemas import validate_saml_schema
from testdv import TestDV, dv_catalogue, dv_metadata, parse

from ehsaml import ns

SWITCHED_DV = "urn:etoegang:DV:00000001002003004000:entities:9{:03d}"


def dv_with(broker_url, n: int, **options) -> TestDV:
    entity_id = SWITCHED_DV.format(100 + n)
    resp = requests.post(f"{broker_url}/_mock/sps", timeout=5, json={
        "metadata": dv_metadata(entity_id).decode(), "catalogue": dv_catalogue().decode(), "options": options})
    assert resp.status_code == 201, resp.text
    return TestDV(broker_url, entity_id=entity_id)


def sent_response_xml(broker_url) -> str:
    entries = requests.get(f"{broker_url}/_mock/journal", timeout=5).json()["entries"]
    return next(e for e in reversed(entries) if e.get("message_type") == "Response")["xml"]


def test_identifiers_are_encrypted_by_default(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    assert dv.login(service_index=2).result.ok
    xml = sent_response_xml(broker_url)
    assert xml.count("<saml:EncryptedID>") == 3  # KvK, RSIN, pseudonym
    assert "12345678<" not in xml and "rsa-oaep-mgf1p" in xml and "aes256-cbc" in xml
    assert 'Recipient="urn:etoegang:DV:00000001002003004000:entities:9001"' in xml


def test_identifiers_plain(broker_url):
    dv = dv_with(broker_url, 1, encrypt_identifiers=False)
    queue(broker_url, person="anna-de-vries")
    r = dv.login(service_index=2).result
    assert r.ok and r.kvk == "12345678"
    xml = sent_response_xml(broker_url)
    assert "EncryptedID" not in xml and ">12345678</saml:NameID>" in xml


def test_whole_assertion_encrypted(broker_url):
    dv = dv_with(broker_url, 2, encrypt_assertion=True)
    queue(broker_url, person="anna-de-vries")
    r = dv.login(service_index=2).result
    assert r.ok, r.explain()
    assert r.kvk == "12345678"
    root = parse(sent_response_xml(broker_url))
    assert root.find(ns.q("saml", "EncryptedAssertion")) is not None
    assert root.find(ns.q("saml", "Assertion")) is None
    validate_saml_schema(root)


def test_response_signature_off_keeps_the_assertion_signed(broker_url):
    dv = dv_with(broker_url, 3, sign_response=False)
    queue(broker_url, person="anna-de-vries")
    assert dv.login(service_index=2).result.ok  # by artifact: the Response signature may be omitted
    root = parse(sent_response_xml(broker_url))
    assert root.find(ns.q("ds", "Signature")) is None
    assert root.find(f"{ns.q('saml', 'Assertion')}/{ns.q('ds', 'Signature')}") is not None


def test_advice_holds_signed_ad_and_mr_assertions(broker_url):
    dv = dv_with(broker_url, 4, advice=True)
    queue(broker_url, person="anna-de-vries")
    r = dv.login(service_index=2).result
    assert r.ok, r.explain()
    root = parse(sent_response_xml(broker_url))
    validate_saml_schema(root)
    inner = root.findall(f".//{ns.q('saml', 'Advice')}/{ns.q('saml', 'Assertion')}")
    assert len(inner) == 2
    assert all(a.find(ns.q("ds", "Signature")) is not None for a in inner)


def test_aes256_gcm_data_cipher(broker_url):
    dv = dv_with(broker_url, 5, data_cipher="aes256-gcm")
    queue(broker_url, person="anna-de-vries")
    assert dv.login(service_index=2).result.rsin
    assert "xmlenc11#aes256-gcm" in sent_response_xml(broker_url)


@pytest.mark.parametrize("options, words", [({"nonsense": True}, "unknown option"),
                                            ({"advice": "yes"}, "true or false"),
                                            ({"data_cipher": "des"}, "aes256")])
def test_bad_options_are_refused_naming_the_option(broker_url, options, words):
    resp = requests.post(f"{broker_url}/_mock/sps", timeout=5, json={"metadata": dv_metadata().decode(),
                                                                      "options": options})
    assert resp.status_code == 400 and words in resp.json()["error"]


def test_signing_and_encryption_run_in_process(broker_url, dv, monkeypatch):
    """No xmlsec1 program (or any other) is started to answer a login: signing and encryption run in-process."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")
    monkeypatch.setattr(subprocess, "Popen", refuse)
    queue(broker_url, person="anna-de-vries")
    assert dv.login(service_index=2).result.ok


def test_keys_are_loaded_once_per_process(broker):
    from ehsaml.keys import load_keypair
    app_keypair = broker.app.extensions["mock_broker"].keypair
    again = load_keypair(str(broker.app.extensions["mock_broker"].settings.key_file),
                         str(broker.app.extensions["mock_broker"].settings.cert_file))
    assert again is app_keypair
    assert again.xmlsec_key is again.xmlsec_key  # the xmlsec key object is built once and reused
