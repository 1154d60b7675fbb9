"""The security suite: the broker's fault catalogue sent to a portal; a weakened portal is caught, rule named;
a portal that refuses everything fails the positive controls; a hostile answer that never reached the
portal is not-tested, never passed."""

from __future__ import annotations

import pytest

from harness.engine import Verdict
from harness.profile import load_profile
from harness.runner import EXIT_FAILED, EXIT_NOTHING_TESTED, run
from harness.security import fault_scenarios
from mock_broker.faults import FAMILIES


@pytest.fixture(scope="module")
def profile():
    return load_profile()


def test_the_example_portal_refuses_every_hostile_case_and_accepts_every_control(profile):
    result = run(fault_scenarios, profile, workers=2)
    assert len(result.results) >= 100
    families = {r.scenario.tags[1] for r in result.results}
    assert families == set(FAMILIES)
    failed = [f"{r.scenario.id}: {r.verdict}: {r.reason}" for r in result.results if r.verdict != Verdict.PASSED]
    assert not failed, "\n".join(failed)
    assert result.ok and result.exit_code == 0


@pytest.mark.parametrize("defect, family, caught", [
    ("ignore-audience", "protocol", {"audience-wrong", "audience-missing"}),
    ("ignore-assertion-signature", "signature", {"sig-assertion-changed-level", "sig-response-only"}),
    ("ignore-level", "eherkenning", {"level-eh2", "level-eh2plus"}),
    # the families of issue 15 (identifier and status cases give a weakened portal no session of their own: an
    # unknown KvK, a "no mandate" page; tests/test_faults.py shows those through a weakened test DV)
    ("lenient-xml", "parser", {"parser-doctype-utf16-post", "parser-doctype-utf32-post"}),
    ("ignore-single-assertion", "encryption", {"enc-assertion-in-extensions"}),
    ("ignore-service", "service", {"service-other-own"}),
    ("ignore-level", "level", {"level-label-eh3", "level-short-loa4", "level-eidas-high"}),
    ("ignore-name-id", "nameid", {"nameid-format-persistent", "nameid-qualifier-missing"}),
    ("ignore-assertion-element", "required", {"assertion-version-1-1", "assertion-version-missing"}),
    ("ignore-assertion-signature", "cve", {"cve-2024-45409-digest-in-status-detail", "cve-2024-4985-encrypted-unsigned"}),
])
def test_a_weakened_portal_is_caught_with_the_broken_rule_and_the_missing_check_named(profile, defect, family, caught):
    result = run(lambda broker: [s for s in fault_scenarios(broker) if s.tags[1] == family], profile,
                 portal_args=("--defect", defect))
    failed = {r.scenario.id.removeprefix("security-"): r for r in result.results if r.verdict == Verdict.FAILED}
    assert caught <= set(failed), sorted(failed)
    for case in caught:
        r = failed[case]
        step, check = r.first_failure
        assert check.check == "logged_in" and check.actual is True  # the forged login got a session
        assert check.rule == r.scenario.breaks and r.scenario.breaks in r.reason
        assert f"the check that would have refused it: {r.scenario.fault_check}" in r.reason
        assert "the portal concluded kvk=" in r.reason
    assert not result.ok and result.exit_code == EXIT_FAILED


def test_a_portal_that_believes_another_dvs_error_answer_is_caught_by_the_refusal_it_shows(profile):
    """Without its Destination check, the portal believes a 'no mandate' (or 'cancelled') answer made for another DV:
    no session either way, but it shows the broker's refusal instead of refusing the answer as forged."""
    result = run(lambda broker: [s for s in fault_scenarios(broker) if s.tags[1] == "status"], profile,
                 portal_args=("--defect", "ignore-destination"))
    failed = {r.scenario.id.removeprefix("security-"): r for r in result.results if r.verdict == Verdict.FAILED}
    assert {"status-other-dv-destination", "status-authnfailed-other-dv-destination"} <= set(failed), sorted(failed)
    r = failed["status-other-dv-destination"]
    step, check = r.first_failure
    assert (check.check, check.passed) == ("not_refused_as", False)
    assert "the page shows the broker's refusal no_mandate" in r.reason and "response_destination" in r.reason
    assert "authn_failed" in failed["status-authnfailed-other-dv-destination"].reason
    assert all(r.verdict == Verdict.PASSED for r in result.results if r.scenario.id.removeprefix("security-")
               not in failed)  # the other status cases fail another check first (signature, Issuer, ...)


