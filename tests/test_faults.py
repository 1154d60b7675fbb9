"""The fault catalogue: it loads and is checked, and a careful DV (ehsaml.dv.login, as TestDV) refuses every case
with the check the case names."""

from __future__ import annotations

import collections
import shutil

import pytest
import requests
from conftest import journal, queue

from ehsaml import ns
from ehsaml.dv.checks import CHECK_NAMES
from mock_broker import faults

# The hostile cases (a careful DV refuses each); the positive controls (family control) are in test_fault_controls.py.
CATALOGUE = {k: c for k, c in faults.load_catalogue().items() if c.family != faults.CONTROL}
HANG_TIMEOUT = 2.0  # the DV's resolve timeout in the hanging-endpoint case (the broker sleeps longer)


def test_the_catalogue_has_at_least_180_cases_in_every_family():
    families = collections.Counter(case.family for case in CATALOGUE.values())
    assert sum(families.values()) >= 180
    assert set(families) == set(faults.FAMILIES) - {faults.CONTROL} and min(families.values()) >= 5, families


def test_each_recent_cve_class_has_a_case_by_its_number():
    ids = " ".join(CATALOGUE)
    for number in ("2024-45409", "2025-23369", "2025-25291", "2025-25292", "2024-4985"):
        assert f"cve-{number}-" in ids, number


def test_every_case_names_a_registered_mutation_and_a_dv_check():
    for case in CATALOGUE.values():
        assert case.mutation in faults.REGISTRY
        assert case.expect.refused and not case.expect.session
        assert case.expect.check in CHECK_NAMES, case.id


def test_every_case_bound_to_a_binding_says_why():
    """The security suite skips a case its portal cannot take by that binding, and says why the case needs it."""
    bound = [c for c in faults.load_catalogue().values() if c.needs_binding != "any"]
    assert bound and all(c.why_binding for c in bound), [c.id for c in bound if not c.why_binding]
    assert all(c.why_binding is None for c in faults.load_catalogue().values() if c.needs_binding == "any")


def test_a_binding_without_its_reason_is_refused(tmp_path):
    shutil.copy(faults.CATALOGUE_DIR / "protocol.yaml", tmp_path / "protocol.yaml")
    path = tmp_path / "protocol.yaml"
    text = path.read_text("utf-8")
    start = text.rindex("\n", 0, text.index("binding_reason:")) + 1
    path.write_text(text[:start] + text[text.index("\n", start) + 1:], "utf-8")
    with pytest.raises(faults.CatalogueError, match="binding_reason"):
        faults.load_catalogue(tmp_path)


@pytest.mark.parametrize("case_id", [c.id for c in CATALOGUE.values() if c.expect.claims_status])
def test_an_error_answer_claims_the_status_it_carries(broker_url, dv, case_id):
    """A status case names the broker refusal it claims to be (expect.claims_status); a DV that believes it sees
    exactly that second-level status and a message worded as the broker words it."""
    case = CATALOGUE[case_id]
    dv.weakened = frozenset({case.expect.check})
    if case.setup == "earlier-login":
        queue(broker_url, **faults.DEFAULT_BASE)
        assert _login(dv, "post" if case.needs_binding == "post" else "artifact").result.ok
    queue(broker_url, fault=case_id)
    result = _login(dv, "post" if case.needs_binding == "post" else "artifact").result
    assert result.status[1] == f"urn:oasis:names:tc:SAML:2.0:status:{case.expect.claims_status}", result.explain()
    assert ("has no mandate" if case.expect.claims_status == "RequestUnsupported" else "cancelled") in result.status[2]


def test_a_hanging_resolve_is_bounded_and_few():
    hanging = [c for c in CATALOGUE.values() if c.mutation == "resolve_hang"]
    assert 1 <= len(hanging) <= 2 and all(c.params["seconds"] <= 10 for c in hanging)


def _broken_catalogue(tmp_path, old: str, new: str):
    shutil.copy(faults.CATALOGUE_DIR / "protocol.yaml", tmp_path / "protocol.yaml")
    path = tmp_path / "protocol.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(faults.CatalogueError) as info:
        faults.load_catalogue(tmp_path)
    line = text[:text.index(old)].count("\n") + 1
    return str(info.value), line


@pytest.mark.parametrize("old, new, field, says", [
    ("family: protocol", "family: protocoll", "family", "is not one of"),
    ("mutation: response_attribute", "mutation: no_such_mutation", "mutation", "no mutation named"),
    ("params: {name: InResponseTo, remove: true}", "params: {name: InResponseTo, bogus: 1}", "params", "bogus"),
    ("check: response_in_response_to", "check: no_such_check", "expect.check", "no DV check"),
    ("title: The Response has no InResponseTo", "titel: The Response has no InResponseTo", "titel", "unknown field"),
])
def test_a_broken_catalogue_file_is_refused_naming_file_line_case_and_field(tmp_path, old, new, field, says):
    message, line = _broken_catalogue(tmp_path, old, new)
    assert "protocol.yaml" in message and f"line {line}" in message, message
    assert "(irt-missing)" in message and f"field {field!r}" in message and says in message, message


