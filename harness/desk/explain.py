"""From what an answer says to its meaning, the FAQ cases it fits and the advice the FAQ gives.

Everything case-specific is the case catalogue's (harness/cases.yaml): a case's `answer` pattern says which
answers show it, its `symptoms` when a customer's complaint makes it certain, and its advice texts. A failed DV
check is one finding beside the others, with the rule it breaks; the meaning and a FAQ case are always given.
"""

from __future__ import annotations

import re
from datetime import timedelta

from ehsaml.eherkenning import Level
from ehsaml.errors import SamlError
from ehsaml.timeutil import parse

from ..cases import load_cases

_LEVEL_IN_TEXT = re.compile(r"\b(EH2\+|EH[1-4]|loa2plus|loa[1-4])(?![\w+])")
_SKEW = timedelta(seconds=60)  # the DV checks' clock skew (DvPolicy's default)
POST_SIGNATURE_RULE = ("eHerkenning (HTTP-POST): the broker signs the Response and the assertion; SAML core 5.2 "
                       "allows signing only the assertion, and inside a signed ArtifactResponse the Response may be "
                       "unsigned, but by POST the scheme wants the Response signed")


def advice_for(case: str | None, catalogue: dict | None = None) -> dict:
    catalogue = catalogue or load_cases()
    if case is None:
        sec = catalogue["security"]
        return {"case": None, "question": sec["question"], "faq_nl": None, "advice_nl": sec["advice_nl"],
                "advice_en": sec["advice_en"], "where": "broker"}
    entry = catalogue["cases"][case]
    return {"case": case, "question": entry["question"], "faq_nl": entry["faq_nl"], "advice_nl": entry["advice_nl"],
            "advice_en": entry["advice_en"], "where": entry["where"]}


# --- the meaning of one answer -------------------------------------------------------------------------

def _rank(label: str | None) -> int | None:
    try:
        return Level.parse(label or "").rank
    except ValueError:
        return None


def meaning(r: dict, required: dict | None, catalogue: dict) -> dict:
    """What one answer (a Response, or the Response inside an ArtifactResponse) says, and its answer facts."""
    status = r.get("status") or {}
    a = r.get("assertion") or {}
    ident = a.get("identity") or {}
    level, named_in = a.get("level"), "assertion"
    if level is None and status.get("message"):
        found = _LEVEL_IN_TEXT.findall(status["message"])
        level, named_in = (Level.parse(found[0]).label, "status message") if found else (None, None)
    need = (required or {}).get("level") or catalogue["defaults"]["min_level"]
    meets = None if _rank(level) is None else _rank(level) >= _rank(need)
    service = a.get("service") or {}
    out = {"status": "Success" if status.get("code") == "Success" else status.get("sub") or status.get("code"),
           "status_message": status.get("message"), "level": level, "level_named_in": named_in if level else None,
           "required_level": need, "required_from": (required or {}).get("from", "the FAQ portal's default"),
           "meets_level": meets,
           "organisation": {k: ident[v] for k, v in (("kvk", "kvk"), ("rsin", "rsin"), ("eidas", "eidas"),
                                                    ("name", "represented_name"), ("branch", "branch")) if ident.get(v)},
           "intermediary": {k: ident[v] for k, v in (("kvk", "intermediary_kvk"), ("name", "intermediary_name"))
                            if ident.get(v)} or None,
           "service": {k: service.get(k) for k in ("service_id", "name", "key")} if service else None,
           "pseudonym": ident.get("pseudonym")}
    if ident.get("encrypted"):
        out["encrypted"] = ident["encrypted"]
    out["facts"] = {"status": out["status"], "level": level, "meets_level": meets,
                    "service": service.get("key"), "intermediary": bool(out["intermediary"]),
                    "identifier": "kvk" if ident.get("kvk") else "eidas" if ident.get("eidas") else None}
    return out