def test_a_profile_that_cannot_tell_the_refusals_apart_skips_the_status_cases(profile):
    """A portal that shows one page for every refusal cannot show whether it believed a forged 'no mandate': the
    status cases are skipped with that reason, never passed unobserved."""
    from dataclasses import replace

    data = dict(profile.data, refusals={"status": [400, 401, 403], "page": "Inloggen mislukt",
                                        "texts": {"no_mandate": "Inloggen mislukt"}})
    result = run(lambda broker: [s for s in fault_scenarios(broker) if s.tags[1] == "status"],
                 replace(profile, data=data))
    assert result.results and all(r.verdict == Verdict.SKIPPED for r in result.results)
    assert "cannot tell a refusal of this forged error answer from the portal believing it (no_mandate)" \
        in result.results[0].reason
    assert result.nothing_tested


def test_a_case_for_the_other_binding_is_skipped_saying_why_it_needs_it(profile):
    """On a POST-only profile, the cases that need Artifact are skipped before they run, and the reason says why the
    case needs Artifact (the catalogue's binding_reason) and why the profile cannot ask for it."""
    from dataclasses import replace

    data = {k: v for k, v in profile.data.items() if k != "login_by_binding"}
    wanted = {"security-sig-xsw3", "security-artifact-unknown", "security-audience-wrong"}
    result = run(lambda broker: [s for s in fault_scenarios(broker) if s.id in wanted],
                 replace(profile, data=dict(data, binding="post")))
    by_id = {r.scenario.id: r for r in result.results}
    assert by_id["security-sig-xsw3"].verdict == Verdict.SKIPPED
    assert by_id["security-sig-xsw3"].reason == (
        "the case needs the artifact binding — the Response goes unsigned, as only a signed ArtifactResponse allows: "
        "by HTTP-POST a DV refuses it first (response_signature), before the check this case is about — and profile "
        "'example-portal' cannot ask for the artifact binding: its login takes the answer by post, and "
        "login_by_binding.artifact is not given")
    assert "the case needs the artifact binding — a fault of the artifact exchange itself: the SAMLart" \
        in by_id["security-artifact-unknown"].reason
    assert by_id["security-audience-wrong"].verdict == Verdict.PASSED  # a case for any binding runs


def test_a_portal_that_refuses_everything_fails_the_controls(profile):
    result = run(lambda broker: [s for s in fault_scenarios(broker) if s.tags[1] in ("control", "protocol")],
                 profile, portal_args=("--defect", "refuse-all"))
    by_family = {f: [r for r in result.results if r.scenario.tags[1] == f] for f in ("control", "protocol")}
    assert by_family["control"] and all(r.verdict == Verdict.FAILED for r in by_family["control"])
    single = [r for r in by_family["protocol"] if len(r.scenario.steps) == 1]
    assert single and all(r.verdict == Verdict.PASSED for r in single)  # refusing everything "passes" these
    replays = [r for r in by_family["protocol"] if len(r.scenario.steps) > 1]  # their correct first login fails
    assert all(r.verdict == Verdict.FAILED and r.first_failure[0].step.index == 1 for r in replays)
    r = by_family["control"][0]
    assert "logged_in FAILED: expected True, got False" in r.reason and "a correct DV accepts this" in r.reason
    assert not result.ok


