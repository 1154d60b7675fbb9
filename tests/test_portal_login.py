"""The example portal's login rules (P1–P5, P8, P10–P12), driven through the real mock broker over HTTP.

Each test is named by its FAQ case (the FAQ case catalogue, harness/cases.yaml) and asserts what the case promises:
/whoami, the page text, the audit trail and that a refusal writes nothing but its audit entry.
"""

from __future__ import annotations

from html import unescape

from portalserver import WritesNothing, assert_refused, browser, portal_pair, pp  # noqa: F401  (fixtures)

ANNA = dict(person="anna-de-vries", organisation="bakkerij-de-vries")


def change(pp, browser, participant_id=1, salary="40000"):
    return pp.post_form(browser, f"{pp.url}/deelnemers/{participant_id}/wijzig", {"salaris": salary})


def salary_of(pp, participant_id):
    return next(p["salary"] for p in pp.state()["participants"] if p["id"] == participant_id)


# --- logging in (P1–P3) ------------------------------------------------------------------------------

def test_login_eh3_employer_edit(pp, browser):
    resp = pp.login(browser, 2, **ANNA)
    assert resp.status_code == 200 and resp.url == f"{pp.url}/dashboard"
    assert "Bakkerij De Vries B.V. (KvK 12345678)" in resp.text
    who = pp.whoami(browser)
    assert who["logged_in"] and who["route"] == "employer" and who["level"] == "EH3"
    assert who["represented_kvk"] == "12345678" and who["intermediary_kvk"] is None
    assert who["rights"] == ["view", "edit"] and who["acting_subject"]
    assert change(pp, browser, 1, "40000").status_code == 200
    assert salary_of(pp, 1) == 40000
    login_entry = [e for e in pp.audit() if e["action"] == "login"][-1]
    assert login_entry["outcome"] == "ok" and login_entry["acting_subject"] == who["acting_subject"]


def test_login_eh4_accepted(pp, browser):
    pp.login(browser, 2, person="bram-hendriks", organisation="bakkerij-de-vries")
    who = pp.whoami(browser)
    assert who["logged_in"] and who["level"] == "EH4" and who["represented_kvk"] == "12345678"


def test_loa_eh2_refused(pp, browser):
    with WritesNothing(pp, "authn_failed"):
        resp = pp.login(browser, 2, person="eva-kok", organisation="bakkerij-de-vries")
    assert_refused(pp, browser, resp, "authn_failed")
    assert "niveau EH3 nodig" in resp.text and "level EH3" in resp.text
    assert "EH2" in resp.text  # the broker's StatusMessage names the level the means has


def test_loa_eh2plus_refused(pp, browser):
    with WritesNothing(pp, "authn_failed"):
        resp = pp.login(browser, 2, person="henk-kok", organisation="bakkerij-de-vries")
    assert_refused(pp, browser, resp, "authn_failed")
    assert "niveau EH3 nodig" in resp.text and "EH2+" in resp.text


def test_level_below_eh3_in_an_assertion_is_refused_by_the_portal(pp, browser):
    """Should a broker assert EH2 anyway, the portal's own check refuses it with the P2 page."""
    with WritesNothing(pp, "level_too_low"):
        resp = pp.login(browser, 2, identity={"kvk": "12345678", "level": "EH2", "service": "edit"})
    assert_refused(pp, browser, resp, "level_too_low")
    assert "U logde in met niveau EH2" in resp.text and "niveau EH3 nodig" in resp.text


def test_legacy_password_login_gone(pp, browser):
    assert "eHerkenning" in browser.get(f"{pp.url}/login-oud", timeout=5).text
    with WritesNothing(pp, "legacy_login_gone") as w:
        resp = pp.post_form(browser, f"{pp.url}/login-oud", {"username": "anna", "password": "geheim"})
    assert_refused(pp, browser, resp, "legacy_login_gone")
    assert "14 september" in resp.text and "eHerkenningmiddel (EH3)" in resp.text
    assert w.entry["action"] == "legacy_login" and "geheim" not in (w.entry["detail"] or "")


def test_service_view_readonly(pp, browser):
    pp.login(browser, 1, person="sophie-peters", organisation="bakkerij-de-vries")
    who = pp.whoami(browser)
    assert who["logged_in"] and who["rights"] == ["view"] and who["service"] == "Bekijk gegevens"
    assert "J. de Bakker" in browser.get(f"{pp.url}/dashboard", timeout=5).text
    with WritesNothing(pp, "no_change_rights"):
        resp = change(pp, browser, 1, "99999")
    assert_refused(pp, browser, resp, "no_change_rights", logged_in=True)
    assert "Bekijk en wijzig gegevens" in resp.text
    assert salary_of(pp, 1) == 36000


