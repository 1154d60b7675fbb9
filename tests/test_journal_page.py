"""The broker's journal for people (/journal, /journal/<AuthnRequest ID>) in a real headless Chromium: each login
listed, its messages decoded and indented, signatures, certificates and encrypted parts folded, the identifiers the
broker encrypted shown in plain from its own decision; and no favicon 404s in the journal."""

from __future__ import annotations

import pytest
import requests
from browsertools import EDIT, browser_page, console_errors, fits_the_width
from conftest import journal, queue

pytestmark = pytest.mark.browser

ANNA = dict(person="anna-de-vries", organisation="bakkerij-de-vries")


def test_the_journal_lists_each_login_and_shows_its_messages_decoded_and_folded(broker_url, dv, page):
    errors = console_errors(page)
    queue(broker_url, **ANNA)
    answer = dv.login(service_index=EDIT)  # by Artifact: AuthnRequest, Response, ArtifactResolve, ArtifactResponse
    assert answer.result.ok, answer.result.explain()
    queue(broker_url, person="eva-kok")  # EH2: refused
    assert not dv.login(service_index=EDIT).result.ok
    page.goto(f"{broker_url}/journal")
    rows = page.locator("#logins tr[data-request]")
    assert rows.count() == 2
    assert "Responder/AuthnFailed" in rows.nth(0).inner_text()
    assert "level EH2 below required EH3" in rows.nth(0).inner_text()
    assert "Success" in rows.nth(1).inner_text() and "KvK 12345678" in rows.nth(1).inner_text()
    rows.nth(1).locator("a").click()
    assert "Success" in page.locator("#outcome").inner_text()
    headings = page.locator("section.message h2").all_inner_texts()
    kinds = [next(k for k in ("AuthnRequest", "ArtifactResolve", "ArtifactResponse", "Response", "decision") if k in h)
             for h in headings]
    assert kinds == ["AuthnRequest", "decision", "Response", "ArtifactResolve", "ArtifactResponse"], headings
    response = page.locator("section.message", has_text="Response stored for artifact resolution")
    assert "<samlp:Response" in response.locator(".xml").first.inner_text()
    signature = response.locator("details.fold.signature").first
    assert signature.get_attribute("open") is None  # folded
    assert "ds:Signature — rsa-sha256 over #" in signature.locator("> summary").inner_text()
    assert "CN=TEST ONLY eHerkenning broker mock signing" in signature.locator("> summary").inner_text()
    assert signature.locator("> .xml").is_hidden()  # the signature's XML is inside the fold, not shown
    kvk = response.locator("details.fold.encrypted", has_text="KvK 12345678")
    assert kvk.count() == 1 and "as the broker decided" in kvk.locator("summary").inner_text()
    pseudonym = answer.result.pseudonym
    assert response.locator("details.fold.encrypted", has_text=pseudonym).count() == 1
    signature.locator("> summary").click()
    assert signature.locator("> .xml").is_visible() and "SignatureValue" in signature.inner_text()  # unfolded
    assert not errors, errors


def test_the_journal_pages_fit_a_phone(broker_url, dv, browser):
    queue(broker_url, **ANNA)
    assert dv.login(service_index=EDIT).result.ok
    with browser_page(browser, viewport={"width": 390, "height": 800}, is_mobile=True) as page:
        errors = console_errors(page)
        page.goto(f"{broker_url}/journal")
        assert fits_the_width(page) == []
        page.locator("#logins tr[data-request] a").first.click()
        assert fits_the_width(page) == []  # entity IDs, pseudonyms and base64 wrap
        assert not errors, errors


def test_favicon_requests_do_not_fill_the_journal(broker_url, page):
    page.goto(f"{broker_url}/beheer")
    page.goto(f"{broker_url}/journal")
    assert requests.get(f"{broker_url}/favicon.ico", timeout=5).status_code == 200
    assert not [e for e in journal(broker_url) if e.get("http_status") == 404], journal(broker_url)