def test_a_duplicate_id_is_refused(tmp_path):
    message, _ = _broken_catalogue(tmp_path, "id: irt-random", "id: irt-missing")
    assert "duplicate id" in message and "irt-missing" in message


def test_not_yaml_is_refused_with_the_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("cases:\n  - id: [unclosed\n", "utf-8")
    with pytest.raises(faults.CatalogueError, match=r"bad.yaml, line \d+: not valid YAML"):
        faults.load_catalogue(tmp_path)


# --- the control API ------------------------------------------------------------------------------

def test_the_control_api_lists_the_catalogue(broker_url):
    listed = requests.get(f"{broker_url}/_mock/faults", timeout=5).json()["faults"]
    assert [f["id"] for f in listed] == list(faults.load_catalogue())
    assert {"id", "family", "title", "rule", "expect"} <= set(listed[0])
    only = requests.get(f"{broker_url}/_mock/faults", params={"family": "artifact"}, timeout=5).json()["faults"]
    assert only and {f["family"] for f in only} == {"artifact"}


def test_an_unknown_fault_is_refused_naming_it_and_where_to_look(broker_url):
    resp = requests.post(f"{broker_url}/_mock/next", json={"fault": "no-such-fault"}, timeout=5)
    assert resp.status_code == 400
    assert "'no-such-fault'" in resp.json()["error"] and "GET /_mock/faults" in resp.json()["error"]


def test_a_fault_needs_a_login_answer(broker_url):
    resp = requests.post(f"{broker_url}/_mock/next", json={"fault": "sig-none", "cancel": True}, timeout=5)
    assert resp.status_code == 400 and "person or identity" in resp.json()["error"]


def test_a_fault_can_mutate_another_base_answer(broker_url, dv):
    queue(broker_url, fault="level-eh2", person="bram-hendriks", organisation="bakkerij-de-vries")
    result = dv.login(service_index=2).result
    assert not result.ok and result.failure.check == "authn_level"
    decision = next(e for e in journal(broker_url) if e["event"] == "decision")
    assert decision["identity"]["person"] == "bram-hendriks" and decision["fault"] == "level-eh2"


# --- every case against a careful DV --------------------------------------------------------------

def _login(dv, binding: str):
    """A login to the service that needs EH3 (index 2, "edit"), answered by POST (ACS index 1) or Artifact."""
    return dv.login(acs_index=1, service_index=2) if binding == "post" else dv.login(service_index=2)


# A case that needs no binding (a fault of the Response or assertion) is tried by both: it must be refused
# by whichever binding the DV asks for.
CASE_BINDINGS = [(case, binding) for case in CATALOGUE.values()
                 for binding in (("artifact", "post") if case.needs_binding == "any" else (case.needs_binding,))]


@pytest.mark.parametrize("case, binding", CASE_BINDINGS, ids=[f"{c.id}-{b}" for c, b in CASE_BINDINGS])
def test_a_careful_dv_refuses_the_case(broker_url, dv, case, binding):
    if case.setup == "earlier-login":
        queue(broker_url, **faults.DEFAULT_BASE)
        earlier = _login(dv, binding)
        assert earlier.result.ok, earlier.result.explain()
    if case.mutation == "resolve_hang":
        dv.artifact_timeout = HANG_TIMEOUT
    queue(broker_url, fault=case.id)
    answer = _login(dv, binding)
    assert answer.binding == {"post": ns.BINDING_POST, "artifact": ns.BINDING_ARTIFACT}[binding]
    result = answer.result
    assert not result.ok, f"{case.id}: the DV accepted it ({case.title})"
    assert result.failure.check == case.expect.check, f"{case.id}: {result.explain()}"
    entries = [e for e in journal(broker_url) if e.get("fault") == case.id and e["event"] == "fault"]
    assert entries and all(e["fault_applied"] for e in entries), f"the journal says the fault was applied: {entries}"


def test_a_fault_on_a_broker_refusal_is_journalled_as_not_applied(broker_url, dv):
    """The broker refuses first (no mandate): the hostile answer never exists, and the journal says so."""
    queue(broker_url, fault="audience-wrong", person="noah-willems", organisation="bakkerij-de-vries")
    result = dv.login(service_index=2).result
    assert result.status[1] == ns.STATUS_REQUEST_UNSUPPORTED  # the broker's own "no mandate" refusal
    fault = [e for e in journal(broker_url) if e["event"] == "fault"]
    assert len(fault) == 1 and fault[0]["fault_applied"] is False
    assert "not applied: the broker's own answer is a refusal" in fault[0]["reason"]
    sent = [e for e in journal(broker_url) if e["event"] == "sent" and e.get("fault") == "audience-wrong"]
    assert sent and all(e["fault_applied"] is False for e in sent)



