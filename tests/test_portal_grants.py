"""Route B "Toegang verlenen" (P6, P7), adding a KvK number (P9) and form input, through the real broker."""

from __future__ import annotations

from html import unescape

import requests

from portalserver import WritesNothing, assert_refused, browser, portal_pair, pp  # noqa: F401  (fixtures)

ANNA = dict(person="anna-de-vries", organisation="bakkerij-de-vries")
DAAN = dict(person="daan-van-dam", organisation="van-dam-advies")
VAN_DAM, SMIT, SMIT_HOLDING, BOS = "45678901", "56789012", "56789013", "67890123"


def grant(pp, employer: requests.Session, kvk: str, rights: str = "view") -> requests.Response:
    return pp.post_form(employer, f"{pp.url}/toegang", {"kvk": kvk, "rechten": rights})


def confirm(pp, link: str) -> requests.Response:
    return pp.post_form(requests.Session(), link)  # the e-mail link works without a portal session


def employer_grants(pp, advisor_kvk: str, rights: str = "view") -> None:
    """Anna (Bakkerij De Vries, 'edit') grants `advisor_kvk` access and confirms the e-mail link."""
    anna = pp.browser()
    pp.login(anna, 2, **ANNA)
    assert grant(pp, anna, advisor_kvk, rights).status_code == 200
    assert confirm(pp, pp.outbox()[-1]["link"]).status_code == 200


def choose(pp, browser, kvk: str) -> requests.Response:
    return pp.post_form(browser, f"{pp.url}/kies-werkgever", {"kvk": kvk})


def change(pp, browser, participant_id=1, salary="40000"):
    return pp.post_form(browser, f"{pp.url}/deelnemers/{participant_id}/wijzig", {"salaris": salary})


def test_route_b_grant_and_confirm(pp, browser):
    pp.login(browser, 2, **ANNA)
    resp = grant(pp, browser, VAN_DAM, "view")
    assert resp.status_code == 200 and "bevestigingslink" in resp.text
    mails = pp.outbox()
    assert len(mails) == 1
    mail = mails[0]
    assert mail["to_kvk"] == "12345678" and mail["to_address"] == "salarisadministratie@bakkerij-de-vries.example.test"
    assert not [m for m in mails if m["to_kvk"] == VAN_DAM or "van-dam" in m["to_address"]]
    assert mail["link"].startswith(f"{pp.url}/toegang/bevestig/") and mail["link"] in mail["body"]
    assert pp.state()["grants"][0]["status"] == "pending"
    # the link: GET shows what will be confirmed and changes nothing; POST confirms
    assert "45678901" in requests.get(mail["link"], timeout=5).text
    assert pp.state()["grants"][0]["status"] == "pending"
    assert confirm(pp, mail["link"]).status_code == 200
    assert pp.state()["grants"][0]["status"] == "confirmed"
    assert len(pp.outbox()) == 1  # and no e-mail to the advisor on confirmation either
    # the advisor logs in with its own KvK and selects the employer
    daan = pp.browser()
    resp = pp.login(daan, 2, **DAAN)
    assert resp.url == f"{pp.url}/kies-werkgever" and "Bakkerij De Vries B.V. (KvK 12345678)" in resp.text
    assert pp.whoami(daan)["logged_in"] is False and pp.whoami(daan)["route"] == "choose-employer"
    resp = choose(pp, daan, "12345678")
    assert resp.url == f"{pp.url}/dashboard" and "J. de Bakker" in resp.text
    who = pp.whoami(daan)
    assert who["logged_in"] and who["route"] == "route-b" and who["represented_kvk"] == "12345678"
    assert who["intermediary_kvk"] == VAN_DAM and who["rights"] == ["view"]  # the grant caps the 'edit' service
    assert pp.audit()[-1]["action"] == "choose_employer" and pp.audit()[-1]["intermediary_kvk"] == VAN_DAM


def test_route_b_advisor_kvk_unknown(pp, browser):
    pp.login(browser, 2, **ANNA)
    with WritesNothing(pp, "advisor_unknown"):
        resp = grant(pp, browser, BOS)
    assert_refused(pp, browser, resp, "advisor_unknown", logged_in=True)
    assert "niet herkend" in resp.text and "relatiebeheerder" in resp.text
    assert pp.outbox() == []


