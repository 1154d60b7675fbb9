"""From what a SAML message says to the FAQ case it matches and the advice the FAQ gives.

The advice texts come from the FAQ case catalogue (`harness/cases.yaml`, read by `harness.cases`): the
FAQ's own Dutch words with an English gloss.
"""

from __future__ import annotations

import re

from .cases import load_cases

# What a customer says, as a short code (reports, --symptom).
SYMPTOMS = {
    "cannot-log-in": "Ik krijg een foutmelding en/of ik kan niet inloggen",
    "level-too-low": "eHerkenning says my level is too low",
    "no-mandate": "eHerkenning says I hold no mandate (machtiging) for the portal",
    "kvk-not-recognised": "the portal does not know my KvK number",
    "cannot-change": "Ik zie geen mogelijkheid meer om gegevens te wijzigen",
    "cannot-select-employer": "Ik ben adviseur en kan mijn relatie niet selecteren (route B)",
    "advisor-kvk-not-recognised": "het KvK-nummer van mijn adviseur wordt niet herkend",
    "cannot-add-kvk": "ik kan een ander KvK-nummer niet toevoegen",
    "forgot-credentials": "inloggegevens vergeten / inloggen afgebroken",
}
MIN_LEVEL = "EH3"  # P2: the portal's minimum, when no catalogue says otherwise
_LEVEL_IN_TEXT = re.compile(r"\b(EH2\+|EH2|EH1|loa2plus|loa2|loa1)(?![\w+])")


def advice_for(case: str, advice: dict | None = None) -> dict:
    advice = advice or load_cases()
    entry = advice["cases"].get(case)
    if entry is None:
        return {"case": case, "question": None, "faq_nl": None, "advice_nl": "(no advice recorded for this case)",
                "advice_en": "(no advice recorded for this case)", "where": None}
    return {"case": case, **entry}


def _finding(text: str, case: str | None, advice: dict, *, condition: str | None = None, **extra) -> dict:
    if case is None:
        sec = advice["security"]
        base = {"case": None, "question": sec["question"], "advice_nl": sec["advice_nl"],
                "advice_en": sec["advice_en"], "where": "broker"}
    else:
        base = advice_for(case, advice)
    return {"finding": text, **base, "condition": condition, **extra}


def level_case(label: str | None) -> str | None:
    return {"EH2+": "loa-eh2plus-refused", "loa2plus": "loa-eh2plus-refused", "EH2": "loa-eh2-refused",
            "loa2": "loa-eh2-refused", "EH1": "loa-eh2-refused", "loa1": "loa-eh2-refused"}.get(label or "")


def _rank(label: str | None) -> int:
    return ["EH1", "EH2", "EH2+", "EH3", "EH4"].index(label) if label in ("EH1", "EH2", "EH2+", "EH3", "EH4") else -1


def findings(messages: list[dict], symptom: str | None, advice: dict) -> list[dict]:
    out: list[dict] = []
    for i, m in enumerate(messages, 1):
        if m["kind"] == "Response":
            out.extend(_response_findings(m, symptom, advice, i))
        elif m["kind"] == "ArtifactResponse":
            failed = next((c for c in m.get("checks") or [] if c["result"] == "FAILED"), None)
            if failed is not None:
                out.append(_finding(f"the ArtifactResponse fails the DV check {failed['check']}: {failed['actual']}",
                                    None, advice, check=failed["check"], rule=failed["rule"], message=i))
            elif m.get("response"):
                out.extend(_response_findings(m["response"], symptom, advice, i))
    return out


