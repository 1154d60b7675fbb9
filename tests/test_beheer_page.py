"""The management page (beheerportaal stand-in, GET/POST /beheer) in a real headless Chromium.

A change made through the page's plain HTML form shows as done, is listed, and the next login reflects
it (on the broker's login page in the same browser, or by a queued answer); a bad input shows the
reason with HTTP 400; the forms work with JavaScript off; the page is off with the control API.
"""

from __future__ import annotations

import pytest
import requests
from brokerserver import serve_broker
from conftest import queue
from browsertools import (EDIT, VIEW, browser_page, console_errors, fits_the_width, person_button, result_of, start_login,
                          wait_for_acs)

from ehsaml.testids import PORTAL_SERVICE_EDIT

pytestmark = pytest.mark.browser


def world(broker_url):
    return requests.get(f"{broker_url}/_mock/world", timeout=5).json()


def submit(page, form_id: str, *, selects: dict | None = None, fills: dict | None = None,
           services: list[str] = (), employees: list[str] = ()):
    """Fill in one form of the page and submit it; returns the HTTP response of the POST."""
    form = page.locator(f"#{form_id}")
    for name, value in (selects or {}).items():
        form.locator(f'select[name="{name}"]').select_option(value)
    for name, value in (fills or {}).items():
        form.locator(f'input[name="{name}"]').fill(value)
    for label in services:
        form.locator(".services label", has_text=label).locator("input").check()
    if employees:
        form.locator('select[name="employees"]').select_option(list(employees))
    with page.expect_navigation() as nav:
        form.locator('button[type="submit"]').click()
    return nav.value


def test_page_shows_people_levels_mandates_organisations_chains_and_test_only(broker_url, page):
    resp = page.goto(f"{broker_url}/beheer")
    assert resp.status == 200
    assert "TEST ONLY" in page.locator("header").inner_text() and "TEST ONLY" in page.title()
    eva = page.locator("#person-eva-kok")
    assert eva.locator(".level").inner_text() == "EH2"
    assert "Bakkerij De Vries B.V.: Bekijk en wijzig gegevens" in eva.locator(".mandates").inner_text()
    assert "Bekijk gegevens" in page.locator("#person-sophie-peters .mandates").inner_text()
    assert "000012345678" in page.locator("#organisation-bakkerij-de-vries .branches").inner_text()
    chain = page.locator("#chain-bakkerij-de-vries-via-jansen-pensioenadvies")
    assert "Bekijk gegevens" in chain.inner_text() and "Pieter Jansen" in chain.inner_text()
    boxes = [t.strip() for t in page.locator("#form-add_mandate .services label").all_inner_texts()]
    assert any(t.startswith("Bekijk gegevens") for t in boxes)
    assert any(t.startswith("Bekijk en wijzig gegevens") for t in boxes)
    assert "other-dv" in boxes  # a service of no registered DV: its alias
    assert page.locator("#no-changes").is_visible()
    for kind in ("set_level", "add_mandate", "withdraw_mandate", "add_chain_mandate", "add_chain_services",
                 "withdraw_chain_mandate", "add_branch"):
        assert page.locator(f"#form-{kind}").count() == 1, kind


def test_set_level_through_the_form_then_eva_logs_in_on_the_login_page(dv, browser, broker_url):
    with browser_page(browser) as page:
        page.goto(f"{broker_url}/beheer")
        resp = submit(page, "form-set_level", selects={"person": "eva-kok", "level": "EH3"})
        assert resp.status == 200
        assert page.locator("#done").inner_text() == "done: set_level person=eva-kok level=EH3"
        assert page.locator("#changes li").all_inner_texts()[0].startswith("set_level person=eva-kok level=EH3")
        assert page.locator("#person-eva-kok .level").inner_text() == "EH3"

        hit = start_login(dv, page, service=EDIT)
        assert page.locator('li.entry[data-person="eva-kok"] .refused-note').count() == 0
        person_button(page, "eva-kok", "Bakkerij De Vries").click()
        wait_for_acs(page, hit)
        result = result_of(dv, hit)
        assert result.ok, result.explain()
        assert result.kvk == "12345678" and result.level.label == "EH3"


def test_add_edit_to_a_mandate_through_the_form_then_a_queued_login_succeeds(dv, page, broker_url):
    queue(broker_url, person="sophie-peters")
    assert not dv.login(service_index=EDIT).result.ok
    page.goto(f"{broker_url}/beheer")
    submit(page, "form-add_mandate", selects={"person": "sophie-peters", "organisation": "bakkerij-de-vries"},
           services=["Bekijk en wijzig gegevens"])
    assert "add_mandate person=sophie-peters organisation=bakkerij-de-vries services=edit" in \
        page.locator("#done").inner_text()
    assert "Bekijk gegevens, Bekijk en wijzig gegevens" in page.locator("#person-sophie-peters .mandates").inner_text()
    queue(broker_url, person="sophie-peters")
    result = dv.login(service_index=EDIT).result
    assert result.ok, result.explain()
    assert result.service_id == PORTAL_SERVICE_EDIT


