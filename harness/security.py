"""The security suite: every case of the broker's fault catalogue, sent to the portal.

The catalogue is read from the broker's control API (GET /_mock/faults), so the harness knows the
faults by id, title, rule and expectation only. A hostile case passes when the broker's journal shows
the answer reached the portal (POSTed to its ACS, or resolved by it), the portal started no session,
showed a refusal and gave no server error; a positive control (family `control`) passes when the portal
accepted the legitimate answer. An answer that never reached the portal is `not-tested`, never passed.

An error answer that is not this DV's to believe (the `status` family: a forged "no mandate") gives no session
even to a portal that believes it: such a portal shows the broker's refusal. So these cases also expect the
refusal not to be the one the answer claims (`not_refused_as`: the FAQ's refusal codes of that status), which
the profile must be able to read from the page; where it cannot, the case is skipped with that reason.
"""

from __future__ import annotations

import functools

from .brokerapi import Broker
from .cases import load_cases
from .scenario import Scenario, Step

DEFAULT_SERVICE = "edit"  # the catalogue's cases assume a service that needs EH3


def fault_scenarios(broker_url: str) -> list[Scenario]:
    return [scenario_for(case) for case in Broker(broker_url).faults()]


def scenario_for(case: dict) -> Scenario:
    # "any": a fault of the Response goes by whichever binding the portal takes; only the artifact
    # exchange's own faults (and a few cases) ask the portal for one binding.
    binding = None if case["binding"] == "any" else case["binding"]
    control = not case["expect"]["refused"]
    steps = []
    if case.get("setup") == "earlier-login":  # replay cases: a correct login in the same browser first
        base = case.get("base") or {}
        steps.append(Step(index=1, action="login", params={"as": base.get("person", "anna-de-vries"),
                                                          "for": base.get("organisation", "bakkerij-de-vries"),
                                                          "service": DEFAULT_SERVICE, "binding": binding},
                          expect={"logged_in": True}, note="a correct login first", line=None))
        # ... and out again, so that a session after the hostile answer can only be the hostile answer's
        steps.append(Step(index=2, action="logout", params={}, expect={"logged_in": False},
                          note="log out of the correct login",
                          line=None))
    outcome = {"logged_in": True} if control else {"logged_in": False, "refused": "*"}
    if case["expect"].get("claims_status"):
        outcome["not_refused_as"] = status_refusals(case["expect"]["claims_status"])
    steps.append(Step(index=len(steps) + 1, action="login",
                      params={"fault": case["id"], "service": DEFAULT_SERVICE, "binding": binding},
                      expect=outcome, note=case["title"], line=None))
    rule = case["rule"] if not control else f"a correct DV accepts this ({case['rule']})"
    return Scenario(id=f"security-{case['id']}", faq=f"security ({case['family']})", title=case["title"],
                    rules=(), tags=("security", case["family"]) + (("waits",) if case.get("waits") else ()),
                    portal="default", steps=tuple(steps),
                    source="broker fault catalogue (GET /_mock/faults)", breaks=rule,
                    fault_check=case["expect"].get("check"), binding_reason=case.get("binding_reason"),
                    min_services=case.get("min_services") or 1)


@functools.cache
def status_refusals(status: str) -> tuple[str, ...]:
    """The portal's refusal codes for the broker's own refusal with this second-level status: those of the FAQ
    cases (harness/cases.yaml) whose answer has it, e.g. RequestUnsupported → no_mandate."""
    cases = load_cases()["cases"].values()
    return tuple(sorted({code for c in cases if (c.get("answer") or {}).get("status") == status
                         for code in c["refusals"]}))
