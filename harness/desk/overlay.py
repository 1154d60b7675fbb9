"""The customer's own numbers as a temporary overlay on the example world: what a reproduced scenario adds.

A case's template scenario plays with the example world's organisations; its `slots` (harness/cases.yaml) say
which report field each one stands for and how the portal knows it. For every number the report gives:
- the template's own number: nothing changes;
- a number of the world: that organisation stands in, as the world and the portal have it;
- a number the world lacks: a made-up organisation at the broker (world changes `add_organisation`,
  `add_branch`), known to the portal as the slot says (seed data: an employer in the template's pension
  contract, or an advisor in the register, or not at all).
The template's people get the same mandates and chain mandates for the stand-in as they hold for the
template's organisation (`add_mandate`, `add_chain_mandate`). The changes are scenario steps
(`supplier_change`) and the seed is the scenario's `portal:` data, so the runner's reset and the next
scenario's seed undo them; `harness reproduce` resets both once more when it is done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ehsaml.eherkenning import is_rsin

from .brokerworld import BrokerWorld
from .customer import CustomerReport, ReportError

# Made-up names for companies the world lacks (never a real company; any likeness is chance).
_NAMES = {
    "employer": ["Houtbouw Dekker", "Schildersbedrijf Vos", "Drukkerij Van Leeuwen", "Installatiebedrijf Brouwer",
                 "Kwekerij De Graaf", "Transport Visscher", "Bouwbedrijf Hoekstra", "Fietsenmakerij Smeets"],
    "advisor": ["Pensioenadvies Verhoeven", "Van der Linden Financieel Advies", "Advieskantoor De Wit",
                "Kuipers Salaris en Pensioen"],
    "foreign": ["Schneider Logistik GmbH", "Dubois Services SPRL", "Lindqvist Bygg AB"],
}


@dataclass
class StandIn:
    slot: str  # the report field
    template: dict  # the template's organisation (world data)
    org: dict  # the organisation that stands for it (world data, or made up)
    made_up: bool
    portal: object  # the slot's standing: {"contract": n}, "advisor" or "unknown"


@dataclass
class Overlay:
    stand_ins: dict[str, StandIn] = field(default_factory=dict)  # template organisation id → its stand-in
    changes: list[tuple[dict, str]] = field(default_factory=list)  # (world change, why), in order
    seed: dict = field(default_factory=dict)  # portal data to add to the default seed
    said: list[str] = field(default_factory=list)  # what the desk is told
    branch: tuple[str, str] | None = None  # (organisation id, branch number) the customer logs in for
    people: dict[str, str] = field(default_factory=dict)  # template person → the person of the report who stands in

    def org_id(self, template_id: str) -> str:
        s = self.stand_ins.get(template_id)
        return s.org["id"] if s else template_id

    def literals(self) -> dict[str, str]:
        """Template text → the stand-in's: KvK numbers, eIDAS identifiers, ids and names."""
        out = {}
        for s in self.stand_ins.values():
            for key in ("kvk", "eidas", "rsin", "id", "name"):
                if s.template.get(key) and s.org.get(key) and s.template[key] != s.org[key]:
                    out[s.template[key]] = s.org[key]
        return out


