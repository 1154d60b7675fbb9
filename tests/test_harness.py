"""The harness: scenario and profile files checked on load, the FAQ catalogue complete and passing, failures named."""

from __future__ import annotations

import tempfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from harness import report
from harness.cases import load_cases
from harness.cli import main as harness_main
from harness.engine import Verdict
from harness.profile import ProfileError, load_profile
from harness.runner import ExpectedFailuresError, load_expected_failures, run
from harness.scenario import SCENARIO_DIR, ScenarioError, load_all, load_scenario, load_suite, select
from harness.servers import ServerError, start_pair

def faq_case_ids() -> set[str]:
    """The cases of the project's own FAQ catalogue (harness/cases.yaml)."""
    return set(load_cases()["cases"])


def remedy_problem_ids() -> set[str]:
    return {case for case, entry in load_cases()["cases"].items() if "remedy" in entry}


@pytest.fixture(scope="module")
def scenarios():
    return load_all()


@pytest.fixture(scope="module")
def profile():
    return load_profile()


def test_every_behaviour_row_of_the_faq_has_a_scenario_file(scenarios):
    ids = faq_case_ids()
    assert len(ids) == 26
    assert ids <= {s.id for s in scenarios}


def test_every_remedy_row_has_a_remedy_scenario_for_each_problem_case(scenarios):
    problems = remedy_problem_ids()
    assert len(problems) == 14
    remedies = {s.remedy_of: s for s in scenarios if s.remedy_of}
    assert problems <= set(remedies)
    assert all(remedies[p].id == f"remedy-{p}" for p in problems)


def test_the_remedy_scenarios_pass_against_the_example_portal(scenarios, profile):
    result = run([s for s in scenarios if s.remedy_of], profile)
    assert result.ok, report.console(result)
    assert len(result.results) == 14


def test_a_remedy_that_does_not_help_fails_with_the_reason(scenarios, profile):
    """A portal that never sees KvK numbers added to contracts after it started: the FAQ's fix fails."""
    result = run(select(scenarios, ["remedy-kvk-unknown"]), profile, portal_args=("--defect", "stale-kvk-cache"))
    r = result.results[0]
    assert r.verdict == Verdict.FAILED
    step, check = r.first_failure
    assert step.step.index == 3 and step.step.action == "login"  # the login after the fix
    assert check.check == "logged_in" and check.actual is False
    assert "step 3" in r.reason and "logged_in FAILED" in r.reason


def test_every_scenario_names_its_faq_question_and_steps(scenarios):
    for s in scenarios:
        assert s.faq and s.title and s.steps
        assert all(step.expect or step.action in ("logout", "login", "confirm_email", "grant_access", "seed",
                                                  "supplier_change", "choose_employer")
                   for step in s.steps)


def test_the_whole_faq_catalogue_passes_against_the_example_portal(scenarios, profile):
    result = run(select(scenarios, sorted(faq_case_ids())), profile)
    assert result.ok, report.console(result)
    assert result.count(Verdict.PASSED) == 26


def test_a_portal_that_gives_change_rights_for_the_view_service_is_caught(scenarios, profile):
    result = run(select(scenarios, ["service-view-readonly", "chain-mandate-view", "login-eh3-employer-edit"]),
                 profile, portal_args=("--defect", "view-grants-change"))
    assert not result.ok
    by_id = {r.scenario.id: r for r in result.results}
    broken = by_id["service-view-readonly"]
    assert broken.verdict == Verdict.FAILED
    step, check = broken.first_failure
    assert (step.step.index, check.check) == (1, "rights")
    assert check.actual == "edit" and check.expected == "view"  # in the scenarios' words, as the profile maps them
    assert "P3" in broken.reason and "rights" in broken.reason
    assert by_id["chain-mandate-view"].verdict == Verdict.FAILED
    assert by_id["login-eh3-employer-edit"].verdict == Verdict.PASSED  # the edit service was right all along


def test_parallel_workers_give_the_same_verdicts(scenarios, profile):
    chosen = select(scenarios, tags=["route-b"])
    result = run(chosen, profile, workers=2)
    assert result.ok and result.workers == 2
    assert [r.scenario.id for r in result.results] == [s.id for s in chosen]


