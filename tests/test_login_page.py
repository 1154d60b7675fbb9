"""The broker's login page in a real headless Chromium (Playwright, sync API).

The DV side is TestDV: it builds the signed HTTP-Redirect URL the browser is sent to, and checks what
reaches the ACS. The ACS (http://127.0.0.1:8481/saml/acs) is not served here: the browser's requests
to it are intercepted, recorded and answered with a small 200 page.
"""

from __future__ import annotations

import pytest
import requests
import yaml
from browsertools import (EDIT, VIEW, browser_page, console_errors, fits_the_width, person_button, result_of, start_login,
                          wait_for_acs)

from ehsaml import ns
from ehsaml.eherkenning import Level
from ehsaml.dv.login import LoginResult
from ehsaml.testids import PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW
from mock_broker.settings import BrokerSettings

pytestmark = pytest.mark.browser


def choose(dv, page, hit, person: str, organisation: str = "") -> LoginResult:
    person_button(page, person, organisation).click()
    wait_for_acs(page, hit)
    return result_of(dv, hit)


def world_people() -> list[dict]:
    with open(BrokerSettings().world_file, encoding="utf-8") as f:
        return yaml.safe_load(f)["people"]


# --- the page -------------------------------------------------------------------------------------

def test_page_groups_people_by_organisation_with_service_level_and_test_only(dv, page):
    errors = console_errors(page)
    start_login(dv, page, service=EDIT)
    assert page.locator("#service-name").inner_text() == "Bekijk en wijzig gegevens"
    assert page.locator("#required-level").inner_text() == "EH3"
    assert "TEST ONLY" in page.locator("header").inner_text()
    assert "TEST ONLY" in page.title()
    bakkerij = page.locator("#org-bakkerij-de-vries")
    assert "KvK 12345678" in bakkerij.locator("h2").inner_text()
    names = bakkerij.locator("button[data-person]:not([data-branch])").all_inner_texts()
    assert "Anna de Vries · EH3" in names and "Bram Hendriks · EH4" in names and "Eva Kok · EH2" in names
    # every person of the world is on the page: under an organisation, or without a mandate for this service
    people = {p["id"] for p in world_people()}
    assert set(page.locator("li.entry").evaluate_all("els => els.map(e => e.dataset.person)")) == people
    assert "Lotte Jacobs" in page.locator("#no-mandate").inner_text()
    assert page.locator("html").get_attribute("lang") == "nl"
    assert "Inloggen met eHerkenning" in page.locator("h1").inner_text() and "Log in with eHerkenning" in \
        page.locator("h1").inner_text()
    assert not errors, errors


def test_notes_say_what_the_broker_will_answer_in_dutch_and_english(dv, page):
    start_login(dv, page, service=EDIT)
    eva = page.locator('#org-bakkerij-de-vries li.entry[data-person="eva-kok"]').inner_text()
    assert "geweigerd: niveau EH2, nodig EH3" in eva and "refused: level EH2, needs EH3" in eva
    anna = page.locator('#org-bakkerij-de-vries li.entry[data-person="anna-de-vries"]').inner_text()
    assert "logt in" in anna and "logs in" in anna
    chain = page.locator('#org-garage-mulder li.entry[data-person="pieter-jansen"]').inner_text()
    assert "ketenmachtiging via Jansen Pensioenadvies B.V. (KvK 34567890)" in chain and "chain mandate via" in chain
    lotte = page.locator('#no-mandate li.entry[data-person="lotte-jacobs"]').inner_text()
    assert "geweigerd: geen machtiging" in lotte and "refused: no mandate" in lotte
    noah = page.locator('#no-mandate li.entry[data-person="noah-willems"]').inner_text()
    assert "other-dv" in noah  # the mandate he does hold, for another DV's service


def test_notes_follow_a_change_of_the_world(dv, page, broker_url):
    """After a /beheer change the page is right at once: the world file's FAQ note goes, the outcome changes."""
    start_login(dv, page, service=EDIT)
    eva = page.locator('li.entry[data-person="eva-kok"]')
    assert eva.locator("details.filenote").count() == 1  # the world file's note: loa-eh2-refused
    resp = requests.post(f"{broker_url}/_mock/world/changes", timeout=5,
                         json={"change": "set_level", "person": "eva-kok", "level": "EH3"})
    assert resp.status_code == 201, resp.text
    resp = requests.post(f"{broker_url}/_mock/world/changes", timeout=5, json={
        "change": "withdraw_mandate", "person": "anna-de-vries", "organisation": "bakkerij-de-vries"})
    assert resp.status_code == 201, resp.text
    page.reload()
    eva = page.locator('li.entry[data-person="eva-kok"]')
    assert "logt in" in eva.inner_text() and "geweigerd" not in eva.inner_text()
    assert eva.locator("details.filenote").count() == 0 and "gewijzigd via beheer" in eva.inner_text()
    anna = page.locator('li.entry[data-person="anna-de-vries"]')
    assert anna.count() == 1 and page.locator('#no-mandate li.entry[data-person="anna-de-vries"]').count() == 1
    bram = page.locator('li.entry[data-person="bram-hendriks"]')
    assert bram.locator("details.filenote").count() == 1  # unchanged people keep the file's note


def test_the_filter_narrows_the_list_with_and_without_javascript(dv, browser):
    for javascript in (True, False):
        with browser_page(browser, java_script_enabled=javascript) as page:
            errors = console_errors(page)
            start_login(dv, page, service=EDIT)
            total = page.locator("li.entry").count()
            page.fill("#filter", "garage mulder")
            if not javascript:
                with page.expect_navigation():
                    page.click('#filter-form button[type="submit"]')
            visible = page.locator("li.entry:visible")
            people = set(visible.evaluate_all("els => els.map(e => e.dataset.person)"))
            assert people == {"marieke-mulder", "tom-mulder", "pieter-jansen", "sara-jansen"}, (javascript, people)
            assert 0 < visible.count() < total
            assert page.locator("#filter-count").inner_text() == str(visible.count())
            page.fill("#filter", "23456789")  # a KvK number finds its organisation's people too
            if javascript:
                assert page.locator("li.entry:visible").count() == visible.count()
            assert not errors, errors


