"""Issue 14: a page of another origin, open in the developer's own Chromium, attacks the broker's control
surface and the example portal while they run on loopback. Every attack must be refused, and each test
checks that nothing changed (the queue, the registration, the world, a salary), not only a status code.

The attacker's pages are served by a real server (tests/attackersite.py) from 127.0.0.1 on another port
(same site, other origin) and from 127.0.0.2 (another site); the DNS-rebinding page is at rebind.test,
which Chromium resolves to 127.0.0.1 (tests/browsertools.py). Each attack is tried from both origins.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
import requests
from attackersite import REBIND_ARGS, REBIND_NAME, AttackerSite, form_page, script_page
from browsertools import CHROMIUM, CHROMIUM_ARGS, browser_page
from conftest import journal, queue
from portalserver import portal_pair, pp  # noqa: F401  (fixtures)
from testdv import TestDV, dv_catalogue, dv_metadata

from ehsaml import bindings
from ehsaml.keys import load_keypair
from ehsaml.testids import PORTAL_ENTITY_ID
from ehsaml.testkeys import CERTS_DIR

pytestmark = pytest.mark.browser

ORIGINS = ["same-site", "cross-site"]
ANNA = dict(person="anna-de-vries", organisation="bakkerij-de-vries")


@pytest.fixture(scope="module")
def sites():
    made = {"same-site": AttackerSite("127.0.0.1"), "cross-site": AttackerSite("127.0.0.2")}
    yield made
    for site in made.values():
        site.stop()


@pytest.fixture(scope="module")
def rebinding_page_browser(browser):
    """A Chromium of its own (launched by the session's Playwright) that resolves rebind.test to 127.0.0.1
    (tests/attackersite.py, REBIND_ARGS)."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + REBIND_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def rebinding_page(rebinding_page_browser):
    with browser_page(rebinding_page_browser) as page:
        yield page


@pytest.fixture
def attack_page(browser):
    """A page in a fresh context whose requests may fail: the browser blocks the CORS ones, as it should."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def attacker_metadata() -> str:
    """The example DV's entity ID and services with the attacker's key: registered, it would lock the DV out."""
    key = load_keypair(str(CERTS_DIR / "attacker.TEST-ONLY.key"), str(CERTS_DIR / "attacker.TEST-ONLY.crt"))
    return dv_metadata(PORTAL_ENTITY_ID, keypair=key).decode()


def javascript_acs_metadata() -> str:
    return dv_metadata().decode().replace('Location="http://127.0.0.1:8481/saml/acs"',
                                          'Location="javascript:fetch(\'/_mock/journal\')"', 1)


def broker_state(broker_url: str) -> dict:
    """What an attack would change: queued answers, registered DVs, the world and its changes, the journal
    (its refusals aside: a refused request is journalled)."""
    get = lambda path: requests.get(f"{broker_url}/_mock/{path}", timeout=5).json()  # noqa: E731
    return {"queued": get("next"), "sps": get("sps"), "world": get("world"), "changes": get("world/changes"),
            "journal": [e for e in journal(broker_url) if e["event"] != "refused"]}


def level_of(broker_url: str, person: str) -> str:
    world = requests.get(f"{broker_url}/_mock/world", timeout=5).json()
    return next(p["level"] for p in world["people"] if p["id"] == person)


def dv_still_logs_in(broker_url: str) -> None:
    """The example DV's own signed request still verifies against its registration (an attacker's
    registration would refuse it with 403), and a queued answer reaches it."""
    queue(broker_url, **ANNA)
    answer = TestDV(broker_url).login(service_index=2)
    assert answer.result is not None and answer.result.ok, answer.result and answer.result.explain()


def submit_from(page, site: AttackerSite, target: str, fields: dict, *, enctype: str | None = None):
    """The attacker's page auto-submits a form to `target`; returns the broker's answer to that POST."""
    url = site.page(f"/form-{len(site.pages)}", form_page(target, fields, enctype=enctype))
    with page.expect_response(lambda r: r.url == target and r.request.method == "POST") as answer:
        page.goto(url)
    page.wait_for_load_state()
    return answer.value


def run_script(page, url: str) -> list[dict]:
    page.goto(url)
    page.wait_for_function("window.done === true", timeout=15_000)
    return page.evaluate("window.results")


# --- form POSTs to /beheer and /_mock/ ---------------------------------------------------------------------

@pytest.mark.parametrize("origin", ORIGINS)
def test_form_posts_to_beheer_and_the_control_api_are_refused_and_change_nothing(broker_url, page, sites, origin):
    site = sites[origin]
    page.goto(f"{broker_url}/beheer")  # the developer had the page open: its cookie is in the browser
    queue(broker_url, **ANNA)  # something the reset would clear
    before = broker_state(broker_url)
    attacks = [
        (f"{broker_url}/beheer", {"change": "set_level", "person": "eva-kok", "level": "EH4"}, None),
        (f"{broker_url}/beheer", {"change": "add_mandate", "person": "eva-kok", "organisation": "bakkerij-de-vries",
                                  "services": "edit", "csrf_token": "guessed"}, None),
        (f"{broker_url}/_mock/reset", {}, None),
        (f"{broker_url}/_mock/next", {"cancel": "true"}, None),
        (f"{broker_url}/_mock/world/changes", {'{"change": "set_level", "person": "eva-kok", "level": "EH4", "x": "':
                                               '"}'}, "text/plain"),
    ]
    for target, fields, enctype in attacks:
        answer = submit_from(page, site, target, fields, enctype=enctype)
        assert answer.status == 403, (target, answer.status, answer.text()[:300])
        assert "may not change anything here" in answer.text(), answer.text()[:300]
    assert broker_state(broker_url) == before
    assert level_of(broker_url, "eva-kok") == "EH2"
    refused = [e for e in journal(broker_url) if e.get("where") == "Origin / Sec-Fetch-Site"]
    assert len(refused) == len(attacks), refused  # each reached the broker and was refused there


def test_the_same_forms_from_the_brokers_own_page_do_change_the_world(broker_url, page):
    """The control for the test above: in the same browser, /beheer's own form changes the level."""
    page.goto(f"{broker_url}/beheer")
    form = page.locator("#form-set_level")
    form.locator('select[name="person"]').select_option("eva-kok")
    form.locator('select[name="level"]').select_option("EH4")
    with page.expect_navigation() as nav:
        form.locator('button[type="submit"]').click()
    assert nav.value.status == 200
    assert level_of(broker_url, "eva-kok") == "EH4"


