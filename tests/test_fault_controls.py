"""The positive controls (fault family `control`): answers a careful DV must accept, by either binding.

A hostile case proves a DV refuses; a control proves the refusals are not blanket: every control is a
legitimate variation (other time precision, an extra Audience, saml:Advice, other namespace prefixes,
the Response unsigned inside a signed ArtifactResponse, both identifiers, AES-256-GCM), signed again by
the HM, and a careful DV (ehsaml.dv.login, as TestDV) logs in with each, with the identity of the base answer.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import journal, queue

from ehsaml import ns, xenc
from ehsaml.xml import parse_xml
from mock_broker import faults

CONTROLS = [c for c in faults.load_catalogue().values() if c.family == faults.CONTROL]
CASE_BINDINGS = [(case, binding) for case in CONTROLS
                 for binding in (("artifact", "post") if case.needs_binding == "any" else (case.needs_binding,))]


def test_the_controls_cover_what_the_scheme_allows():
    assert {c.mutation for c in CONTROLS} >= {"time_precision", "extra_audience", "advice", "namespace_prefixes",
                                              "strip_signatures", "identifiers", "identifier_cipher"}
    for case in CONTROLS:
        assert not case.expect.refused and case.expect.session and case.expect.check is None, case.id


@pytest.mark.parametrize("case, binding", CASE_BINDINGS, ids=[f"{c.id}-{b}" for c, b in CASE_BINDINGS])
def test_a_careful_dv_accepts_the_control(broker_url, dv, case, binding):
    queue(broker_url, fault=case.id)
    answer = dv.login(acs_index=1, service_index=2) if binding == "post" else dv.login(service_index=2)
    assert answer.binding == {"post": ns.BINDING_POST, "artifact": ns.BINDING_ARTIFACT}[binding]
    result = answer.result
    assert result.ok, f"{case.id}: a careful DV refused a legitimate answer: {result.explain()}"
    assert result.kvk == "12345678" and result.rsin == "812345678" and result.pseudonym
    [entry] = [e for e in journal(broker_url) if e["event"] == "fault"]
    assert entry["fault"] == case.id and entry["fault_applied"] is True, entry


def _sent_response(broker_url) -> str:
    return [e for e in journal(broker_url) if e["event"] == "sent" and e.get("message_type") == "Response"][-1]["xml"]


def test_the_prefix_control_really_uses_other_prefixes(broker_url, dv):
    queue(broker_url, fault="ctl-namespace-prefixes")
    assert dv.login(acs_index=1, service_index=2).result.ok
    xml = _sent_response(broker_url)
    assert xml.startswith("<saml2p:Response") and "<saml2:Assertion" in xml and "<saml:" not in xml


@pytest.mark.parametrize("case_id, digits", [("ctl-times-microseconds", 6), ("ctl-times-whole-seconds", 0)])
def test_the_time_controls_write_the_precision_they_name(broker_url, dv, case_id, digits):
    queue(broker_url, fault=case_id)
    assert dv.login(acs_index=1, service_index=2).result.ok
    root = parse_xml(_sent_response(broker_url).encode(), what="sent Response")
    stamps = [el.get(a) for el in root.iter() for a in ("IssueInstant", "NotBefore", "NotOnOrAfter") if el.get(a)]
    assert stamps and all(len(s.split(".")[1]) == digits + 1 if digits else "." not in s for s in stamps), stamps


def test_the_cipher_control_encrypts_with_aes256_gcm(broker_url, dv):
    queue(broker_url, fault="ctl-cipher-aes256-gcm")
    assert dv.login(acs_index=1, service_index=2).result.ok
    xml = _sent_response(broker_url)
    assert xml.count(xenc.DataCipher.AES256_GCM.value) == 3  # KvK, RSIN and the pseudonym
    assert xenc.DataCipher.AES256_CBC.value not in xml


def test_a_control_that_names_a_dv_check_is_refused_by_the_schema(tmp_path):
    shutil.copy(faults.CATALOGUE_DIR / "control.yaml", tmp_path / "control.yaml")
    path = tmp_path / "control.yaml"
    text = path.read_text("utf-8")
    old = "mutation: extra_audience\n    expect: {refused: false, session: true}"
    assert old in text
    path.write_text(text.replace(old, "mutation: extra_audience\n    expect: {refused: false, session: true, "
                                      "check: audience}"), "utf-8")
    with pytest.raises(faults.CatalogueError) as info:
        faults.load_catalogue(tmp_path)
    assert "(ctl-extra-audience)" in str(info.value) and "a control" in str(info.value), str(info.value)