def build(slots: dict, report: CustomerReport, world: BrokerWorld, logins: list[dict]) -> Overlay:
    """The overlay for one template: its slots filled from the report; `logins` are the template's login steps."""
    o = Overlay()
    _person(o, report, world, slots, logins)
    taken = {v for org in world.organisations for v in (org.get("kvk"), org.get("rsin"), org.get("eidas")) if v}
    for slot, spec in slots.items():
        template = world.organisation(spec["organisation"])
        if template is None:
            raise ReportError(f"the case catalogue's slot {slot} names organisation {spec['organisation']!r}, which the "
                              f"broker's world lacks (GET /_mock/world): this broker's world is not the example world")
        value = getattr(report, slot)
        if value is None or value in (template.get("kvk"), template.get("eidas")):
            continue
        known = world.by_number(value)
        if known is not None:
            o.stand_ins[template["id"]] = StandIn(slot, template, known, False, spec["portal"])
            o.said.append(f"{_what(slot)} {value} is {known['name']} of the world: used as the world and the portal know it")
            continue
        org = _made_up(slot, value, template, report if slot == "kvk" else None, taken)
        taken.update(v for v in (org.get("kvk"), org.get("rsin"), org.get("eidas")) if v)
        o.stand_ins[template["id"]] = StandIn(slot, template, org, True, spec["portal"])
        _seed(o, org, spec["portal"])
        o.said.append(f"{_what(slot)} {value} is not in the world: made-up {org['name']!r}{_standing(spec['portal'])}")
    used = {step["login"].get("for") for step in logins}
    for s in o.stand_ins.values():
        if s.made_up and (s.template["id"] in used or _in_chains(world, s.template["id"], logins)):
            o.changes.append(({"change": "add_organisation", **{k: v for k, v in s.org.items() if k != "branches"}},
                              f"the customer's {_what(s.slot)} {s.org.get('kvk') or s.org.get('eidas')} (name made up)"))
    _branch(o, report, world, slots)
    _mirror(o, world, logins)
    for name in ("kvk", "advisor_kvk", "granted_kvk", "other_kvk", "eidas"):
        if getattr(report, name) and name not in slots:
            o.said.append(f"{_what(name)} {getattr(report, name)} not used: this case's scenario has no place for it")
    if report.rsin and "kvk" not in {s.slot for s in o.stand_ins.values() if s.made_up}:
        o.said.append(f"RSIN {report.rsin} not used: it goes with a KvK number the world lacks")
    return o


def _what(slot: str) -> str:
    return {"kvk": "KvK", "advisor_kvk": "advisor KvK", "granted_kvk": "granted KvK", "other_kvk": "other KvK",
            "eidas": "eIDAS identifier"}[slot]


def _standing(portal) -> str:
    if isinstance(portal, dict):
        return f", an employer in pension contract {portal['contract']} at the portal"
    return ", an advisor known to the portal" if portal == "advisor" else ", unknown to the portal"


def _made_up(slot: str, value: str, template: dict, report: CustomerReport | None, taken: set) -> dict:
    kind = "foreign" if slot == "eidas" else template.get("role") if template.get("role") in _NAMES else "employer"
    names = _NAMES[kind]
    number = value if slot != "eidas" else re.sub(r"\D", "", value) or "0"
    name = names[int(number) % len(names)] + ("" if kind == "foreign" else " B.V.")
    slug = re.sub(r"[^a-z0-9]+", "-", value.casefold()).strip("-")
    org = {"id": f"klant-{slug}", "name": name, "role": template.get("role", "other")}
    if slot == "eidas":
        org["eidas"] = value
        return org
    org["kvk"] = value
    rsin = report.rsin if report is not None and report.rsin else _rsin_for(value, taken)
    if rsin in taken:
        raise ReportError(f"rsin: {rsin} is the RSIN of another organisation of the world")
    org["rsin"] = rsin
    return org


def _rsin_for(kvk: str, taken: set) -> str:
    """A made-up RSIN that passes the 11-test, from the KvK number's digits."""
    for prefix in "8901234567":
        digits = prefix + kvk[:7]
        check = sum(w * int(d) for w, d in zip(range(9, 1, -1), digits)) % 11
        if check < 10 and is_rsin(digits + str(check)) and digits + str(check) not in taken:
            return digits + str(check)
    raise ReportError(f"kvk: cannot make up an RSIN for KvK {kvk}; give the customer's rsin")