def test_service_edit_allowed(pp, browser):
    pp.login(browser, 2, **ANNA)
    resp = change(pp, browser, 2, "45000")
    assert resp.status_code == 200 and "gewijzigd" in resp.text
    assert salary_of(pp, 2) == 45000
    assert pp.audit()[-1]["action"] == "change_participant" and pp.audit()[-1]["outcome"] == "ok"


def test_a_participant_of_another_employer_cannot_be_changed(pp, browser):
    pp.login(browser, 2, **ANNA)
    with WritesNothing(pp, "not_found"):
        resp = change(pp, browser, 6, "1")  # a participant of Garage Mulder
    assert_refused(pp, browser, resp, "not_found", logged_in=True)


# --- mandates and known KvK numbers (P4, P8, P12) -----------------------------------------------------

def test_no_mandate_for_portal(pp, browser):
    with WritesNothing(pp, "no_mandate"):
        resp = pp.login(browser, 2, person="noah-willems", organisation="bakkerij-de-vries")
    assert_refused(pp, browser, resp, "no_mandate")
    assert "machtigingenbeheerder" in resp.text
    assert "'Bekijk gegevens' of 'Bekijk en wijzig gegevens'" in unescape(resp.text)


def test_kvk_unknown(pp, browser):
    with WritesNothing(pp, "kvk_unknown") as w:
        resp = pp.login(browser, 2, person="karin-bakker", organisation="kapsalon-bakker")
    assert_refused(pp, browser, resp, "kvk_unknown")
    assert "76543210" in resp.text and "relatiebeheerder" in resp.text
    assert w.entry["represented_kvk"] == "76543210" and w.entry["acting_subject"]


def test_multi_kvk_choose_each(pp, browser):
    pp.login(browser, 2, person="marieke-mulder", organisation="bakkerij-de-vries")
    first = pp.whoami(browser)
    assert first["represented_kvk"] == "12345678"
    assert "Bakkerij De Vries B.V." in browser.get(f"{pp.url}/dashboard", timeout=5).text
    resp = pp.login(browser, 2, person="marieke-mulder", organisation="garage-mulder")
    assert "Garage Mulder B.V. (KvK 23456789)" in resp.text and "J. de Bakker" not in resp.text
    second = pp.whoami(browser)
    assert second["represented_kvk"] == "23456789" and second["logged_in"]


def test_multi_kvk_one_not_mandated(pp, browser):
    pp.login(browser, 2, person="tom-mulder", organisation="garage-mulder")
    assert pp.whoami(browser)["represented_kvk"] == "23456789"
    with WritesNothing(pp, "no_mandate"):
        resp = pp.login(browser, 2, person="tom-mulder", organisation="bakkerij-de-vries")
    assert_refused(pp, browser, resp, "no_mandate")  # the earlier login is gone too
    assert "KvK-nummers waarvoor u wilt inloggen" in resp.text


def test_personal_means_colleagues(pp):
    anna, bram = pp.browser(), pp.browser()
    pp.login(anna, 2, **ANNA)
    pp.login(bram, 2, person="bram-hendriks", organisation="bakkerij-de-vries")
    a, b = pp.whoami(anna)["acting_subject"], pp.whoami(bram)["acting_subject"]
    assert a and b and a != b
    assert change(pp, anna, 1, "37000").status_code == 200
    assert change(pp, bram, 2, "42000").status_code == 200
    changes = [e for e in pp.audit() if e["action"] == "change_participant"]
    assert [(e["acting_subject"], e["represented_kvk"]) for e in changes] == [(a, "12345678"), (b, "12345678")]
    logins = {e["acting_subject"] for e in pp.audit() if e["action"] == "login"}
    assert logins == {a, b}


def test_colleague_without_mandate(pp, browser):
    with WritesNothing(pp, "no_mandate"):
        resp = pp.login(browser, 2, person="lotte-jacobs", organisation="bakkerij-de-vries")
    assert_refused(pp, browser, resp, "no_mandate")


def test_cancel_at_broker(pp, browser):
    with WritesNothing(pp, "authn_failed"):
        resp = pp.login(browser, 2, cancel=True)
    who = assert_refused(pp, browser, resp, "authn_failed")
    assert resp.status_code == 401
    assert "eHerkenning leverancier" in resp.text and "wachtwoord vergeten" in resp.text
    assert who["represented_kvk"] is None and who["acting_subject"] is None


