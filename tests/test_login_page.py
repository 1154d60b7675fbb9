"""The broker's login page in a real headless Chromium (Playwright, sync API).

The DV side is TestDV: it builds the signed HTTP-Redirect URL the browser is sent to, and checks what
reaches the ACS. The ACS (http://127.0.0.1:8481/saml/acs) is not served here: the browser's requests
to it are intercepted, recorded and answered with a small 200 page.
"""

from __future__ import annotations

import pytest
import yaml
from browsertools import EDIT, VIEW, browser_page, person_button, result_of, start_login, wait_for_acs

from ehsaml import ns
from ehsaml.eherkenning import Level
from ehsaml.dv.login import LoginResult
from ehsaml.testids import PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW
from mock_broker.settings import BrokerSettings

pytestmark = pytest.mark.browser


def choose(dv, page, hit, person: str, text: str = "") -> LoginResult:
    person_button(page, person, text).click()
    wait_for_acs(page, hit)
    return result_of(dv, hit)


def world_people() -> list[dict]:
    with open(BrokerSettings().world_file, encoding="utf-8") as f:
        return yaml.safe_load(f)["people"]


# --- the page -------------------------------------------------------------------------------------

def test_page_lists_people_levels_service_required_level_and_test_only(dv, page):
    start_login(dv, page, service=EDIT)
    assert page.locator("#service-name").inner_text() == "Bekijk en wijzig gegevens"
    assert page.locator("#required-level").inner_text() == "EH3"
    assert "TEST ONLY" in page.locator("header").inner_text()
    assert "TEST ONLY" in page.title()
    people = world_people()
    assert page.locator(".person").count() == len(people)
    for person in people:
        heading = page.locator(f"#person-{person['id']} h2").inner_text()
        assert person["name"] in heading and person["level"] in heading, heading
    assert "works for Bakkerij De Vries B.V." in page.locator("#person-anna-de-vries h2").inner_text()


def test_organisation_button_gives_artifact_with_kvk_rsin_service_level_pseudonym(dv, page):
    hit = start_login(dv, page, service=EDIT)
    result = choose(dv, page, hit, "anna-de-vries", "Bakkerij De Vries")
    assert hit.method == "GET" and "SAMLart=" in hit.url
    assert result.ok, result.explain()
    assert (result.kvk, result.rsin) == ("12345678", "812345678")
    assert result.service_id == PORTAL_SERVICE_EDIT
    assert result.level is Level.EH3
    assert result.pseudonym
    assert result.represented_name == "Bakkerij De Vries B.V."
    assert result.branch is None and result.intermediary_kvk is None


def test_second_organisation_of_a_person_with_two_gives_that_kvk(dv, page):
    hit = start_login(dv, page, service=EDIT)
    buttons = person_button(page, "marieke-mulder")
    assert buttons.count() == 2
    assert "Garage Mulder" in buttons.nth(1).inner_text()
    buttons.nth(1).click()
    wait_for_acs(page, hit)
    result = result_of(dv, hit)
    assert result.ok, result.explain()
    assert (result.kvk, result.rsin) == ("23456789", "802345670")
    assert result.represented_name == "Garage Mulder B.V."


def test_chain_mandate_gives_intermediary_kvk_and_name(dv, page):
    hit = start_login(dv, page, service=VIEW)
    chain = 'button[data-choice="bakkerij-de-vries via jansen-pensioenadvies"]:not([data-branch])'
    button = page.locator(f"#person-pieter-jansen {chain}")
    assert "via Jansen Pensioenadvies" in button.inner_text()
    button.click()
    wait_for_acs(page, hit)
    result = result_of(dv, hit)
    assert result.ok, result.explain()
    assert result.kvk == "12345678" and result.service_id == PORTAL_SERVICE_VIEW
    assert (result.intermediary_kvk, result.intermediary_name) == ("34567890", "Jansen Pensioenadvies B.V.")


