"""The broker's world as the support desk reads it: GET /_mock/world of the control API, nothing else.

Plain data in the world file's format (organisations, people, mandates, chain mandates); used to fill a
case's template scenario with the customer's numbers and to find what of them the world lacks.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests


class BrokerWorldError(Exception):
    pass


@dataclass(frozen=True)
class BrokerWorld:
    data: dict

    @classmethod
    def fetch(cls, broker_url: str) -> "BrokerWorld":
        try:
            resp = requests.get(f"{broker_url.rstrip('/')}/_mock/world", timeout=10)
        except requests.RequestException as exc:
            raise BrokerWorldError(f"cannot reach the broker's control API at {broker_url}: {exc}") from None
        if resp.status_code != 200:
            raise BrokerWorldError(f"GET {broker_url}/_mock/world gave HTTP {resp.status_code}: the support desk "
                                   f"tools need the mock broker's control API (not --no-control-api)")
        return cls(resp.json())

    @property
    def organisations(self) -> list[dict]:
        return self.data.get("organisations", [])

    def organisation(self, org_id: str) -> dict | None:
        return next((o for o in self.organisations if o["id"] == org_id), None)

    def by_number(self, number: str) -> dict | None:
        """The organisation with this KvK number, RSIN or eIDAS identifier."""
        return next((o for o in self.organisations if number in (o.get("kvk"), o.get("rsin"), o.get("eidas"))), None)

    def person(self, person_id: str) -> dict | None:
        return next((p for p in self.data.get("people", []) if p["id"] == person_id), None)

    def branch_owner(self, number: str) -> dict | None:
        return next((o for o in self.organisations if any(b["number"] == number for b in o.get("branches", []))), None)

    def mandate_services(self, person: str, org: str) -> list[str]:
        """The services of the person's mandate for the whole organisation (not a branch mandate)."""
        return [s for m in self.data.get("mandates", []) if m["person"] == person and m["organisation"] == org
                and not m.get("branch") for s in m["services"]]

    def chains_of(self, person: str) -> list[dict]:
        """The chain mandates this person may use, with the person's own services under each."""
        out = []
        for c in self.data.get("chain_mandates", []):
            for e in c.get("employees", []):
                if e["person"] == person:
                    out.append({**c, "person_services": e.get("services")})
        return out

    def has_chain(self, represented: str, intermediary: str) -> bool:
        return any((c["represented"], c["intermediary"]) == (represented, intermediary)
                   for c in self.data.get("chain_mandates", []))
