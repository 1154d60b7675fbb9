"""Names in a world change resolved against the world: people by id or name, organisations by id, KvK
number or RSIN, branches by number, services by the world's alias or by a registered DV's ServiceID.

Every refusal is a ChangeError whose message names the field of the change.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ehsaml.eherkenning import is_rsin

from .world import World

if TYPE_CHECKING:
    from .registry import Registry

_SERVICE_ID = re.compile(r"^urn:etoegang:DV:(\d{20}):services:\d+$")
_NUMERIC = re.compile(r"^[0-9][0-9 .\-]*$")


class ChangeError(ValueError):
    """A change that is refused; the message names the field of the change."""


class Normaliser:
    """Resolves references in a change (people, organisations, services, branches) against the world."""

    def __init__(self, world: World, registry: "Registry | None"):
        self.world, self.registry = world, registry

    def person(self, fld: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ChangeError(f"{fld}: give a person id (a string)")
        person = self.world.find_person(value)
        if person is None:
            raise ChangeError(f"{fld}: unknown person {value!r} (GET /_mock/world lists the people)")
        return person.id

    def organisation(self, fld: str, value: Any) -> str:
        """An organisation id, KvK number (8 digits) or RSIN (9 digits, 11-test) → the organisation's id."""
        if not isinstance(value, str) or not value.strip():
            raise ChangeError(f"{fld}: give an organisation id, KvK number or RSIN (a string)")
        value = value.strip()
        if value in self.world.organisations:
            return value
        if _NUMERIC.match(value):
            if re.fullmatch(r"\d{8}", value):
                org = self.world.organisation_by_kvk(value)
                if org is None:
                    raise ChangeError(f"{fld}: no organisation of the world has KvK number {value!r}")
                return org.id
            if re.fullmatch(r"\d{9}", value):
                if not is_rsin(value):
                    raise ChangeError(f"{fld}: RSIN {value!r} fails the 11-test")
                org = next((o for o in self.world.organisations.values() if o.rsin == value), None)
                if org is None:
                    raise ChangeError(f"{fld}: no organisation of the world has RSIN {value!r}")
                return org.id
            raise ChangeError(f"{fld}: {value!r} is not a KvK number (8 digits) or an RSIN (9 digits), "
                              "nor an organisation id")
        raise ChangeError(f"{fld}: unknown organisation {value!r} (GET /_mock/world lists the organisations)")

    def branch(self, fld: str, world: World, org_id: str, value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"\d{12}", value.strip()):
            raise ChangeError(f"{fld}: {value!r} is not a branch number (vestigingsnummer, 12 digits)")
        value = value.strip()
        org = world.organisations[org_id]
        if org.branch(value) is None:
            known = ", ".join(b.number for b in org.branches) or "none"
            raise ChangeError(f"{fld}: {value!r} is not a branch of {org_id!r} (its branches: {known}; "
                              "add one with add_branch)")
        return value

    def services(self, fld: str, value: Any, *, existing_only: bool = False) -> list[str]:
        """World aliases or ServiceIDs → a de-duplicated list, each written as its alias where there is one."""
        if not isinstance(value, list) or not value:
            raise ChangeError(f"{fld}: give a non-empty list of services (world aliases such as "
                              f"{', '.join(self.world.services) or 'view'}, or ServiceIDs)")
        out: list[str] = []
        for j, name in enumerate(value):
            f = f"{fld}[{j}]"
            if not isinstance(name, str) or not name.strip():
                raise ChangeError(f"{f}: give a service alias or ServiceID (a string)")
            name = name.strip()
            if name in self.world.services:
                out.append(name)
                continue
            m = _SERVICE_ID.match(name)
            if not m:
                raise ChangeError(f"{f}: unknown service {name!r} (aliases: {', '.join(self.world.services) or 'none'}"
                                  "; or a ServiceID urn:etoegang:DV:<OIN>:services:<n> of a registered DV)")
            if not existing_only and self.registry is not None:
                self._offered(f, name, m.group(1))
            out.append(self.world.service_alias(name) or name)
        return list(dict.fromkeys(out))

    def binding(self, fld: str, value: Any) -> dict[str, str]:
        """{alias: ServiceID}: each an alias of the world, each ServiceID one a registered DV offers."""
        if not isinstance(value, dict) or not value:
            raise ChangeError(f'{fld}: give {{alias: ServiceID}}, e.g. {{"view": "urn:etoegang:DV:<OIN>:services:1", '
                              f'"edit": "urn:etoegang:DV:<OIN>:services:2"}}')
        out: dict[str, str] = {}
        for alias, service_id in value.items():
            f = f"{fld}.{alias}"
            if alias not in self.world.services:
                raise ChangeError(f"{f}: no service alias {alias!r} in the world (aliases: {', '.join(self.world.services)})")
            m = _SERVICE_ID.match(service_id) if isinstance(service_id, str) else None
            if m is None:
                raise ChangeError(f"{f}: {service_id!r} is not a ServiceID (urn:etoegang:DV:<OIN>:services:<n>)")
            if self.registry is not None:
                self._offered(f, service_id, m.group(1))
            out[alias] = service_id
        return out

    def _offered(self, fld: str, service_id: str, oin: str) -> None:
        dvs = self.registry.all()
        if any(s.service_id == service_id for dv in dvs for s in dv.services):
            return
        same_oin = [dv for dv in dvs if any(_SERVICE_ID.match(s.service_id).group(1) == oin
                                            for s in dv.services if _SERVICE_ID.match(s.service_id))]
        if same_oin:
            dv = same_oin[0]
            offered = "; ".join(f"{s.service_id} ({s.name})" for s in dv.services)
            raise ChangeError(f"{fld}: the DV {dv.entity_id} does not offer {service_id} (it offers: {offered})")
        raise ChangeError(f"{fld}: unknown service {service_id!r}: no world alias, and no registered DV offers it "
                          "(GET /_mock/sps lists the registered DVs and their services)")