def test_eidas_foreign_company(pp, browser):
    with WritesNothing(pp, "eidas_no_kvk"):
        resp = pp.login(browser, 2, person="klaus-mueller", organisation="mueller-gmbh")
    assert_refused(pp, browser, resp, "eidas_no_kvk")
    assert "DE/NL/HRB-123456" in resp.text and "relatiebeheerder" in resp.text


def test_other_broker_status_gets_a_clear_page(pp, browser):
    resp = pp.login(browser, 2, status="Responder", message="internal trouble at the broker")
    assert resp.status_code == 403 and "foutmelding" in resp.text
    assert "internal trouble at the broker" in unescape(resp.text)
    assert pp.whoami(browser)["last_refusal"]["code"] == "broker_error"


# --- chain mandates (P5) -------------------------------------------------------------------------------

def test_chain_mandate_view(pp, browser):
    pp.login(browser, 1, person="pieter-jansen", organisation="bakkerij-de-vries")
    who = pp.whoami(browser)
    assert who["logged_in"] and who["route"] == "chain" and who["rights"] == ["view"]
    assert who["represented_kvk"] == "12345678" and who["intermediary_kvk"] == "34567890"
    assert pp.audit()[-1]["intermediary_kvk"] == "34567890"
    with WritesNothing(pp, "no_change_rights"):
        resp = change(pp, browser)
    assert_refused(pp, browser, resp, "no_change_rights", logged_in=True)


def test_chain_mandate_edit(pp, browser):
    resp = pp.login(browser, 2, person="pieter-jansen", organisation="garage-mulder")
    assert "ketenmachtiging" in resp.text
    who = pp.whoami(browser)
    assert who["route"] == "chain" and who["rights"] == ["view", "edit"]
    assert who["represented_kvk"] == "23456789" and who["intermediary_kvk"] == "34567890"
    assert change(pp, browser, 5, "39000").status_code == 200
    entry = pp.audit()[-1]
    assert (entry["action"], entry["represented_kvk"], entry["intermediary_kvk"]) == \
        ("change_participant", "23456789", "34567890")


def test_chain_mandate_unknown_employer(pp, browser):
    with WritesNothing(pp, "kvk_unknown") as w:
        resp = pp.login(browser, 2, person="pieter-jansen", organisation="kapsalon-bakker")
    assert_refused(pp, browser, resp, "kvk_unknown")
    assert "relatiebeheerder" in resp.text
    assert w.entry["intermediary_kvk"] == "34567890"


# --- pages and endpoints ------------------------------------------------------------------------------

def test_branch_restricted_mandate_is_shown(pp, browser):
    resp = pp.login(browser, 2, person="joris-meijer", organisation="bakkerij-de-vries")
    assert "000012345678" in resp.text
    assert pp.whoami(browser)["branch"] == "000012345678"


def test_home_offers_both_services_the_common_one_first(pp, browser):
    text = unescape(browser.get(f"{pp.url}/", timeout=5).text)
    first, second = text.index('id="login-2"'), text.index('id="login-1"')
    assert first < second  # "Bekijk en wijzig gegevens", the service most employers hold, is the first button
    assert "'Bekijk en wijzig gegevens'" in text[first:second] and "'Bekijk gegevens'" in text[second:]


def test_request_names_the_service_by_index(pp, browser):
    pp.login(browser, 1, **ANNA)  # Anna's mandate is for 'edit' only: asking for 'view' is refused at the broker
    assert pp.whoami(browser)["last_refusal"]["code"] == "no_mandate"
    requests_in = [e for e in pp.journal() if e["event"] == "received" and e.get("message_type") == "AuthnRequest"]
    assert len(requests_in) == 1
    assert 'AttributeConsumingServiceIndex="1"' in requests_in[0]["xml"]
    assert 'AssertionConsumerServiceIndex="0"' in requests_in[0]["xml"]  # the Artifact ACS


def test_pages_need_a_login(pp, browser):
    for path in ("/dashboard", "/toegang", "/kvk-toevoegen"):
        resp = browser.get(f"{pp.url}{path}", timeout=5)
        assert resp.status_code == 401 and "niet ingelogd" in resp.text


def test_logout_ends_the_session(pp, browser):
    pp.login(browser, 2, **ANNA)
    resp = browser.get(f"{pp.url}/logout", timeout=10)
    assert resp.status_code == 200 and "ook bij eHerkenning" in resp.text  # via the broker's SLO and back
    assert resp.url.startswith(f"{pp.url}/saml/slo?SAMLResponse=")
    assert any(e.get("message_type") == "LogoutRequest" for e in pp.journal())
    assert pp.whoami(browser)["logged_in"] is False
    assert browser.get(f"{pp.url}/dashboard", timeout=5).status_code == 401
