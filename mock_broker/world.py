"""The broker's world: organisations, people, mandates and chain mandates (TEST ONLY, all fictitious).

Loaded from a YAML file (scenarios/world.yaml) checked by world_schema.json plus the semantic checks
below; every refusal is a WorldError naming the file, line, entry and field. The login page and the
control API use the same model; the control API changes the world by editing `World.to_data()` and
passing the result to `world_from_data`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ehsaml.datafile import DataFile, DataFileError, read_yaml, schema_validator
from ehsaml.eherkenning import Level, is_rsin

_VALIDATOR = schema_validator(Path(__file__).with_name("world_schema.json"))
DEFAULT_PSEUDONYM_SECRET = "TEST-ONLY default pseudonym secret of the eHerkenning broker mock"
_DV_OIN = re.compile(r"^urn:etoegang:DV:(\d{20}):")
_SERVICE_ID = re.compile(r"^urn:etoegang:DV:\d{20}:services:\d+$")
_LEVELS = "EH2, EH2+, EH3 or EH4"


class WorldError(DataFileError):
    """A world file (or data) that cannot be used; says where and why."""


@dataclass(frozen=True)
class Branch:
    number: str  # vestigingsnummer, 12 digits
    name: str


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    kvk: str | None
    rsin: str | None
    eidas: str | None  # eIDAS legal identifier of a foreign company (then no kvk/rsin)
    role: str  # employer | advisor | other (informative)
    branches: tuple[Branch, ...] = ()

    def branch(self, number: str) -> Branch | None:
        return next((b for b in self.branches if b.number == number), None)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    level: Level  # the level of the person's means
    works_for: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Mandate:
    person: str
    organisation: str
    services: tuple[str, ...]  # ServiceIDs
    branch: str | None = None


@dataclass(frozen=True)
class ChainEmployee:
    person: str
    services: tuple[str, ...] | None = None  # None: all of the chain mandate's services


@dataclass(frozen=True)
class ChainMandate:
    represented: str
    intermediary: str
    services: tuple[str, ...]
    employees: tuple[ChainEmployee, ...] = ()

    def effective_services(self, person_id: str) -> tuple[str, ...]:
        """The services this person may use under this chain mandate (chain ∩ employee mandate)."""
        mine = next((e.services for e in self.employees if e.person == person_id), ())
        return tuple(s for s in self.services if mine is None or s in mine)


@dataclass(frozen=True)
class Representation:
    """One way a person may act for a service: for `organisation`, maybe via an intermediary."""

    organisation: Organisation
    intermediary: Organisation | None
    branch: Branch | None
    service_id: str

    @property
    def key(self) -> str:
        """Short and stable, for forms and JSON: "org", "org branch <number>" or "org via intermediary"."""
        branch = f" branch {self.branch.number}" if self.branch else ""
        return self.organisation.id + branch + (f" via {self.intermediary.id}" if self.intermediary else "")


@dataclass(frozen=True)
class World:
    organisations: dict[str, Organisation]
    people: dict[str, Person]
    services: dict[str, str]  # alias → ServiceID
    mandates: tuple[Mandate, ...] = ()
    chain_mandates: tuple[ChainMandate, ...] = ()
    pseudonym_secret: str | None = None
    source: str = field(default="<data>", compare=False)

    def person(self, person_id: str) -> Person:
        """The person with this id; KeyError (that says so) when there is none."""
        return _get(self.people, "person", person_id, self.source)

    def organisation(self, organisation_id: str) -> Organisation:
        return _get(self.organisations, "organisation", organisation_id, self.source)

    def find_person(self, text: str) -> Person | None:
        """A person by id, or else by name (case-insensitive)."""
        name = text.strip().casefold()
        return self.people.get(text) or next((p for p in self.people.values() if p.name.casefold() == name), None)

    def organisation_by_kvk(self, kvk: str) -> Organisation | None:
        return next((o for o in self.organisations.values() if o.kvk == kvk), None)

    def service_alias(self, service_id: str) -> str | None:
        return next((a for a, s in self.services.items() if s == service_id), None)

    def representations(self, person_id: str, service_id: str) -> list[Representation]:
        """Every way this person may act for this ServiceID: direct mandates first, then chains."""
        self.person(person_id)
        found: dict[str, Representation] = {}
        for m in self.mandates:
            if m.person == person_id and service_id in m.services:
                org = self.organisations[m.organisation]
                rep = Representation(org, None, org.branch(m.branch) if m.branch else None, service_id)
                found.setdefault(rep.key, rep)
        for c in self.chain_mandates:
            if service_id in c.effective_services(person_id):
                rep = Representation(self.organisations[c.represented], self.organisations[c.intermediary],
                                     None, service_id)
                found.setdefault(rep.key, rep)
        return list(found.values())

    def representation(self, person_id: str, service_id: str, key: str) -> Representation | None:
        return next((r for r in self.representations(person_id, service_id) if r.key == key), None)

    def services_of(self, person_id: str) -> dict[str, list[Representation]]:
        """Every ServiceID this person has a mandate for (any DV), with the ways to act for it."""
        self.person(person_id)
        ids = [s for m in self.mandates if m.person == person_id for s in m.services]
        ids += [s for c in self.chain_mandates for s in c.effective_services(person_id)]
        return {s: reps for s in dict.fromkeys(ids) if (reps := self.representations(person_id, s))}

    def pseudonym(self, person_id: str, dv_entity_id: str, organisation_id: str) -> str:
        """ActingSubjectID `<64 hex>@<32 hex>`, stable per (person, DV, represented organisation).

        A DV entity ID or ServiceID counts as its DV's OIN. Test-only: HMAC-SHA256 with pseudonym_secret."""
        self.person(person_id)
        self.organisation(organisation_id)
        dv = m.group(1) if (m := _DV_OIN.match(dv_entity_id)) else dv_entity_id
        secret = (self.pseudonym_secret or DEFAULT_PSEUDONYM_SECRET).encode()
        acting = hmac.new(secret, f"acting\0{person_id}\0{dv}\0{organisation_id}".encode(), hashlib.sha256)
        dv_part = hmac.new(secret, f"dv\0{dv}".encode(), hashlib.sha256)
        return f"{acting.hexdigest()}@{dv_part.hexdigest()[:32]}"

    def to_data(self) -> dict[str, Any]:
        """The world as plain data in the file's format (JSON-able); world_from_data reads it back."""
        alias = {s: a for a, s in reversed(self.services.items())}
        names = lambda ids: [alias.get(s, s) for s in ids]  # noqa: E731
        data: dict[str, Any] = _drop_none({"version": 1, "pseudonym_secret": self.pseudonym_secret})
        data["services"] = dict(self.services)
        data["organisations"] = [_drop_none({
            "id": o.id, "name": o.name, "kvk": o.kvk, "rsin": o.rsin, "eidas": o.eidas, "role": o.role,
            "branches": [{"number": b.number, "name": b.name} for b in o.branches] or None,
        }) for o in self.organisations.values()]
        data["people"] = [_drop_none({"id": p.id, "name": p.name, "level": p.level.label,
                                      "works_for": p.works_for, "note": p.note}) for p in self.people.values()]
        data["mandates"] = [_drop_none({"person": m.person, "organisation": m.organisation,
                                        "services": names(m.services), "branch": m.branch}) for m in self.mandates]
        data["chain_mandates"] = [{
            "represented": c.represented, "intermediary": c.intermediary, "services": names(c.services),
            "employees": [_drop_none({"person": e.person, "services": None if e.services is None
                                      else names(e.services)}) for e in c.employees],
        } for c in self.chain_mandates]
        return data


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _get(table: dict[str, Any], kind: str, key: str, source: str) -> Any:
    if key not in table:
        raise KeyError(f"no {kind} {key!r} in the world ({source})")
    return table[key]