# --- text/plain and no-cors requests: the "simple" requests no preflight stops ------------------------------

@pytest.mark.parametrize("origin", ORIGINS)
def test_simple_requests_to_the_control_api_are_refused_and_the_registration_stays(broker_url, attack_page, sites,
                                                                                  origin):
    page = attack_page
    site = sites[origin]
    queue(broker_url, **ANNA)
    before = broker_state(broker_url)
    b = broker_url
    text = {"Content-Type": "text/plain"}
    calls = [
        {"url": f"{b}/_mock/sps", "method": "POST", "mode": "no-cors", "headers": text, "body": attacker_metadata()},
        {"url": f"{b}/_mock/sps", "method": "POST", "mode": "no-cors", "headers": text,
         "body": json.dumps({"metadata": javascript_acs_metadata()})},
        {"url": f"{b}/_mock/sps", "method": "POST", "mode": "no-cors", "headers": text,
         "body": '{"metadata_url": "file:///etc/passwd"}'},
        {"url": f"{b}/_mock/sps", "method": "POST", "mode": "no-cors", "headers": text,
         "body": '{"metadata_url": "/dev/zero"}'},
        {"url": f"{b}/_mock/sps", "method": "POST", "mode": "no-cors", "headers": text,  # a slow drip, say
         "body": json.dumps({"metadata_url": f"{site.base_url}/drip"})},
        {"url": f"{b}/_mock/next", "method": "POST", "mode": "no-cors", "headers": text, "body": '{"cancel": true}'},
        {"url": f"{b}/_mock/next", "method": "POST", "mode": "no-cors", "headers": text,
         "body": "[" * 5000 + "]" * 5000},
        {"url": f"{b}/_mock/reset", "method": "POST", "mode": "no-cors"},  # no body, no Content-Type at all
        {"url": f"{b}/_mock/world/changes", "method": "POST", "mode": "no-cors", "headers": text,
         "body": '{"change": "set_level", "person": "eva-kok", "level": "EH4"}'},
        {"url": f"{b}/_mock/reset", "beacon": True, "body": "{}"},
        # a CORS request: the preflight gets no Access-Control-Allow-Origin, so it is never sent
        {"url": f"{b}/_mock/reset", "method": "POST", "headers": {"Content-Type": "application/json"}, "body": "{}"},
        {"url": f"{b}/_mock/journal"},  # and nothing is readable across origins
    ]
    results = run_script(page, site.page("/simple", script_page(calls)))
    assert len(results) == len(calls), results
    for call, result in zip(calls, results):
        assert result.get("status") in (0, None), (call["url"], result)  # opaque or failed: nothing read
        assert "entries" not in result.get("text", ""), result
    page.wait_for_timeout(300)  # the beacon is sent after the page moves on
    assert broker_state(broker_url) == before
    assert "/drip" not in site.requested  # the broker never fetched what the page named
    assert [s["entity_id"] for s in before["sps"]["sps"]] == [PORTAL_ENTITY_ID]
    dv_still_logs_in(broker_url)  # the example DV's registration is its own, not the attacker's