def _seed(o: Overlay, org: dict, portal) -> None:
    if isinstance(portal, dict):
        contracts = o.seed.setdefault("contracts", [])
        contract = next((c for c in contracts if c["id"] == portal["contract"]), None)
        if contract is None:
            contract = {"id": portal["contract"], "employers": []}
            contracts.append(contract)
        contract["employers"].append({"kvk": org["kvk"], "name": org["name"],
                                      "email": f"salarisadministratie@{org['id']}.example.test",
                                      "participants": [{"name": "A. Verzonnen", "salary": 31000}]})
    elif portal == "advisor":
        o.seed.setdefault("advisors", []).append({"kvk": org["kvk"], "name": org["name"], "licence_checked": True})


def _in_chains(world: BrokerWorld, org_id: str, logins: list[dict]) -> bool:
    people = {step["login"].get("as") for step in logins}
    return any(org_id in (c["represented"], c["intermediary"]) for p in people if p for c in world.chains_of(p))


def _branch(o: Overlay, report: CustomerReport, world: BrokerWorld, slots: dict) -> None:
    if not report.branch:
        return
    if "kvk" not in slots:
        o.said.append(f"branch {report.branch} not used: this case logs in for no employer of the report")
        return
    template_id = slots["kvk"]["organisation"]
    stand_in = o.stand_ins.get(template_id)
    org = stand_in.org if stand_in else world.organisation(template_id)
    owner = world.branch_owner(report.branch)
    if owner is not None and owner["id"] != org["id"]:
        raise ReportError(f"branch: {report.branch} is a branch of {owner['name']} in the world, not of {org['name']}")
    if owner is None:
        o.changes.append(({"change": "add_branch", "organisation": org["id"], "number": report.branch,
                           "name": f"{org['name']}, vestiging {report.branch[-4:]}"},
                          f"the customer's branch (vestigingsnummer) {report.branch}"))
    o.branch = (org["id"], report.branch)


def _person(o: Overlay, report: CustomerReport, world: BrokerWorld, slots: dict, logins: list[dict]) -> None:
    """The report's person stands in for the template's person who logs in for the report's employer."""
    if not report.person:
        return
    if world.person(report.person) is None:
        raise ReportError(f"person: {report.person!r} is not in the broker's world (GET /_mock/world lists the people)")
    employer = (slots.get("kvk") or slots.get("eidas") or {}).get("organisation")
    main = next((s["login"]["as"] for s in logins if s["login"].get("as") and s["login"].get("for") == employer),
                next((s["login"]["as"] for s in logins if s["login"].get("as")), None))
    if main is None:
        o.said.append(f"person {report.person} not used: nobody of the world logs in in this case")
    elif main != report.person:
        o.people[main] = report.person


def _mirror(o: Overlay, world: BrokerWorld, logins: list[dict]) -> None:
    """The stand-ins (people and organisations) hold what the template's hold: mandates and chain mandates."""
    done: set = set()
    for step in logins:
        person, org = step["login"].get("as"), step["login"].get("for")
        if not person or not org or (person, org) in done:
            continue
        done.add((person, org))
        actual, target = o.people.get(person, person), o.org_id(org)
        services = world.mandate_services(person, org)
        if (actual, target) != (person, org) and services \
                and not set(services) <= set(world.mandate_services(actual, target)):
            o.changes.append(({"change": "add_mandate", "person": actual, "organisation": target, "services": services},
                              f"{actual} holds for {target} what the template's {person} holds for {org}"))
        for c in world.chains_of(person):
            if c["represented"] != org:
                continue
            rep, via = o.org_id(c["represented"]), o.org_id(c["intermediary"])
            if (rep, via, actual) == (c["represented"], c["intermediary"], person) or (rep, via) in done:
                continue
            done.add((rep, via))
            if world.has_chain(rep, via):
                o.said.append(f"the chain mandate for {rep} via {via} is the world's own: used as it is")
                continue
            employee = {"person": actual} | ({"services": c["person_services"]} if c.get("person_services") else {})
            o.changes.append(({"change": "add_chain_mandate", "represented": rep, "intermediary": via,
                               "services": c["services"], "employees": [employee]},
                              f"the template's chain mandate for {c['represented']} via {c['intermediary']}"))
