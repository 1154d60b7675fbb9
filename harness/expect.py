"""Outcome checks: small named functions, each returning a Check {check, passed, actual, expected, rule}."""

from __future__ import annotations

from ehsaml.checks import Check

from .browser import Page
from .paths import MISSING


def _c(check: str, passed: bool, actual, expected, rule: str) -> Check:
    return Check(check=check, passed=bool(passed), actual=actual, expected=expected, rule=rule)


def no_server_error(page: Page) -> Check:
    errors = [f"{h.method} {h.url} → {h.status}" for h in page.hops if h.status >= 500]
    return _c("no_server_error", not errors, errors or "no 5xx", "no HTTP 5xx on any hop",
              "a portal answers every input with a page that says why, never a server error")


def _seen(whoami: dict, name: str):
    """What the portal's whoami gave for this field, as the report shows it (a missing field says so)."""
    value = whoami.get(name, MISSING)
    return f"nothing: the whoami answer has no {name} field" if value is MISSING else value


def logged_in(whoami: dict, expected: bool, rule: str | None = None) -> Check:
    return _c("logged_in", whoami.get("logged_in", MISSING) is expected, _seen(whoami, "logged_in"), expected,
              rule or "the portal's session state after this step")


def field_equals(name: str, whoami: dict, expected, rule: str) -> Check:
    """MISSING (the field not in the answer) equals nothing, not even an expected null."""
    value = whoami.get(name, MISSING)
    return _c(name, value is not MISSING and value == expected, _seen(whoami, name), expected, rule)


def rights(whoami: dict, expected: list[str], rights_list) -> Check:
    """The rights the portal gives, in the scenarios' words (view, edit): `rights_list(word)` is the profile's list
    of that right in the portal's whoami; a list that is no right's is shown as the portal gave it."""
    rule = "P3/P7: the service (or route-B grant) decides the rights; never more"
    want = sorted({r for word in expected for r in rights_list(word)})
    value = whoami.get("rights", MISSING)
    words = " and ".join(expected)
    if not isinstance(value, list):
        return _c("rights", False, _seen(whoami, "rights"), words, rule)
    actual = sorted(value)
    named = next((w for w in ("edit", "view") if sorted(rights_list(w)) == actual), None)
    seen = named if named else ("none" if not actual else f"{actual} (no right of the profile)")
    return _c("rights", actual == want, seen, words, rule)


def refused(page: Page, code_on_page: str | None, shown: bool, statuses: set[int], expected: str,
            rule: str | None = None) -> Check:
    """`expected` is a reason code, or "*" for any refusal page of the portal (one the profile recognises)."""
    ok = page.status in statuses and (shown if expected == "*" else code_on_page == expected)
    want = "a refusal page" if expected == "*" else f"a refusal with reason {expected}"
    seen = code_on_page or ("a refusal page without a reason the profile reads" if shown else "no refusal shown")
    return _c("refused", ok, f"HTTP {page.status} at {page.url}, {seen}",
              f"{want} (HTTP {', '.join(map(str, sorted(statuses)))})",
              rule or "every refusal says why, with the FAQ's advice")


def allowed(page: Page, code_on_page: str | None, shown: bool) -> Check:
    ok = page.status < 400 and not shown
    return _c("allowed", ok, f"HTTP {page.status}" + (f", refused: {code_on_page or 'a refusal page'}" if shown else ""),
              "the action succeeds (2xx/3xx, no refusal)", "the portal allows what the rules allow")


def not_refused_as(believed: str | None, codes: list[str], rule: str | None = None) -> Check:
    """An error answer that is not this DV's (a forged "no mandate"): refused as such, never shown as the broker's own."""
    return _c("not_refused_as", believed is None,
              f"the page shows the broker's refusal {believed}: the portal believed the error answer" if believed
              else "a refusal that is not the broker's", f"a refusal of the forged answer, not {' or '.join(codes)}",
              rule or "an error answer is believed only after the checks that make it this DV's")


def refusal_reason(got: str | None, want: str, code: str | None = None) -> Check:
    """`got`: the check the portal names; None with `code`: a page of a cause that is not that check's."""
    actual = f"refused by check {got}" if got else f"no check named: refused as {code}" if code else "no check named"
    return _c("refusal_reason", got == want, actual, want,
              "the catalogue's check is the first a careful DV makes that this answer fails")


def page_contains(page: Page, texts: list[str]) -> Check:
    missing = [t for t in texts if t.lower() not in page.text.lower()]
    return _c("page_contains", not missing, f"missing {missing}" if missing else "all present", texts,
              "the page tells the user what the FAQ says")


def choices(actual: list[str], expected: list[str]) -> Check:
    return _c("choices", sorted(actual) == sorted(expected), sorted(actual), sorted(expected),
              "P7: a route-B advisor can choose exactly the employers with a confirmed grant for its KvK")


def acting_subject(current: str | None, earlier: list[str], expected: str) -> Check:
    if expected == "new":
        ok = bool(current) and current not in earlier
    else:
        ok = bool(current) and bool(earlier) and current == earlier[-1]
    return _c("acting_subject", ok, current, f"{expected} (earlier: {len(earlier)})",
              "P10: the means is personal; each person has an own pseudonym (ActingSubjectID)")


def audit_names_every_actor(actors: set[str], pseudonyms: list[str]) -> Check:
    missing = [p for p in pseudonyms if p not in actors]
    return _c("audit_names_every_actor", not missing and bool(pseudonyms), f"missing {len(missing)} of {len(pseudonyms)}",
              "every acting pseudonym of this scenario in the audit trail",
              "P10: the audit trail records who acted, colleagues told apart")


def outbox(messages: list[dict], spec: dict, to_field: str) -> list[Check]:
    out = []
    rule = "P6: the confirmation e-mail goes to the employer, never to the advisor"
    if "count" in spec:
        out.append(_c("outbox_count", len(messages) == spec["count"], len(messages), spec["count"], rule))
    tos = [str(m.get(to_field, "")) for m in messages]
    if "to_contains" in spec:
        out.append(_c("outbox_to", any(spec["to_contains"] in t for t in tos), tos, f"to … {spec['to_contains']} …", rule))
    if "none_to_contains" in spec:
        bad = [t for t in tos if spec["none_to_contains"] in t]
        out.append(_c("outbox_not_to", not bad, tos, f"nothing to … {spec['none_to_contains']} …", rule))
    return out
