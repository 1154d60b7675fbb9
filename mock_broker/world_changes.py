"""Changes to the world while the broker runs: the stand-in for the supplier's management portal.

In the eHerkenning scheme the machtigingenbeheerder (mandate administrator) of a company manages its
means, services and mandates in the supplier's management portal (beheerportaal). The FAQ's fixes
happen there: get an EH3 means, add "Bekijk en wijzig gegevens", register a chain mandate. Here a
change is one JSON object (POST /_mock/world/changes, or the page /beheer):

    {"change": "set_level", "person": "eva-kok", "level": "EH3"}
    {"change": "add_mandate", "person": ..., "organisation": ..., "services": [...], "branch": ... (optional)}
    {"change": "withdraw_mandate", "person": ..., "organisation": ..., "services": [...] (optional: all),
     "branch": ... (optional)}
    {"change": "add_chain_mandate", "represented": ..., "intermediary": ..., "services": [...],
     "employees": [{"person": ..., "services": [...] (optional)}] (optional)}
    {"change": "add_chain_services", "represented": ..., "intermediary": ..., "services": [...]}
    {"change": "withdraw_chain_mandate", "represented": ..., "intermediary": ...}
    {"change": "add_branch", "organisation": ..., "number": "000099998888", "name": ...}
    {"change": "add_organisation", "name": ..., "kvk": ... | "eidas": ..., "rsin": ... (optional),
     "role": employer|advisor|other (optional), "id": ... (optional: made from the name)}
    {"change": "bind_services", "services": {"view": <ServiceID>, "edit": <ServiceID>}}

`bind_services` is no beheerportaal work but the harness's: it points the world's service aliases at
another DV's ServiceIDs, so that every mandate and chain mandate written with an alias ("view", "edit")
names that DV's services instead, and the world's people can log in to a portal the world file was not
written for. One service for both aliases is fine (a portal with one service).

A change is checked as the world file is: it is applied to `World.to_data()` and the result read back
by `world_from_data`, so every check of the file applies; a refusal (ChangeError) names the field of
the change. Organisations may be named by id, KvK number or RSIN; people by id or name; services by
world alias or by a ServiceID of a registered DV.

The applied changes are kept in the store (in order), so that several workers on one shared store
see one world: each worker rebuilds its world from the file's when the list has changed, applying only
the new records when it merely grew. Reset empties the list: the world is the file's again.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from typing import TYPE_CHECKING, Any

from ehsaml import timeutil
from ehsaml.eherkenning import Level

from .requestscope import first_time
from .world_refs import ChangeError, Normaliser
from .world import World, WorldError, world_from_data

if TYPE_CHECKING:
    from .registry import Registry
    from .store import Store

# kind → (required fields, optional fields), in the order a normalised change lists them
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "set_level": (("person", "level"), ()),
    "add_mandate": (("person", "organisation", "services"), ("branch",)),
    "withdraw_mandate": (("person", "organisation"), ("services", "branch")),
    "add_chain_mandate": (("represented", "intermediary", "services"), ("employees",)),
    "add_chain_services": (("represented", "intermediary", "services"), ()),
    "withdraw_chain_mandate": (("represented", "intermediary"), ()),
    "add_branch": (("organisation", "number", "name"), ()),
    "add_organisation": (("name",), ("id", "kvk", "rsin", "eidas", "role")),
    "bind_services": (("services",), ()),
}


# ---------------------------------------------------------------------------------------- checking

def apply_change(world: World, change: Any, *, registry: "Registry | None" = None,
                 source: str | None = None) -> tuple[dict, World]:
    """Check `change` against `world`; return (the change as normalised, the changed world).

    With a registry, a ServiceID must be one of a registered DV's services (or have a world alias);
    without one (replaying a change recorded earlier) the world's own checks suffice."""
    if not isinstance(change, dict):
        raise ChangeError("send one change as a JSON object, e.g. "
                          '{"change": "set_level", "person": "eva-kok", "level": "EH3"}')
    kind = change.get("change")
    if kind not in KINDS:
        got = "missing" if kind is None else repr(kind)
        raise ChangeError(f"change: {got} is not a kind of change (use {', '.join(KINDS)})")
    required, optional = KINDS[kind]
    unknown = sorted(set(change) - {"change", *required, *optional})
    if unknown:
        raise ChangeError(f"{unknown[0]}: unknown field for {kind} (fields: {', '.join(required + optional)})")
    for name in required:
        if change.get(name) is None:
            raise ChangeError(f"{name}: missing (a {kind} change needs {', '.join(required)})")
    for name in ("person", "level", "organisation", "branch", "represented", "intermediary", "number", "name", "id",
                 "kvk", "rsin", "eidas", "role"):
        if name in change and not (isinstance(change[name], str) and change[name].strip()):
            what = "empty" if isinstance(change[name], str) else f"a {type(change[name]).__name__}"
            raise ChangeError(f"{name}: give a non-empty string, not {what}")
    norm = Normaliser(world, registry)
    out: dict[str, Any] = {"change": kind}
    data = world.to_data()
    where: tuple = ()  # the entry of `data` this change touches, to name the field of a WorldError
    prefix = ""  # how that entry's fields are named in the change

    if kind == "set_level":
        person = norm.person("person", change["person"])
        try:
            level = Level.parse(change["level"]).label
        except ValueError:
            raise ChangeError(f"level: unknown level {change['level']!r} (use EH2, EH2+, EH3 or EH4)") from None
        out.update(person=person, level=level)
        i = _index(data["people"], id=person)
        data["people"][i]["level"] = level
        where = ("people", i)

    elif kind in ("add_mandate", "withdraw_mandate"):
        person = norm.person("person", change["person"])
        org = norm.organisation("organisation", change["organisation"])
        branch = norm.branch("branch", world, org, change.get("branch")) if "branch" in change else None
        out.update(person=person, organisation=org)
        mandates = data.setdefault("mandates", [])
        i = next((i for i, m in enumerate(mandates)
                  if (m["person"], m["organisation"], m.get("branch")) == (person, org, branch)), None)
        on_branch = f" (branch {branch})" if branch else ""
        if kind == "add_mandate":
            services = norm.services("services", change["services"])
            out["services"] = services
            if branch:
                out["branch"] = branch
            if i is None:
                mandates.append({"person": person, "organisation": org, "services": services}
                                | ({"branch": branch} if branch else {}))
                i = len(mandates) - 1
            else:
                mandates[i]["services"] = _merge(mandates[i]["services"], services)
        else:
            if i is None:
                others = [m.get("branch") for m in mandates if (m["person"], m["organisation"]) == (person, org)]
                hint = (f"; its mandates for {org!r} are per branch ({', '.join(b or 'whole organisation' for b in others)}): "
                        "give branch") if others and not branch else ""
                raise ChangeError(f"organisation: {person!r} has no mandate for {org!r}{on_branch} to withdraw{hint}")
            if "services" in change:
                services = norm.services("services", change["services"], existing_only=True)
                have = [world.services.get(s, s) for s in mandates[i]["services"]]
                for j, s in enumerate(services):
                    if world.services.get(s, s) not in have:
                        raise ChangeError(f"services[{j}]: {s!r} is not in the mandate of {person!r} for {org!r}"
                                          f"{on_branch} (it has: {', '.join(mandates[i]['services'])})")
                out["services"] = services
                gone = {world.services.get(s, s) for s in services}
                left = [s for s in mandates[i]["services"] if world.services.get(s, s) not in gone]
                if left:
                    mandates[i]["services"] = left
                else:
                    del mandates[i]
            else:
                del mandates[i]
            if branch:
                out["branch"] = branch
            i = None
        where = ("mandates", i) if i is not None else ()

    elif kind in ("add_chain_mandate", "add_chain_services", "withdraw_chain_mandate"):
        rep = norm.organisation("represented", change["represented"])
        via = norm.organisation("intermediary", change["intermediary"])
        out.update(represented=rep, intermediary=via)
        chains = data.setdefault("chain_mandates", [])
        i = next((i for i, c in enumerate(chains) if (c["represented"], c["intermediary"]) == (rep, via)), None)
        if kind == "add_chain_mandate":
            if i is not None:
                raise ChangeError(f"intermediary: a chain mandate for {rep!r} via {via!r} already exists "
                                  "(add services to it with add_chain_services, or withdraw it first)")
            out["services"] = norm.services("services", change["services"])
            employees = change.get("employees", [])
            if not isinstance(employees, list):
                raise ChangeError(f"employees: give a list of {{\"person\": ..., \"services\": [...]}}, "
                                  f"not a {type(employees).__name__}")
            out["employees"] = []
            for j, e in enumerate(employees):
                f = f"employees[{j}]"
                if isinstance(e, str):
                    e = {"person": e}
                if not isinstance(e, dict):
                    raise ChangeError(f"{f}: give {{\"person\": ..., \"services\": [...] (optional)}}")
                extra = sorted(set(e) - {"person", "services"})
                if extra:
                    raise ChangeError(f"{f}.{extra[0]}: unknown field (fields: person, services)")
                if not isinstance(e.get("person"), str):
                    raise ChangeError(f"{f}.person: missing (the intermediary's employee who may use it)")
                entry = {"person": norm.person(f"{f}.person", e["person"])}
                if "services" in e:
                    entry["services"] = norm.services(f"{f}.services", e["services"])
                out["employees"].append(entry)
            chains.append({"represented": rep, "intermediary": via, "services": out["services"],
                           "employees": out["employees"]})
            where = ("chain_mandates", len(chains) - 1)
        elif i is None:
            raise ChangeError(f"intermediary: there is no chain mandate for {rep!r} via {via!r}"
                              + (" (register one with add_chain_mandate)" if kind == "add_chain_services" else ""))
        elif kind == "add_chain_services":
            out["services"] = norm.services("services", change["services"])
            chains[i]["services"] = _merge(chains[i]["services"], out["services"])
            where = ("chain_mandates", i)
        else:
            del chains[i]

    elif kind == "add_branch":
        org = norm.organisation("organisation", change["organisation"])
        number = change["number"].strip()
        if not re.fullmatch(r"\d{12}", number):
            raise ChangeError(f"number: {change['number']!r} is not a branch number (vestigingsnummer, 12 digits)")
        owner = next((o.id for o in world.organisations.values() if o.branch(number)), None)
        if owner:
            raise ChangeError(f"number: branch number {number!r} is already used by organisation {owner!r}")
        out.update(organisation=org, number=number, name=change["name"].strip())
        i = _index(data["organisations"], id=org)
        data["organisations"][i].setdefault("branches", []).append({"number": number, "name": out["name"]})
        where, prefix = ("organisations", i), "branches"

    elif kind == "add_organisation":  # a company the world lacks (e.g. a customer's own KvK number)
        out["id"] = change.get("id") or re.sub(r"[^a-z0-9]+", "-", change["name"].casefold()).strip("-") or "organisation"
        if "kvk" not in change and "eidas" not in change:
            raise ChangeError("kvk: missing (give a KvK number, or an eidas identifier for a foreign company)")
        if out["id"] in world.organisations:
            raise ChangeError(f"id: organisation {out['id']!r} exists already (give another id or name)")
        out.update({k: change[k].strip() for k in ("name", "kvk", "rsin", "eidas", "role") if k in change})
        data["organisations"].append({k: v for k, v in out.items() if k != "change"})
        where = ("organisations", len(data["organisations"]) - 1)
    elif kind == "bind_services":
        out["services"] = norm.binding("services", change["services"])
        data["services"].update(out["services"])

    try:
        changed = world_from_data(data, source=source or world.source)
    except WorldError as exc:
        raise ChangeError(_field_message(exc, where, prefix, data)) from None
    return out, changed


