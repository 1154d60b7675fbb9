"""Mutations of the protocol family: InResponseTo, times, Audience, Destination, Issuer, status."""

from __future__ import annotations

import copy
import secrets

from lxml import etree

from ehsaml import dsig
from ehsaml.xml import parse_own

from ..registry import NotApplicable, last_answer, mutation
from ...response import status_element
from ._common import OTHER_DV, STATUS, _assertion, _find, _find_in_response, _q, _resign, _set, set_text



@mutation("response_attribute")
def response_attribute(ctx, name, value=None, remove=False, offset_seconds=None, random_id=False):
    """Set, shift or remove an attribute of the Response (InResponseTo, Destination, IssueInstant, Version, ID)."""
    _set(ctx.response, name, value=value, remove=remove, offset_seconds=offset_seconds, random_id=random_id)
    _resign(ctx, assertion=False, response=ctx.response_signed and ctx.response.get("ID") is not None)
    return ctx.response


@mutation("assertion_attribute")
def assertion_attribute(ctx, element, name, value=None, remove=False, offset_seconds=None, random_id=False):
    """Set, shift or remove an attribute of the assertion or of one of its parts (Conditions, NameID, …)."""
    target = _find(_assertion(ctx), element)
    if element == "Assertion" and name == "ID":  # the old signature would name the old ID: drop it first
        dsig.strip_signature(target)
    _set(target, name, value=value, remove=remove, offset_seconds=offset_seconds, random_id=random_id)
    _resign(ctx)
    return ctx.response


@mutation("remove_element")
def remove_element(ctx, element, target="assertion"):
    """Remove a part of the assertion (Conditions, Subject, NameID, Issuer…) or of the Response (Issuer, StatusCode)."""
    el = _find(_assertion(ctx), element) if target == "assertion" else _find_in_response(ctx.response, element)
    el.getparent().remove(el)
    _resign(ctx, assertion=target == "assertion")
    return ctx.response


@mutation("element_text")
def element_text(ctx, element, value, markup=False, target="assertion"):
    """Another content for a part of the assertion (NameID, Audience, Issuer…) or the Response: text or markup."""
    el = _find(_assertion(ctx), element) if target == "assertion" else _find_in_response(ctx.response, element)
    set_text(el, value, markup=markup)
    _resign(ctx, assertion=target == "assertion")
    return ctx.response


@mutation("in_response_to_of_earlier")
def in_response_to_of_earlier(ctx):
    """Answer with the request ID of the DV's earlier (already answered) login, in Response and assertion."""
    earlier = last_answer(ctx.broker, ctx.dv.entity_id)
    irt = earlier["request_id"] if earlier else "_" + secrets.token_hex(20)
    ctx.response.set("InResponseTo", irt)
    _find(_assertion(ctx), "SubjectConfirmationData").set("InResponseTo", irt)
    _resign(ctx)
    return ctx.response


@mutation("unsolicited")
def unsolicited(ctx):
    """An answer to no request: no InResponseTo anywhere (IdP-initiated)."""
    ctx.response.attrib.pop("InResponseTo", None)
    _find(_assertion(ctx), "SubjectConfirmationData").attrib.pop("InResponseTo", None)
    _resign(ctx)
    return ctx.response


@mutation("replay_response")
def replay_response(ctx):
    """Send the DV's previous Response again, unchanged."""
    earlier = last_answer(ctx.broker, ctx.dv.entity_id)
    if earlier is None:
        raise NotApplicable("there is no earlier answer to this DV to replay")
    return parse_own(earlier["xml"], what="earlier Response")


@mutation("issuer")
def issuer(ctx, target="response", value="urn:etoegang:HM:00000009999999999000:entities:9001", format=None):
    """Another Issuer (or an Issuer Format other than entity) on the Response or the assertion."""
    el = (ctx.response if target == "response" else _assertion(ctx)).find(_q("Issuer"))
    el.text = value
    if format:
        el.set("Format", format)
    _resign(ctx)
    return ctx.response


@mutation("audience")
def audience(ctx, value=OTHER_DV, extra_restriction=False):
    """Another Audience, or an extra AudienceRestriction that leaves this DV out."""
    restriction = _find(_assertion(ctx), "AudienceRestriction")
    if extra_restriction:
        restriction.addnext(etree.Element(_q("AudienceRestriction")))
        etree.SubElement(restriction.getnext(), _q("Audience")).text = value
    else:
        restriction.find(_q("Audience")).text = value
    _resign(ctx)
    return ctx.response


@mutation("confirmation_method")
def confirmation_method(ctx, method):
    """A SubjectConfirmation Method other than bearer."""
    _find(_assertion(ctx), "SubjectConfirmation").set("Method", method)
    _resign(ctx)
    return ctx.response


@mutation("status")
def status(ctx, top="Responder", second=None, remove=False):
    """A status other than Success (or none), with the assertion still there."""
    old = ctx.response.find(_q("Status", "samlp"))
    if remove:
        ctx.response.remove(old)
    else:
        holder = etree.Element("holder")
        new = status_element(holder, STATUS[top], STATUS[second] if second else None, "fault case")
        old.addprevious(new)
        ctx.response.remove(old)
    _resign(ctx, assertion=False)
    return ctx.response


@mutation("authn_statements")
def authn_statements(ctx, count=0):
    """No AuthnStatement, or several."""
    a = _assertion(ctx)
    statement = a.find(_q("AuthnStatement"))
    if count == 0:
        a.remove(statement)
    for _ in range(count - 1):
        statement.addnext(copy.deepcopy(statement))
    _resign(ctx)
    return ctx.response


# --- eHerkenning -----------------------------------------------------------------------------------
