"""The security suite: every case of the broker's fault catalogue, sent to the portal, must be refused.

The catalogue is read from the broker's control API (GET /_mock/faults), so the harness knows the
faults by id, title and rule only. A case passes when the portal starts no session, shows a refusal
with its reason, and gives no server error; a failure names the rule the portal broke.
"""

from __future__ import annotations

import requests

from .scenario import Scenario, Step

DEFAULT_SERVICE = "edit"  # the catalogue's cases assume a service that needs EH3


def fault_scenarios(broker_url: str) -> list[Scenario]:
    resp = requests.get(f"{broker_url.rstrip('/')}/_mock/faults", timeout=15)
    resp.raise_for_status()
    return [scenario_for(case) for case in resp.json()["faults"]]


def scenario_for(case: dict) -> Scenario:
    # "any": a fault of the Response goes by whichever binding the portal takes; only the artifact
    # exchange's own faults ask the portal for the Artifact binding.
    binding = None if case["binding"] == "any" else case["binding"]
    steps = []
    if case.get("setup") == "earlier-login":  # replay cases: a correct login in the same browser first
        base = case.get("base") or {}
        steps.append(Step(index=1, action="login", params={"as": base.get("person", "anna-de-vries"),
                                                          "for": base.get("organisation", "bakkerij-de-vries"),
                                                          "service": DEFAULT_SERVICE, "binding": binding},
                          expect={"logged_in": True}, note="a correct login first", line=None))
    steps.append(Step(index=len(steps) + 1, action="login",
                      params={"fault": case["id"], "service": DEFAULT_SERVICE, "binding": binding},
                      expect={"logged_in": False, "refused": "*"}, note=case["title"], line=None))
    return Scenario(id=f"security-{case['id']}", faq=f"security ({case['family']})", title=case["title"],
                    rules=(), tags=("security", case["family"]), portal="default", steps=tuple(steps),
                    source="broker fault catalogue (GET /_mock/faults)", breaks=case["rule"])
