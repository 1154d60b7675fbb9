"""Shared fixtures: the broker on a free loopback port, with the example portal's DV registered."""

from __future__ import annotations

import pytest
import requests

from brokerserver import serve_broker
from testdv import TestDV, dv_catalogue, dv_metadata


@pytest.fixture(scope="session")
def broker():
    served = serve_broker()
    resp = requests.post(f"{served.base_url}/_mock/sps", timeout=10, json={
        "metadata": dv_metadata().decode(), "catalogue": dv_catalogue().decode()})
    assert resp.status_code == 201, resp.text
    yield served
    served.stop()


@pytest.fixture
def broker_url(broker):
    requests.post(f"{broker.base_url}/_mock/reset", timeout=5).raise_for_status()
    return broker.base_url


@pytest.fixture
def dv(broker_url) -> TestDV:
    return TestDV(broker_url)


def queue(broker_url: str, **answer) -> dict:
    resp = requests.post(f"{broker_url}/_mock/next", json=answer, timeout=5)
    assert resp.status_code == 201, resp.text
    return resp.json()


def journal(broker_url: str) -> list[dict]:
    return requests.get(f"{broker_url}/_mock/journal", timeout=5).json()["entries"]