def _fits(pattern: dict, facts: dict) -> bool:
    for name, allowed in pattern.items():
        allowed = allowed if isinstance(allowed, list) else [allowed]
        if facts.get(name) not in allowed:
            return False
    return True


def describe(m: dict) -> str:
    parts = [f"status {m['status']}" + (f" ({m['status_message']!r})" if m.get("status_message") else "")]
    if m["level"]:
        verdict = "" if m["meets_level"] is None else " — enough" if m["meets_level"] else " — too low"
        parts.append(f"level {m['level']} (needs {m['required_level']}{verdict})")
    org = m["organisation"]
    if org:
        parts.append("for " + ", ".join(f"{k} {v}" for k, v in org.items()))
    if m["intermediary"]:
        parts.append("via intermediary " + ", ".join(f"{k} {v}" for k, v in m["intermediary"].items()))
    if m["service"]:
        parts.append(f"service '{m['service'].get('name') or '?'}' ({m['service']['service_id']})")
    if m.get("encrypted"):
        parts.append(f"{', '.join(m['encrypted'])} encrypted (give the DV's key: --key, --cert)")
    return "; ".join(parts)


# --- findings ----------------------------------------------------------------------------------------

def findings(answers: list[tuple[int, dict, dict]], symptom: str | None, catalogue: dict,
             others: list[tuple[int, dict]] = ()) -> list[dict]:
    """(message number, decoded answer, its meaning) → every finding: each failed check with its rule, the
    meaning with its FAQ case, and the other cases the answer may be (conditional on what the customer says).
    `others`: messages that are no answer but were checked (a SAMLart), each failed check a finding too."""
    out: list[dict] = []
    for i, d in others:
        for c in d.get("checks") or []:
            if c["result"] == "FAILED":
                out.append(_finding(_check_text(c, d), None, catalogue, kind="check", check=c["check"],
                                    rule=c["rule"], message=i))
    for i, r, m in answers:
        level_case = next((c for c, e in catalogue["cases"].items() if "level" in (e.get("answer") or {})
                           and _fits(e["answer"], m["facts"])), None)
        for c in r.get("checks") or []:
            if c["result"] == "FAILED" and not _refusal_as_such(c, r, m):
                case = level_case if c["check"] == "authn_level" else None  # a level too low is a FAQ case
                out.append(_finding(_check_text(c, r), case, catalogue, kind="check", check=c["check"],
                                    rule=_check_rule(c, r), message=i))
        out.extend(_cases(i, m, symptom, catalogue))
    return out


def _cases(i: int, m: dict, symptom: str | None, catalogue: dict) -> list[dict]:
    """The answer's own FAQ case first (the one the customer's complaint or the refusal makes certain, else the
    case that describes this answer most closely), then every other case it fits, each with its condition."""
    cases = catalogue["cases"]
    matched = [c for c, e in cases.items() if e.get("answer") and _fits(e["answer"], m["facts"])]
    refused = m["facts"]["status"] != "Success" or m["facts"]["meets_level"] is False
    certain = [c for c in matched if cases[c]["symptoms"] and (refused or not cases[c].get("possible")
                                                                or (symptom and symptom in cases[c]["symptoms"]))]
    closest = sorted(matched, key=lambda c: -len(cases[c]["answer"]))  # stable: catalogue order breaks ties
    main = (certain or closest or [None])[0]
    condition = None
    if main is not None and main not in certain and cases[main]["symptoms"]:  # describes it only if so complained
        condition = f"if the complaint is {cases[main]['symptoms'][0]}"
    if main is None:  # no case of the catalogue fits exactly: the closest answer, said to be so
        main = "cancel-at-broker" if m["facts"]["status"] != "Success" else \
            "loa-eh2plus-refused" if m["facts"]["meets_level"] is False else "kvk-unknown"
        condition = "closest FAQ answer; no FAQ case names this answer exactly"
    out = [_finding(f"the answer: {describe(m)}", main, catalogue, kind="meaning", condition=condition, message=i)]
    hit = bool(symptom) and any(symptom in cases[c]["symptoms"] for c in certain)  # the complaint names its case
    for c in matched:
        if c == main or not cases[c]["symptoms"]:
            continue
        if c in certain:
            why = f"what the customer reports ({symptom})" if symptom in cases[c]["symptoms"] else "the same answer"
            out.append(_finding(f"{why} also fits FAQ case {c}", c, catalogue, kind="case", message=i))
        elif not refused and not hit:
            says = catalogue["symptoms"][cases[c]["symptoms"][0]]
            out.append(_finding(f"if the customer says: {says['says_en']} ({says['says_nl']})", c, catalogue,
                                kind="case", condition=f"if the complaint is {cases[c]['symptoms'][0]}", message=i))
    return out