def test_branch_button_gives_vestigingsnr(dv, page):
    hit = start_login(dv, page, service=VIEW)  # the catalogue allows Vestigingsnr for "Bekijk gegevens" only
    button = page.locator('#person-sophie-peters button[data-branch="000012345678"]')
    assert "vestiging Utrecht" in button.inner_text() and "not sent" not in button.inner_text()
    button.click()
    wait_for_acs(page, hit)
    result = result_of(dv, hit)
    assert result.ok, result.explain()
    assert result.branch == "000012345678" and result.kvk == "12345678"


def test_cancel_gives_responder_authn_failed(dv, page):
    hit = start_login(dv, page)
    page.locator("#cancel").click()
    wait_for_acs(page, hit)
    result = result_of(dv, hit)
    assert result.ok is False
    assert result.status[:2] == (ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED)
    assert "cancelled" in result.status[2]


def test_eh2_means_warns_and_gives_authn_failed_naming_both_levels(dv, page):
    hit = start_login(dv, page, service=EDIT)
    warning = page.locator("#person-eva-kok .warn")
    assert warning.is_visible() and "EH2" in warning.inner_text() and "EH3" in warning.inner_text()
    assert page.locator("#person-anna-de-vries .warn").count() == 0
    button = person_button(page, "eva-kok")
    assert "level too low" in button.inner_text() and "primary" not in (button.get_attribute("class") or "")
    button.click()
    wait_for_acs(page, hit)
    result = result_of(dv, hit)
    assert result.ok is False
    top, sub, message = result.status
    assert (top, sub) == (ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED)
    assert "EH2" in message and "EH3" in message


def test_no_mandate_log_in_anyway_gives_request_unsupported_naming_the_service(dv, page):
    hit = start_login(dv, page, service=EDIT)
    assert "No mandate" in page.locator("#person-lotte-jacobs").inner_text()
    result = choose(dv, page, hit, "lotte-jacobs", "Log in anyway")
    assert result.ok is False
    top, sub, message = result.status
    assert (top, sub) == (ns.STATUS_RESPONDER, ns.STATUS_REQUEST_UNSUPPORTED)
    assert "Bekijk en wijzig gegevens" in message


@pytest.mark.parametrize("binding", ["artifact", "post"])
def test_page_works_without_javascript(dv, browser, binding):
    with browser_page(browser, java_script_enabled=False) as page:
        hit = start_login(dv, page, service=EDIT, binding=binding)
        person_button(page, "anna-de-vries", "Bakkerij De Vries").click()
        if binding == "post":  # the auto-post form does not submit itself: its Continue button does
            page.wait_for_load_state()
            assert not hit.url
            assert "JavaScript is off" in page.locator("noscript").inner_text()
            page.get_by_role("button", name="Continue").click()
        wait_for_acs(page, hit)
        assert hit.method == ("GET" if binding == "artifact" else "POST")
        result = result_of(dv, hit)
        assert result.ok, result.explain()
        assert result.kvk == "12345678"


def test_post_binding_with_javascript_posts_to_the_acs(dv, page):
    hit = start_login(dv, page, service=EDIT, binding="post")
    result = choose(dv, page, hit, "anna-de-vries", "Bakkerij De Vries")
    assert hit.method == "POST" and "SAMLResponse" in hit.form
    assert result.ok, result.explain()
    assert result.kvk == "12345678"


def test_unknown_token_gets_a_clear_410_refusal_without_stack_trace(broker_url, page):
    response = page.goto(f"{broker_url}/login?p=nonsense")
    assert response.status == 410
    text = page.locator("main").inner_text()
    assert "unknown or has expired" in page.locator("#reason").inner_text()
    assert "start the login again" in text
    assert "Traceback" not in page.content() and "File \"" not in page.content()
    assert "TEST ONLY" in page.locator("header").inner_text()


def test_screenshot_of_the_login_page(dv, page):
    start_login(dv, page, service=VIEW)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.screenshot(path="/tmp/login-page.png", full_page=True)
