"""Mutations of the status family: an error answer (no mandate, cancelled) that is not this DV's to believe.

A DV that takes any status answer carrying its request ID shows "no mandate" for an answer made for another
DV, or forged: the answer must pass every addressing check (signature, Issuer, Destination) first.
"""

from __future__ import annotations

from lxml import etree

from ehsaml import dsig

from ..registry import last_answer, mutation
from ...response import status_element
from ._common import OTHER_ACS, OTHER_DV, STATUS, _assertions, _q, _sign, attacker


@mutation("status_answer")
def status_answer(ctx, top="Responder", second="RequestUnsupported",
                  message="The person has no mandate (machtiging) for this service. / Er is geen machtiging voor deze "
                          "dienst. (fault case)",
                  keep_assertion=False, audience=None, destination=None, remove_destination=False, issuer=None,
                  signer="broker", in_response_to=None):
    """Turn the login into an error answer, worded as the broker words its own (so a DV that believes it shows the
    broker's refusal): another DV's Destination or Issuer, signed by the attacker or not at all, the request ID of
    an earlier login, or with the assertion kept (its Audience another DV's)."""
    r = ctx.response
    old = r.find(_q("Status", "samlp"))
    old.addprevious(status_element(etree.Element("holder"), STATUS[top], STATUS[second] if second else None, message))
    r.remove(old)
    for a in _assertions(r):
        if not keep_assertion:
            r.remove(a)
        elif audience == "other":
            a.find(f".//{_q('Audience')}").text = OTHER_DV
            _sign(a, ctx.keypair)
    if destination == "other":
        r.set("Destination", OTHER_ACS)
    if remove_destination:
        r.attrib.pop("Destination", None)
    if issuer:
        r.find(_q("Issuer")).text = issuer
    if in_response_to == "earlier":
        earlier = last_answer(ctx.broker, ctx.dv.entity_id)
        r.set("InResponseTo", earlier["request_id"] if earlier else "_" + "0" * 40)
    dsig.strip_signature(r)
    if signer != "none":
        _sign(r, attacker() if signer == "attacker" else ctx.keypair)
    return r
