"""What the broker's journal says happened in one step: its decision, and whether a hostile answer arrived.

The harness never counts the broker's refusal as the portal's: a login the broker refused, a fault it
did not apply, a hostile answer the portal never received (POST) or never resolved (Artifact) makes the
step `not-tested`, with the cause in words. These functions return that cause, or None.
"""

from __future__ import annotations

import re

from ehsaml import ns

from .browser import Hop

SUCCESS = ns.STATUS_SUCCESS
_ARTIFACT = re.compile(r"<(?:\w+:)?Artifact>\s*([^<\s]+)\s*</(?:\w+:)?Artifact>")


def decision(journal: list[dict]) -> dict | None:
    """The broker's (last) decision on a login in these entries."""
    return next((e for e in reversed(journal) if e.get("event") == "decision"), None)


def refused(entry: dict | None) -> bool:
    return entry is not None and entry.get("status") != SUCCESS


def describe(entry: dict) -> str:
    """The broker's decision in one line: its reason, and the StatusMessage it sent."""
    status = (entry.get("sub_status") or entry.get("status") or "").rsplit(":", 1)[-1]
    message = f": {entry['status_message']}" if entry.get("status_message") else ""
    return f"{entry.get('reason')} ({status}{message})"


def login_premise(journal: list[dict], premise: str | None) -> str | None:
    """None when the broker did what the step needs of it (`login`: let the person in; `refusal`: refuse)."""
    if premise is None:
        return None
    found = decision(journal)
    if found is None:
        return "no AuthnRequest of the portal reached the broker in this step (is the profile's login URL right?)"
    if premise == "login" and refused(found):
        return f"the broker refused the login before the portal saw it: {describe(found)}"
    if premise == "refusal" and not refused(found):
        return (f"the broker let the login through ({found.get('reason')}), but this case needs the broker's "
                "own refusal (is the portal's service level, or the world, what the case assumes?)")
    return None


def delivery(journal: list[dict], hops: list[Hop], fault: str) -> str | None:
    """None when the hostile answer of `fault` reached the portal: by POST, the browser POSTed that exact
    Response to the ACS; by Artifact, the browser brought the SAMLart to the ACS and (unless the fault is the
    SAMLart itself) the portal resolved it and got the ArtifactResponse the fault made."""
    faults = [e for e in journal if e.get("event") == "fault" and e.get("fault") == fault]
    if not faults:
        asked = any(e.get("message_type") == "AuthnRequest" for e in journal)
        return ("the broker never answered a login with this fault" + ("" if asked else
                ": no AuthnRequest of the portal reached it (is the profile's login URL right?)"))
    applied = faults[0]
    if not applied.get("fault_applied"):
        found = decision(journal)
        why = applied.get("reason") or "not applied"
        return why + (f"; the broker decided: {describe(found)}" if refused(found) and "refusal" not in why else "")
    sent = [e for e in journal if e.get("event") == "sent" and e.get("fault") == fault
            and e.get("message_type") == "Response"]
    if not sent:
        return "the broker journalled no Response for this fault"
    answer = sent[-1]
    if answer.get("binding") == ns.BINDING_POST:
        if applied.get("phase") != "response":
            return ("the portal took the answer by HTTP-POST; this fault of the artifact exchange needs "
                    "HTTP-Artifact (set binding: post in the profile to skip it)")
        posted = [h for h in hops if h.method == "POST" and h.saml.get("SAMLResponse") == answer.get("xml")]
        return None if posted else ("the broker sent the hostile Response by HTTP-POST, but the browser never "
                                    "POSTed it to the portal's ACS")
    carried = [h for h in hops if h.saml.get("SAMLart") == answer.get("artifact")]
    if not carried:
        return "the browser never brought the hostile answer's SAMLart to the portal's ACS"
    if applied.get("phase") == "artifact":
        return None  # the SAMLart itself is the hostile part: it reached the ACS
    return _resolved(journal, answer, fault, applied.get("phase"))


def _resolved(journal: list[dict], answer: dict, fault: str, phase: str | None) -> str | None:
    for i, entry in enumerate(journal):
        if entry.get("event") == "received" and entry.get("message_type") == "ArtifactResolve" \
                and _artifact_of(entry.get("xml") or "") == answer.get("artifact"):
            reply = next((e for e in journal[i + 1:] if e.get("event") == "sent"
                          and e.get("message_type") != "Response"), None)
            if reply is None:  # a fault of the resolve itself (a slow answer) that the portal did not wait for
                return None if phase == "resolve" else \
                    "the portal resolved the artifact, but the broker journalled no answer to it"
            if reply.get("fault") != fault or not reply.get("fault_applied"):
                return f"the ArtifactResponse for that artifact was not the hostile one ({reply.get('reason')})"
            return None
    refused_resolves = [e for e in journal if e.get("event") == "refused" and "ArtifactResolve" in (e.get("reason") or "")]
    if refused_resolves:
        return f"the portal's ArtifactResolve was refused by the broker: {refused_resolves[0]['reason']}"
    return ("the portal never resolved the artifact (no ArtifactResolve for it reached the broker): the hostile "
            "answer never reached it")


def _artifact_of(xml: str) -> str | None:
    m = _ARTIFACT.search(xml)
    return m.group(1) if m else None