def test_chain_mandate_and_branch_through_the_forms(dv, page, broker_url):
    page.goto(f"{broker_url}/beheer")
    submit(page, "form-add_chain_services",
           selects={"represented": "bakkerij-de-vries", "intermediary": "jansen-pensioenadvies"},
           services=["Bekijk en wijzig gegevens"])
    assert "Bekijk en wijzig gegevens" in \
        page.locator("#chain-bakkerij-de-vries-via-jansen-pensioenadvies .services").inner_text()
    submit(page, "form-add_chain_mandate", selects={"represented": "garage-mulder", "intermediary": "van-dam-advies"},
           services=["Bekijk gegevens"], employees=["daan-van-dam"])
    assert page.locator("#chain-garage-mulder-via-van-dam-advies").count() == 1
    submit(page, "form-add_branch", selects={"organisation": "garage-mulder"},
           fills={"number": "000099998888", "name": "Garage Mulder, Zeist"})
    assert "000099998888" in page.locator("#organisation-garage-mulder .branches").inner_text()
    assert len(page.locator("#changes li").all_inner_texts()) == 3
    queue(broker_url, person="pieter-jansen", organisation="bakkerij-de-vries via jansen-pensioenadvies")
    r = dv.login(service_index=EDIT).result
    assert r.ok and r.intermediary_kvk == "34567890", r.explain()
    queue(broker_url, person="daan-van-dam", organisation="garage-mulder via van-dam-advies")
    r = dv.login(service_index=VIEW).result
    assert r.ok and r.kvk == "23456789", r.explain()


def test_bad_form_input_shows_the_reason_with_400_and_changes_nothing(broker_url, page):
    before = world(broker_url)
    page.goto(f"{broker_url}/beheer")
    resp = submit(page, "form-add_branch", selects={"organisation": "garage-mulder"},
                  fills={"number": "12345", "name": "Zeist"})
    assert resp.status == 400
    assert page.locator("#reason").inner_text() == \
        "number: '12345' is not a branch number (vestigingsnummer, 12 digits)"
    assert page.locator("#done").count() == 0
    resp = submit(page, "form-add_chain_mandate",
                  selects={"represented": "bakkerij-de-vries", "intermediary": "jansen-pensioenadvies"},
                  services=["Bekijk gegevens"])
    assert resp.status == 400
    assert "already exists" in page.locator("#reason").inner_text()
    resp = submit(page, "form-add_mandate", selects={"person": "lotte-jacobs"})  # no service ticked
    assert resp.status == 400 and page.locator("#reason").inner_text().startswith("services: ")
    resp = submit(page, "form-withdraw_mandate", selects={"person": "lotte-jacobs"})
    assert resp.status == 400 and "has no mandate" in page.locator("#reason").inner_text()
    content = page.content()
    assert "Traceback" not in content and 'File "' not in content
    assert "TEST ONLY" in page.locator("header").inner_text()
    assert world(broker_url) == before
    assert page.locator("#no-changes").is_visible()


def test_forms_work_without_javascript_and_reset_clears_the_list(broker_url, browser):
    with browser_page(browser, java_script_enabled=False) as page:
        page.goto(f"{broker_url}/beheer")
        submit(page, "form-add_mandate", selects={"person": "noah-willems", "organisation": "bakkerij-de-vries"},
               services=["Bekijk gegevens"])
        assert page.locator("#done").inner_text().startswith("done: add_mandate person=noah-willems")
        submit(page, "form-withdraw_mandate", selects={"person": "noah-willems", "organisation": "bakkerij-de-vries"},
               services=["other-dv"])
        assert page.locator("#person-noah-willems .mandates").inner_text().strip() == \
            "Bakkerij De Vries B.V.: Bekijk gegevens"
        assert len(page.locator("#changes li").all_inner_texts()) == 2
        requests.post(f"{broker_url}/_mock/reset", timeout=5).raise_for_status()
        page.goto(f"{broker_url}/beheer")
        assert page.locator("#no-changes").is_visible()
        assert page.locator("#person-noah-willems .mandates").inner_text().strip() == "Bakkerij De Vries B.V.: other-dv"


def test_page_is_off_without_the_control_api():
    served = serve_broker(control_api=False)
    try:
        for method in ("get", "post"):
            resp = getattr(requests, method)(f"{served.base_url}/beheer", timeout=5)
            assert resp.status_code == 404, method
        assert "/beheer" not in requests.get(f"{served.base_url}/", timeout=5).text
    finally:
        served.stop()


def test_the_reset_on_the_page_undoes_the_changes_and_clears_the_queue(broker_url, page):
    page.goto(f"{broker_url}/beheer")
    submit(page, "form-set_level", selects={"person": "eva-kok", "level": "EH4"})
    queue(broker_url, person="anna-de-vries")
    assert page.locator("#person-eva-kok .level").inner_text() == "EH4"
    with page.expect_navigation() as nav:
        page.click('#form-reset button[type="submit"]')
    assert nav.value.status == 200
    assert page.locator("#done").inner_text() == "done: reset: the world is the file's again"
    assert page.locator("#no-changes").is_visible() and page.locator("#person-eva-kok .level").inner_text() == "EH2"
    assert requests.get(f"{broker_url}/_mock/next", timeout=5).json()["queued"] == []
    assert world(broker_url)["people"][2]["level"] == "EH2"


def test_the_page_fits_a_phone(broker_url, browser):
    with browser_page(browser, viewport={"width": 390, "height": 800}, is_mobile=True) as page:
        errors = console_errors(page)
        page.goto(f"{broker_url}/beheer")
        assert fits_the_width(page) == []
        assert not errors, errors
