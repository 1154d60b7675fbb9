"""The example portal's pages in a real headless Chromium, logged in through the real broker: what each must say,
no console errors, usable at a phone's width (390 px, no sideways scrolling, long identifiers wrapping)."""

from __future__ import annotations

import re

import pytest
from browsertools import browser_page, console_errors, fits_the_width
from portalserver import portal_pair, pp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

ANNA = dict(person="anna-de-vries", organisation="bakkerij-de-vries")
PHONE = {"viewport": {"width": 390, "height": 800}, "is_mobile": True}


def login(pp, page, service: int = 2, **answer):
    """Queue the broker's answer, then log in as the browser does (portal → broker → ACS → a page of the portal)."""
    pp.queue(**answer)
    page.goto(f"{pp.url}/login?service={service}")
    page.wait_for_load_state()
    return page


@pytest.mark.parametrize("size", [{}, PHONE], ids=["desktop", "phone"])
def test_the_dashboard_says_who_acts_for_whom_at_which_level_with_which_service_and_route(pp, browser, size):
    with browser_page(browser, **size) as page:
        errors = console_errors(page)
        login(pp, page, **ANNA)
        assert page.url == f"{pp.url}/dashboard"
        assert "Welkom" in page.locator("h1").inner_text()
        assert page.locator("#employer").inner_text() == "Bakkerij De Vries B.V. (KvK 12345678)"
        pseudonym = page.locator("#who-acts .id").inner_text()
        assert len(pseudonym) > 60 and "@" in pseudonym  # the ActingSubjectID: eHerkenning passes no name
        assert "eigen machtiging" in page.locator("#who-route").inner_text()
        assert "'Bekijk en wijzig gegevens'" in page.locator("#who-service").inner_text()
        assert "bekijken en wijzigen" in page.locator("#who-service").inner_text()
        assert page.locator("#who-level").inner_text() == "EH3"
        # the FAQ's widgets and 'Snel naar' menu
        assert "67%" in page.locator("#widget-rapportages").inner_text()  # 2 of 3 participants activated
        assert "Geactiveerd" in page.locator("#widget-rapportages").inner_text()
        assert "Binnen 60 dagen" in page.locator("#widget-tijdigheid").inner_text()
        actions = page.locator("#widget-deelnemers a").all_inner_texts()
        assert actions == ["Zoeken en wijzigen", "Lijst downloaden", "Deelnemer aanmelden", "Groep wijzigen"]
        menu = page.locator("#snel-naar a").all_inner_texts()
        assert menu == ["Financiën", "Instellingen", "Statische wijzigingen", "Toegang verlenen"]
        text = page.locator("main").inner_text()
        for code in ("rights '", "— bekijk", "'edit'", "'view'", "edit", "authn_failed", "service_rights"):
            assert not re.search(rf"(?<![a-z]){re.escape(code)}(?![a-z])", text), code  # no internal codes
        assert fits_the_width(page) == []
        assert not errors, errors


def test_a_chain_mandate_and_route_b_say_so_with_the_intermediarys_name(pp, browser):
    with browser_page(browser) as page:
        login(pp, page, person="pieter-jansen", organisation="garage-mulder via jansen-pensioenadvies")
        route = page.locator("#who-route").inner_text()
        assert "ketenmachtiging via Jansen Pensioenadvies B.V. (KvK 34567890)" in route
        assert page.locator("#menu-toegang").count() == 0  # an advisor passes no access on
    pp.seed({"grants": [{"employer_kvk": "12345678", "advisor_kvk": "45678901", "rights": "view"}]})
    with browser_page(browser) as page:
        login(pp, page, 1, person="daan-van-dam", organisation="van-dam-advies")
        assert page.url == f"{pp.url}/kies-werkgever"
        assert "toegang / access: 'Bekijk gegevens'" in page.locator("main").inner_text()
        page.click('button[type="submit"]')
        page.wait_for_url(f"{pp.url}/dashboard")
        route = page.locator("#who-route").inner_text()
        assert "route B" in route and "Van Dam Advies B.V. (KvK 45678901)" in route
        assert "alleen bekijken" in page.locator("#who-service").inner_text()
        assert page.locator("#action-register").count() == 0 and page.locator("#action-view-only").is_visible()


def test_the_home_page_s_first_button_logs_the_main_persona_in(pp, browser):
    """'Log in' (the first button) asks for 'Bekijk en wijzig gegevens', which Anna's mandate covers."""
    with browser_page(browser) as page:
        errors = console_errors(page)
        pp.queue(**ANNA)
        page.goto(f"{pp.url}/")
        assert page.locator("form button").first.get_attribute("id") == "login-2"
        page.locator("form button").first.click()
        page.wait_for_url(f"{pp.url}/dashboard")
        assert not errors, errors


