"""The control API: one-shot answers, reset, journal, DV registration, the world; bad input named."""

from __future__ import annotations

import pytest
import requests
from conftest import journal, queue

from mock_broker.app import create_app
from mock_broker.settings import BrokerSettings


def post(broker_url, path, payload):
    return requests.post(f"{broker_url}/_mock/{path}", json=payload, timeout=5)


def test_a_queued_answer_is_used_once_then_the_login_page_returns(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    assert dv.login(service_index=2).result.ok
    assert dv.login(service_index=2).binding == "login-page"


def test_queued_answers_are_taken_in_order(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    queue(broker_url, person="bram-hendriks")
    assert requests.get(f"{broker_url}/_mock/next", timeout=5).json()["queued"][1]["person"] == "bram-hendriks"
    first, second = dv.login(service_index=2).result, dv.login(service_index=2).result
    assert first.level.name == "EH3" and second.level.name == "EH4"


def test_reset_clears_queue_and_journal_but_keeps_registered_dvs(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    post(broker_url, "reset", {}).raise_for_status()
    assert requests.get(f"{broker_url}/_mock/next", timeout=5).json()["queued"] == []
    assert [e["event"] for e in journal(broker_url)] == ["control"]
    assert dv.entity_id in [s["entity_id"] for s in requests.get(f"{broker_url}/_mock/sps", timeout=5).json()["sps"]]


def test_journal_since_returns_only_newer_entries(broker_url):
    queue(broker_url, cancel=True)
    last = journal(broker_url)[-1]["seq"]
    queue(broker_url, cancel=True)
    newer = requests.get(f"{broker_url}/_mock/journal?since={last}", timeout=5).json()["entries"]
    assert len(newer) == 1 and newer[0]["seq"] > last


def test_world_lists_people_and_organisations(broker_url):
    data = requests.get(f"{broker_url}/_mock/world", timeout=5).json()
    assert any(p["id"] == "anna-de-vries" for p in data["people"])
    assert any(o.get("kvk") == "12345678" for o in data["organisations"])


def test_sps_lists_services_with_catalogue_levels(broker_url, dv):
    sps = requests.get(f"{broker_url}/_mock/sps", timeout=5).json()["sps"]
    mine = next(s for s in sps if s["entity_id"] == dv.entity_id)
    assert {s["name"] for s in mine["services"]} == {"Bekijk gegevens", "Bekijk en wijzig gegevens"}
    assert {s["min_level"] for s in mine["services"]} == {"EH3"}


@pytest.mark.parametrize("payload, words", [
    ({}, "exactly one of"),
    ({"person": "anna-de-vries", "cancel": True}, "exactly one of"),
    ({"person": "nobody"}, "person: 'nobody' is not in the world"),
    ({"person": "anna-de-vries", "organisation": "nowhere"}, "organisation"),
    ({"person": "anna-de-vries", "colour": "red"}, "unknown field(s) ['colour']"),
    ({"identity": {"kvk": "123"}}, "identity.kvk"),
    ({"identity": {"kvk": "12345678", "rsin": "123456789"}}, "identity.rsin"),
    ({"identity": {"kvk": "12345678", "level": "EH9"}}, "identity.level"),
    ({"identity": {"level": "EH3"}}, "at least one of kvk"),
    ({"identity": {"kvk": "12345678", "shoe": 1}}, "unknown field"),
    ({"status": "Success"}, "status:"),
    ({"status": "Responder", "sub": "RequestDenied"}, "sub:"),
    ({"cancel": "yes"}, "cancel: give true"),
    ({"person": "anna-de-vries", "dv": "urn:nobody"}, "dv:"),
])
def test_bad_queue_requests_are_refused_naming_the_field(broker_url, payload, words):
    resp = post(broker_url, "next", payload)
    assert resp.status_code == 400
    assert words in resp.json()["error"]
    assert requests.get(f"{broker_url}/_mock/next", timeout=5).json()["queued"] == []


def test_non_json_body_is_refused(broker_url):
    resp = requests.post(f"{broker_url}/_mock/next", data="person=anna", timeout=5)  # no Content-Type
    assert resp.status_code == 415 and "Content-Type: application/json" in resp.json()["error"]
    assert requests.get(f"{broker_url}/_mock/next", timeout=5).json()["queued"] == []


def test_unknown_control_path_is_json_404(broker_url):
    resp = requests.get(f"{broker_url}/_mock/nothing", timeout=5)
    assert resp.status_code == 404 and "error" in resp.json()


def test_control_api_can_be_switched_off(tmp_path):
    app = create_app(BrokerSettings(control_api=False, metadata_dir=None))
    client = app.test_client()
    assert client.post("/_mock/next", json={"cancel": True}).status_code == 404
    assert client.get("/saml/metadata").status_code == 200