def _field_message(exc: WorldError, where: tuple, prefix: str, data: dict) -> str:
    """A WorldError about the changed entry, as a message naming the change's field."""
    fld = exc.field or ""
    if prefix:
        fld = re.sub(rf"^{prefix}\[\d+\]\.?", "", fld)
    if where and exc.entry and exc.entry.startswith(f"{where[0]}[{where[1]}]"):
        return f"{fld}: {exc.message}" if fld else exc.message
    return f"the changed world is refused: {exc}"


def _index(entries: list[dict], **match) -> int:
    return next(i for i, e in enumerate(entries) if all(e.get(k) == v for k, v in match.items()))


def _merge(have: list[str], more: list[str]) -> list[str]:
    return list(dict.fromkeys([*have, *more]))


def describe(change: dict) -> str:
    """One line naming a (normalised) change, for the journal and the management page."""
    parts = []
    for k, v in change.items():
        if k == "change":
            continue
        if k == "employees":
            v = "[" + ", ".join(e["person"] + (f" ({'+'.join(e['services'])})" if "services" in e else "")
                                for e in v) + "]"
        elif isinstance(v, list):
            v = "+".join(v)
        elif isinstance(v, dict):
            v = "{" + ", ".join(f"{a} → {b}" for a, b in v.items()) + "}"
        parts.append(f"{k}={v}")
    return f"{change.get('change')} " + " ".join(parts)


