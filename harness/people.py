"""The broker's world as the harness reads it (GET /_mock/world, control API only): who can replay a report.

`World.steps(case, report)` writes the scenario steps of one FAQ case with people who fit the report
(level, KvK numbers, service); without a readable world it falls back to inline identities.
"""

from __future__ import annotations

import requests

LEVELS = ["EH1", "EH2", "EH2+", "EH3", "EH4"]
PORTAL = ("view", "edit")


class WorldError(Exception):
    pass


class World:
    def __init__(self, data: dict | None):
        self.data = data or {}
        self.inline = data is None
        self.orgs = {o["id"]: o for o in self.data.get("organisations", [])}
        self.people = {p["id"]: p for p in self.data.get("people", [])}
        self.mandates = self.data.get("mandates", [])
        self.chains = self.data.get("chain_mandates", [])

    @classmethod
    def fetch(cls, broker_url: str) -> "World":
        try:
            resp = requests.get(f"{broker_url.rstrip('/')}/_mock/world", timeout=10)
        except requests.RequestException as exc:
            raise WorldError(f"cannot reach the broker's control API at {broker_url}: {exc}") from None
        if resp.status_code == 404:
            return cls(None)  # no world endpoint: inline identities
        if resp.status_code != 200:
            raise WorldError(f"GET /_mock/world gave HTTP {resp.status_code}: {resp.text[:200]}")
        return cls(resp.json())

    # --- who --------------------------------------------------------------------------------------
    def org(self, kvk: str | None) -> str | None:
        return next((o["id"] for o in self.orgs.values() if kvk and o.get("kvk") == kvk), None)

    def _services(self, person: str, org: str) -> set[str]:
        return {s for m in self.mandates if m["person"] == person and m["organisation"] == org and not m.get("branch")
                for s in m["services"]}

    def _pick(self, fits, want: str | None, what: str) -> str:
        if want:
            if want not in self.people:
                raise WorldError(f"person {want!r} is not in the broker's world (GET /_mock/world)")
            return want
        found = [p for p in self.people if fits(p)]
        if not found:
            raise WorldError(f"no person in the broker's world fits: {what}")
        return found[0]

    def employer(self, kvk, service: str, level: str | None = None, person: str | None = None) -> tuple[str, str]:
        """A person with a mandate for the employer (by KvK) that includes `service`, of `level` (else ≥ EH3)."""
        def fits(p, org):
            lvl = self.people[p]["level"]
            return service in self._services(p, org) and (lvl == level if level else LEVELS.index(lvl) >= 3)
        for org in ([self.org(kvk)] if kvk else list(self.orgs)):
            if org is None:
                continue
            if person or any(fits(p, org) for p in self.people):
                return self._pick(lambda p: fits(p, org), person, ""), org
        raise WorldError(f"no person in the broker's world holds a mandate '{service}'"
                         + (f" at level {level}" if level else "") + (f" for KvK {kvk}" if kvk else ""))

    def without_mandate(self, kvk, person=None) -> tuple[str, str]:
        """A person of the employer with no mandate for the portal's services (another DV's, or none)."""
        for org in ([self.org(kvk)] if kvk else list(self.orgs)):
            fits = [p for p in self.people if not self._services(p, org) & set(PORTAL) and (
                self._services(p, org) or self.people[p].get("works_for") == org)]
            if person or fits:
                return person or fits[0], org
        raise WorldError(f"no person in the broker's world lacks a portal mandate for KvK {kvk}")

    def chain(self, kvk, advisor_kvk, service: str, person=None) -> tuple[str, str]:
        for c in self.chains:
            if (kvk and c["represented"] != self.org(kvk)) or (advisor_kvk and c["intermediary"] != self.org(advisor_kvk)):
                continue
            for e in c["employees"]:
                if service in (e.get("services") or c["services"]) and (person in (None, e["person"])):
                    return e["person"], c["represented"]
        raise WorldError(f"no chain mandate '{service}' in the broker's world for employer {kvk or '(any)'}"
                         + (f" through advisor {advisor_kvk}" if advisor_kvk else ""))

    def eidas(self, person=None) -> tuple[str, str]:
        for m in self.mandates:
            org = self.orgs.get(m["organisation"], {})
            if org.get("eidas") and not org.get("kvk") and person in (None, m["person"]):
                return m["person"], m["organisation"]
        raise WorldError("no person of a foreign (eIDAS) company in the broker's world")

    # --- steps per case ---------------------------------------------------------------------------
    def _login(self, who: tuple[str, str] | None, service: str, expect: dict | None = None,
               identity: dict | None = None) -> dict:
        if self.inline or who is None:
            step = {"login": {"identity": {k: v for k, v in (identity or {}).items() if v}, "service": service}}
        else:
            step = {"login": {"as": who[0], "for": who[1], "service": service}}
        if expect:
            step["expect"] = expect
        return step

    def _as_employer(self, r, service="edit", level=None, person=None):
        if self.inline:
            return None
        return self.employer(r.kvk, service, level, person)

    def steps(self, case: str, r) -> list[dict]:
        svc = r.service if r.service in PORTAL else "edit"
        refused = lambda code, *words: {"logged_in": False, "refused": code,  # noqa: E731
                                        **({"page_contains": list(words)} if words else {})}
        ident = lambda kvk, **kw: {"kvk": kvk, "level": "EH3", "service": kw.pop("service", svc), **kw}  # noqa: E731
        if case == "cancel-at-broker":
            return [{"login": {"cancel": True, "service": svc}, "expect": refused("authn_failed", "leverancier")}]
        if case in ("loa-eh2-refused", "loa-eh2plus-refused"):
            level = r.level if r.level in ("EH2", "EH2+") else ("EH2" if case == "loa-eh2-refused" else "EH2+")
            who = None if self.inline else self.employer(r.kvk, svc, level, r.person)
            return [self._login(who, svc, refused("authn_failed", "EH3"), identity=ident(r.kvk, level=level))]
        if case == "no-mandate-for-portal":
            if self.inline:
                return [{"login": {"broker_status": {"status": "Responder", "sub": "RequestUnsupported",
                                                     "message": "no mandate"}, "service": "view"},
                         "expect": refused("no_mandate", "machtigingenbeheerder")}]
            return [self._login(self.without_mandate(r.kvk, r.person), "view",
                                refused("no_mandate", "machtigingenbeheerder", "Bekijk gegevens"))]
        if case == "kvk-unknown":
            who = self._as_employer(r, svc, None, r.person)
            return [self._login(who, svc, refused("kvk_unknown", "relatiebeheerder"), identity=ident(r.kvk))]
        if case == "eidas-foreign-company":
            who = None if self.inline else self.eidas(r.person)
            return [self._login(who, svc, refused("eidas_no_kvk", "relatiebeheerder"),
                                identity=ident(None, eidas="XX/NL/UNKNOWN-1"))]
        if case in ("chain-mandate-unknown-employer", "chain-mandate-view"):
            service = "view"
            who = None if self.inline else self.chain(r.kvk, r.advisor_kvk, service, r.person)
            kw = ident(r.kvk, service=service, intermediary_kvk=r.advisor_kvk, intermediary_name="Adviseur")
            if case == "chain-mandate-unknown-employer":
                return [self._login(who, service, refused("kvk_unknown", "relatiebeheerder"), identity=kw)]
            return [self._login(who, service, {"logged_in": True, "route": "chain", "rights": ["view"]}, identity=kw),
                    {"change": {}, "expect": {"refused": "no_change_rights"}}]
        if case == "service-view-readonly":
            who = self._as_employer(r, "view", None, r.person)
            return [self._login(who, "view", {"logged_in": True, "rights": ["view"]}, identity=ident(r.kvk, service="view")),
                    {"change": {}, "expect": {"refused": "no_change_rights", "page_contains": ["Bekijk en wijzig gegevens"]}}]
        # The employer's side first: log in with "edit" for the KvK of the report.
        employer = self._login(self._as_employer(r), "edit", None, identity=ident(r.kvk, service="edit"))
        if case == "add-kvk-not-in-contract":
            return [employer, {"add_kvk": {"kvk": r.other_kvk},
                               "expect": {"refused": "kvk_not_in_contract", "page_contains": ["pensioencontract"]}}]
        if case == "route-b-advisor-kvk-unknown":
            return [employer, {"grant_access": {"advisor_kvk": r.advisor_kvk, "rights": "view"},
                               "expect": {"refused": "advisor_unknown", "page_contains": ["relatiebeheerder"],
                                          "outbox": {"count": 0}}}]
        advisor = self._login(None if self.inline else self.employer(r.advisor_kvk, "edit", None, r.person), "edit",
                              None, identity=ident(r.advisor_kvk, service="edit"))
        if case == "route-b-view-then-upgrade":
            return [employer, {"grant_access": {"advisor_kvk": r.advisor_kvk, "rights": "view"}},
                    {"confirm_email": {}}, {"logout": {}}, advisor,
                    {"choose_employer": {"kvk": r.kvk}, "expect": {"logged_in": True, "rights": ["view"]}},
                    {"change": {}, "expect": {"refused": "no_change_rights"}}]
        if case in ("route-b-unconfirmed", "route-b-wrong-kvk"):
            granted = r.granted_kvk or r.advisor_kvk
            steps = [employer, {"grant_access": {"advisor_kvk": granted, "rights": "view"}, "expect": {"allowed": True}}]
            if r.confirmed or case == "route-b-wrong-kvk":
                steps.append({"confirm_email": {}, "expect": {"allowed": True}})
            advisor["expect"] = refused("no_confirmed_grant")
            return steps + [{"logout": {}}, advisor]
        raise WorldError(f"reproduce has no steps for FAQ case {case!r}")
