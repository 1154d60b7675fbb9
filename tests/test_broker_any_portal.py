"""The broker serves a portal its world was not written for: a plain SAML SP registered with options.services,
and the world's service aliases bound to that portal's ServiceIDs (world change bind_services).

Over real HTTP against a broker of its own (it registers DVs the session's tests do not expect) and TestDV.
"""

from __future__ import annotations

import re

import pytest
import requests

from brokerserver import serve_broker
from ehsaml import ns
from ehsaml.testids import PORTAL_SERVICE_EDIT
from mock_broker.registry import plain_service_id
from testdv import TestDV, dv_catalogue, dv_metadata

PLAIN = "https://sp.example.test/saml/metadata"  # no urn:etoegang entity ID


def plain_metadata(entity_id: str = PLAIN) -> str:
    """The example DV's metadata with another entity ID and no ServiceID among its RequestedAttributes."""
    md = dv_metadata(entity_id=entity_id).decode()
    return re.sub(r'Name="urn:etoegang:DV:\d{20}:services:\d+"', 'Name="urn:oid:2.5.4.3"', md)


@pytest.fixture
def broker():
    served = serve_broker()
    yield served.base_url
    served.stop()


def register(broker, **body) -> requests.Response:
    return requests.post(f"{broker}/_mock/sps", json=body, timeout=10)


def bind(broker, **services) -> requests.Response:
    return requests.post(f"{broker}/_mock/world/changes", json={"change": "bind_services", "services": services},
                         timeout=5)


def test_plain_metadata_is_refused_with_the_way_forward(broker):
    resp = register(broker, metadata=plain_metadata())
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert "no RequestedAttribute naming a ServiceID" in error and "options.services" in error, error


def test_a_plain_sp_with_options_services_gets_that_catalogue(broker):
    resp = register(broker, metadata=plain_metadata(), options={"services": [{"name": "Mijn portaal", "level": "EH4"}]})
    assert resp.status_code == 201, resp.text
    assert resp.json() == {"registered": PLAIN, "services": [plain_service_id(PLAIN, 1)]}
    [sp] = requests.get(f"{broker}/_mock/sps", timeout=5).json()["sps"]
    assert sp["services"][0] | {"service_uuid": None} == {
        "index": 1, "name": "Mijn portaal", "service_id": plain_service_id(PLAIN, 1), "default": True,
        "min_level": "EH4", "service_uuid": None}


def test_the_derived_service_id_keeps_an_eherkenning_oin():
    assert plain_service_id("urn:etoegang:DV:00000001002003004000:entities:9107", 3) == \
        "urn:etoegang:DV:00000001002003004000:services:3"
    assert re.fullmatch(r"urn:etoegang:DV:\d{20}:services:2", plain_service_id(PLAIN, 2))
    assert plain_service_id(PLAIN, 2) != plain_service_id("https://other.example.test/md", 2)


@pytest.mark.parametrize("services, says", [
    ([], "give a list"),
    ([{"name": ""}], "services[0].name"),
    ([{"name": "a", "level": "EH1.5"}], "services[0].level"),
    ([{"name": "a"}, {"name": "b", "index": 1}], "services[1].index"),
    ([{"name": "a", "colour": "red"}], "services[0].colour: unknown field"),
    ([{"name": "a", "service_id": "svc-1"}], "services[0].service_id"),
])
def test_bad_options_services_name_the_entry_and_field(broker, services, says):
    resp = register(broker, metadata=plain_metadata(), options={"services": services})
    assert resp.status_code == 400 and says in resp.json()["error"], resp.text


def test_options_services_beside_metadata_service_ids_is_refused(broker):
    resp = register(broker, metadata=dv_metadata().decode(), options={"services": [{"name": "x"}]})
    assert resp.status_code == 400 and "leave options.services out" in resp.json()["error"]


def test_bound_services_let_the_worlds_people_log_in_to_a_plain_sp(broker):
    register(broker, metadata=plain_metadata(), options={"services": [{"name": "Mijn portaal"}]})
    service = plain_service_id(PLAIN, 1)
    dv = TestDV(broker, entity_id=PLAIN)
    requests.post(f"{broker}/_mock/next", json={"person": "anna-de-vries", "dv": PLAIN}, timeout=5)
    refused = dv.login(service_index=1).result
    assert refused.status[1] == ns.STATUS_REQUEST_UNSUPPORTED  # the world's mandates name the example DV
    resp = bind(broker, view=service, edit=service)  # one service: view = edit
    assert resp.status_code == 201, resp.text
    assert resp.json()["applied"] == {"change": "bind_services", "services": {"view": service, "edit": service}}
    requests.post(f"{broker}/_mock/next", json={"person": "anna-de-vries", "dv": PLAIN}, timeout=5)
    answer = dv.login(service_index=1)
    assert answer.result.service_id == service and answer.result.kvk == "12345678"
    world = requests.get(f"{broker}/_mock/world", timeout=5).json()
    assert world["services"]["view"] == world["services"]["edit"] == service
    requests.post(f"{broker}/_mock/reset", timeout=5).raise_for_status()  # reset undoes it, as every change
    assert requests.get(f"{broker}/_mock/world", timeout=5).json()["services"]["edit"] == PORTAL_SERVICE_EDIT


def test_binding_is_journalled_and_checked(broker):
    register(broker, metadata=dv_metadata().decode(), catalogue=dv_catalogue().decode())
    assert bind(broker, edit=PORTAL_SERVICE_EDIT).status_code == 201
    entries = requests.get(f"{broker}/_mock/journal", timeout=5).json()["entries"]
    assert any("bind_services services={edit → " in e["reason"] for e in entries)
    for services, says in [({"vieww": PORTAL_SERVICE_EDIT}, "services.vieww: no service alias"),
                           ({"view": "svc"}, "services.view: 'svc' is not a ServiceID"),
                           ({"view": "urn:etoegang:DV:00000001002003004000:services:7"}, "does not offer"),
                           ({}, "give {alias: ServiceID}")]:
        resp = bind(broker, **services)
        assert resp.status_code == 400 and says in resp.json()["error"], resp.text
