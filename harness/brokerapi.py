"""The broker as the harness knows it: its HTTP control API (JSON under /_mock/) and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from .httpclient import Client, Connections


class HarnessError(Exception):
    """The harness could not do what the scenario says (not a portal failure)."""


class Broker:
    def __init__(self, url: str, connections: Connections | None = None):
        self.url = url.rstrip("/")
        self.http = Client(connections=connections)  # keep-alive: the control calls of a run on one connection
        self._seen = 0  # the newest journal sequence number read so far (reset keeps the counter going)
        self._known = False

    def _post(self, path: str, body: dict) -> dict:
        resp = self.http.post(f"{self.url}/_mock/{path}", json=body, timeout=15)
        if resp.status_code >= 400:
            raise HarnessError(f"the broker refused {path}: {resp.text[:300]}")
        return resp.json()

    def _get(self, path: str, **params) -> dict:
        resp = self.http.get(f"{self.url}/_mock/{path}", params=params, timeout=15)
        if resp.status_code >= 400:
            raise HarnessError(f"GET /_mock/{path} gave HTTP {resp.status_code}: {resp.text[:300]}")
        return resp.json()

    def reset(self) -> None:
        self._seen = max(self._seen, self._post("reset", {}).get("seq", 0))
        self._known = True

    def queue(self, answer: dict) -> None:
        self._post("next", answer)

    def change_world(self, change: dict) -> dict:
        """A fix at the supplier's management portal (beheerportaal): one change of the broker's world."""
        return self._post("world/changes", change)

    def journal_seq(self) -> int:
        """The newest sequence number this client has seen (from its reset or its last journal read): what a
        step's journal is read after. Entries made in between (its own control calls) come along; harmless."""
        return self._seen

    def journal(self, since: int) -> list[dict]:
        entries = self._get("journal", since=since)["entries"]
        if entries:
            self._seen = max(self._seen, entries[-1]["seq"])
        self._known = True
        return entries

    def faults(self) -> list[dict]:
        return self._get("faults")["faults"]

    def world(self) -> dict:
        return self._get("world")

    def sps(self) -> list[dict]:
        return self._get("sps")["sps"]

    def register(self, metadata_url: str, catalogue_url: str | None = None, options: dict | None = None) -> dict:
        body: dict = {"metadata_url": metadata_url}
        if catalogue_url:
            body["catalogue_url"] = catalogue_url
        if options:
            body["options"] = options
        return self._post("sps", body)


@dataclass
class PortalServices:
    """The FAQ's roles (view, edit) as this portal's services: ServiceID and name of each."""

    dv: str
    ids: dict[str, str]
    names: dict[str, str]
    how: str  # where the mapping comes from, for the run's report
    count: int = 1  # how many services the DV has at the broker
    needed: bool | None = None  # False: the world file's own aliases name these services (its home portal)

    def bind(self, broker: Broker) -> None:
        """Make the world's mandates and chain mandates name these services (the world change bind_services).

        Called after a reset; the first call looks at the world's own aliases, and when they already name
        these services (the example world and the example portal) no change is needed, then or later."""
        if self.needed is None:
            aliases = broker.world().get("services") or {}
            self.needed = any(aliases.get(role) != service_id for role, service_id in self.ids.items())
        if self.needed:
            broker.change_world({"change": "bind_services", "services": dict(self.ids)})


def portal_services(broker: Broker, dv: str, wanted: dict[str, str]) -> PortalServices:
    """The roles mapped to the DV's services: as the profile says, else derived from its registration.

    One service: view = edit. Several: view is the DV's default service, edit the one with the highest
    index among the others. A ServiceID the broker does not know for this DV is an error naming it."""
    registered = next((sp for sp in broker.sps() if sp["entity_id"] == dv), None)
    if registered is None:
        raise HarnessError(f"the portal {dv} is not registered with the broker at {broker.url} (GET /_mock/sps); "
                           "register its metadata first (harness run --register, or POST /_mock/sps)")
    services = registered["services"]
    by_id = {s["service_id"]: s for s in services}
    for role, service_id in wanted.items():
        if service_id not in by_id:
            raise HarnessError(f"profile services.{role}: {service_id} is not a service of {dv} at the broker "
                               f"(it has: {', '.join(by_id)})")
    ids = dict(wanted)
    if len(ids) < 2:
        default = next((s for s in services if s["default"]), services[0])
        others = sorted((s for s in services if s is not default), key=lambda s: s["index"])
        derived = {"view": default["service_id"], "edit": (others[-1] if others else default)["service_id"]}
        if len(ids) == 1:  # one role given: the other is the same service
            derived = dict.fromkeys(("view", "edit"), next(iter(ids.values())))
        ids = {role: ids.get(role, derived[role]) for role in ("view", "edit")}
    how = "the profile's services" if wanted else \
        f"derived from the {len(services)} service(s) of {dv} at the broker"
    return PortalServices(dv=dv, ids=ids, names={r: by_id[s]["name"] for r, s in ids.items()}, how=how,
                          count=len(services))
