"""Changing the world while the broker runs (the beheerportaal stand-in): POST /_mock/world/changes.

Over real HTTP against the session's broker (memory store, or Redis with --store redis) and TestDV:
each change takes effect on the next login, reset undoes it, the journal records it; every bad input
is refused with its reason, naming the field, and the world stays as it was.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import pytest
import requests
from conftest import journal, queue
from test_multiworker import WORKER, _dv, workers  # noqa: F401  (workers: two gunicorn workers on one Redis)

from ehsaml import ns
from ehsaml.testids import PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW

EDIT, VIEW = 2, 1  # AttributeConsumingServiceIndex of the example DV


def change(broker_url: str, **body) -> requests.Response:
    return requests.post(f"{broker_url}/_mock/world/changes", json=body, timeout=5)


def applied(broker_url: str, **body) -> dict:
    resp = change(broker_url, **body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def world(broker_url: str) -> dict:
    return requests.get(f"{broker_url}/_mock/world", timeout=5).json()


def login_as(broker_url, dv, person, *, service=EDIT, **answer):
    queue(broker_url, person=person, **answer)
    return dv.login(service_index=service).result


def login_page(dv, *, service=EDIT) -> str:
    _, resp = dv.request(service_index=service)
    assert resp.status_code == 302 and "/login?p=" in resp.headers["Location"], resp.text[:300]
    page = dv.session.get(urljoin(dv.sso_url, resp.headers["Location"]), timeout=5)
    assert page.status_code == 200
    return page.text


# --- each kind of change takes effect on the next login ----------------------------------------------

def test_set_level_eh3_lets_eva_kok_log_in(broker_url, dv):
    refused = login_as(broker_url, dv, "eva-kok")
    assert not refused.ok and refused.status[1] == ns.STATUS_AUTHN_FAILED
    out = applied(broker_url, change="set_level", person="eva-kok", level="loa3")
    assert out == {"applied": {"change": "set_level", "person": "eva-kok", "level": "EH3"}, "seq": 1}
    r = login_as(broker_url, dv, "eva-kok")
    assert r.ok, r.explain()
    assert r.kvk == "12345678" and r.service_id == PORTAL_SERVICE_EDIT
    eva = login_page(dv).split('<li class="entry" data-search=')[1:]  # the entries that log in, not refused
    eva = next(e.split("</li>")[0] for e in eva if 'data-person="eva-kok"' in e)
    assert "Eva Kok · EH3" in eva and "logt in" in eva and "refused-note" not in eva
    assert "gewijzigd via beheer" in eva  # the world file's note (EH2) no longer holds, and the page says so


def test_add_mandate_view_lets_noah_willems_log_in_with_the_view_service(broker_url, dv):
    refused = login_as(broker_url, dv, "noah-willems", service=VIEW)
    assert not refused.ok and refused.status[1] == ns.STATUS_REQUEST_UNSUPPORTED
    applied(broker_url, change="add_mandate", person="noah-willems", organisation="bakkerij-de-vries",
            services=["view"])
    r = login_as(broker_url, dv, "noah-willems", service=VIEW)
    assert r.ok, r.explain()
    assert r.service_id == PORTAL_SERVICE_VIEW and r.kvk == "12345678"
    still = login_as(broker_url, dv, "noah-willems", service=EDIT)  # only what was added
    assert not still.ok and still.status[1] == ns.STATUS_REQUEST_UNSUPPORTED
    mandate = next(m for m in world(broker_url)["mandates"] if m["person"] == "noah-willems")
    assert mandate["services"] == ["other-dv", "view"]  # added to the existing mandate


def test_add_mandate_edit_lets_sophie_peters_log_in_for_edit(broker_url, dv):
    assert not login_as(broker_url, dv, "sophie-peters").ok
    out = applied(broker_url, change="add_mandate", person="Sophie Peters", organisation="12345678",
                  services=[PORTAL_SERVICE_EDIT])
    assert out["applied"] == {"change": "add_mandate", "person": "sophie-peters",
                              "organisation": "bakkerij-de-vries", "services": ["edit"]}
    r = login_as(broker_url, dv, "sophie-peters")
    assert r.ok, r.explain()
    assert r.service_id == PORTAL_SERVICE_EDIT


def test_add_mandate_for_another_organisation_lets_tom_mulder_choose_it(broker_url, dv):
    before = login_as(broker_url, dv, "tom-mulder", organisation="bakkerij-de-vries")
    assert not before.ok and before.status[1] == ns.STATUS_REQUEST_UNSUPPORTED
    assert 'data-person="tom-mulder" data-choice="bakkerij-de-vries"' not in login_page(dv)
    applied(broker_url, change="add_mandate", person="tom-mulder", organisation="bakkerij-de-vries",
            services=["edit"])
    assert 'data-person="tom-mulder" data-choice="bakkerij-de-vries"' in login_page(dv)
    r = login_as(broker_url, dv, "tom-mulder", organisation="bakkerij-de-vries")
    assert r.ok, r.explain()
    assert (r.kvk, r.represented_name) == ("12345678", "Bakkerij De Vries B.V.")
    assert login_as(broker_url, dv, "tom-mulder", organisation="garage-mulder").kvk == "23456789"


def test_add_chain_services_edit_lets_pieter_jansen_edit_for_bakkerij(broker_url, dv):
    chain = "bakkerij-de-vries via jansen-pensioenadvies"
    assert not login_as(broker_url, dv, "pieter-jansen", organisation=chain).ok
    applied(broker_url, change="add_chain_services", represented="bakkerij-de-vries",
            intermediary="jansen-pensioenadvies", services=["edit"])
    r = login_as(broker_url, dv, "pieter-jansen", organisation=chain)
    assert r.ok, r.explain()
    assert (r.kvk, r.intermediary_kvk, r.service_id) == ("12345678", "34567890", PORTAL_SERVICE_EDIT)


def test_add_and_withdraw_chain_mandate(broker_url, dv):
    chain = "bakkerij-de-vries via van-dam-advies"
    out = applied(broker_url, change="add_chain_mandate", represented="bakkerij-de-vries",
                  intermediary="45678901", services=["view", "edit"],
                  employees=[{"person": "daan-van-dam"}, {"person": "iris-de-boer", "services": ["view"]}])
    assert out["applied"]["intermediary"] == "van-dam-advies"
    r = login_as(broker_url, dv, "daan-van-dam", organisation=chain)
    assert r.ok and r.intermediary_kvk == "45678901", r.explain()
    assert not login_as(broker_url, dv, "iris-de-boer", organisation=chain).ok  # her own: view only
    assert login_as(broker_url, dv, "iris-de-boer", organisation=chain, service=VIEW).ok
    applied(broker_url, change="withdraw_chain_mandate", represented="bakkerij-de-vries",
            intermediary="van-dam-advies")
    assert not login_as(broker_url, dv, "daan-van-dam", organisation=chain).ok


def test_withdraw_mandate_then_login_is_refused_no_mandate(broker_url, dv):
    assert login_as(broker_url, dv, "anna-de-vries").ok
    applied(broker_url, change="withdraw_mandate", person="anna-de-vries", organisation="bakkerij-de-vries")
    r = login_as(broker_url, dv, "anna-de-vries")
    assert not r.ok and r.status[1] == ns.STATUS_REQUEST_UNSUPPORTED
    assert "no mandate" in r.status[2]


def test_withdraw_some_services_keeps_the_rest(broker_url, dv):
    applied(broker_url, change="withdraw_mandate", person="daan-van-dam", organisation="van-dam-advies",
            services=["edit"])
    assert not login_as(broker_url, dv, "daan-van-dam").ok
    assert login_as(broker_url, dv, "daan-van-dam", service=VIEW).ok


def test_add_branch_appears_and_can_be_sent(broker_url, dv):
    out = applied(broker_url, change="add_branch", organisation="bakkerij-de-vries", number="000099998888",
                  name="Bakkerij De Vries, vestiging Zeist")
    assert out["applied"]["number"] == "000099998888"
    org = next(o for o in world(broker_url)["organisations"] if o["id"] == "bakkerij-de-vries")
    assert {"number": "000099998888", "name": "Bakkerij De Vries, vestiging Zeist"} in org["branches"]
    page = login_page(dv, service=VIEW)  # the catalogue allows a Vestigingsnr for "Bekijk gegevens"
    assert 'data-person="sophie-peters" data-choice="bakkerij-de-vries" data-branch="000099998888"' in page
    r = login_as(broker_url, dv, "sophie-peters", service=VIEW, branch="000099998888")
    assert r.ok and r.branch == "000099998888", r.explain()
    # a mandate for the new branch only
    applied(broker_url, change="add_mandate", person="lotte-jacobs", organisation="bakkerij-de-vries",
            branch="000099998888", services=["view"])
    r = login_as(broker_url, dv, "lotte-jacobs", service=VIEW)
    assert r.ok and r.branch == "000099998888", r.explain()


def test_add_organisation_a_customer_company_can_be_logged_in_for_and_reset_removes_it(broker_url, dv):
    """A KvK number the world lacks (a customer's own): a made-up company, then a mandate for it, then a login."""
    out = applied(broker_url, change="add_organisation", name="Klant Testbedrijf B.V.", kvk="30112233",
                  rsin="801122302", role="employer")
    assert out["applied"] == {"change": "add_organisation", "id": "klant-testbedrijf-b-v", "name": "Klant Testbedrijf B.V.",
                              "kvk": "30112233", "rsin": "801122302", "role": "employer"}
    applied(broker_url, change="add_branch", organisation="30112233", number="000030112233", name="Klant, Zeist")
    applied(broker_url, change="add_mandate", person="lotte-jacobs", organisation="30112233", services=["edit"])
    r = login_as(broker_url, dv, "lotte-jacobs", organisation="klant-testbedrijf-b-v", branch="000030112233")
    assert r.ok and r.kvk == "30112233" and r.rsin == "801122302", r.explain()
    foreign = applied(broker_url, change="add_organisation", id="klant-gmbh", name="Klant GmbH", eidas="DE/NL/HRB-99")
    assert foreign["applied"]["eidas"] == "DE/NL/HRB-99"
    requests.post(f"{broker_url}/_mock/reset", timeout=5).raise_for_status()
    assert not {"klant-testbedrijf-b-v", "klant-gmbh"} & {o["id"] for o in world(broker_url)["organisations"]}


# --- list, journal, reset ------------------------------------------------------------------------------

def test_changes_are_listed_in_order_journalled_and_undone_by_reset(broker_url, dv):
    original = world(broker_url)
    applied(broker_url, change="set_level", person="henk-kok", level="EH3")
    applied(broker_url, change="add_mandate", person="lotte-jacobs", organisation="bakkerij-de-vries",
            services=["view", "edit"])
    listed = requests.get(f"{broker_url}/_mock/world/changes", timeout=5).json()["changes"]
    assert [(c["seq"], c["applied"]["change"]) for c in listed] == [(1, "set_level"), (2, "add_mandate")]
    assert listed[1]["applied"]["services"] == ["view", "edit"]
    entries = [e for e in journal(broker_url) if e["event"] == "control" and e["reason"].startswith("world change ")]
    assert len(entries) == 2
    assert "set_level" in entries[0]["reason"] and "henk-kok" in entries[0]["reason"]
    assert entries[1]["world_change"] == listed[1]["applied"] and entries[1]["world_change_seq"] == 2
    assert login_as(broker_url, dv, "lotte-jacobs").ok

    requests.post(f"{broker_url}/_mock/reset", timeout=5).raise_for_status()
    assert world(broker_url) == original
    assert requests.get(f"{broker_url}/_mock/world/changes", timeout=5).json() == {"changes": []}
    assert not login_as(broker_url, dv, "lotte-jacobs").ok
    assert not login_as(broker_url, dv, "henk-kok").ok
    assert applied(broker_url, change="set_level", person="henk-kok", level="EH3")["seq"] == 1


def test_changes_build_on_each_other(broker_url, dv):
    applied(broker_url, change="add_branch", organisation="garage-mulder", number="000023456789", name="Garage Mulder, Zeist")
    applied(broker_url, change="add_mandate", person="karin-bakker", organisation="garage-mulder",
            branch="000023456789", services=["edit"])
    applied(broker_url, change="add_mandate", person="karin-bakker", organisation="garage-mulder",
            branch="000023456789", services=["view"])  # merged into the same branch mandate
    mandates = [m for m in world(broker_url)["mandates"] if m["person"] == "karin-bakker"]
    assert {"person": "karin-bakker", "organisation": "garage-mulder", "services": ["edit", "view"],
            "branch": "000023456789"} in mandates
    assert login_as(broker_url, dv, "karin-bakker", organisation="garage-mulder").ok


# --- bad input: refused with the reason, the world unchanged ----------------------------------------------

OTHER_SERVICE_OF_THE_DV = PORTAL_SERVICE_EDIT.rsplit(":", 1)[0] + ":7"
BAD = [
    # (change, the field named, words of the reason)
    ({"change": "set_level", "person": "nobody-here", "level": "EH3"}, "person", "unknown person"),
    ({"change": "add_mandate", "person": "joe-bloggs", "organisation": "bakkerij-de-vries", "services": ["edit"]},
     "person", "unknown person"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "bakkerij-nergens", "services": ["edit"]},
     "organisation", "unknown organisation"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "1234567", "services": ["edit"]},
     "organisation", "not a KvK number"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "99999999", "services": ["edit"]},
     "organisation", "no organisation of the world has KvK number"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "812345679", "services": ["edit"]},
     "organisation", "fails the 11-test"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "bakkerij-de-vries", "services": ["delete"]},
     "services[0]", "unknown service"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "bakkerij-de-vries",
      "services": ["view", OTHER_SERVICE_OF_THE_DV]}, "services[1]", "does not offer"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "bakkerij-de-vries",
      "services": ["urn:etoegang:DV:00000005555555555000:services:1"]}, "services[0]", "no registered DV offers it"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "bakkerij-de-vries", "services": []},
     "services", "non-empty list"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "bakkerij-de-vries", "services": "edit"},
     "services", "non-empty list"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "bakkerij-de-vries", "services": ["edit"],
      "branch": "12345"}, "branch", "not a branch number"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "garage-mulder", "services": ["edit"],
      "branch": "000012345678"}, "branch", "not a branch of"),
    ({"change": "add_mandate", "person": "lotte-jacobs", "organisation": "bakkerij-de-vries"}, "services", "missing"),
    ({"change": "withdraw_mandate", "person": "lotte-jacobs", "organisation": "bakkerij-de-vries"},
     "organisation", "has no mandate"),
    ({"change": "withdraw_mandate", "person": "anna-de-vries", "organisation": "bakkerij-de-vries",
      "services": ["view"]}, "services[0]", "is not in the mandate"),
    ({"change": "add_chain_mandate", "represented": "bakkerij-de-vries", "intermediary": "jansen-pensioenadvies",
      "services": ["edit"]}, "intermediary", "already exists"),
    ({"change": "add_chain_mandate", "represented": "bakkerij-de-vries", "intermediary": "bakkerij-de-vries",
      "services": ["edit"]}, "intermediary", "must differ"),
    ({"change": "add_chain_mandate", "represented": "bakkerij-de-vries", "intermediary": "mueller-gmbh",
      "services": ["edit"]}, "intermediary", "no KvK number"),
    ({"change": "add_chain_mandate", "represented": "garage-mulder", "intermediary": "van-dam-advies",
      "services": ["edit"], "employees": [{"person": "nobody"}]}, "employees[0].person", "unknown person"),
    ({"change": "add_chain_mandate", "represented": "garage-mulder", "intermediary": "van-dam-advies",
      "services": ["edit"], "employees": [{"person": "daan-van-dam", "services": ["nope"]}]},
     "employees[0].services[0]", "unknown service"),
    ({"change": "add_chain_services", "represented": "garage-mulder", "intermediary": "van-dam-advies",
      "services": ["edit"]}, "intermediary", "no chain mandate"),
    ({"change": "withdraw_chain_mandate", "represented": "garage-mulder", "intermediary": "van-dam-advies"},
     "intermediary", "no chain mandate"),
    ({"change": "add_branch", "organisation": "garage-mulder", "number": "0000999988", "name": "Zeist"},
     "number", "not a branch number"),
    ({"change": "add_branch", "organisation": "garage-mulder", "number": "000012345678", "name": "Zeist"},
     "number", "already used by organisation 'bakkerij-de-vries'"),
    ({"change": "add_branch", "organisation": "garage-mulder", "number": "000099998888", "name": ""},
     "name", "non-empty string"),
    ({"change": "add_organisation", "name": "Dubbel B.V.", "kvk": "12345678"}, "kvk", "already used by organisation"),
    ({"change": "add_organisation", "name": "Zonder Nummer B.V."}, "kvk", "missing"),
    ({"change": "add_organisation", "name": "Rsin B.V.", "kvk": "30112233", "rsin": "812345679"}, "rsin",
     "fails the 11-test"),
    ({"change": "add_organisation", "name": "Kort B.V.", "kvk": "3011223"}, "kvk", "not a KvK number"),
    ({"change": "add_organisation", "name": "Beide B.V.", "kvk": "30112233", "eidas": "DE/NL/X-1"}, "eidas",
     "not both"),
    ({"change": "add_organisation", "id": "bakkerij-de-vries", "name": "Bakkerij", "kvk": "30112233"}, "id",
     "exists already"),
    ({"change": "add_organisation", "name": "Rol B.V.", "kvk": "30112233", "role": "boss"}, "role", "not a role"),
    ({"change": "add_organisation", "name": 7, "kvk": "30112233"}, "name", "non-empty string"),
    ({"change": "set_level", "person": "eva-kok", "level": "EH5"}, "level", "unknown level"),
    ({"change": "set_level", "person": "eva-kok", "level": "EH1"}, "level", "ended in 2021"),
    ({"change": "set_level", "person": "eva-kok", "level": 3}, "level", "non-empty string"),
    ({"change": "set_level", "person": "eva-kok"}, "level", "missing"),
    ({"change": "set_level", "person": "eva-kok", "level": "EH3", "organisation": "bakkerij-de-vries"},
     "organisation", "unknown field"),
    ({"change": "promote", "person": "eva-kok"}, "change", "not a kind of change"),
    ({"person": "eva-kok", "level": "EH3"}, "change", "not a kind of change"),
]


