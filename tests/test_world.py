"""The broker's world model: loading, checks, representations, pseudonyms, round-trip (test-only data)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ehsaml.eherkenning import Level, is_kvk, is_rsin
from ehsaml.testids import OTHER_DV_SERVICE, PORTAL_ENTITY_ID, PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW
from harness.cases import load_cases
from mock_broker import settings
from mock_broker.world import World, WorldError, load_world, world_from_data

DEFAULT_WORLD = settings.DEFAULT_WORLD
PSEUDONYM_RE = re.compile(r"^[0-9a-f]{64}@[0-9a-f]{32}$")
OTHER_DV_ENTITY = "urn:etoegang:DV:00000009998887776000:entities:9001"

# Every case of the FAQ case catalogue (harness/cases.yaml) must be served by someone in the default world.
CASE_IDS = list(load_cases()["cases"])


@pytest.fixture(scope="module")
def world() -> World:
    return load_world(DEFAULT_WORLD)


def keys(reps) -> list[str]:
    return [r.key for r in reps]


# ------------------------------------------------------------------------------- the default world

def test_default_world_loads_with_valid_numbers(world):
    assert world.services["view"] == PORTAL_SERVICE_VIEW and world.services["edit"] == PORTAL_SERVICE_EDIT
    assert world.services["other-dv"] == OTHER_DV_SERVICE
    for org in world.organisations.values():
        assert (org.kvk is None) != (org.eidas is None), org.id
        assert org.kvk is None or is_kvk(org.kvk)
        assert org.rsin is None or is_rsin(org.rsin), org.id
    assert world.organisation_by_kvk("12345678").name == "Bakkerij De Vries B.V."
    assert world.organisations["mueller-gmbh"].eidas == "DE/NL/HRB-123456"


def test_default_world_names_every_faq_case_in_a_note(world):
    notes = " ".join(p.note or "" for p in world.people.values())
    missing = [case for case in CASE_IDS if not re.search(rf"(?<![\w-]){re.escape(case)}(?![\w-])", notes)]
    assert missing == []


def test_default_world_has_the_levels_the_cases_need(world):
    assert world.people["anna-de-vries"].level is Level.EH3
    assert world.people["bram-hendriks"].level is Level.EH4
    assert world.people["eva-kok"].level is Level.EH2
    assert world.people["henk-kok"].level is Level.EH2PLUS
    assert world.find_person("Anna de Vries") is world.people["anna-de-vries"]
    assert world.find_person("nobody") is None


# ------------------------------------------------------------------------------- representations

def test_direct_mandate_gives_one_representation(world):
    [rep] = world.representations("anna-de-vries", PORTAL_SERVICE_EDIT)
    assert rep.organisation.id == "bakkerij-de-vries"
    assert rep.intermediary is None and rep.branch is None
    assert rep.service_id == PORTAL_SERVICE_EDIT and rep.key == "bakkerij-de-vries"
    # "edit" is a service of its own: it does not give "view"
    assert world.representations("anna-de-vries", PORTAL_SERVICE_VIEW) == []


def test_view_only_mandate_gives_no_edit(world):
    assert keys(world.representations("sophie-peters", PORTAL_SERVICE_VIEW)) == ["bakkerij-de-vries"]
    assert world.representations("sophie-peters", PORTAL_SERVICE_EDIT) == []


def test_chain_mandate_view_and_edit(world):
    view = world.representations("pieter-jansen", PORTAL_SERVICE_VIEW)
    assert keys(view) == ["bakkerij-de-vries via jansen-pensioenadvies", "garage-mulder via jansen-pensioenadvies",
                          "kapsalon-bakker via jansen-pensioenadvies"]
    assert all(r.intermediary.id == "jansen-pensioenadvies" and r.branch is None for r in view)
    edit = world.representations("pieter-jansen", PORTAL_SERVICE_EDIT)
    assert keys(edit) == ["garage-mulder via jansen-pensioenadvies", "kapsalon-bakker via jansen-pensioenadvies"]


def test_chain_employee_services_intersect_with_the_chain(world):
    assert keys(world.representations("sara-jansen", PORTAL_SERVICE_VIEW)) == ["garage-mulder via jansen-pensioenadvies"]
    assert world.representations("sara-jansen", PORTAL_SERVICE_EDIT) == []


def test_branch_restricted_mandate(world):
    [rep] = world.representations("joris-meijer", PORTAL_SERVICE_EDIT)
    assert rep.branch.number == "000012345678" and rep.branch.name.endswith("Utrecht")
    assert rep.key == "bakkerij-de-vries branch 000012345678"


def test_no_mandate_gives_no_representation(world):
    assert world.representations("lotte-jacobs", PORTAL_SERVICE_VIEW) == []
    assert world.representations("lotte-jacobs", PORTAL_SERVICE_EDIT) == []
    assert world.services_of("lotte-jacobs") == {}
    # a mandate for another DV's service only
    assert world.representations("noah-willems", PORTAL_SERVICE_EDIT) == []
    assert list(world.services_of("noah-willems")) == [OTHER_DV_SERVICE]


def test_multi_kvk_person_and_one_not_mandated(world):
    assert keys(world.representations("marieke-mulder", PORTAL_SERVICE_EDIT)) == ["bakkerij-de-vries", "garage-mulder"]
    assert keys(world.representations("tom-mulder", PORTAL_SERVICE_EDIT)) == ["garage-mulder"]


def test_services_of_lists_every_service_with_its_ways(world):
    services = world.services_of("pieter-jansen")
    assert list(services) == [PORTAL_SERVICE_VIEW, PORTAL_SERVICE_EDIT]
    assert len(services[PORTAL_SERVICE_VIEW]) == 3 and len(services[PORTAL_SERVICE_EDIT]) == 2


def test_representation_by_key(world):
    rep = world.representation("pieter-jansen", PORTAL_SERVICE_EDIT, "garage-mulder via jansen-pensioenadvies")
    assert rep.organisation.kvk == "23456789" and rep.intermediary.kvk == "34567890"
    assert world.representation("pieter-jansen", PORTAL_SERVICE_EDIT, "bakkerij-de-vries via jansen-pensioenadvies") is None


def test_unknown_person_is_a_key_error(world):
    with pytest.raises(KeyError, match="no person 'nobody'"):
        world.representations("nobody", PORTAL_SERVICE_VIEW)


# ------------------------------------------------------------------------------- pseudonyms

def test_pseudonym_format_and_stability(world):
    p = world.pseudonym("anna-de-vries", PORTAL_ENTITY_ID, "bakkerij-de-vries")
    assert PSEUDONYM_RE.match(p)
    assert p == load_world(DEFAULT_WORLD).pseudonym("anna-de-vries", PORTAL_ENTITY_ID, "bakkerij-de-vries")


def test_pseudonym_differs_between_colleagues_organisations_and_dvs(world):
    anna = world.pseudonym("anna-de-vries", PORTAL_ENTITY_ID, "bakkerij-de-vries")
    bram = world.pseudonym("bram-hendriks", PORTAL_ENTITY_ID, "bakkerij-de-vries")
    assert anna != bram
    pieter = {org: world.pseudonym("pieter-jansen", PORTAL_ENTITY_ID, org) for org in ("bakkerij-de-vries", "garage-mulder")}
    assert pieter["bakkerij-de-vries"] != pieter["garage-mulder"]
    other = world.pseudonym("anna-de-vries", OTHER_DV_ENTITY, "bakkerij-de-vries")
    assert other != anna and other.split("@")[1] != anna.split("@")[1]
    assert anna.split("@")[1] == bram.split("@")[1]  # the part after @ names the DV


def test_pseudonym_is_per_dv_not_per_entity(world):
    entity_2 = PORTAL_ENTITY_ID.replace(":entities:9001", ":entities:9002")
    assert world.pseudonym("anna-de-vries", entity_2, "bakkerij-de-vries") == \
        world.pseudonym("anna-de-vries", PORTAL_ENTITY_ID, "bakkerij-de-vries")


def test_pseudonym_depends_on_the_secret(world):
    data = world.to_data()
    data["pseudonym_secret"] = "another TEST-ONLY secret"
    other = world_from_data(data, source="test")
    assert other.pseudonym("anna-de-vries", PORTAL_ENTITY_ID, "bakkerij-de-vries") != \
        world.pseudonym("anna-de-vries", PORTAL_ENTITY_ID, "bakkerij-de-vries")


# ------------------------------------------------------------------------------- round trip

def test_to_data_round_trips(world):
    data = world.to_data()
    assert json.loads(json.dumps(data)) == data
    again = world_from_data(data, source="control API")
    assert again == world and again.source == "control API"
    assert again.to_data() == data


def test_to_data_edit_changes_the_world(world):
    data = world.to_data()
    [m] = [m for m in data["mandates"] if m["person"] == "sophie-peters"]
    assert m["services"] == ["view"]
    m["services"].append("edit")
    changed = world_from_data(data, source="control API")
    assert keys(changed.representations("sophie-peters", PORTAL_SERVICE_EDIT)) == ["bakkerij-de-vries"]
    assert world.representations("sophie-peters", PORTAL_SERVICE_EDIT) == []


def test_level_accepts_loa_names():
    data = load_world(DEFAULT_WORLD).to_data()
    data["people"][0]["level"] = "loa4"
    assert world_from_data(data, source="t").people[data["people"][0]["id"]].level is Level.EH4


# ------------------------------------------------------------------------------- bad input

BASE = """\
version: 1
services:
  view: urn:etoegang:DV:00000001002003004000:services:1
  edit: urn:etoegang:DV:00000001002003004000:services:2
