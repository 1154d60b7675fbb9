"""Verdicts that cannot lie, against the example portal over real HTTP: what the profile cannot observe skips
(never compared with None), a premise the broker broke is not-tested, a run that tested nothing exits 3,
and failures name their cause with the broker's own decision."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from harness import paths, report
from harness.cli import main as harness_main
from harness.engine import Verdict
from harness.profile import load_profile
from harness.runner import EXIT_NOTHING_TESTED, run
from harness.scenario import load_all, load_scenario, select


@pytest.fixture(scope="module")
def profile():
    return load_profile()


@pytest.fixture(scope="module")
def scenarios():
    return load_all()


def variant(profile, tmp_path, name="variant", **changes):
    """The example profile with some top-level keys changed (None: left out), written and loaded again."""
    data = {k: v for k, v in {**profile.data, **changes, "name": name}.items() if v is not None}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return load_profile(path)


def scenario(tmp_path, text: str):
    path = tmp_path / "mine.yaml"
    path.write_text("id: mine\nfaq: test\ntitle: a test of the harness itself\n" + text, "utf-8")
    return load_scenario(path)


def test_an_expectation_the_profile_cannot_observe_skips_with_the_reason(profile, scenarios, tmp_path):
    whoami = dict(profile.whoami, fields={k: v for k, v in profile.whoami["fields"].items() if k not in ("rights",
                                                                                                         "route")})
    limited = variant(profile, tmp_path, whoami=whoami)
    result = run(select(scenarios, ["login-eh3-employer-edit", "cancel-at-broker"]), limited)
    by_id = {r.scenario.id: r for r in result.results}
    skipped = by_id["login-eh3-employer-edit"]
    assert skipped.verdict == Verdict.SKIPPED and skipped.steps == []  # nothing ran: no half-checked scenario
    assert "cannot observe 'rights'" in skipped.reason and "whoami.fields.rights" in skipped.reason
    assert by_id["cancel-at-broker"].verdict == Verdict.PASSED


def test_a_null_expectation_is_never_met_by_a_field_the_portal_does_not_send(profile, scenarios, tmp_path):
    fields = dict(profile.whoami["fields"], intermediary_kvk="no_such_key")
    result = run(select(scenarios, ["login-eh3-employer-edit"]), variant(profile, tmp_path, whoami=dict(
        profile.whoami, fields=fields)))
    r = result.results[0]
    assert r.verdict == Verdict.FAILED
    step, check = r.first_failure
    assert check.check == "intermediary_kvk" and check.expected is None
    assert "the whoami answer has no intermediary_kvk field" in check.actual


def test_a_rule_the_portal_does_not_implement_skips(profile, scenarios, tmp_path):
    result = run(select(scenarios, ["kvk-unknown", "loa-eh2-refused"]), variant(profile, tmp_path,
                                                                                rules=["P2", "P11", "P12"]))
    verdicts = {r.scenario.id: (r.verdict, r.reason) for r in result.results}
    assert verdicts["kvk-unknown"] == (Verdict.SKIPPED, "the portal does not implement rule P4 (profile rules: "
                                                        "P2, P11, P12)")
    assert verdicts["loa-eh2-refused"][0] == Verdict.PASSED


def test_a_login_the_broker_refused_first_is_not_tested(profile, scenarios):
    """anna has a mandate for 'edit' only; the profile's view login asks for the other service. Without the world
    following the portal (bind_world=False), the broker refuses first: the scenario was never tested."""
    edited = replace(profile, data=dict(profile.data, login={"view": "/login?service=1", "edit": "/login?service=1"}))
    result = run(select(scenarios, ["login-eh3-employer-edit"]), edited, bind_world=False)
    r = result.results[0]
    assert r.verdict == Verdict.NOT_TESTED
    assert "the broker refused the login before the portal saw it: no mandate for service" in r.reason
    assert "machtigingenbeheerder" in r.reason  # the broker's StatusMessage, as the journal has it
    assert not result.ok and result.nothing_tested and result.exit_code == EXIT_NOTHING_TESTED
    text = report.console(result)
    assert "NOTEST" in text and "not tested (a precondition did not hold" in text and "NOTHING WAS TESTED" in text


def test_a_case_that_needs_the_brokers_refusal_is_not_tested_when_it_lets_the_person_in(profile, tmp_path):
    mine = scenario(tmp_path, "steps:\n"
                    "  - supplier_change: {change: set_level, person: eva-kok, level: EH3}\n"
                    "  - login: {as: eva-kok, for: bakkerij-de-vries, service: edit}\n"
                    "    expect: {broker: refusal, logged_in: false, refused: authn_failed}\n")
    r = run([mine], profile).results[0]
    assert r.verdict == Verdict.NOT_TESTED and "needs the broker's own refusal" in r.reason


def test_a_failure_names_the_brokers_decision(profile, tmp_path):
    mine = scenario(tmp_path, "steps:\n"
                    "  - login: {as: lotte-jacobs, for: bakkerij-de-vries, service: edit}\n"
                    "    expect: {broker: refusal, logged_in: false, refused: kvk_unknown}\n")
    r = run([mine], profile).results[0]
    assert r.verdict == Verdict.FAILED
    assert "refused FAILED" in r.reason and ", no_mandate" in r.reason
    assert "the broker decided: no mandate for service urn:etoegang:DV:00000001002003004000:services:2" in r.reason


def test_the_world_follows_the_portal_across_resets(profile, scenarios):
    """The example portal's services, bound by the runner after every reset: the remedy scenarios (which change
    the world, and are reset after) pass one after another in one worker."""
    result = run(select(scenarios, ["remedy-colleague-without-mandate", "colleague-without-mandate",
                                    "service-view-readonly"]), profile)
    assert result.ok, report.console(result)
    assert "view = urn:etoegang:DV:00000001002003004000:services:1" in result.services


def test_cli_a_run_that_tested_nothing_exits_3(tmp_path, capsys, profile):
    limited = variant(profile, tmp_path, refusals=None)
    code = harness_main(["run", "cancel-at-broker", "loa-eh2-refused", "--profile", limited.source])
    out = capsys.readouterr().out
    assert code == EXIT_NOTHING_TESTED
    assert "2 skipped" in out and "cannot recognise a refusal page" in out and "NOTHING WAS TESTED" in out


@pytest.mark.parametrize("path, data, value", [
    ('attributes["urn:etoegang:1.9:IntermediateEntityID:KvKnr"][0]',
     {"attributes": {"urn:etoegang:1.9:IntermediateEntityID:KvKnr": ["34567890"]}}, "34567890"),
    ("user.companies[-1].kvk", {"user": {"companies": [{"kvk": "1"}, {"kvk": "2"}]}}, "2"),
    ("urn:etoegang:core:ServiceID", {"urn:etoegang:core:ServiceID": "svc"}, "svc"),
    ("a['b.c']", {"a": {"b.c": None}}, None),
    ("a.b", {"a": {}}, paths.MISSING),
    ("a[3]", {"a": [1]}, paths.MISSING),
])
def test_profile_field_paths_reach_any_key(path, data, value):
    assert paths.read(data, path) is value if value is None or value is paths.MISSING else paths.read(data, path) == value


def test_the_shipped_profiles_load():
    shipped = sorted(Path(load_profile().source).parent.glob("*.yaml"))
    assert len(shipped) >= 1 and all(load_profile(p).name for p in shipped)