@pytest.mark.parametrize("body, field, reason", BAD, ids=[f"{b.get('change')}-{f}-{r}" for b, f, r in BAD])
def test_bad_change_is_refused_naming_the_field_and_the_world_is_unchanged(broker_url, body, field, reason):
    before = world(broker_url)
    resp = change(broker_url, **body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error.startswith(f"{field}: "), error
    assert reason in error, error
    assert world(broker_url) == before
    assert requests.get(f"{broker_url}/_mock/world/changes", timeout=5).json() == {"changes": []}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"set_level"'])
def test_a_body_that_is_no_json_object_is_refused(broker_url, body):
    resp = requests.post(f"{broker_url}/_mock/world/changes", data=body, timeout=5,
                         headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "JSON object" in resp.json()["error"]


def test_a_refused_change_after_an_applied_one_keeps_the_applied_one(broker_url, dv):
    applied(broker_url, change="set_level", person="eva-kok", level="EH3")
    after_one = world(broker_url)
    assert change(broker_url, change="add_chain_mandate", represented="garage-mulder",
                  intermediary="jansen-pensioenadvies", services=["view"]).status_code == 400
    assert world(broker_url) == after_one
    assert login_as(broker_url, dv, "eva-kok").ok


# --- the store's list of changes (memory and Redis alike) ------------------------------------------------------

@pytest.fixture(params=["memory", "redis"])
def store(request):
    from mock_broker.store import MemoryStore, open_store
    if request.param == "memory":
        yield MemoryStore()
        return
    s = open_store(f"{request.getfixturevalue('redis_url')}?prefix=world-changes-{uuid.uuid4().hex}:")
    yield s
    s.reset()
    s.close()


def test_store_appends_a_change_only_after_the_expected_count_and_reset_removes_them(store):
    assert store.world_changes() == []
    assert store.add_world_change({"id": "a", "n": 1}, expected=0) == 1
    assert store.add_world_change({"id": "b", "n": 2}, expected=0) is None  # another came first
    assert store.add_world_change({"id": "b", "n": 2}, expected=1) == 2
    assert store.world_changes() == [{"id": "a", "n": 1}, {"id": "b", "n": 2}]
    assert store.world_changes(1) == [{"id": "b", "n": 2}]
    store.add_registration({"id": "dv"})
    store.reset()
    assert store.world_changes() == [] and store.registrations() == [{"id": "dv"}]


def test_a_worker_replays_changes_another_recorded_and_rebuilds_after_a_reset(store):
    from mock_broker.app import load_world
    from mock_broker.settings import BrokerSettings
    from mock_broker.world_changes import WorldChanges
    initial = load_world(BrokerSettings().world_file)
    one, two = WorldChanges(initial, store), WorldChanges(initial, store)
    one.apply({"change": "set_level", "person": "eva-kok", "level": "EH3"}, registry=None)
    assert two.current().people["eva-kok"].level.label == "EH3"
    two.apply({"change": "set_level", "person": "henk-kok", "level": "EH4"}, registry=None)
    assert one.current().people["henk-kok"].level.label == "EH4" and len(one.records()) == 2
    store.reset()  # e.g. POST /_mock/reset on a third worker, then a new change there
    WorldChanges(initial, store).apply({"change": "set_level", "person": "lotte-jacobs", "level": "EH4"},
                                       registry=None)
    for w in (one, two):
        world = w.current()
        assert [world.people[p].level.label for p in ("eva-kok", "henk-kok", "lotte-jacobs")] == ["EH2", "EH2+", "EH4"]
        assert [r["seq"] for r in w.records()] == [1]


# --- several workers, one world (Redis) ----------------------------------------------------------------------

def test_a_change_through_one_worker_is_seen_by_the_other(workers):
    base = workers
    requests.post(f"{base}/_mock/reset", timeout=5).raise_for_status()

    def on_each_worker(path):
        """What each worker answers (concurrent requests, so that both take some)."""
        def one(_):
            resp = requests.get(f"{base}{path}", timeout=5, headers={"Connection": "close"})
            return resp.headers[WORKER], resp.json()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(one, range(48)))
        assert len({w for w, _ in answers}) == 2, "only one worker answered"
        return answers

    resp = requests.post(f"{base}/_mock/world/changes", timeout=5, headers={"Connection": "close"},
                         json={"change": "set_level", "person": "eva-kok", "level": "EH3"})
    assert resp.status_code == 201, resp.text
    made_by = resp.headers[WORKER]
    for worker, data in on_each_worker("/_mock/world"):
        eva = next(p for p in data["people"] if p["id"] == "eva-kok")
        assert eva["level"] == "EH3", f"worker {worker} (change made by {made_by})"
    for _ in range(6):  # logins land on either worker
        requests.post(f"{base}/_mock/next", json={"person": "eva-kok"}, timeout=5).raise_for_status()
        assert _dv(base).login(service_index=EDIT).result.ok
    requests.post(f"{base}/_mock/reset", timeout=5, headers={"Connection": "close"}).raise_for_status()
    for worker, data in on_each_worker("/_mock/world"):
        assert next(p for p in data["people"] if p["id"] == "eva-kok")["level"] == "EH2", worker
    for worker, data in on_each_worker("/_mock/world/changes"):
        assert data == {"changes": []}, worker
