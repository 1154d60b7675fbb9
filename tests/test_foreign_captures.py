"""`harness inspect` on captures made by IdPs that are not the mock, in the shapes people paste.

The corpus is made at test time, into a temp folder, by interop/captures/pysaml2_idp.py (pysaml2's Server, in
the pysaml2 interop environment) and interop/captures/onelogin_idp.py (OneLogin python3-saml's signing and
EncryptedID, in its interop environment): another broker, another DV, its own TEST-ONLY keys made then. What a
support desk must conclude from each capture is written here, by hand, for every capture of the spec: the
answer's FAQ case, exactly which DV checks fail, and what the answer says. Signatures are judged a second
time by the `xmlsec1` program, so inspect's verdict on them has an oracle of its own.
"""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
from interop_env import ROOT, venv_python
from lxml import etree

from harness.cli import main as harness_main

pytestmark = pytest.mark.interop

SPEC = ROOT / "interop" / "captures" / "spec.json"
SCRIPTS = ROOT / "interop" / "captures"

# capture id → what the desk must conclude: the answer's FAQ case, every DV check that fails (a HAR of an
# artifact login adds artifact_source, see ARTIFACT_INDEX), and what the answer says (level, organisation).
EXPECT = {
    "pysaml2-eh3-edit": {"case": "login-eh3-employer-edit", "failed": set(), "level": "EH3", "kvk": "30112233"},
    "pysaml2-eh4-edit": {"case": "login-eh4-accepted", "failed": set(), "level": "EH4", "kvk": "30112233"},
    # the FAQ portal needs EH3 (P2), also when the capture says nothing of the portal's catalogue
    "pysaml2-eh2plus-asserted": {"case": "loa-eh2plus-refused", "failed": {"authn_level"}, "level": "EH2+"},
    "pysaml2-eh2-asserted": {"case": "loa-eh2-refused", "failed": {"authn_level"}, "level": "EH2"},
    "pysaml2-refused-eh2plus": {"case": "loa-eh2plus-refused", "failed": set(), "status": "AuthnFailed",
                                "level": "EH2+"},
    "pysaml2-cancelled": {"case": "cancel-at-broker", "failed": set(), "status": "AuthnFailed", "level": None},
    "pysaml2-no-mandate": {"case": "no-mandate-for-portal", "failed": set(), "status": "RequestUnsupported",
                           "also": {"multi-kvk-one-not-mandated", "colleague-without-mandate"}},
    "pysaml2-view-only": {"case": "service-view-readonly", "failed": set(), "service": "view"},
    "pysaml2-chain-view": {"case": "chain-mandate-view", "failed": set(), "intermediary": "85667788"},
    "pysaml2-chain-edit": {"case": "chain-mandate-edit", "failed": set(), "intermediary": "85667788"},
    "pysaml2-eidas": {"case": "eidas-foreign-company", "failed": set(), "eidas": "DE/NL/HRB-445566"},
    "pysaml2-branch": {"case": "service-view-readonly", "failed": set(), "branch": "000084556677"},
    # SAML allows signing only the assertion; by POST the scheme wants the Response signed too
    "pysaml2-assertion-only-signed": {"case": "login-eh3-employer-edit", "failed": {"response_signature"},
                                      "words": ["the Response is not signed, only its assertion"]},
    # the capture: a failed signature hid the level, the chain mandate and the FAQ case; not any more
    "pysaml2-assertion-only-signed-chain-eh2plus": {"case": "loa-eh2plus-refused",
                                                    "failed": {"response_signature", "authn_level"},
                                                    "level": "EH2+", "intermediary": "85667788"},
    # inside a signed ArtifactResponse the Response may be unsigned
    "pysaml2-artifact-inner-unsigned": {"case": "login-eh3-employer-edit", "failed": set(), "kvk": "30112233"},
    "pysaml2-artifact-no-mandate": {"case": "no-mandate-for-portal", "failed": set(), "status": "RequestUnsupported",
                                    "also": {"multi-kvk-one-not-mandated", "colleague-without-mandate"}},
    "pysaml2-unsigned": {"case": "login-eh3-employer-edit", "failed": {"response_signature", "assertion_signature"}},
    "pysaml2-signed-by-another-key": {"case": "login-eh3-employer-edit",
                                      "failed": {"response_signature", "assertion_signature"}},
    # judged at the HAR's time, or --at now: two hours after it was issued
    "pysaml2-expired": {"case": "login-eh3-employer-edit", "at": "now", "words": ["expired: the assertion's Conditions"],
                        "failed": {"conditions_time", "subject_confirmation_expiry", "issue_instant"}},
    "pysaml2-not-yet-valid": {"case": "login-eh3-employer-edit", "failed": {"conditions_time"},
                              "words": ["not yet valid: the assertion's Conditions start"]},
    "pysaml2-wrong-audience": {"case": "login-eh3-employer-edit", "failed": {"audience"}},
    "pysaml2-wrong-recipient": {"case": "login-eh3-employer-edit",
                                "failed": {"response_destination", "subject_confirmation_recipient"}},
    "pysaml2-other-attribute-order": {"case": "login-eh3-employer-edit", "failed": set(), "kvk": "30112233",
                                      "rsin": "830112236"},
    "pysaml2-malformed-kvk": {"case": "login-eh3-employer-edit", "failed": {"identifier_formats"}, "kvk": "3011223"},
    "pysaml2-encrypted-assertion": {"case": "loa-eh2plus-refused", "failed": {"authn_level"}, "kvk": "41223344"},
    "onelogin-eh3-encrypted-ids": {"case": "login-eh3-employer-edit", "failed": set(), "kvk": "30112233",
                                   "rsin": "830112236"},
    "onelogin-chain-view-encrypted-ids": {"case": "chain-mandate-view", "failed": set(), "kvk": "74556677",
                                          "intermediary": "85667788"},
    "onelogin-default-namespace-eh2": {"case": "loa-eh2-refused", "failed": {"authn_level"}, "level": "EH2"},
    "onelogin-assertion-only-signed-view": {"case": "service-view-readonly", "failed": {"response_signature"},
                                            "kvk": "52334455"},
}
# pysaml2 writes a SAMLart's EndpointIndex as two ASCII hex digits ("00" = 0x3030 = 12336, saml2/entity.py
# create_artifact), while its metadata numbers the ArtifactResolutionService 1: a DV that checks it refuses.
ARTIFACT_INDEX = "artifact_source"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("foreign-captures")
    env = {"PATH": "/usr/bin:/bin"}  # nothing of this project on the path of the foreign IdPs
    made = {}
    for name, script, extra in (("pysaml2", "pysaml2_idp.py", []),
                                ("python3_saml", "onelogin_idp.py", ["--dv-cert", str(out / "dv.TEST-ONLY.crt")])):
        done = subprocess.run([str(venv_python(name)), "-W", "ignore", str(SCRIPTS / script), "--spec", str(SPEC),
                               "--out", str(out), *extra], capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    for manifest in ("pysaml2-manifest.json", "onelogin-manifest.json"):
        made.update(json.loads((out / manifest).read_text()))
    return {"out": out, "made": made}


def test_every_capture_of_the_spec_is_made_and_has_its_expected_diagnosis(corpus):
    spec = {c["id"] for c in json.loads(SPEC.read_text())["captures"]}
    assert set(corpus["made"]) == spec == set(EXPECT)


def _shapes() -> list[tuple[str, str]]:
    spec = json.loads(SPEC.read_text())["captures"]
    return [(c["id"], shape) for c in spec
            for shape in (("soap", "har") if c.get("binding") == "artifact" else ("base64", "urlencoded", "form", "har"))]


def inspect(corpus, capture: str, shape: str, capsys, *extra: str) -> dict:
    out = corpus["out"]
    broker = "onelogin-broker-metadata.xml" if capture.startswith("onelogin") else "foreign-broker-metadata.xml"
    args = ["inspect", str(out / corpus["made"][capture][shape]), "--json", "--metadata", str(out / broker),
            "--dv-metadata", str(out / "dv-metadata.xml"), "--key", str(out / "dv.TEST-ONLY.key"),
            "--cert", str(out / "dv.TEST-ONLY.crt"), *extra]
    rc = harness_main(args)
    printed = capsys.readouterr().out
    assert rc == 0, printed
    return json.loads(printed)


@pytest.mark.parametrize("capture, shape", _shapes(), ids=[f"{c}-{s}" for c, s in _shapes()])
def test_a_foreign_capture_is_diagnosed_to_its_faq_case_with_every_finding(corpus, capture, shape, capsys):
    want = EXPECT[capture]
    at = ["--at", want["at"]] if want.get("at") and shape != "har" else []  # a HAR carries its own time
    report = inspect(corpus, capture, shape, capsys, *at)
    findings = report["findings"]
    meaning = next(f for f in findings if f["kind"] == "meaning")
    assert meaning["case"] == want["case"] and meaning["condition"] is None, meaning
    failed = {f["check"] for f in findings if f["kind"] == "check"}
    expected = set(want["failed"]) | ({ARTIFACT_INDEX} if shape == "har" and "-artifact-" in capture else set())
    assert failed == expected, [f["finding"] for f in findings if f["kind"] == "check"]
    assert all(f["rule"] for f in findings if f["kind"] == "check")  # each finding names the rule it breaks
    m = report["meaning"][-1]
    assert m["status"] == want.get("status", "Success")
    for key in ("level", "kvk", "rsin", "eidas", "branch", "intermediary", "service"):
        if key in want:
            got = {"level": m["level"], "intermediary": (m["intermediary"] or {}).get("kvk"),
                   "service": (m["service"] or {}).get("key")}.get(key, m["organisation"].get(key))
            assert got == want[key], (key, m)
    if "also" in want:
        assert want["also"] <= {f["case"] for f in findings if f["kind"] == "case" and f["condition"] is None}
    for words in want.get("words", []):
        assert any(words in f["finding"] for f in findings), [f["finding"] for f in findings]


def test_the_required_level_is_the_faq_portals_eh3_by_default_or_as_given(corpus, capsys):
    default = inspect(corpus, "pysaml2-eh2plus-asserted", "base64", capsys)
    assert default["meaning"][0]["required_level"] == "EH3" and "FAQ portal" in default["meaning"][0]["required_from"]
    lower = inspect(corpus, "pysaml2-eh2plus-asserted", "base64", capsys, "--min-level", "EH2+")
    assert lower["meaning"][0]["meets_level"] is True
    assert "authn_level" not in {f.get("check") for f in lower["findings"]}
    higher = inspect(corpus, "pysaml2-eh3-edit", "base64", capsys, "--min-level", "EH4")
    assert {f.get("check") for f in higher["findings"]} == {None, "authn_level"}


def test_the_customers_complaint_makes_one_case_certain(corpus, capsys):
    report = inspect(corpus, "pysaml2-eh3-edit", "har", capsys, "--symptom", "kvk-not-recognised")
    certain = [f["case"] for f in report["findings"] if f.get("case") and f["condition"] is None]
    assert certain[0] == "kvk-unknown"
    view = inspect(corpus, "pysaml2-view-only", "form", capsys, "--symptom", "cannot-change")
    assert {"service-view-readonly", "route-b-view-then-upgrade"} <= {
        f["case"] for f in view["findings"] if f["condition"] is None}


def _xml(corpus, capture: str) -> bytes:
    return base64.b64decode((corpus["out"] / corpus["made"][capture]["base64"]).read_text())


SIGNED_RESPONSES = [c["id"] for c in json.loads(SPEC.read_text())["captures"]
                    if c.get("binding", "post") == "post" and "response" in c.get("sign", ["response"])]


@pytest.mark.parametrize("capture", SIGNED_RESPONSES)
def test_xmlsec1_agrees_with_inspect_on_the_response_signature(corpus, capture, capsys, tmp_path):
    """The xmlsec1 program, given the foreign broker's certificate, is the oracle for the Response signature."""
    xml = _xml(corpus, capture)
    assert etree.fromstring(xml).find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None
    path = tmp_path / "response.xml"
    path.write_bytes(xml)
    cert = corpus["out"] / ("onelogin-broker.TEST-ONLY.crt" if capture.startswith("onelogin")
                            else "foreign-broker.TEST-ONLY.crt")
    done = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", str(cert), "--id-attr:ID",
                           "urn:oasis:names:tc:SAML:2.0:protocol:Response", "--node-xpath",
                           "/*[local-name()='Response']/*[local-name()='Signature']", str(path)],
                          capture_output=True, text=True, timeout=30)
    report = inspect(corpus, capture, "base64", capsys)
    ours = next(c["result"] for c in report["messages"][0]["checks"] if c["check"] == "response_signature")
    assert (done.returncode == 0) == (ours == "passed"), (done.stderr[-500:], ours)


def test_without_the_dv_key_the_identifiers_stay_encrypted_and_the_rest_is_still_judged(corpus, capsys):
    out = corpus["out"]
    rc = harness_main(["inspect", str(out / corpus["made"]["onelogin-eh3-encrypted-ids"]["har"]), "--json",
                       "--metadata", str(out / "onelogin-broker-metadata.xml"),
                       "--dv-metadata", str(out / "dv-metadata.xml")])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["meaning"][0]["encrypted"] == ["LegalSubjectID", "ActingSubjectID"]
    checks = {c["check"]: c["result"] for c in report["messages"][-1]["checks"]}
    assert checks["identifiers_decrypted"] == "not checked" and checks["assertion_signature"] == "passed"
    assert checks["authn_level"] == "passed"