# ---------------------------------------------------------------------------------------- loading

def load_world(path: str | Path) -> World:
    """Read and check a world file (YAML)."""
    datafile = read_yaml(path, what="world file", error_class=WorldError, label=_label)
    return _build(datafile)


def world_from_data(data: Any, *, source: str) -> World:
    """Check and build a world from plain data (the file's format), e.g. an edited World.to_data()."""
    return _build(DataFile(data, source, {}, _label, WorldError))


def _label(item: Any) -> str:
    """How an entry is named in errors: its id, "person → organisation" or "represented via intermediary"."""
    item = item if isinstance(item, dict) else {}
    for a, sep, b in (("id", "", None), ("person", " → ", "organisation"),
                      ("represented", " via ", "intermediary")):
        if isinstance(item.get(a), str) and (b is None or isinstance(item.get(b), str)):
            return f" ({item[a]}{sep}{item[b] if b else ''})"
    return ""


def _build(chk: DataFile) -> World:
    data, source = chk.data, chk.source
    if not isinstance(data, dict):
        raise WorldError("the world must be a mapping with version, organisations, people, mandates, …",
                         file=source, line=1 if chk.lines else None)
    chk.check_schema(_VALIDATOR)

    services: dict[str, str] = dict(data.get("services") or {})

    def resolve(path: tuple, names: list[str]) -> tuple[str, ...]:
        for i, name in enumerate(names):
            if name not in services and not _SERVICE_ID.match(name):
                raise chk.error(path + (i,), f"unknown service {name!r} (aliases: {', '.join(services) or 'none'}"
                                             "; or a ServiceID urn:etoegang:DV:<OIN>:services:<n>)")
        return tuple(dict.fromkeys(services.get(name, name) for name in names))

    def refuse_first(path: tuple, checks: list[tuple[Any, tuple, str]]) -> None:
        for bad, fld, message in checks:
            if bad:
                raise chk.error(path + fld, message)

    orgs: dict[str, Organisation] = {}
    owner: dict[str, str] = {}  # every KvK number, RSIN, eIDAS identifier and branch number → organisation id
    for i, o in enumerate(data["organisations"]):
        p = ("organisations", i)
        kvk, rsin, eidas = o.get("kvk"), o.get("rsin"), o.get("eidas")
        refuse_first(p, [
            (o["id"] in orgs, ("id",), f"duplicate organisation id {o['id']!r}"),
            (kvk and eidas, ("eidas",), "give a KvK number or an eIDAS identifier, not both"),
            (not kvk and not eidas, (),
             "give a KvK number (kvk) or, for a foreign company, an eIDAS identifier (eidas)"),
            (rsin and eidas, ("rsin",), "a foreign (eIDAS) organisation has no RSIN"),
            (rsin and not is_rsin(rsin), ("rsin",), f"RSIN {rsin!r} fails the 11-test")])
        branches = tuple(Branch(b["number"], b["name"]) for b in o.get("branches", []))
        numbers = [(("kvk",), "KvK number", kvk), (("rsin",), "RSIN", rsin), (("eidas",), "eIDAS identifier", eidas)]
        numbers += [(("branches", j, "number"), "branch number", b.number) for j, b in enumerate(branches)]
        refuse_first(p, [(v in owner, f, f"{what} {v!r} is already used by organisation {owner.get(v)!r}")
                         for f, what, v in numbers])
        seen_here: set[str] = set()
        for f, what, v in numbers:  # the same number twice within this organisation
            if v and v in seen_here:
                raise chk.error(p + f, f"{what} {v!r} is given twice for this organisation")
            seen_here.add(v)
        owner.update({v: o["id"] for _, _, v in numbers if v})
        orgs[o["id"]] = Organisation(o["id"], o["name"], kvk, rsin, eidas, o.get("role", "other"), branches)

    def org_ref(path: tuple, org_id: str) -> Organisation:
        if org_id not in orgs:
            raise chk.error(path, f"unknown organisation {org_id!r}")
        return orgs[org_id]

    people: dict[str, Person] = {}
    for i, pd in enumerate(data["people"]):
        p = ("people", i)
        if pd["id"] in people:
            raise chk.error(p + ("id",), f"duplicate person id {pd['id']!r}")
        try:
            level = Level.parse(pd["level"])
        except ValueError:
            raise chk.error(p + ("level",), f"unknown level {pd['level']!r} (use {_LEVELS})") from None
        if level < Level.EH2:
            raise chk.error(p + ("level",), f"{level.label} ended in 2021 (use {_LEVELS})")
        if "works_for" in pd:
            org_ref(p + ("works_for",), pd["works_for"])
        people[pd["id"]] = Person(pd["id"], pd["name"], level, pd.get("works_for"), pd.get("note"))

    def person_ref(path: tuple, person_id: str) -> None:
        if person_id not in people:
            raise chk.error(path, f"unknown person {person_id!r}")

    mandates: list[Mandate] = []
    for i, md in enumerate(data.get("mandates", [])):
        p = ("mandates", i)
        person_ref(p + ("person",), md["person"])
        org = org_ref(p + ("organisation",), md["organisation"])
        branch = md.get("branch")
        if branch and not org.branch(branch):
            known = ", ".join(b.number for b in org.branches) or "none"
            raise chk.error(p + ("branch",), f"{branch!r} is not a branch of {org.id!r} (its branches: {known})")
        m = Mandate(md["person"], org.id, resolve(p + ("services",), md["services"]), branch)
        if any((x.person, x.organisation, x.branch) == (m.person, m.organisation, m.branch) for x in mandates):
            raise chk.error(p, "duplicate mandate (same person, organisation and branch): merge the services")
        mandates.append(m)

    chains: list[ChainMandate] = []
    for i, cd in enumerate(data.get("chain_mandates", [])):
        p = ("chain_mandates", i)
        rep = org_ref(p + ("represented",), cd["represented"])
        via = org_ref(p + ("intermediary",), cd["intermediary"])
        refuse_first(p, [
            (rep.id == via.id, ("intermediary",), "the intermediary must differ from the represented organisation"),
            (not via.kvk, ("intermediary",), f"{via.id!r} has no KvK number (IntermediateEntityID is a KvK number)"),
            (any((c.represented, c.intermediary) == (rep.id, via.id) for c in chains), (),
             f"duplicate chain mandate for {rep.id!r} via {via.id!r}: merge them")])
        employees: list[ChainEmployee] = []
        for j, ed in enumerate(cd.get("employees", [])):
            ep = p + ("employees", j)
            person_ref(ep + ("person",), ed["person"])
            if any(e.person == ed["person"] for e in employees):
                raise chk.error(ep + ("person",), f"person {ed['person']!r} is listed twice")
            svc = resolve(ep + ("services",), ed["services"]) if "services" in ed else None
            employees.append(ChainEmployee(ed["person"], svc))
        chains.append(ChainMandate(rep.id, via.id, resolve(p + ("services",), cd["services"]), tuple(employees)))

    return World(orgs, people, services, tuple(mandates), tuple(chains), data.get("pseudonym_secret"), source)