def test_route_b_unconfirmed(pp, browser):
    pp.login(browser, 2, **ANNA)
    grant(pp, browser, VAN_DAM)  # the e-mail link is never used
    daan = pp.browser()
    with WritesNothing(pp, "no_confirmed_grant"):
        resp = pp.login(daan, 2, **DAAN)
    assert_refused(pp, daan, resp, "no_confirmed_grant")
    assert "bevestigingsmail" in resp.text
    # with a confirmed grant of another employer, the unconfirmed one is still not selectable
    assert pp.seed({"grants": [{"employer_kvk": "23456789", "advisor_kvk": VAN_DAM, "status": "confirmed"}]}).ok
    resp = pp.login(daan, 2, **DAAN)
    assert "Garage Mulder" in resp.text and "Bakkerij De Vries" not in resp.text
    with WritesNothing(pp, "employer_not_selectable"):
        resp = choose(pp, daan, "12345678")
    assert_refused(pp, daan, resp, "employer_not_selectable")


def test_route_b_wrong_kvk(pp, browser):
    employer_grants(pp, SMIT_HOLDING)  # granted to the holding, not the KvK Sanne logs in with
    sanne = pp.browser()
    with WritesNothing(pp, "no_confirmed_grant"):
        resp = pp.login(sanne, 2, person="sanne-smit", organisation="smit-adviseurs")
    assert_refused(pp, sanne, resp, "no_confirmed_grant")
    assert "ander KvK-nummer" in resp.text
    employer_grants(pp, SMIT)  # the FAQ's fix: grant the KvK the advisor logs in with
    resp = pp.login(sanne, 2, person="sanne-smit", organisation="smit-adviseurs")
    assert "Bakkerij De Vries B.V. (KvK 12345678)" in resp.text
    assert choose(pp, sanne, "12345678").status_code == 200


def test_route_b_view_then_upgrade(pp, browser):
    employer_grants(pp, VAN_DAM, "view")
    daan = pp.browser()
    pp.login(daan, 2, **DAAN)
    choose(pp, daan, "12345678")
    assert pp.whoami(daan)["rights"] == ["view"]
    with WritesNothing(pp, "no_change_rights"):
        resp = change(pp, daan)
    assert_refused(pp, daan, resp, "no_change_rights", logged_in=True)
    assert "toegangsrechten wijzigen" in resp.text
    # the employer changes the grant to 'bekijk en wijzig'
    anna = pp.browser()
    pp.login(anna, 2, **ANNA)
    grant_id = pp.state()["grants"][0]["id"]
    resp = pp.post_form(anna, f"{pp.url}/toegang/{grant_id}/rechten", {"rechten": "edit"})
    assert resp.status_code == 200 and pp.state()["grants"][0]["rights"] == "edit"
    assert pp.whoami(daan)["rights"] == ["view", "edit"]  # read afresh: no new login needed
    assert change(pp, daan, 1, "50000").status_code == 200
    pp.login(daan, 2, **DAAN)  # and after a new login too
    choose(pp, daan, "12345678")
    assert change(pp, daan, 1, "51000").status_code == 200


def test_route_b_rights_never_exceed_the_advisors_own_service(pp, browser):
    employer_grants(pp, VAN_DAM, "edit")
    iris = pp.browser()
    pp.login(iris, 1, person="iris-de-boer", organisation="van-dam-advies")  # her own mandate: 'view' only
    choose(pp, iris, "12345678")
    assert pp.whoami(iris)["rights"] == ["view"]
    assert change(pp, iris).status_code == 403


def test_route_b_grant_needs_edit_rights(pp, browser):
    pp.login(browser, 1, person="sophie-peters", organisation="bakkerij-de-vries")
    assert browser.get(f"{pp.url}/toegang", timeout=5).status_code == 403
    with WritesNothing(pp, "grant_needs_edit_rights"):
        resp = grant(pp, browser, VAN_DAM)
    assert_refused(pp, browser, resp, "grant_needs_edit_rights", logged_in=True)
    assert pp.outbox() == []


def test_an_advisor_cannot_pass_access_on(pp, browser):
    pp.login(browser, 2, person="pieter-jansen", organisation="garage-mulder")  # chain mandate, 'edit'
    with WritesNothing(pp, "grant_needs_edit_rights"):
        resp = grant(pp, browser, VAN_DAM)
    assert_refused(pp, browser, resp, "grant_needs_edit_rights", logged_in=True)