# --- DNS rebinding: the page's own origin reaches the broker ----------------------------------------------------

def test_a_dns_rebinding_page_reaches_nothing(broker_url, rebinding_page):
    page = rebinding_page
    """rebind.test:<broker port> first served the attacker's page, then resolves to 127.0.0.1: to the browser
    every request is same-origin (so no CORS, Origin or Sec-Fetch-Site check helps); the Host check must."""
    port = urlsplit(broker_url).port
    origin = f"http://{REBIND_NAME}:{port}"
    json_type = {"Content-Type": "application/json"}
    calls = [{"url": f"{origin}/_mock/journal"}, {"url": f"{origin}/_mock/world"}, {"url": f"{origin}/beheer"},
             {"url": f"{origin}/_mock/reset", "method": "POST", "headers": json_type, "body": "{}"},
             {"url": f"{origin}/_mock/next", "method": "POST", "headers": json_type, "body": '{"cancel": true}'},
             {"url": f"{origin}/_mock/sps", "method": "POST", "headers": {"Content-Type": "application/xml"},
              "body": attacker_metadata()}]
    # only the first page comes from "the attacker's server"; everything after it goes to the broker
    page.route(f"{origin}/attack", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                 body=script_page(calls)))
    queue(broker_url, **ANNA)
    before = broker_state(broker_url)
    results = run_script(page, f"{origin}/attack")
    for call, result in zip(calls, results):
        assert result.get("status") == 400, (call["url"], result)  # reached the broker, and was refused
        assert "is not this server" in result["text"] and "entries" not in result["text"], result
    assert broker_state(broker_url) == before
    refused = {e["path"] for e in journal(broker_url) if e.get("where") == "Host header"}
    assert refused >= {urlsplit(c["url"]).path for c in calls}, refused  # each reached the broker, refused there
    dv_still_logs_in(broker_url)


# --- a javascript: ACS, and the policy that would stop its script anyway ---------------------------------------

def test_a_javascript_acs_is_refused_at_registration(broker_url):
    before = broker_state(broker_url)
    for body in ({"metadata": javascript_acs_metadata()},
                 {"metadata": dv_metadata().decode().replace('Location="http://127.0.0.1:8481/saml/slo"',
                                                             'Location="data:text/html,hi"', 1)}):
        resp = requests.post(f"{broker_url}/_mock/sps", json=body, timeout=5)
        assert resp.status_code == 400, resp.text
        assert "is not an http(s) URL" in resp.json()["error"]
    resp = requests.post(f"{broker_url}/_mock/sps", data=javascript_acs_metadata(), timeout=5,
                         headers={"Content-Type": "application/xml"})
    assert resp.status_code == 400 and "AssertionConsumerService Location" in resp.json()["error"]
    assert broker_state(broker_url) == before


