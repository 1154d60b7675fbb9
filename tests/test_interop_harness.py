"""The harness on portals it was not built for: the interop apps on django-digid-eherkenning, OneLogin python3-saml
and pysaml2 (interop/<library>/server.py, each in its library's venv) as harness targets, with the shipped
profiles (harness/profiles/<name>.yaml) and expected failures (harness/profiles/expected-failures/).

The FAQ scenarios that apply to a login-only portal and the whole security suite run against each: no false pass
and no false alarm. Every failure is listed with a reason checked in the library's code, no listed entry passes
(xpass), none goes unused, nothing is not-tested. And when the world is not bound to the portal's services, the
broker refuses first and the suite says not-tested, never passed.
"""

from __future__ import annotations

import pytest
import yaml

from brokerserver import serve_broker
from harness import report
from harness.cli import main as harness_main
from harness.engine import Verdict
from harness.profile import PROFILE_DIR
from harness.runner import EXIT_NOTHING_TESTED, run
from harness.scenario import load_suite
from harness.security import fault_scenarios
from interop_apps import APPS, portal_app

pytestmark = pytest.mark.interop


@pytest.fixture
def broker():
    served = serve_broker()
    yield served.base_url
    served.stop()


def everything(broker_url):
    return load_suite() + fault_scenarios(broker_url)


@pytest.mark.parametrize("library", sorted(APPS))
def test_faq_and_security_suite_give_no_false_pass_and_no_false_alarm(broker, library):
    expected = APPS[library].expected_failures()
    with portal_app(library, broker) as app:
        result = run(everything, app.profile, broker_url=broker, portal_url=app.url, expected_failures=expected)
    text = report.console(result)
    print(text)  # the figures, for the CI log
    assert result.ok, text
    assert result.count(Verdict.NOT_TESTED) == 0 and result.count(Verdict.XPASS) == 0, text
    assert not result.unused_expected, f"listed but not run: {result.unused_expected}"
    assert result.count(Verdict.XFAIL) == len(expected)  # every listed weakness really shows
    by_id = {r.scenario.id: r for r in result.results}
    faq_passed = [r for r in result.results if r.scenario.kind != "security" and r.verdict == Verdict.PASSED]
    assert {"login-eh4-accepted", "multi-kvk-choose-each", "multi-kvk-one-not-mandated"} <= {r.scenario.id
                                                                                           for r in faq_passed}
    controls = [r for r in result.results if r.scenario.tags[1:] == ("control",)]
    assert controls and all(r.verdict in (Verdict.PASSED, Verdict.XFAIL, Verdict.SKIPPED) for r in controls)
    assert sum(r.verdict == Verdict.PASSED for r in controls) >= 5  # a portal refusing everything fails these
    # the world followed the portal: its own ServiceIDs, none of the example portal's
    assert "00000001002003004000" not in result.services and "view = " in result.services
    assert by_id["security-audience-wrong"].verdict == Verdict.PASSED  # what every library checks, passes
    # what cannot reach this portal is skipped before it runs, saying why (never not-tested, never passed)
    other = by_id["security-service-other-own"]
    assert other.verdict == Verdict.SKIPPED and "needs a portal with at least 2 services" in other.reason
    xsw = by_id["security-sig-xsw3"]
    if app.profile.binding == "post":
        assert xsw.verdict == Verdict.SKIPPED and xsw.reason.startswith(
            "the case needs the artifact binding — the Response goes unsigned, as only a signed ArtifactResponse")
    # a forged 'no mandate': where the refusal page says its reason, believing it is a failure; else skipped
    status = by_id["security-status-other-dv-destination"]
    if app.profile.tells_refusal("no_mandate"):
        assert status.verdict in (Verdict.PASSED, Verdict.XFAIL), status.reason
    else:
        assert status.verdict == Verdict.SKIPPED and "cannot tell a refusal of this forged error answer" in status.reason


def test_a_broker_refusal_is_not_tested_not_passed(broker):
    """The issue's first report: django-digid-eherkenning with the world as the file has it (no mandate for this
    portal's service). The broker refuses every login with 'no mandate'; every fault is journalled 'not applied';
    the suite says not-tested (exit 3, nothing was tested), where it once said ~90 'passed'."""
    with portal_app("django_digid_eherkenning", broker) as app:
        result = run(fault_scenarios, app.profile, broker_url=broker, portal_url=app.url, bind_world=False)
    assert result.count(Verdict.PASSED) == 0 and result.count(Verdict.FAILED) == 0, report.console(result)
    tested = [r for r in result.results if r.verdict != Verdict.SKIPPED]
    assert len(tested) >= 80 and all(r.verdict == Verdict.NOT_TESTED for r in tested)
    refused = "no mandate for service urn:etoegang:DV:00000009000000000101:services:1"
    assert all(refused in r.reason for r in tested), [r.reason for r in tested if refused not in r.reason][:3]
    not_applied = [r for r in tested if "not applied: the broker's own answer is a refusal" in r.reason]
    replays = [r for r in tested if "the broker refused the login before the portal saw it" in r.reason]
    assert len(not_applied) + len(replays) == len(tested) and replays  # a replay's correct first login: refused too
    assert result.nothing_tested and result.exit_code == EXIT_NOTHING_TESTED


def test_init_and_profile_check_on_a_portal_the_harness_was_not_built_for(broker, tmp_path, capsys):
    with portal_app("django_digid_eherkenning", broker) as app:
        out = tmp_path / "mine.yaml"
        assert harness_main(["init", "--portal-url", app.url, "--out", str(out)]) == 0
        data = yaml.safe_load(out.read_text("utf-8"))
        assert data["dv_entity_id"] == "urn:etoegang:DV:00000009000000000101:entities:9001"
        assert data["metadata"] == "/metadata/eherkenning"
        assert data["catalogue"] == "/metadata/eherkenning/dienstcatalogus"
        assert data["binding"] == "artifact" and data["login"] == "/eherkenning/login/"
        assert data["whoami"]["fields"]["kvk"] == "kvk"
        capsys.readouterr()
        code = harness_main(["profile", "check", app.profile.source, "--portal-url", app.url, "--broker-url", broker])
        text = capsys.readouterr().out
    assert code == 0, text
    assert "OK   login.view: /eherkenning/login/ asks for urn:etoegang:DV:00000009000000000101:services:1" in text
    assert "OK   login.view (artifact): the portal resolved the artifact" in text
    assert "OK   whoami.fields.acting_subject" in text and "SKIP whoami.fields.rights" in text
    assert "OK   refusals: a cancel at the broker ended on HTTP 200" in text


def test_the_documented_commands_give_a_green_run(broker, capsys):
    """docs/own-portal.md, steps 2 and 5, as a user types them: --register, the shipped profile and list, exit 0."""
    with portal_app("python3_saml", broker, register=False) as app:
        code = harness_main(["run", "--suite", "all", "--register", "--broker-url", broker, "--portal-url", app.url,
                             "--profile", app.profile.source, "--expected-failures",
                             str(PROFILE_DIR / "expected-failures" / "python3-saml.yaml")])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = next(line for line in out.splitlines() if " scenarios against python3-saml " in line)
    assert "passed" in summary and "xfail" in summary and "failed" not in summary, summary
