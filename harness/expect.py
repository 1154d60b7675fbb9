"""Outcome checks: small named functions, each returning a Check {check, passed, actual, expected, rule}."""

from __future__ import annotations

from ehsaml.checks import Check

from .browser import Page


def _c(check: str, passed: bool, actual, expected, rule: str) -> Check:
    return Check(check=check, passed=bool(passed), actual=actual, expected=expected, rule=rule)


def no_server_error(page: Page) -> Check:
    errors = [f"{h.method} {h.url} → {h.status}" for h in page.hops if h.status >= 500]
    return _c("no_server_error", not errors, errors or "no 5xx", "no HTTP 5xx on any hop",
              "a portal answers every input with a page that says why, never a server error")


def logged_in(whoami: dict, expected: bool, rule: str | None = None) -> Check:
    return _c("logged_in", whoami.get("logged_in") is expected, whoami.get("logged_in"), expected,
              rule or "the portal's session state after this step")


def field_equals(name: str, whoami: dict, expected, rule: str) -> Check:
    return _c(name, whoami.get(name) == expected, whoami.get(name), expected, rule)


def rights(whoami: dict, expected: list[str]) -> Check:
    actual = sorted(whoami.get("rights") or [])
    return _c("rights", actual == sorted(expected), actual, sorted(expected),
              "P3/P7: the service (or route-B grant) decides the rights; never more")


def refused(page: Page, code_on_page: str | None, statuses: set[int], expected: str, rule: str | None = None) -> Check:
    """`expected` is a reason code, or "*" for any refusal the page explains."""
    ok = page.status in statuses and code_on_page is not None and expected in ("*", code_on_page)
    want = "a 4xx refusal that shows its reason" if expected == "*" else f"a 4xx refusal with reason {expected}"
    return _c("refused", ok, f"HTTP {page.status}, reason {code_on_page or 'none shown'}", want,
              rule or "every refusal says why, with the FAQ's advice")


def allowed(page: Page, code_on_page: str | None) -> Check:
    ok = page.status < 400 and code_on_page is None
    return _c("allowed", ok, f"HTTP {page.status}" + (f", refused: {code_on_page}" if code_on_page else ""),
              "the action succeeds (2xx/3xx, no refusal)", "the portal allows what the rules allow")


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
