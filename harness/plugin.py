"""pytest plugin (entry point `pytest11`): fixtures that start the mock broker and the example portal.

    def test_my_case(eh_run):
        result = eh_run("service-view-readonly")
        assert result.verdict == "passed", result.reason

    def test_my_own_flow(eh, eh_browser):
        eh.broker.queue({"person": "anna-de-vries", "dv": eh.profile.dv_entity_id})
        page = eh_browser.get(eh.portal_url + "/login?service=2")

Options: --eh-broker-url and --eh-portal-url use running servers instead of starting them;
--eh-profile names the SP profile (default: the example portal's); --eh-scenarios a scenario folder.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .brokerapi import portal_services
from .browser import Browser
from .engine import Broker, Run, ScenarioResult
from .profile import DEFAULT_PROFILE, Profile, load_profile
from .scenario import load_suite
from .servers import Servers, start_pair


def pytest_addoption(parser):
    group = parser.getgroup("eherkenning harness")
    group.addoption("--eh-broker-url", help="a running mock broker (default: start one)")
    group.addoption("--eh-portal-url", help="a running portal (default: start the example portal)")
    group.addoption("--eh-profile", default=str(DEFAULT_PROFILE), help="SP profile of the portal")
    group.addoption("--eh-scenarios", action="append", default=[], metavar="DIR",
                    help="a folder of your own scenario files, beside the built-in FAQ scenarios (repeatable)")


@dataclass
class Harness:
    broker: Broker
    broker_url: str
    portal_url: str
    profile: Profile


@pytest.fixture(scope="session")
def eh_session(request):
    opt = request.config.getoption
    profile = load_profile(opt("--eh-profile"))
    servers: Servers | None = None
    if opt("--eh-broker-url") and opt("--eh-portal-url"):
        broker_url, portal_url = opt("--eh-broker-url"), opt("--eh-portal-url")
    else:
        servers = start_pair(profile.data.get("metadata", "/saml/metadata"), profile.data.get("catalogue"))
        broker_url, portal_url = servers.broker_url, servers.portal_url
    yield Harness(Broker(broker_url), broker_url, portal_url, profile)
    if servers is not None:
        servers.stop()


@pytest.fixture
def eh(eh_session) -> Harness:
    """The broker (control API) and portal, with the broker's queue and journal reset for this test, and the
    world's mandates bound to the portal's services (view, edit) as the runner does."""
    eh_session.broker.reset()
    portal_services(eh_session.broker, eh_session.profile.dv_entity_id, eh_session.profile.services).bind(
        eh_session.broker)
    return eh_session


@pytest.fixture
def eh_browser() -> Browser:
    return Browser()


@pytest.fixture
def eh_run(eh, request):
    """Run a scenario by id against the portal; returns its ScenarioResult (verdict, reason, steps)."""
    scenarios = {s.id: s for s in load_suite(request.config.getoption("--eh-scenarios"))}

    def run(scenario_id: str) -> ScenarioResult:
        if scenario_id not in scenarios:
            raise LookupError(f"no scenario {scenario_id!r}; known: {', '.join(sorted(scenarios))}")
        return Run(scenarios[scenario_id], eh.profile, eh.broker_url, eh.portal_url).execute()

    return run
