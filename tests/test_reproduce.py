"""`harness reproduce`: a report for each problem of the FAQ's "Foutmeldingen en problemen" (and the other problem
answers) → a schema-valid scenario, run against the example portal, with the right FAQ case and advice."""

from __future__ import annotations

import base64
from pathlib import Path

import jsonschema
import pytest
import requests
import yaml

from harness.browser import Browser
from harness.cli import main as harness_main
from harness.cases import load_cases
from harness.scenario import load_scenario
from harness.servers import start_pair

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "harness" / "schemas" / "scenario.schema.json").read_text())
DV = "urn:etoegang:DV:00000001002003004000:entities:9001"

REPORTS = {  # the customer's report (as a YAML file) → the FAQ case it is
    "level too low (EH2+)": ({"symptom": "cannot-log-in", "who": "employer", "kvk": "12345678", "level": "EH2+"},
                             "loa-eh2plus-refused"),
    "level too low (EH2)": ({"symptom": "level-too-low", "who": "employer", "level": "EH2"}, "loa-eh2-refused"),
    "cannot log in: no mandate": ({"symptom": "cannot-log-in", "who": "employer", "kvk": "12345678",
                                   "service": "none"}, "no-mandate-for-portal"),
    "cannot log in: KvK unknown": ({"symptom": "cannot-log-in", "who": "employer", "kvk": "76543210", "level": "EH3"},
                                   "kvk-unknown"),
    "advisor cannot select employer: unconfirmed": (
        {"symptom": "cannot-select-employer", "who": "advisor", "route": "B", "kvk": "12345678",
         "advisor_kvk": "45678901", "confirmed": False}, "route-b-unconfirmed"),
    "advisor cannot select employer: wrong KvK": (
        {"symptom": "cannot-select-employer", "who": "advisor", "route": "B", "kvk": "12345678",
         "advisor_kvk": "56789012", "granted_kvk": "56789013", "confirmed": True}, "route-b-wrong-kvk"),
    "advisor KvK not recognised": ({"symptom": "advisor-kvk-not-recognised", "who": "employer", "kvk": "12345678",
                                    "advisor_kvk": "67890123"}, "route-b-advisor-kvk-unknown"),
    "no longer able to change (route B)": ({"symptom": "cannot-change", "who": "advisor", "route": "B",
                                            "kvk": "12345678", "advisor_kvk": "45678901"}, "route-b-view-then-upgrade"),
    "no longer able to change (employer)": ({"symptom": "cannot-change", "who": "employer", "kvk": "12345678"},
                                            "service-view-readonly"),
    "no longer able to change (route A)": ({"symptom": "cannot-change", "who": "advisor", "route": "A",
                                            "kvk": "12345678", "advisor_kvk": "34567890"}, "chain-mandate-view"),
    "another KvK cannot be added": ({"symptom": "cannot-add-kvk", "who": "employer", "kvk": "12345678",
                                     "other_kvk": "87654321"}, "add-kvk-not-in-contract"),
    "forgotten credentials / cancel": ({"symptom": "forgot-credentials", "words": "Ik ben mijn wachtwoord vergeten"},
                                       "cancel-at-broker"),
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    pair = start_pair(workdir=tmp_path_factory.mktemp("reproduce"))
    yield pair
    pair.stop()


def reproduce(capsys, *args) -> tuple[int, str, str]:
    rc = harness_main(["reproduce", *args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("name", list(REPORTS))
def test_each_faq_problem_is_reproduced_with_its_case_and_advice(name, servers, tmp_path, capsys):
    report, case = REPORTS[name]
    path = tmp_path / "report.yaml"
    path.write_text(yaml.safe_dump(report))
    out_file = tmp_path / "scenario.yaml"
    rc, out, err = reproduce(capsys, str(path), "--out", str(out_file), "--broker-url", servers.broker_url,
                             "--portal-url", servers.portal_url)
    assert rc == 0, out + err
    advice = load_cases()["cases"][case]
    assert f"FAQ case: {case} — \"{advice['question']}\"" in out
    assert f"outcome: reproduced — the portal behaves as FAQ case {case} says" in out
    assert advice["advice_nl"] in out and advice["advice_en"] in out
    assert f"scenario: {out_file}" in out
    data = yaml.safe_load(out_file.read_text())
    jsonschema.validate(data, SCHEMA)  # a valid scenario file, ready to join the suite
    scenario = load_scenario(out_file)
    assert scenario.id == "scenario" and case in scenario.tags and "reproduced" in scenario.tags


def test_default_servers_and_scenario_id(tmp_path, capsys):
    """Without URLs the runner's example portal and mock broker are started; the id names the file."""
    rc, out, _ = reproduce(capsys, "--symptom", "cannot-log-in", "--who", "employer", "--level", "EH2+",
                           "--kvk", "12345678", "--out", str(tmp_path / "henk.yaml"))
    assert rc == 0 and "loa-eh2plus-refused" in out and "reproduced" in out
    assert "as: henk-kok" in (tmp_path / "henk.yaml").read_text()


def test_apply_remedy(servers, tmp_path, capsys):
    common = ["--out", str(tmp_path / "s.yaml"), "--broker-url", servers.broker_url, "--portal-url",
              servers.portal_url, "--apply-remedy"]
    rc, out, _ = reproduce(capsys, "--symptom", "cannot-select-employer", "--who", "advisor", "--route", "B",
                           "--kvk", "12345678", "--advisor-kvk", "56789012", "--granted-kvk", "56789013", *common)
    assert rc == 0 and "remedy: remedy-route-b-wrong-kvk.yaml passed — the FAQ's fix resolves route-b-wrong-kvk" in out
    rc, out, _ = reproduce(capsys, "--symptom", "forgot-credentials", *common)
    assert rc == 0 and "no remedy scenario for cancel-at-broker yet" in out


def test_from_a_capture(servers, tmp_path, capsys):
    requests.post(servers.broker_url + "/_mock/next", timeout=10, json={
        "dv": DV, "person": "henk-kok", "organisation": "bakkerij-de-vries"}).raise_for_status()
    page = Browser().get(servers.portal_url + "/login?service=2&binding=post")
    xml = next(h.saml["SAMLResponse"] for h in page.hops if "SAMLResponse" in h.saml)
    capture = tmp_path / "capture.txt"
    capture.write_text(base64.b64encode(xml.encode()).decode())
    rc, out, err = reproduce(capsys, "--capture", str(capture), "--out", str(tmp_path / "c.yaml"),
                             "--broker-url", servers.broker_url, "--portal-url", servers.portal_url)
    assert rc == 0, err
    assert "level='EH2+' (capture)" in out and "FAQ case: loa-eh2plus-refused" in out and "reproduced" in out


def test_a_report_the_portal_does_not_bear_out_says_so(servers, tmp_path, capsys):
    """KvK 12345678 is known to the portal: "cannot log in" is not reproduced, and the outcome says so."""
    rc, out, _ = reproduce(capsys, "--symptom", "kvk-not-recognised", "--kvk", "12345678", "--out",
                           str(tmp_path / "k.yaml"), "--broker-url", servers.broker_url,
                           "--portal-url", servers.portal_url)
    assert rc == 1 and "NOT reproduced as kvk-unknown" in out


@pytest.mark.parametrize("text, where", [
    ("symptom: cannot-log-in\nwho: employer\nlevel: EH5\n", "line 3, field 'level'"),
    ("symptom: cannot-log-in\nkvk: 12345678\n", "line 2, field 'kvk'"),
    ("words: Mijn adviseur kan ons niet selecteren\nwho: advisor\nkvk_nummer: '12345678'\n", "line 3, field 'kvk_nummer'"),
    ("words: Ik kan niet inloggen\nadvisor_kvk: null\n", "line 2, field 'advisor_kvk'"),
    ("who: advisor\n", "give words (the customer's own), a symptom or a case"),
    ("words: x\nsymptom: verdrietig\n", "line 2, field 'symptom'"),
    ("words: x\nrsin: '812345679'\n", "fails the 11-test"),
    ("symptom: sad\n", "line 1, field 'symptom'"),
    ("symptom: cannot-log-in\ncolour: blue\n", "line 2, field 'colour'"),
    ("symptom: [unclosed\n", "not valid YAML"),
])
def test_a_bad_report_file_names_file_line_and_field(tmp_path, capsys, text, where):
    path = tmp_path / "bad-report.yaml"
    path.write_text(text)
    rc, _, err = reproduce(capsys, str(path), "--no-run")
    assert rc == 2 and str(path) in err and where in err and "Traceback" not in err


def test_bad_flags_and_capture_exit_2(tmp_path, capsys):
    rc, _, err = reproduce(capsys, "--who", "employer")
    assert rc == 2 and "--symptom" in err
    rc, _, err = reproduce(capsys, "--symptom", "cannot-log-in", "--kvk", "1234")
    assert rc == 2 and "not a KvK number" in err
    bad = tmp_path / "garbled.har"
    bad.write_text('{\n "log":\n  oops\n}')
    rc, _, err = reproduce(capsys, "--capture", str(bad))
    assert rc == 2 and "line 3 of the HAR: not JSON" in err