def test_granting_twice_is_refused(pp, browser):
    pp.login(browser, 2, **ANNA)
    grant(pp, browser, VAN_DAM)
    with WritesNothing(pp, "grant_exists"):
        resp = grant(pp, browser, VAN_DAM, "edit")
    assert_refused(pp, browser, resp, "grant_exists", logged_in=True)
    assert len(pp.outbox()) == 1


def test_confirm_link_used_twice(pp, browser):
    pp.login(browser, 2, **ANNA)
    grant(pp, browser, VAN_DAM)
    link = pp.outbox()[0]["link"]
    assert confirm(pp, link).status_code == 200
    other = pp.browser()
    with WritesNothing(pp, "confirm_link_invalid"):
        resp = pp.post_form(other, link)
    assert_refused(pp, other, resp, "confirm_link_invalid")
    assert other.get(link, timeout=5).status_code == 404


def test_confirm_link_forged(pp, browser):
    pp.login(browser, 2, **ANNA)
    grant(pp, browser, VAN_DAM)
    link = pp.outbox()[0]["link"]
    for forged in (link[:-4] + "AAAA", f"{pp.url}/toegang/bevestig/{'x' * 43}", f"{pp.url}/toegang/bevestig/{'1' * 300}"):
        other = pp.browser()
        with WritesNothing(pp, "confirm_link_invalid"):
            resp = pp.post_form(other, forged)
        assert_refused(pp, other, resp, "confirm_link_invalid")
    assert pp.state()["grants"][0]["status"] == "pending"


# --- adding another KvK number (P9) ------------------------------------------------------------------------

def test_add_kvk_in_contract(pp, browser):
    pp.login(browser, 2, **ANNA)
    resp = pp.post_form(browser, f"{pp.url}/kvk-toevoegen", {"kvk": "12348765"})
    assert resp.status_code == 200 and "De Vries Banket" in resp.text
    assert [(k["employer_kvk"], k["kvk"]) for k in pp.state()["portal_kvks"]] == [("12345678", "12348765")]
    assert "12348765" in browser.get(f"{pp.url}/dashboard", timeout=5).text


def test_add_kvk_not_in_contract(pp, browser):
    pp.login(browser, 2, **ANNA)
    for kvk in ("87654321", "23456789"):  # in no contract; in another contract
        with WritesNothing(pp, "kvk_not_in_contract"):
            resp = pp.post_form(browser, f"{pp.url}/kvk-toevoegen", {"kvk": kvk})
        assert_refused(pp, browser, resp, "kvk_not_in_contract", logged_in=True)
        assert "binnen uw pensioencontract aanwezig" in resp.text


def test_add_kvk_needs_change_rights(pp, browser):
    pp.login(browser, 1, person="sophie-peters", organisation="bakkerij-de-vries")
    with WritesNothing(pp, "no_change_rights"):
        resp = pp.post_form(browser, f"{pp.url}/kvk-toevoegen", {"kvk": "12348765"})
    assert_refused(pp, browser, resp, "no_change_rights", logged_in=True)


def test_malformed_or_foreign_kvk_in_a_form(pp, browser):
    pp.login(browser, 2, **ANNA)
    for path in ("/toegang", "/kvk-toevoegen"):
        for bad in ("1234", "123456789", "DE123456789", "abcdefgh", "", "<script>1</script>"):
            with WritesNothing(pp, "kvk_invalid"):
                resp = pp.post_form(browser, f"{pp.url}{path}", {"kvk": bad, "rechten": "view"})
            assert_refused(pp, browser, resp, "kvk_invalid", logged_in=True)
            assert resp.status_code == 400 and "precies 8 cijfers" in resp.text
            assert "<script>" not in resp.text


def test_bad_rights_and_salary_input(pp, browser):
    pp.login(browser, 2, **ANNA)
    with WritesNothing(pp, "input_invalid"):
        resp = pp.post_form(browser, f"{pp.url}/toegang", {"kvk": VAN_DAM, "rechten": "admin"})
    assert_refused(pp, browser, resp, "input_invalid", logged_in=True)
    for bad in ("-5", "²", "4²", "١٢٣٤", "4e4", "40000,50", "", "1234567890"):  # '²'.isdigit() is True in Python
        with WritesNothing(pp, "input_invalid"):
            resp = pp.post_form(browser, f"{pp.url}/deelnemers/1/wijzig", {"salaris": bad})
        assert_refused(pp, browser, resp, "input_invalid", logged_in=True)
        assert resp.status_code == 400 and "salaris" in unescape(resp.text) and "heel bedrag" in unescape(resp.text)