def _response_findings(r: dict, symptom: str | None, advice: dict, i: int) -> list[dict]:
    out: list[dict] = []
    status = r.get("status") or {}
    a = r.get("assertion") or {}
    ident = a.get("identity") or {}
    failed = next((c for c in r.get("checks") or [] if c["result"] == "FAILED"), None)
    if failed is not None and failed["check"] == "authn_level":
        case = level_case(str(failed["actual"]))
        out.append(_finding(f"level {failed['actual']} is below the {failed['expected']} the service needs",
                            case, advice, check="authn_level", rule=failed["rule"], message=i))
        return out
    if failed is not None and failed["check"] != "status":
        out.append(_finding(f"a DV must refuse this answer: security check {failed['check']} failed "
                            f"(expected {failed['expected']}, got {failed['actual']})", None, advice,
                            check=failed["check"], rule=failed["rule"], message=i))
        return out
    if status.get("code") and status["code"] != "Success":
        message = status.get("message") or ""
        said = f"{status['code']}/{status.get('sub') or '-'}" + (f": {message!r}" if message else "")
        if status.get("sub") == "AuthnFailed":
            level = next(iter(_LEVEL_IN_TEXT.findall(message)), None)
            if level is not None:
                case = level_case(level)
                out.append(_finding(f"the broker refused the login ({said}): the means has level {level}; EH3 "
                                    f"is needed", case, advice, message=i))
            else:
                out.append(_finding(f"the login was cancelled or failed at the broker ({said}), with no level "
                                    f"named", "cancel-at-broker", advice, message=i))
        elif status.get("sub") == "RequestUnsupported":
            out.append(_finding(f"the broker found no mandate for the portal's service ({said})",
                                "no-mandate-for-portal", advice, message=i,
                                related=["colleague-without-mandate", "multi-kvk-one-not-mandated"]))
        else:
            out.append(_finding(f"the broker answered with an error ({said})", "cancel-at-broker", advice,
                                condition="closest FAQ answer; no FAQ case names this status", message=i))
        return out
    if not a:
        return out
    level = a.get("level")
    if _rank(level) >= 0 and _rank(level) < _rank(MIN_LEVEL) and not r.get("checks"):
        out.append(_finding(f"level {level} is below EH3 (P2)", level_case(level), advice, message=i))
    if ident.get("encrypted"):
        out.append({"finding": f"identifiers {', '.join(ident['encrypted'])} are encrypted: give the DV's key "
                               f"(--key, --cert) to see the KvK number", "case": None, "question": None,
                    "advice_nl": "-", "advice_en": "-", "where": None, "condition": None, "message": i})
    service = (a.get("service") or {}).get("name")
    view = service == advice["services"]["view"]["name"]
    kvk, chain = ident.get("kvk"), ident.get("intermediary_kvk")
    if ident.get("eidas") and not kvk:
        out.append(_finding(f"a foreign company (eIDAS {ident['eidas']}) without a KvK number", "eidas-foreign-company",
                            advice, message=i))
        return out
    changes = symptom == "cannot-change"
    if chain:
        name = ident.get("intermediary_name") or "?"
        if view:
            out.append(_finding(f"a chain mandate (route A): advisor {chain} ({name}) for employer {kvk}, service "
                                f"'{service}' (view only)", "chain-mandate-view", advice, message=i,
                                condition=None if changes else "if the complaint is 'cannot change'"))
        else:
            out.append(_finding(f"a chain mandate (route A): advisor {chain} ({name}) for employer {kvk}, service "
                                f"'{service}'", "chain-mandate-edit", advice, message=i))
        out.append(_finding(f"employer KvK {kvk} of the chain mandate", "chain-mandate-unknown-employer", advice,
                            message=i, condition="if the portal refused this KvK number"))
        return out
    if view:
        out.append(_finding(f"logged in with the service '{service}' (view only): changes are refused (P3)",
                            "service-view-readonly", advice, message=i,
                            condition=None if changes else "if the complaint is 'cannot change'"))
        if changes:
            out.append(_finding("an advisor logging in without a chain mandate (route B) gets the rights of the "
                                "employer's grant", "route-b-view-then-upgrade", advice, message=i,
                                condition="if you are an advisor without a chain mandate (route B)"))
    if symptom == "cannot-select-employer" and kvk:
        for case in ("route-b-unconfirmed", "route-b-wrong-kvk"):
            out.append(_finding(f"the advisor logs in with KvK {kvk}: the employer's grant must be confirmed and "
                                f"for exactly {kvk}", case, advice, message=i))
    elif kvk:
        out.append(_finding(f"a valid login for KvK {kvk}" + (f" ({ident['represented_name']})"
                                                               if ident.get("represented_name") else ""),
                            "kvk-unknown", advice, message=i,
                            condition=None if symptom == "kvk-not-recognised"
                            else "if the portal refused this KvK number"))
    return out


# --- text output ---------------------------------------------------------------------------------

def render_text(report: dict) -> str:
    lines: list[str] = []
    for i, m in enumerate(report["messages"], 1):
        lines.append(f"[{i}] {m['kind']} — {m['source']} ({' → '.join(m['encoding']) or 'as given'})")
        _fields(lines, m, "    ")
    lines.append("")
    lines.append("What it means (FAQ):" if report["findings"] else "No finding that matches an FAQ case.")
    for f in report["findings"]:
        lines.append(f"  * {f['finding']}")
        if f.get("case"):
            lines.append(f"    FAQ case {f['case']}{' (' + f['condition'] + ')' if f.get('condition') else ''}: "
                         f"\"{f['question']}\"")
        if f.get("check"):
            lines.append(f"    check {f['check']} FAILED ({f['rule']})")
        lines.append(f"    advies: {f['advice_nl']}")
        lines.append(f"    advice: {f['advice_en']}")
    return "\n".join(lines)


def _fields(lines: list[str], m: dict, pad: str) -> None:
    skip = {"kind", "source", "encoding", "checks", "assertion", "response", "attributes"}
    for k, v in m.items():
        if k in skip or v in (None, [], {}):
            continue
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items() if b not in (None, [], {}))
        lines.append(f"{pad}{k}: {v}")
    if m.get("assertion"):
        a = m["assertion"]
        lines.append(f"{pad}assertion {a['id']} from {a['issuer']}, level {a['level']}, audience {a['audience']}")
        for k, v in a["identity"].items():
            lines.append(f"{pad}  {k}: {v}")
        if a.get("service"):
            lines.append(f"{pad}  service: {a['service'].get('name') or '?'} ({a['service']['service_id']})")
        lines.append(f"{pad}  times: " + ", ".join(f"{k}={v}" for k, v in a["times"].items() if v))
    if m.get("response"):
        lines.append(f"{pad}inner Response:")
        _fields(lines, m["response"], pad + "  ")
    for c in m.get("checks") or []:
        lines.append(f"{pad}check {c['check']}: {c['result']}" + (
            f" — expected {c['expected']}, got {c['actual']} ({c['rule']})" if c["result"] != "passed" else ""))