def _finding(text: str, case: str | None, catalogue: dict, **extra) -> dict:
    return {"finding": text, **advice_for(case, catalogue), "condition": None, **extra}


def _refusal_as_such(c: dict, r: dict, m: dict) -> bool:
    """A refusal status is the answer's meaning, not a fault; nor is the assertion a refusal rightly lacks."""
    if m["facts"]["status"] == "Success":
        return False
    return c["check"] == "status" or (c["check"] == "single_assertion" and not r.get("assertion")
                                      and not r.get("assertion_encrypted"))


def _check_rule(c: dict, r: dict) -> str:
    if c["check"] == "response_signature" and not r.get("signed") and "HTTP-POST" in (r.get("binding") or ""):
        return POST_SIGNATURE_RULE
    return c["rule"]


def _check_text(c: dict, r: dict) -> str:
    name, a = c["check"], r.get("assertion") or {}
    at = r.get("judged_at")
    times = a.get("times") or {}
    if name in ("conditions_time", "subject_confirmation_expiry") and at:
        until = times["not_on_or_after"] if name == "conditions_time" else times["confirmation_not_on_or_after"]
        start = times.get("not_before") if name == "conditions_time" else None
        when = _parse(at)
        what = "the assertion's Conditions" if name == "conditions_time" else "the SubjectConfirmationData"
        if _parse(until) is not None and when is not None and when - _SKEW >= _parse(until):
            return f"expired: {what} ended at {until}, before {at}, the time it is judged at ({name})"
        if _parse(start) is not None and when is not None and when + _SKEW < _parse(start):
            return f"not yet valid: {what} start at {start}, after {at}, the time it is judged at ({name})"
    if name == "issue_instant" and at:
        return f"IssueInstant out of range at {at}: {c['actual']} (expected {c['expected']})"
    if name == "response_signature" and a.get("signed") and not r.get("signed") and "HTTP-POST" in (r.get("binding") or ""):
        return "the Response is not signed, only its assertion: by HTTP-POST a DV wants both (response_signature)"
    if name == "authn_level":
        return f"level {c['actual']} is below the {c['expected']} the service needs (authn_level)"
    return f"a DV must refuse this answer: check {name} failed (expected {c['expected']}, got {c['actual']})"


def _parse(value):
    try:
        return parse(value, where="time") if value else None
    except SamlError:
        return None


# --- text output -----------------------------------------------------------------------------------

def render_text(report: dict) -> str:
    lines: list[str] = []
    for i, m in enumerate(report["messages"], 1):
        lines.append(f"[{i}] {m['kind']} — {m['source']} ({' → '.join(m['encoding']) or 'as given'})")
        _fields(lines, m, "    ")
    lines.append("")
    lines.append("What it means (FAQ):" if report["findings"] else "No answer to explain (no Response in the capture).")
    for f in report["findings"]:
        lines.append(f"  * {f['finding']}")
        if f.get("case"):
            lines.append(f"    FAQ case {f['case']}{' (' + f['condition'] + ')' if f.get('condition') else ''}: "
                         f"\"{f['question']}\"")
        if f.get("check"):
            lines.append(f"    check {f['check']} FAILED — rule: {f['rule']}")
        if f.get("note"):
            lines.append(f"    {f['note']}")
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
