"""The security suite: the broker's fault catalogue sent to a portal; a weakened portal is caught, rule named."""

from __future__ import annotations

import pytest

from harness.engine import Verdict
from harness.profile import load_profile
from harness.runner import run
from harness.security import fault_scenarios


@pytest.fixture(scope="module")
def profile():
    return load_profile()


def test_the_example_portal_refuses_every_case_of_the_catalogue(profile):
    result = run(fault_scenarios, profile, workers=2)
    assert len(result.results) >= 60
    families = {r.scenario.tags[1] for r in result.results}
    assert families == {"signature", "protocol", "eherkenning", "artifact"}
    failed = [f"{r.scenario.id}: {r.reason}" for r in result.results if r.verdict != Verdict.PASSED]
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("defect, family, caught", [
    ("ignore-audience", "protocol", {"audience-wrong", "audience-missing"}),
    ("ignore-assertion-signature", "signature", {"sig-assertion-changed-level", "sig-response-only"}),
    ("ignore-level", "eherkenning", {"level-eh2", "level-eh2plus"}),
])
def test_a_weakened_portal_is_caught_with_the_broken_rule_named(profile, defect, family, caught):
    result = run(lambda broker: [s for s in fault_scenarios(broker) if s.tags[1] == family], profile,
                 portal_args=("--defect", defect))
    failed = {r.scenario.id.removeprefix("security-"): r for r in result.results if r.verdict == Verdict.FAILED}
    assert caught <= set(failed), sorted(failed)
    for case in caught:
        r = failed[case]
        step, check = r.first_failure
        assert check.check == "logged_in" and check.actual is True  # the forged login got a session
        assert check.rule == r.scenario.breaks and r.scenario.breaks in r.reason
    assert not result.ok
