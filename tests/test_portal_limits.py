"""The example portal's own limits that no FAQ rule names, and so no harness scenario reaches (bench/README.md,
"Mutation testing", lists them as known survivors of the mutation run and names these tests): how many logins
one browser may have open, how long a route-B confirmation link lives, and /melding opened by hand."""

from __future__ import annotations

import pytest

from portalserver import assert_refused, browser, portal_pair, pp, serve_pair, submit_auto_post  # noqa: F401

ANNA = {"person": "anna-de-vries", "organisation": "bakkerij-de-vries"}


def test_a_browser_keeps_only_its_newest_open_logins(pp, browser):
    """Each login started adds its request ID to the session; the portal keeps five (tabs, a Back and a retry), so
    an answer to the first of six is refused as unsolicited, while the second still completes."""
    starts = [browser.get(f"{pp.url}/login", params={"service": 2}, allow_redirects=False, timeout=5)
              for _ in range(6)]
    assert all(r.status_code == 302 for r in starts)
    pp.queue(**ANNA)
    oldest = submit_auto_post(browser, browser.get(starts[0].headers["Location"], timeout=15))
    who = assert_refused(pp, browser, oldest, "security_check_failed")
    assert who["last_refusal"]["check"].endswith("in_response_to"), who
    pp.queue(**ANNA)
    second = submit_auto_post(browser, browser.get(starts[1].headers["Location"], timeout=15))
    assert second.status_code == 200 and pp.whoami(browser)["logged_in"], second.text[:500]


def test_the_notice_page_shows_only_the_refusal_of_a_login(pp, browser):
    """/melding is where the ACS sends a refused login; opened by hand, or after a form was refused, it has
    nothing to report (and never a server error)."""
    empty = browser.get(f"{pp.url}/melding", timeout=5)
    assert empty.status_code == 200 and "Geen melding" in empty.text
    pp.login(browser, 2, **ANNA)
    refused = pp.post_form(browser, f"{pp.url}/kvk-toevoegen", {"kvk": "not a number"})
    assert refused.status_code == 400
    after = browser.get(f"{pp.url}/melding", timeout=5)
    assert after.status_code == 200 and "Geen melding" in after.text


@pytest.fixture(scope="module")
def expiring_pair(tmp_path_factory):
    pair = serve_pair(tmp_path_factory.mktemp("expiring"), grant_link_days=0)  # every link is out of date at once
    yield pair
    pair.stop()


@pytest.mark.parametrize("days, code", [(0, "confirm_link_expired"), (7, None)])
def test_a_confirmation_link_lives_its_days(portal_pair, expiring_pair, days, code):
    pair = expiring_pair if days == 0 else portal_pair
    pair.reset()
    r = pair.seed({"grants": [{"employer_kvk": "12345678", "advisor_kvk": "45678901", "rights": "view",
                               "status": "pending", "token": "TEST-link-token"}]})
    assert r.status_code == 201, r.text
    with pair.browser() as b:
        page = b.get(f"{pair.url}/toegang/bevestig/TEST-link-token", timeout=5)
    if code:
        assert page.status_code == 410 and f">{code}<" in page.text, page.text[:500]
    else:
        assert page.status_code == 200 and "Bevestigen / Confirm</button>" in page.text, page.text[:500]