def test_level_too_low_says_eh3_needed_first_and_reload_and_back_are_harmless(pp, browser):
    with browser_page(browser) as page:
        errors = console_errors(page)
        page.goto(f"{pp.url}/")
        login(pp, page, person="eva-kok", organisation="bakkerij-de-vries")  # EH2
        assert page.url == f"{pp.url}/melding"  # redirected (303) from the ACS
        assert page.locator("#cause").inner_text().startswith("EH3 nodig / EH3 needed")
        assert page.locator("#text-nl").inner_text().startswith("Uw eHerkenningmiddel heeft niveau EH2")
        assert page.locator("#reason-code").is_hidden()  # for tools, not for the reader
        assert "authn_failed" not in page.locator("main").inner_text()
        for again in (page.reload, page.go_back, page.go_forward):
            page.wait_for_load_state("networkidle")  # the page's icon loaded, not cut off by the next navigation
            response = again()
            if page.url == f"{pp.url}/melding":
                assert response is None or response.status == 401
                assert page.locator("#cause").inner_text().startswith("EH3 nodig")
                assert "security" not in page.locator("main").inner_text()
        assert len([e for e in pp.audit() if e["outcome"] == "refused"]) == 1  # shown again, not refused again
        assert not errors, errors


def test_no_mandate_offers_the_other_service(pp, browser):
    with browser_page(browser, **PHONE) as page:
        login(pp, page, 1, **ANNA)  # Anna holds 'Bekijk en wijzig gegevens' only
        assert page.locator("#cause").inner_text().startswith("Geen machtiging voor deze dienst")
        assert fits_the_width(page) == []
        pp.queue(**ANNA)
        page.click("#try-other-service")
        page.wait_for_url(f"{pp.url}/dashboard")


def test_a_security_refusal_keeps_its_check_for_the_help_desk(pp, browser):
    with browser_page(browser) as page:
        login(pp, page, fault="sig-none")
        assert page.locator("#cause").inner_text().startswith("Antwoord van eHerkenning niet vertrouwd")
        assert page.locator("#check").is_hidden()  # folded under 'Voor de helpdesk'
        page.click("#helpdesk summary")
        assert page.locator("#check").is_visible() and page.locator("#reference").inner_text().isdigit()


def test_a_missing_page_is_the_portal_s_own(pp, browser):
    with browser_page(browser, **PHONE) as page:
        errors = console_errors(page)
        response = page.goto(f"{pp.url}/no-such-page")
        assert response.status == 404
        assert "Pagina niet gevonden / Page not found" in page.locator("h1").inner_text()
        assert "TEST ONLY" in page.locator(".banner").inner_text()
        assert fits_the_width(page) == []
        assert not [e for e in errors if "404" not in e], errors


def test_grant_access_through_snel_naar_and_confirm_in_the_test_mailbox(pp, browser):
    with browser_page(browser, **PHONE) as page:
        errors = console_errors(page)
        login(pp, page, **ANNA)
        page.click("#menu-toegang")
        page.fill('input[name="kvk"]', "45678901")
        page.click('#grant button[type="submit"]')
        assert "Bevestigingsmail verstuurd" in page.locator("h1").inner_text()
        page.click("#mailbox-link")
        mail = page.locator("article.mail").first
        assert "Bevestig de toegang van uw adviseur" in mail.locator("h2").inner_text()
        assert "salarisadministratie@bakkerij-de-vries.example.test" in mail.inner_text()
        assert fits_the_width(page) == []  # the long link and address wrap
        mail.locator("a.button").click()
        page.click('button[type="submit"]')
        assert "Toegang bevestigd" in page.locator("h1").inner_text()
        assert [g["status"] for g in pp.state()["grants"]] == ["confirmed"]
        assert not errors, errors


def test_the_deelnemers_actions_and_snel_naar_pages(pp, browser):
    with browser_page(browser, **PHONE) as page:
        errors = console_errors(page)
        login(pp, page, **ANNA)
        page.click("#action-search")
        page.fill('input[name="q"]', "meel")
        page.click('#search button[type="submit"]')
        assert page.locator("tr[data-participant] .name").all_inner_texts() == ["M. Meelman"]
        page.goto(f"{pp.url}/dashboard")
        href = page.locator("#action-download").get_attribute("href")
        answer = page.request.get(f"{pp.url}{href}")  # with the page's session (a click is a download, not a page)
        assert "attachment" in answer.headers["content-disposition"]
        csv = answer.body().decode("utf-8-sig")
        assert csv.splitlines()[0] == "naam;salaris;geactiveerd" and "J. de Bakker;36000;ja" in csv
        page.click("#action-register")
        page.fill('input[name="naam"]', "Q. Nieuw")
        page.fill('input[name="salaris"]', "31000")
        page.click('#register button[type="submit"]')
        assert "Deelnemer aangemeld" in page.locator("h1").inner_text()
        page.goto(f"{pp.url}/deelnemers/groep")
        page.fill('input[name="percentage"]', "2")
        page.click('#group button[type="submit"]')
        assert "4 deelnemers" in page.locator("#message").inner_text()
        page.goto(f"{pp.url}/dashboard")
        assert "100%" in page.locator("#widget-tijdigheid").inner_text()  # both changes entered in time
        assert "50%" in page.locator("#widget-rapportages").inner_text()  # the new one has not activated yet
        for item, words in (("#menu-financien", "Loonsom"), ("#menu-instellingen", "KvK-nummers in dit portaal"),
                            ("#menu-wijzigingen", "groepswijziging: salaris +2%")):
            page.goto(f"{pp.url}/dashboard")
            page.click(item)
            assert words in page.locator("main").inner_text(), item
            assert fits_the_width(page) == [], item
        assert not errors, errors