def test_the_auto_post_page_runs_its_own_script_and_no_other(broker_url, dv, page):
    """The broker's HTTP-POST answer page as it sent it, with a script injected before the form's own: with
    the broker's Content-Security-Policy Chromium auto-submits the form (its script is allowed by hash) and
    the injected one does not run; without the policy it does (the check below can see it)."""
    queue(broker_url, **ANNA)
    _, answer = dv.request(service_index=2, acs_index=1)
    assert answer.status_code == 200 and 'name="SAMLResponse"' in answer.text
    policy = answer.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert f"script-src {bindings.POST_FORM_SCRIPT_CSP}" in policy
    assert f"<script>{bindings.POST_FORM_SCRIPT}</script>" in answer.text
    injected = answer.text.replace(
        "</form>", "</form><script>document.forms[0].insertAdjacentHTML('beforeend', "
                   "'<input type=hidden name=injected value=ran>')</script>", 1)
    acs = re.search(r'action="([^"]+)"', answer.text).group(1)
    posted = []
    page.route(acs, lambda route: (posted.append(route.request.post_data or ""),
                                   route.fulfill(status=200, body="<p id='acs'>ACS</p>", content_type="text/html")))
    for with_policy in (True, False):
        headers = {"Content-Type": "text/html"} | ({"Content-Security-Policy": policy} if with_policy else {})
        page.route(f"{broker_url}/answer", lambda route, _request, h=headers: route.fulfill(status=200, body=injected,
                                                                                   headers=h))
        page.goto(f"{broker_url}/answer")
        page.wait_for_selector("#acs")
        page.unroute(f"{broker_url}/answer")
    assert len(posted) == 2 and all("SAMLResponse=" in p for p in posted)  # the form's own script submitted it
    assert "injected=ran" not in posted[0], posted[0][-80:]  # with the broker's policy: not run
    assert "injected=ran" in posted[1]  # without it, it would have run


# --- the example portal: a forged salary change ------------------------------------------------------------------

@pytest.mark.parametrize("origin", ORIGINS)
def test_a_forged_salary_change_on_the_portal_is_refused(pp, browser, sites, origin):
    with browser_page(browser) as page:
        pp.queue(**ANNA)
        page.goto(f"{pp.url}/login?service=2")  # through the real broker, by artifact
        page.wait_for_url(f"{pp.url}/dashboard")
        participant = page.locator("tr[data-participant]").first.get_attribute("data-participant")
        salary = lambda: next(p["salary"] for p in pp.state()["participants"]  # noqa: E731
                              if p["id"] == int(participant))
        before, digest = salary(), pp.state()["digest"]
        target = f"{pp.url}/deelnemers/{participant}/wijzig"
        answer = submit_from(page, sites[origin], target, {"salaris": "1"})
        assert answer.status == 403
        assert re.search(r'id="reason-code">cross_site_request<', answer.text())
        assert salary() == before and pp.state()["digest"] == digest
        # a guessed token from the same site does no better; the portal's own form does change it
        answer = submit_from(page, sites[origin], target, {"salaris": "2", "csrf_token": "guessed"})
        assert answer.status == 403 and salary() == before
        page.goto(f"{pp.url}/dashboard")
        row = page.locator(f'tr[data-participant="{participant}"]')
        row.locator('input[name="salaris"]').fill("45678")
        with page.expect_navigation():
            row.locator("button").click()
        assert salary() == 45678


def test_a_dns_rebinding_page_cannot_read_the_portals_test_endpoints(pp, rebinding_page):
    page = rebinding_page
    origin = f"http://{REBIND_NAME}:{urlsplit(pp.url).port}"
    calls = [{"url": f"{origin}/_test/state"}, {"url": f"{origin}/whoami"},
             {"url": f"{origin}/_test/reset", "method": "POST", "headers": {"Content-Type": "application/json"},
              "body": "{}"}]
    page.route(f"{origin}/attack", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                 body=script_page(calls)))
    digest = pp.state()["digest"]
    for result in run_script(page, f"{origin}/attack"):
        assert result.get("status") == 400 and "host_invalid" in result["text"], result
    assert pp.state()["digest"] == digest