# ---------------------------------------------------------------------------------------- the record

class WorldChanges:
    """The changed world of one broker (one worker): the file's world plus the store's list of changes.

    `current()` looks at the store's list on every call: when it merely grew, only the new changes are
    applied; when it is not the list this worker last saw (a reset, perhaps followed by new changes),
    the world is rebuilt from the file's."""

    def __init__(self, initial: World, store: "Store"):
        self.initial = initial
        self.store = store
        self.errors: list[str] = []  # recorded changes that did not apply here (unexpected)
        self._lock = threading.RLock()
        self._world = initial
        self._records: list[dict] = []
        # (base world, change) → result: a test run resets and makes the same changes scenario after scenario
        # (the harness binds the portal's services after every reset), and checking a change rebuilds and
        # re-checks the whole world. Keyed by the base object itself, so a hit is the same world.
        self._applied: dict[tuple, tuple[World, dict, World]] = {}

    def current(self) -> World:
        with self._lock:
            if first_time("world-sync"):
                self._sync()
            return self._world

    def records(self) -> list[dict]:
        """The applied changes since the last reset, oldest first: {"seq", "applied", "time"} each."""
        with self._lock:
            self._sync()
            return [{"seq": r["seq"], "applied": r["change"], "time": r.get("time")} for r in self._records]

    def apply(self, change: Any, *, registry: "Registry | None") -> dict:
        """Check and apply one change, recording it in the store; returns the record. ChangeError if refused."""
        with self._lock:
            for _ in range(5):
                self._sync()
                normalised, world = self._apply(change, registry)
                record = {"id": uuid.uuid4().hex, "seq": len(self._records) + 1, "change": normalised,
                          "time": timeutil.fmt(timeutil.utcnow())}
                # appended only if no other worker added a change since this one was checked
                if self.store.add_world_change(record, expected=len(self._records)) is not None:
                    self._records.append(record)
                    self._world = world
                    return record
            raise ChangeError("the world kept changing under this change (other workers); try again")

    def reset(self) -> None:
        with self._lock:
            self._world, self._records = self.initial, []

    def _apply(self, change: Any, registry: "Registry | None") -> tuple[dict, World]:
        """apply_change to the current world, remembered for the same world, change and registered DVs."""
        dvs = tuple(sorted(dv.entity_id for dv in registry.all())) if registry is not None else None
        key = (id(self._world), json.dumps(change, sort_keys=True, default=str), dvs)
        hit = self._applied.get(key)
        if hit is not None and hit[0] is self._world:
            return copy.deepcopy(hit[1]), hit[2]
        normalised, world = apply_change(self._world, copy.deepcopy(change), registry=registry,
                                         source=self._source(len(self._records) + 1))
        if len(self._applied) >= 256:
            self._applied.pop(next(iter(self._applied)))
        self._applied[key] = (self._world, copy.deepcopy(normalised), world)
        return normalised, world

    def _source(self, n: int) -> str:
        return f"{self.initial.source} + {n} change(s)"

    def _sync(self) -> None:
        n = len(self._records)
        tail = self.store.world_changes(max(n - 1, 0))
        if n:
            if tail and tail[0].get("id") == self._records[-1]["id"]:
                tail = tail[1:]
            else:  # not the list this worker saw: reset (and maybe new changes) since
                self._world, self._records = self.initial, []
                tail = self.store.world_changes(0)
        for record in tail:
            try:
                _, self._world = self._apply(record["change"], None)
            except ChangeError as exc:  # it applied on the worker that recorded it, so this is unexpected
                self.errors.append(f"world change {record.get('seq')}: {exc}")
            self._records.append(record)


def change_world(broker, change: Any, *, via: str) -> dict:
    """Apply one change for `broker` (a Broker) and journal it (event "control"); returns the record.

    ChangeError when refused: then nothing is recorded and the world is unchanged."""
    record = broker.world_changes.apply(change, registry=broker.registry)
    broker.log("control", reason=f"world change {record['seq']} ({via}): {describe(record['change'])}",
               world_change=record["change"], world_change_seq=record["seq"])
    return record
