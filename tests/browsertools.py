"""Driving Debian's Chromium through Playwright in the tests: launch options, a checked page, the login flow.

The `browser` (one per test session) and `page` fixtures are in conftest.py; these are the helpers the
browser tests share. The ACS (http://127.0.0.1:8481/saml/acs) is not served in the broker's tests:
the browser's requests to it are intercepted, recorded and answered with a small 200 page.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from urllib.parse import parse_qs, urlparse

from testdv import ACS_URL

from ehsaml import bindings
from ehsaml.dv.client import build_authn_request, redirect_url
from ehsaml.eherkenning import Level
from ehsaml.dv.login import LoginResult, validate_response

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # Debian's; `playwright install` is not needed
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ACS_PATTERN = ACS_URL + "**"
ACS_INDEX = {"artifact": 0, "post": 1}  # the example DV's metadata: 0 HTTP-Artifact (default), 1 HTTP-POST
EDIT, VIEW = 2, 1  # AttributeConsumingServiceIndex: 1 "Bekijk gegevens", 2 "Bekijk en wijzig gegevens"


@contextmanager
def browser_page(browser, **context_options):
    """A page in a fresh context; afterwards no request may have failed (e.g. one to the unserved ACS)."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(10_000)
    failed = []
    # A page's icon that a navigation away cancels is not a failure of what the test looks at.
    context.on("requestfailed", lambda r: None if (r.resource_type == "other" or "/favicon" in r.url)
               and r.failure == "net::ERR_ABORTED" else failed.append(f"{r.url[:80]}: {r.failure}"))
    try:
        yield context.new_page()
    finally:
        context.close()
    assert not failed, f"requests failed (did one reach the unserved ACS?): {failed}"


@dataclass
class AcsHit:
    """What the browser brought to the (intercepted) ACS, and the broker's redirect that sent it there."""

    method: str = ""
    url: str = ""
    form: dict = field(default_factory=dict)
    redirect_status: int | None = None


def start_login(dv, page, *, service: int = EDIT, binding: str = "artifact") -> AcsHit:
    """Send the browser to the broker with a signed AuthnRequest; it lands on the login page.

    Playwright does not route the target of a redirect (microsoft/playwright#33882): the broker's
    302 to the ACS would reach the real port 8481. So the login form's POST is routed too and fetched
    without following redirects; a redirect to the ACS is handed to the browser as a meta refresh,
    a new navigation that the ACS route does catch.
    """
    hit = AcsHit()

    def at_acs(route, request):
        hit.method, hit.url = request.method, request.url
        if request.method == "POST":
            hit.form = {k: v[0] for k, v in parse_qs(request.post_data or "").items()}
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><p id='acs'>ACS reached</p>")

    def at_login_form(route, request):
        if request.method != "POST":
            return route.continue_()
        answer = route.fetch(max_redirects=0)
        location = answer.headers.get("location", "")
        if answer.status in (302, 303) and location.startswith(ACS_URL):
            hit.redirect_status = answer.status
            return route.fulfill(status=200, content_type="text/html",
                                 body=f'<meta http-equiv="refresh" content="0;url={escape(location)}">')
        route.fulfill(response=answer)

    page.route(ACS_PATTERN, at_acs)
    page.route(f"{dv.broker_url}/login", at_login_form)
    request_id, element = build_authn_request(dv=dv.entity_id, destination=dv.sso_url,
                                              acs_index=ACS_INDEX[binding], service_index=service)
    dv.sent_request(request_id, service)
    page.goto(redirect_url(dv.sso_url, element, dv.keypair, relay_state="state-browser"))
    assert urlparse(page.url).path == "/login", page.url
    return hit


def person_button(page, person: str, organisation: str = ""):
    """The person's button for a whole organisation, in that organisation's group on the login page (found by its
    name); branch buttons are picked by data-branch."""
    scope = page.locator(".group", has=page.locator("h2", has_text=organisation)) if organisation else page
    return scope.locator(f'button[data-person="{person}"]:not([data-branch])')


def console_errors(page) -> list[str]:
    """Collect the page's console errors and uncaught exceptions from now on (a list that fills as it runs)."""
    errors: list[str] = []

    def on_console(message) -> None:
        # A refusal page comes with its 4xx status, which Chromium logs for the document itself: that is the page
        # working as meant; a failed script, style or image (another URL) is an error.
        own = message.text.startswith("Failed to load resource") and message.location.get("url") == page.url
        if message.type == "error" and not own:
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return errors


def fits_the_width(page) -> list[str]:
    """The elements that stick out to the right of the viewport (a phone would scroll sideways), as short strings."""
    return page.evaluate("""() => { const out = [];
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.width && r.right > window.innerWidth + 1) out.push(`${el.tagName}.${el.className} ${Math.round(r.right)}`);
      }
      if (document.documentElement.scrollWidth > window.innerWidth) out.push(`page ${document.documentElement.scrollWidth}`);
      return out.slice(0, 10); }""")


def wait_for_acs(page, hit: AcsHit) -> None:
    page.wait_for_url(ACS_PATTERN)
    assert page.locator("#acs").is_visible()
    assert hit.url, "the ACS was not reached"


def result_of(dv, hit: AcsHit) -> LoginResult:
    """Resolve the artifact, or check the POSTed SAMLResponse, as the DV would."""
    if hit.method == "GET":
        assert hit.redirect_status == 302
        query = parse_qs(urlparse(hit.url).query)
        assert query["RelayState"] == ["state-browser"]
        return dv.resolve(query["SAMLart"][0])
    assert hit.form["RelayState"] == "state-browser"
    element = bindings.decode_post(hit.form["SAMLResponse"], what="SAMLResponse")
    return validate_response(element, dv.policy(Level.EH3), hm=dv.hm, outstanding=dv.sent)
