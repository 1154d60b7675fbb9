"""A case's own scenario as the template of a reproduction: filled with the customer's numbers, never rebuilt.

The template is the built-in scenario the case catalogue names (harness/scenarios/faq/<scenario>.yaml). Filling
it: its steps up to the one where the case's refusal shows (the rest is the case's own fix, not the customer's
situation), the overlay's world changes first (`supplier_change` steps with a note), the template's numbers,
ids and names replaced by the stand-ins', and the overlay's seed as the scenario's `portal:` data. The result is
an ordinary scenario (harness/schemas/scenario.schema.json).
"""

from __future__ import annotations

from dataclasses import dataclass

from ehsaml.datafile import read_yaml

from ..scenario import SCENARIO_DIR, ScenarioError
from . import overlay as ov
from .brokerworld import BrokerWorld
from .customer import CustomerReport


@dataclass
class Filled:
    data: dict  # the scenario, as data
    overlay: ov.Overlay


def template_steps(scenario: str) -> dict:
    return read_yaml(SCENARIO_DIR / f"{scenario}.yaml", what="scenario file", error_class=ScenarioError).data


def fill(scenario: str, slots: dict, report: CustomerReport, world: BrokerWorld, *, scenario_id: str, title: str,
         tags: list[str], until_refusal: list[str] = ()) -> Filled:
    raw = template_steps(scenario)
    steps = _until(raw["steps"], until_refusal)
    logins = [s for s in steps if "login" in s]
    overlay = ov.build(slots, report, world, logins)
    literals = overlay.literals()
    filled = [_login(_replace(s, literals), s, overlay, world) if "login" in s else _replace(s, literals) for s in steps]
    changes = [{"supplier_change": change, "note": f"overlay: {why}"} for change, why in overlay.changes]
    data = {"id": scenario_id, "faq": raw["faq"], "title": title, "rules": list(raw.get("rules", [])), "tags": tags}
    if raw.get("remedy_of"):
        data["remedy_of"] = raw["remedy_of"]
    portal = _portal(_replace(raw.get("portal", "default"), literals), overlay.seed)
    if portal != "default":
        data["portal"] = portal
    data["steps"] = changes + filled
    return Filled(data, overlay)


def _until(steps: list[dict], refusals) -> list[dict]:
    """The steps up to the first whose expectation is one of the case's refusals (all, if none is)."""
    for i, step in enumerate(steps):
        if (step.get("expect") or {}).get("refused") in refusals:
            return steps[:i + 1]
    return list(steps)


def _replace(value, literals: dict[str, str]):
    if isinstance(value, dict):
        return {k: _replace(v, literals) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, literals) for v in value]
    if isinstance(value, str):
        if value in literals:
            return literals[value]
        for old, new in sorted(literals.items(), key=lambda kv: -len(kv[0])):  # ids and names inside a text
            if len(old) > 9:
                value = value.replace(old, new)
    return value


def _login(step: dict, original: dict, o: ov.Overlay, world: BrokerWorld) -> dict:
    login = dict(step["login"])
    person, org = original["login"].get("as"), original["login"].get("for")
    if person:
        login["as"] = o.people.get(person, person)
    if person and org:
        target = o.org_id(org)
        chain = next((c for c in world.chains_of(person) if c["represented"] == org), None)
        if chain is not None and o.org_id(chain["intermediary"]) != chain["intermediary"] \
                and not world.mandate_services(person, org):
            target = f"{target} via {o.org_id(chain['intermediary'])}"  # the broker's name of that representation
        login["for"] = target
        if o.branch and o.branch[0] == o.org_id(org) and "branch" not in login:
            login["branch"] = o.branch[1]
    return {**step, "login": login}


def _portal(template_portal, seed: dict):
    if not seed:
        return template_portal
    merged = dict(template_portal) if isinstance(template_portal, dict) else {}
    for key, items in seed.items():
        merged[key] = list(merged.get(key, [])) + items
    return merged
