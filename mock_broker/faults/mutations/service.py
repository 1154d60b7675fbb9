"""Mutations of the service family: an answer for one of the DV's own services, but not the one it asked for."""

from __future__ import annotations

from lxml import etree

from ehsaml import eherkenning as eh

from ..registry import NotApplicable, mutation
from ._common import _assertion, _q, _resign
from .eherkenning import _attribute_el, _clear


def _other_service(ctx):
    """Another service of the same DV than the one the login was for (view for edit: more or fewer rights)."""
    asked = ctx.outcome.identity.service_id
    other = next((s for s in ctx.dv.services if s.service_id != asked), None)
    if other is None:
        raise NotApplicable("the DV has only one service: there is no other to answer with")
    return other


def _set_values(ctx, name: str, values) -> None:
    attr = _attribute_el(ctx, name)
    _clear(attr)
    for value in values:
        etree.SubElement(attr, _q("AttributeValue")).text = value


@mutation("other_own_service")
def other_own_service(ctx, uuid="match"):
    """The ServiceID of another of the DV's own services; its ServiceUUID matching it (match) or the asked one (keep)."""
    _assertion(ctx)
    other = _other_service(ctx)
    _set_values(ctx, eh.ATTR_SERVICE_ID, [other.service_id])
    if uuid == "match":
        catalogued = _catalogue_uuid(ctx, other.service_id)
        if catalogued is None:
            raise NotApplicable("the DV's catalogue gives no ServiceUUID for its other service")
        _set_values(ctx, eh.ATTR_SERVICE_UUID, [catalogued])
    _resign(ctx)
    return ctx.response


@mutation("other_own_service_uuid")
def other_own_service_uuid(ctx):
    """The asked ServiceID with the ServiceUUID of another of the DV's own services."""
    _assertion(ctx)
    catalogued = _catalogue_uuid(ctx, _other_service(ctx).service_id)
    if catalogued is None:
        raise NotApplicable("the DV's catalogue gives no ServiceUUID for its other service")
    _set_values(ctx, eh.ATTR_SERVICE_UUID, [catalogued])
    _resign(ctx)
    return ctx.response


def _catalogue_uuid(ctx, service_id: str) -> str | None:
    service = ctx.dv.service_by_id(service_id)
    return service.service_uuid if service else None