@pytest.mark.parametrize("case_id", ["audience-wrong", "conditions-expired", "issue-instant-past",
                                     "legal-subject-two-kvk", "recipient-wrong"])
def test_a_dv_with_one_check_switched_off_lets_that_case_through(broker_url, dv, case_id):
    """The catalogue finds a weakened DV: without the check the case names, the forged login is accepted."""
    case = CATALOGUE[case_id]
    dv.weakened = frozenset({case.expect.check})
    queue(broker_url, fault=case_id)
    result = _login(dv, case.needs_binding if case.needs_binding != "any" else "artifact").result
    assert result.ok, f"{case_id} should get through a DV without {case.expect.check}: {result.explain()}"
    ignored = [c for c in result.checks if c.check == case.expect.check]
    assert ignored and all(c.passed for c in ignored) and "IGNORED" in str(ignored[0].actual)


# One case per family added with issue 15: a DV without the check the case names lets it through (a status answer
# "through" is one the DV believes: it would show the broker's "no mandate"), so the careful DV's refusal above is
# what catches such a DV. message_readable switched off is a DV with lxml's own parser flags only.
WEAKENED = {"parser": "parser-doctype-utf16-post", "encryption": "enc-assertion-in-extensions",
            "identifier": "kvk-mixed-content", "service": "service-other-own", "level": "level-label-eh3",
            "nameid": "nameid-format-persistent", "required": "assertion-version-1-1",
            "status": "status-other-dv-destination", "cve": "cve-2024-45409-digest-in-status-detail"}


@pytest.mark.parametrize("family, case_id", WEAKENED.items(), ids=list(WEAKENED))
def test_a_weakened_dv_lets_a_case_of_each_new_family_through(broker_url, dv, family, case_id):
    case = CATALOGUE[case_id]
    assert case.family == family
    dv.weakened = frozenset({case.expect.check})
    queue(broker_url, fault=case_id)
    result = _login(dv, "post" if case.needs_binding == "post" else "artifact").result
    if family == "status":
        assert result.failure.check == "status" and result.status[1] == ns.STATUS_REQUEST_UNSUPPORTED, \
            f"a weakened DV believes the other DV's 'no mandate': {result.explain()}"
    else:
        assert result.ok, f"{case_id} should get through a DV without {case.expect.check}: {result.explain()}"
    dv.weakened = frozenset()
    queue(broker_url, fault=case_id)
    careful = _login(dv, "post" if case.needs_binding == "post" else "artifact").result
    assert not careful.ok and careful.failure.check == case.expect.check, careful.explain()


@pytest.fixture
def encrypting_dv(broker_url, dv):
    """The example DV registered with encrypt_assertion (EncryptedAssertion); registered plainly again after."""
    from testdv import dv_catalogue, dv_metadata

    def register(options):
        resp = requests.post(f"{broker_url}/_mock/sps", timeout=10, json={
            "metadata": dv_metadata().decode(), "catalogue": dv_catalogue().decode(), "options": options})
        assert resp.status_code == 201, resp.text

    register({"encrypt_assertion": True})
    yield dv
    register({})


@pytest.mark.parametrize("case_id", ["sig-none", "sig-unknown-key", "sig-xsw3", "sig-xsw1", "audience-wrong",
                                     "level-eh2", "legal-subject-two-kvk", "artifact-response-unsigned"])
def test_faults_reach_a_dv_that_wants_encrypted_assertions(broker_url, encrypting_dv, case_id):
    """Mutations work on the plain assertion; the EncryptedAssertion switch is applied after them."""
    queue(broker_url, fault=case_id)
    result = _login(encrypting_dv, CATALOGUE[case_id].binding).result
    assert not result.ok and result.failure.check == CATALOGUE[case_id].expect.check, result.explain()
    sent = [e for e in journal(broker_url) if e["event"] == "sent" and e.get("message_type") == "Response"][-1]
    assert "<saml:EncryptedAssertion" in sent["xml"]


def test_the_mapping_to_spid_and_saml_raider_names_only_real_cases_and_every_spid_number():
    """docs/security-catalogue.md: each backticked case id exists (in the fault or the FAQ catalogue), and each of
    spid-sp-test's response numbers 1–111 has a row."""
    import re
    from pathlib import Path

    from harness.cases import load_cases

    text = (Path(__file__).resolve().parent.parent / "docs" / "security-catalogue.md").read_text("utf-8")
    known = set(CATALOGUE) | set(load_cases()["cases"])
    named = set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", text))
    assert named and not named - known, sorted(named - known)
    covered = set()
    for first, last in re.findall(r"^\| (\d+)(?:[–-](\d+))? \|", text, flags=re.M):
        covered |= set(range(int(first), int(last or first) + 1))
    assert covered >= set(range(1, 112)), sorted(set(range(1, 112)) - covered)