def write(tmp_path, name, text) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize("body, words", [
    ("id: x\nfaq: q\ntitle: t\nsteps:\n  - login: {as: anna, service: both}\n", ["line 5", "steps[0]", "service"]),
    ("id: x\nfaq: q\ntitle: t\nsteps:\n  - dance: {}\n", ["line 5", "unknown field 'dance'"]),
    ("id: x\nfaq: q\ntitle: t\nsteps:\n  - login: {service: view}\n", ["line 5", "exactly one of"]),
    ("id: x\nfaq: q\ntitle: t\nsteps:\n  - change: {}\n    logout: {}\n", ["steps[0]", "exactly one of"]),
    ("id: x\nfaq: q\nsteps: []\n", ["missing required field 'title'"]),
    ("id: y\nfaq: q\ntitle: t\nsteps:\n  - change: {}\n", ["must equal the file name 'x'"]),
    ("id: x\nfaq: q\ntitle: t\nsteps:\n  - add_kvk: {kvk: 1234}\n    expect: {refused: x, refused: y}\n",
     ["duplicate key 'refused'"]),
    ("id: x\nfaq: q\ntitle: t\nrules: [P13]\nsteps:\n  - change: {}\n", ["line 4", "P13"]),
])
def test_bad_scenario_files_name_file_line_and_field(tmp_path, body, words):
    path = write(tmp_path, "x.yaml", body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("old, new, words", [
    ("binding: artifact", "binding: pigeon", ["'pigeon': the binding is 'artifact' or 'post'", "binding"]),
    ("refusal_check: last_refusal.check", "refusal_check: last_refusal..check",
     ["field 'fields.refusal_check'", "cannot read position", "Field paths"]),
    ("dv_entity_id: urn:etoegang:DV:00000001002003004000:entities:9001", "dv_entity_id: ''", ["dv_entity_id"]),
])
def test_bad_profile_names_the_line_and_field(tmp_path, old, new, words):
    good = Path(load_profile().source).read_text("utf-8")
    assert old in good
    path = write(tmp_path, "p.yaml", good.replace(old, new))
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    line = good[:good.index(old)].count("\n") + 1
    assert f"line {line}" in str(err.value), str(err.value)
    for word in words:
        assert word in str(err.value), str(err.value)


def test_a_profile_takes_any_saml_entity_id(tmp_path):
    good = Path(load_profile().source).read_text("utf-8")
    path = write(tmp_path, "p.yaml", good.replace("dv_entity_id: urn:etoegang:DV:00000001002003004000:entities:9001",
                                                  "dv_entity_id: https://portal.example.test/saml/metadata"))
    assert load_profile(path).dv_entity_id == "https://portal.example.test/saml/metadata"


def test_a_step_the_profile_cannot_do_skips_the_scenario_with_the_reason(tmp_path, scenarios, profile):
    text = Path(profile.source).read_text("utf-8").split("\nactions:")[0]
    limited = load_profile(write(tmp_path, "limited.yaml", text))
    result = run(select(scenarios, ["add-kvk-in-contract"]), limited)
    assert result.results[0].verdict == Verdict.SKIPPED
    assert "add_kvk" in result.results[0].reason


def test_expected_failures_are_reported_and_a_stale_entry_fails_the_run(tmp_path, scenarios, profile):
    path = write(tmp_path, "xfail.yaml", "- id: service-view-readonly\n  reason: portal bug 123\n"
                                         "- id: login-eh4-accepted\n  reason: fixed long ago\n")
    xfail = load_expected_failures(path, {s.id for s in scenarios})
    result = run(select(scenarios, ["service-view-readonly", "login-eh4-accepted"]), profile,
                 portal_args=("--defect", "view-grants-change"), expected_failures=xfail)
    verdicts = {r.scenario.id: r.verdict for r in result.results}
    assert verdicts == {"service-view-readonly": Verdict.XFAIL, "login-eh4-accepted": Verdict.XPASS}
    assert not result.ok
    assert "passes now" in next(r.reason for r in result.results if r.verdict == Verdict.XPASS)


def test_expected_failures_naming_an_unknown_scenario_is_an_error(tmp_path):
    path = write(tmp_path, "xfail.yaml", "- id: no-such-case\n  reason: x\n")
    with pytest.raises(ExpectedFailuresError) as err:
        load_expected_failures(path, {"a"})
    assert "line 1" in str(err.value) and "no-such-case" in str(err.value)


def test_reports_junit_and_html_say_which_expectation_broke(tmp_path, scenarios, profile):
    result = run(select(scenarios, ["service-view-readonly", "cancel-at-broker"]), profile,
                 portal_args=("--defect", "view-grants-change"))
    report.junit(result, tmp_path / "junit.xml")
    report.html_report(result, tmp_path / "report.html")
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failure = suite.find("testcase[@name='service-view-readonly']/failure")
    assert "rights FAILED" in failure.get("message")
    page = (tmp_path / "report.html").read_text("utf-8")
    assert "samlp:AuthnRequest" in page and "samlp:ArtifactResponse" in page  # SAML from the broker's journal
    assert "rights FAILED" in page and "srcdoc=" in page  # the check that broke and the portal's page
    text = report.console(result)
    assert "FAIL" in text and "1 passed, 1 failed" in text


def test_cli_list_shows_faq_questions_and_what_each_remedy_proves(capsys):
    assert harness_main(["list"]) == 0
    out = capsys.readouterr().out
    assert "route-b-wrong-kvk" in out and "Mijn adviseur kan mijn relatie niet selecteren" in out
    assert "(remedy of kvk-unknown)" in out and "relatiebeheerder voegt het KvK-nummer toe" in out


def test_cli_run_exit_codes(tmp_path, capsys):
    assert harness_main(["run", "cancel-at-broker", "--junit", str(tmp_path / "j.xml")]) == 0
    assert (tmp_path / "j.xml").exists()
    assert harness_main(["run", "no-such-case"]) == 2
    assert "no scenario with id no-such-case" in capsys.readouterr().err


def test_cli_bad_scenario_folder_is_a_clear_error(tmp_path, capsys):
    write(tmp_path, "x.yaml", "id: x\nfaq: q\ntitle: t\nsteps: nope\n")
    assert harness_main(["run", "--scenarios", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "x.yaml" in err and "line 4" in err and "'steps'" in err


def test_scenario_folder_is_the_shipped_one():
    assert SCENARIO_DIR.name == "faq" and any(SCENARIO_DIR.glob("*.yaml"))


def test_a_teams_folder_is_added_beside_the_built_in_scenarios(tmp_path):
    own = tmp_path / "mine"
    own.mkdir()
    text = (SCENARIO_DIR / "cancel-at-broker.yaml").read_text("utf-8").replace("id: cancel-at-broker", "id: my-cancel")
    (own / "my-cancel.yaml").write_text(text, "utf-8")
    ids = {s.id for s in load_suite([own])}
    assert "my-cancel" in ids and "cancel-at-broker" in ids
    assert [s.id for s in load_suite([own], builtin=False)] == ["my-cancel"]


def test_a_scenario_id_given_twice_across_folders_is_refused(tmp_path):
    own = tmp_path / "mine"
    own.mkdir()
    (own / "cancel-at-broker.yaml").write_text((SCENARIO_DIR / "cancel-at-broker.yaml").read_text("utf-8"), "utf-8")
    with pytest.raises(ScenarioError, match="scenario id 'cancel-at-broker' also in"):
        load_suite([own])


def test_finding_no_scenario_is_an_error_that_names_where_it_looked(tmp_path, capsys):
    assert harness_main(["list", "--no-builtin", "--scenarios", str(tmp_path)]) == 2
    assert f"no scenario files (*.yaml) in {tmp_path}" in capsys.readouterr().err
    assert harness_main(["run", "--scenarios", str(tmp_path / "nope")]) == 2
    assert f"no scenario folder {tmp_path / 'nope'}" in capsys.readouterr().err


def test_exitfirst_starts_no_scenario_after_the_first_failure(scenarios, profile):
    chosen = select(scenarios, ["chain-mandate-view", "login-eh3-employer-edit", "service-edit-allowed"])
    result = run(chosen, profile, portal_args=("--defect", "view-grants-change"), exitfirst=True)
    assert [(r.scenario.id, r.verdict) for r in result.results] == [("chain-mandate-view", Verdict.FAILED)]
    assert result.not_run == 2 and not result.ok


def test_a_run_leaves_no_folder_of_its_servers_behind(scenarios, profile, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where start_pair makes its folders
    result = run(select(scenarios, ["login-eh4-accepted"]), profile)
    assert result.ok
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("preloaded", [True, False], ids=["forked-from-the-preloader", "python-m"])
def test_servers_that_fail_to_start_keep_the_log_the_error_names(tmp_path, monkeypatch, preloaded):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ServerError, match=r"portal stopped at start \(exit 2\)") as failed:
        start_pair(portal_args=("--defect", "no-such-defect"), preloaded=preloaded)
    (folder,) = tmp_path.iterdir()
    assert "no-such-defect" in (folder / "portal.log").read_text()
    assert "no-such-defect" in str(failed.value)


def test_a_portal_that_cannot_be_started_stops_the_broker_started_before_it(tmp_path, monkeypatch):
    import harness.servers as servers

    started = []
    real_spawn = servers._spawn

    def spawn(name, args, url, workdir, preloaded):
        if name == "portal":
            raise ServerError("portal could not be started: no such program")
        started.append(real_spawn(name, args, url, workdir, preloaded))
        return started[-1]

    monkeypatch.setattr(servers, "_spawn", spawn)
    with pytest.raises(ServerError, match="portal could not be started"):
        start_pair(workdir=tmp_path)
    (broker,) = started
    assert broker.proc.poll() is not None  # stopped, not left listening