organisations:
  - id: acme
    name: Acme B.V.
    kvk: "12345678"
    rsin: "812345678"
    role: employer
    branches: [{number: "000012345678", name: Acme Utrecht}]
  - id: advies
    name: Advies B.V.
    kvk: "34567890"
    role: advisor
people:
  - id: anna
    name: Anna
    level: EH3
  - id: piet
    name: Piet
    level: EH3
mandates:
  - person: anna
    organisation: acme
    services: [edit]
chain_mandates:
  - represented: acme
    intermediary: advies
    services: [view]
    employees:
      - person: piet
"""


def load_bad(tmp_path: Path, old: str, new: str) -> WorldError:
    assert BASE.count(old) == 1, old
    path = tmp_path / "world.yaml"
    path.write_text(BASE.replace(old, new), "utf-8")
    with pytest.raises(WorldError) as info:
        load_world(path)
    return info.value


def test_base_world_of_the_bad_input_tests_is_good(tmp_path):
    path = tmp_path / "world.yaml"
    path.write_text(BASE, "utf-8")
    assert keys(load_world(path).representations("piet", PORTAL_SERVICE_VIEW)) == ["acme via advies"]


BAD = [  # (id, old, new, entry, field, line, message fragment)
    ("unknown-key", "    level: EH3\n  - id: piet", "    level: EH3\n    colour: red\n  - id: piet",
     "people[0] (anna)", "colour", 20, "unknown field 'colour'"),
    ("missing-field", "  - id: piet\n    name: Piet\n", "  - id: piet\n", "people[1] (piet)", "name", 20,
     "missing required field 'name'"),
    ("kvk-not-a-string", 'kvk: "34567890"', "kvk: 34567890", "organisations[1] (advies)", "kvk", 14, "in quotes"),
    ("kvk-7-digits", 'kvk: "34567890"', 'kvk: "3456789"', "organisations[1] (advies)", "kvk", 14,
     "not a KvK number (8 digits)"),
    ("rsin-11-test", 'rsin: "812345678"', 'rsin: "812345679"', "organisations[0] (acme)", "rsin", 9,
     "fails the 11-test"),
    ("branch-11-digits", '"000012345678", name', '"00012345678", name', "organisations[0] (acme)",
     "branches[0].number", 11, "12 digits"),
    ("branch-twice-in-one-organisation", "branches: [{number: \"000012345678\", name: Acme Utrecht}]",
     "branches: [{number: \"000012345678\", name: Acme Utrecht}, {number: \"000012345678\", name: Again}]",
     "organisations[0] (acme)", "branches[1].number", 11, "given twice"),
    ("unknown-level", "name: Piet\n    level: EH3", "name: Piet\n    level: EH5", "people[1] (piet)", "level", 22,
     "unknown level 'EH5' (use EH2, EH2+, EH3 or EH4)"),
    ("eh1-ended", "name: Piet\n    level: EH3", "name: Piet\n    level: EH1", "people[1] (piet)", "level", 22,
     "EH1 ended"),
    ("duplicate-person", "  - id: piet", "  - id: anna", "people[1] (anna)", "id", 20, "duplicate person id 'anna'"),
    ("duplicate-org", "  - id: advies", "  - id: acme", "organisations[1] (acme)", "id", 12,
     "duplicate organisation id 'acme'"),
    ("duplicate-kvk", 'kvk: "34567890"', 'kvk: "12345678"', "organisations[1] (advies)", "kvk", 14,
     "already used by organisation 'acme'"),
    ("kvk-and-eidas", 'kvk: "34567890"', 'kvk: "34567890"\n    eidas: DE/NL/HRB-1', "organisations[1] (advies)",
     "eidas", 15, "not both"),
    ("neither-kvk-nor-eidas", '    kvk: "34567890"\n', "", "organisations[1] (advies)", None, 12,
     "give a KvK number (kvk) or"),
    ("unknown-person", "  - person: anna", "  - person: bert", "mandates[0] (bert → acme)", "person", 24,
     "unknown person 'bert'"),
    ("unknown-organisation", "organisation: acme", "organisation: emca", "mandates[0] (anna → emca)",
     "organisation", 25, "unknown organisation 'emca'"),
    ("unknown-service", "services: [edit]", "services: [edti]", "mandates[0] (anna → acme)", "services[0]", 26,
     "unknown service 'edti'"),
    ("branch-not-of-org", "services: [edit]", 'services: [edit]\n    branch: "000099999999"',
     "mandates[0] (anna → acme)", "branch", 27, "not a branch of 'acme'"),
    ("empty-services", "services: [edit]", "services: []", "mandates[0] (anna → acme)", "services", 26,
     "empty services list"),
    ("empty-employee-services", "      - person: piet", "      - person: piet\n        services: []",
     "chain_mandates[0] (acme via advies)", "employees[0].services", 33, "empty services list"),
    ("chain-unknown-employee", "      - person: piet", "      - person: kees", "chain_mandates[0] (acme via advies)",
     "employees[0].person", 32, "unknown person 'kees'"),
    ("chain-to-itself", "intermediary: advies", "intermediary: acme", "chain_mandates[0] (acme via acme)",
     "intermediary", 29, "must differ"),
    ("foreign-intermediary", 'kvk: "34567890"', "eidas: DE/NL/X-1", "chain_mandates[0] (acme via advies)",
     "intermediary", 29, "has no KvK number"),
    ("duplicate-chain", "      - person: piet\n", "      - person: piet\n  - {represented: acme, intermediary: advies, "
     "services: [edit]}\n", "chain_mandates[1] (acme via advies)", None, 33, "duplicate chain mandate"),
    ("duplicate-mandate", "    services: [edit]\n", "    services: [edit]\n  - {person: anna, organisation: acme, "
     "services: [view]}\n", "mandates[1] (anna → acme)", None, 27, "duplicate mandate"),
    ("works-for-unknown", "    name: Anna\n", "    name: Anna\n    works_for: nowhere\n", "people[0] (anna)",
     "works_for", 19, "unknown organisation 'nowhere'"),
    ("bad-id", "  - id: piet", "  - id: Piet Pan", "people[1] (Piet Pan)", "id", 20, "not a valid id"),
    ("version", "version: 1", "version: 2", None, "version", 1, "this mock reads version 1"),
]


@pytest.mark.parametrize("old, new, entry, field, line, fragment", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_names_file_entry_and_field(tmp_path, old, new, entry, field, line, fragment):
    err = load_bad(tmp_path, old, new)
    assert err.file == str(tmp_path / "world.yaml")
    assert (err.entry, err.field, err.line) == (entry, field, line)
    assert fragment in err.message
    text = str(err)
    assert text.startswith(f"{tmp_path / 'world.yaml'}, line {line}, ")
    assert (entry or "") in text and (f"field {field!r}" if field else "") in text and text.endswith(err.message)


def test_duplicate_yaml_key_is_refused(tmp_path):
    err = load_bad(tmp_path, "    name: Piet\n", "    name: Piet\n    name: Pieter\n")
    assert (err.line, err.entry, err.field) == (22, "people[1] (piet)", "name")
    assert "duplicate key 'name' (first on line 21)" in err.message


def test_invalid_yaml_names_the_line(tmp_path):
    err = load_bad(tmp_path, "    name: Anna\n", "    name: [Anna\n")
    assert err.line is not None and err.message.startswith("not valid YAML") and err.file.endswith("world.yaml")


def test_missing_file_is_a_world_error(tmp_path):
    with pytest.raises(WorldError, match="cannot read the world file"):
        load_world(tmp_path / "absent.yaml")


def test_world_from_data_errors_name_source_without_line():
    data = load_world(DEFAULT_WORLD).to_data()
    data["people"][2]["level"] = "EH5"
    with pytest.raises(WorldError) as info:
        world_from_data(data, source="control API")
    err = info.value
    assert (err.file, err.line, err.field) == ("control API", None, "level")
    assert err.entry == f"people[2] ({data['people'][2]['id']})"
    assert str(err).startswith(f"control API, people[2] ({data['people'][2]['id']}), field 'level': unknown level")


def test_non_mapping_world_is_refused():
    with pytest.raises(WorldError, match="must be a mapping"):
        world_from_data(["not", "a", "world"], source="t")
