"""What the login page shows: the world's people grouped by the organisation they may act for on this service,
each with what the broker will answer, in Dutch and English, drawn from the live world (so a change made on
/beheer shows at once); the world file's notes (the FAQ cases a person serves) only while that person is as
the file has them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .registry import Service
from .world import Organisation, Person, Representation, World


@dataclass
class Entry:
    """One button: a person acting for the group's organisation (directly, through a chain mandate, for a branch)."""

    person: Person
    rep: Representation | None  # None: no mandate for this service (the broker refuses)
    branch: object | None = None  # the one Branch a branch mandate is for
    branches: list = field(default_factory=list)  # the organisation's branches the person may also pick
    outcome_nl: str = ""
    outcome_en: str = ""
    refused: bool = False
    notes: list[tuple[str, str]] = field(default_factory=list)  # (nl, en)
    file_note: str | None = None
    changed: bool = False

    @property
    def search_text(self) -> str:
        parts = [self.person.name, self.person.id, self.person.level.label, self.outcome_nl, self.outcome_en]
        if self.rep:
            org = self.rep.organisation
            parts += [org.name, org.kvk or "", org.rsin or "", org.eidas or ""]
            if self.rep.intermediary:
                parts += [self.rep.intermediary.name, self.rep.intermediary.kvk or ""]
        for b in [self.branch] * bool(self.branch) + self.branches:
            parts += [b.number, b.name]
        parts += [n for pair in self.notes for n in pair] + [self.file_note or ""]
        return " ".join(parts).casefold()


@dataclass
class Group:
    organisation: Organisation | None  # None: the people without a mandate for this service
    entries: list[Entry]


def build(world: World, initial: World, service: Service, required, names: dict[str, str]) -> list[Group]:
    """`names`: ServiceID -> name, of the registered DVs' services (for 'holds ...')."""
    groups: dict[str | None, Group] = {}
    now, filed = _states(world), _states(initial)
    for person in world.people.values():
        reps = world.representations(person.id, service.service_id)
        changed = now.get(person.id) != filed.get(person.id)
        file_note = None if changed else person.note
        too_low = person.level < required
        for rep in reps:
            branches = list(rep.organisation.branches) if service.branch_allowed and not rep.branch else []
            entry = Entry(person, rep, rep.branch, branches,
                          file_note=file_note, changed=changed)
            _describe(entry, service, required, too_low)
            groups.setdefault(rep.organisation.id, Group(rep.organisation, [])).entries.append(entry)
        if not reps:
            entry = Entry(person, None, file_note=file_note, changed=changed, refused=True)
            held = _held_elsewhere(world, person.id, service.service_id, names)
            entry.outcome_nl, entry.outcome_en = "geweigerd: geen machtiging", "refused: no mandate"
            if held:
                entry.notes.append((f"wel voor {held}", f"holds {held}"))
            groups.setdefault(None, Group(None, [])).entries.append(entry)
    ordered = [groups[o] for o in world.organisations if o in groups]
    return ordered + ([groups[None]] if None in groups else [])


def _describe(entry: Entry, service: Service, required, too_low: bool) -> None:
    rep, person = entry.rep, entry.person
    if rep.intermediary:  # without one, the person's own mandate: the usual case, not noted
        via = f"{rep.intermediary.name} (KvK {rep.intermediary.kvk})"
        entry.notes.append((f"ketenmachtiging via {via}", f"chain mandate via {via}"))
    if entry.branch:
        entry.notes.append((f"alleen vestiging {entry.branch.number}", f"branch {entry.branch.number} only"))
    if entry.branch and not service.branch_allowed:
        entry.notes.append(("geen Vestigingsnr: de dienst staat het niet toe",
                            "no Vestigingsnr: the service does not allow it"))
    if too_low:
        entry.refused = True
        entry.outcome_nl = f"geweigerd: niveau {person.level.label}, nodig {required.label}"
        entry.outcome_en = f"refused: level {person.level.label}, needs {required.label}"
    else:
        entry.outcome_nl, entry.outcome_en = "logt in", "logs in"


def _held_elsewhere(world: World, person_id: str, service_id: str, names: dict[str, str]) -> str:
    """The services this person does hold a mandate for (any DV), by name, else alias or ServiceID."""
    held = [f"'{names[s]}'" if s in names else world.service_alias(s) or s
            for s in world.services_of(person_id) if s != service_id]
    return ", ".join(held)


def _states(world: World) -> dict[str, tuple]:
    """What the login page says of each person, in the file's words (aliases, not ServiceIDs): level, mandates and
    chain mandates. Equal to the file's: the file's note still holds."""
    data = world.to_data()
    out = {}
    for person in data["people"]:
        pid = person["id"]
        mandates = sorted((m["organisation"], m.get("branch") or "", tuple(m["services"])) for m in data["mandates"]
                          if m["person"] == pid)
        chains = sorted((c["represented"], c["intermediary"], tuple(c["services"]),
                         tuple(next(e.get("services", ()) for e in c["employees"] if e["person"] == pid)))
                        for c in data["chain_mandates"] if any(e["person"] == pid for e in c["employees"]))
        out[pid] = (person["level"], tuple(mandates), tuple(chains))
    return out


def branch_label(organisation: Organisation, branch) -> str:
    """'vestiging Utrecht' for 'Bakkerij De Vries, vestiging Utrecht' under Bakkerij De Vries B.V."""
    head, _, rest = branch.name.partition(", ")
    return rest if rest and organisation.name.startswith(head) else branch.name


def matches(entry: Entry, query: str) -> bool:
    words = query.casefold().split()
    return all(w in entry.search_text for w in words)