def test_a_broker_refusal_is_not_tested_never_passed(profile):
    """The world kept as it is (--keep-world) while the login asks for a service no mandate of it names (anna
    has 'edit' only): the broker refuses first, every fault goes out 'not applied', and the suite says
    not-tested, exit 3, where it once counted the broker's refusal as the portal's."""
    keep = run(lambda broker: [s for s in fault_scenarios(broker) if s.tags[1] in ("signature", "control")],
               _profile_for_other_services(profile), bind_world=False)
    assert keep.results and all(r.verdict in (Verdict.NOT_TESTED, Verdict.SKIPPED) for r in keep.results), \
        [(r.scenario.id, r.verdict, r.reason) for r in keep.results if r.verdict not in (Verdict.NOT_TESTED,
                                                                                          Verdict.SKIPPED)]
    causes = dict(keep.causes(Verdict.NOT_TESTED))
    assert any("not applied: the broker's own answer is a refusal" in c and "no mandate" in c for c in causes), causes
    assert keep.nothing_tested and keep.exit_code == EXIT_NOTHING_TESTED


def _profile_for_other_services(profile):
    """The example profile with its login pointed at a service no mandate of the example world names."""
    from dataclasses import replace

    data = dict(profile.data, login="/login?service=1",
                login_by_binding={b: f"/login?service=1&binding={b}" for b in ("artifact", "post")})
    return replace(profile, data=data)


@pytest.mark.parametrize("strict", [False, True])
def test_a_missing_check_masked_by_another_shows_as_a_warning_or_with_strict_reasons_a_failure(profile, strict):
    """Without its assertion-signature check, the portal still refuses an assertion whose Audience was changed after
    signing, but by its audience check: refused for another reason than the catalogue's."""
    result = run(lambda broker: [s for s in fault_scenarios(broker) if s.id == "security-sig-assertion-changed-audience"],
                 profile, portal_args=("--defect", "ignore-assertion-signature"), strict_reasons=strict)
    [r] = result.results
    if not strict:
        assert r.verdict == Verdict.PASSED and result.ok
        assert r.warnings == ["refused for another reason: refused by check audience (the catalogue expects "
                              "assertion_signature to fail first; a missing check may be masked by another)"]
    else:
        assert r.verdict == Verdict.FAILED and not result.ok
        step, check = r.first_failure
        assert (check.check, check.actual, check.expected) == ("refusal_reason", "refused by check audience",
                                                               "assertion_signature")


@pytest.mark.parametrize("strict", [False, True])
def test_a_forged_answer_refused_with_a_page_of_another_cause_is_refused_for_another_reason(profile, strict):
    """With --defect level-page the portal shows "EH3 nodig" for an EH3 answer whose KvK number holds letters: the
    page names no check, but its cause (a level too low, cases.yaml security.checks_of_refusals) is not the check
    that should have refused it, and the user would be sent for another means."""
    result = run(lambda broker: [s for s in fault_scenarios(broker) if s.id == "security-kvk-malformed-letters"],
                 profile, portal_args=("--defect", "level-page"), strict_reasons=strict)
    [r] = result.results
    if not strict:
        assert r.verdict == Verdict.PASSED
        assert r.warnings == ["refused for another reason: no check named: refused as level_too_low (the catalogue "
                              "expects identifier_formats to fail first; a missing check may be masked by another)"]
    else:
        assert r.verdict == Verdict.FAILED
        step, check = r.first_failure
        assert (check.check, check.actual) == ("refusal_reason", "no check named: refused as level_too_low")


def test_a_page_that_names_no_check_passes_when_its_cause_is_the_check(profile):
    """The example portal refuses a signed answer of level EH2 with its level page, which names no check: that is
    the level check's page, so even --strict-reasons passes it."""
    result = run(lambda broker: [s for s in fault_scenarios(broker) if s.id == "security-level-eh2"], profile,
                 strict_reasons=True)
    [r] = result.results
    assert r.verdict == Verdict.PASSED and not r.warnings, (r.verdict, r.warnings)