def test_a_free_identity_is_validated_and_then_asserted_as_given(dv, page):
    hit = start_login(dv, page, service=EDIT)
    page.click("#identity summary")
    page.fill('#identity-form input[name="kvk"]', "1234")
    with page.expect_navigation() as nav:
        page.click("#identity-submit")
    assert nav.value.status == 400
    assert page.locator("#identity-error").inner_text() == "identity.kvk: '1234' is not 8 digits"
    assert page.locator("#identity").get_attribute("open") is not None  # the form stays open, the input kept
    assert page.locator('#identity-form input[name="kvk"]').input_value() == "1234"
    form = page.locator("#identity-form")
    form.locator('input[name="kvk"]').fill("30112233")
    form.locator('input[name="rsin"]').fill("801122302")
    form.locator('input[name="represented_name"]').fill("Klant Testbedrijf B.V.")
    form.locator('select[name="level"]').select_option("EH4")
    form.locator('select[name="service_id"]').select_option(PORTAL_SERVICE_EDIT)
    form.locator('input[name="intermediary_kvk"]').fill("34567890")
    form.locator('input[name="intermediary_name"]').fill("Jansen Pensioenadvies B.V.")
    page.click("#identity-submit")
    wait_for_acs(page, hit)
    result = result_of(dv, hit)
    assert result.ok, result.explain()
    assert (result.kvk, result.rsin, result.level) == ("30112233", "801122302", Level.EH4)
    assert result.service_id == PORTAL_SERVICE_EDIT and result.represented_name == "Klant Testbedrijf B.V."
    assert (result.intermediary_kvk, result.intermediary_name) == ("34567890", "Jansen Pensioenadvies B.V.")


def test_the_page_fits_a_phone_and_long_identifiers_wrap(dv, browser):
    with browser_page(browser, viewport={"width": 390, "height": 800}, is_mobile=True) as page:
        errors = console_errors(page)
        start_login(dv, page, service=EDIT)
        assert fits_the_width(page) == []
        page.click("#identity summary")
        assert fits_the_width(page) == []
        assert page.locator("code").first.bounding_box()["width"] <= 390  # the DV's entity ID wraps
        assert not errors, errors


def test_back_to_a_finished_login_says_so_and_links_back_to_the_dv(dv, page):
    hit = start_login(dv, page, service=EDIT)
    login_url = page.url
    choose(dv, page, hit, "anna-de-vries", "Bakkerij De Vries")
    response = page.goto(login_url)  # Back after logging in: the login page's token is spent
    assert response.status == 410
    assert "finished already" in page.locator("#reason").inner_text()
    assert page.locator("#back-to-dv").get_attribute("href") == "http://127.0.0.1:8481/"  # the DV's ACS origin


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
    person_button(page, "marieke-mulder", "Garage Mulder").click()
    wait_for_acs(page, hit)
    result = result_of(dv, hit)
    assert result.ok, result.explain()
    assert (result.kvk, result.rsin) == ("23456789", "802345670")
    assert result.represented_name == "Garage Mulder B.V."


def test_chain_mandate_gives_intermediary_kvk_and_name(dv, page):
    hit = start_login(dv, page, service=VIEW)
    button = page.locator('#org-bakkerij-de-vries button[data-person="pieter-jansen"]'
                          '[data-choice="bakkerij-de-vries via jansen-pensioenadvies"]:not([data-branch])')
    assert "via Jansen Pensioenadvies" in page.locator('#org-bakkerij-de-vries li[data-person="pieter-jansen"]').inner_text()
    button.click()
    wait_for_acs(page, hit)
    result = result_of(dv, hit)
    assert result.ok, result.explain()
    assert result.kvk == "12345678" and result.service_id == PORTAL_SERVICE_VIEW
    assert (result.intermediary_kvk, result.intermediary_name) == ("34567890", "Jansen Pensioenadvies B.V.")


def test_branch_button_gives_vestigingsnr(dv, page):
    hit = start_login(dv, page, service=VIEW)  # the catalogue allows Vestigingsnr for "Bekijk gegevens" only
    button = page.locator('button[data-person="sophie-peters"][data-branch="000012345678"]')
    assert "vestiging Utrecht" in button.inner_text()
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
    warning = page.locator('li.entry[data-person="eva-kok"] .refused-note')
    assert warning.is_visible() and "EH2" in warning.inner_text() and "EH3" in warning.inner_text()
    assert page.locator('li.entry[data-person="anna-de-vries"] .refused-note').count() == 0
    button = person_button(page, "eva-kok")
    assert "primary" not in (button.get_attribute("class") or "")
    button.click()
    wait_for_acs(page, hit)
    result = result_of(dv, hit)
    assert result.ok is False
    top, sub, message = result.status
    assert (top, sub) == (ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED)
    assert "EH2" in message and "EH3" in message


def test_no_mandate_log_in_anyway_gives_request_unsupported_naming_the_service(dv, page):
    hit = start_login(dv, page, service=EDIT)
    assert "refused: no mandate" in page.locator('li.entry[data-person="lotte-jacobs"]').inner_text()
    result = choose(dv, page, hit, "lotte-jacobs", "Zonder machtiging")
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
    assert page.locator("#back-to-dv").count() == 0  # an unknown token: no DV to send the user back to


