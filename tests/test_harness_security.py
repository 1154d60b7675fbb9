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
