"""Shared fixtures: the broker on a free loopback port, with the example portal's DV registered."""

from __future__ import annotations

import os
import shutil

import pytest
import requests

from brokerserver import serve_broker
from browsertools import CHROMIUM, CHROMIUM_ARGS, browser_page
from redisserver import REDIS_SERVER, RedisServer
from testdv import TestDV, dv_catalogue, dv_metadata

pytest_plugins = ["fuzzreport"]  # counts and reports the inputs of the broker fuzz tests


def pytest_addoption(parser):
    parser.addoption("--store", choices=("memory", "redis"), default=os.environ.get("MOCK_BROKER_TEST_STORE", "memory"),
                     help="the store of the session's broker: memory (default) or redis (starts redis-server on a "
                          "free loopback port); also MOCK_BROKER_TEST_STORE=redis")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """redis://127.0.0.1:<free port>/0 of a throw-away redis-server (no persistence) for this session."""
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
    except FileNotFoundError as exc:
        pytest.skip(f"{exc}: the shared-store tests need it")
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def broker_store_url(request):
    if request.config.getoption("--store") != "redis":
        return "memory"
    if shutil.which(REDIS_SERVER) is None and not os.path.exists("/usr/bin/redis-server"):
        pytest.fail("--store redis was asked for, but redis-server is not installed (Debian package redis-server)")
    return request.getfixturevalue("redis_url")


@pytest.fixture(scope="session")
def broker(broker_store_url):
    served = serve_broker(store_url=broker_store_url)
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


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, one for the whole session (only the browser tests ask for it)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page in a fresh browser context; the test fails if any of its requests failed."""
    with browser_page(browser) as p:
        yield p
