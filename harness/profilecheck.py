"""`harness profile check PROFILE --portal-url URL`: log in once per service and say, field by field, what
the profile lets the harness observe on this portal, and what it cannot.

Each line is OK (seen and as expected), MISS (the profile names it, the portal does not give it, or not
as expected) or SKIP (the profile does not name it: scenarios needing it are skipped), with what was
seen. It uses the broker's control API only: a login for Bakkerij De Vries (KvK 12345678) per service
(sophie-peters for view, anna-de-vries for edit), one cancel, and the logout if the profile has one.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

from ehsaml import ns
from ehsaml.datafile import DataFileError

from . import oracle, paths
from .brokerapi import Broker, HarnessError, portal_services
from .browser import Browser, Page
from .httpclient import HttpError
from .profile import CannotDo, Profile, load_profile

# who logs in for each role: the example world's employees of Bakkerij De Vries with that mandate
PEOPLE, ORGANISATION, KVK = {"view": "sophie-peters", "edit": "anna-de-vries"}, "bakkerij-de-vries", "12345678"
_PSEUDONYM = re.compile(r"^[0-9a-f]{64}@[0-9a-f]{32}$")


@dataclass
class Line:
    status: str  # OK, MISS or SKIP
    field: str
    said: str

    def __str__(self) -> str:
        return f"{self.status:<4} {self.field}: {self.said}"


class Checker:
    def __init__(self, profile: Profile, broker_url: str, portal_url: str):
        self.profile, self.portal = profile, portal_url.rstrip("/")
        self.broker = Broker(broker_url)
        self.lines: list[Line] = []

    def say(self, status: str, field: str, said: str) -> None:
        self.lines.append(Line(status, field, said))

    def run(self) -> list[Line]:
        self.broker.reset()
        try:
            services = portal_services(self.broker, self.profile.dv_entity_id, self.profile.services)
        except HarnessError as exc:
            self.say("MISS", "dv_entity_id", str(exc))
            return self.lines
        self.say("OK", "services", f"view = {services.ids['view']} ({services.names['view']}), edit = "
                                   f"{services.ids['edit']} ({services.names['edit']}); {services.how}")
        self._one_service = services.ids["view"] == services.ids["edit"]  # view = edit: anna's 'edit' mandate
        roles = ("view",) if self._one_service and \
            self.profile.login_path("view") == self.profile.login_path("edit") else ("view", "edit")
        for role in roles:
            self.broker.reset()
            services.bind(self.broker)
            self._login(role, services.ids[role])
        self.broker.reset()
        services.bind(self.broker)
        self._cancel()
        self._state()
        return self.lines

    def _login(self, role: str, service_id: str) -> None:
        browser = Browser()
        path = self.profile.login_path(role)
        person = PEOPLE["edit" if self._one_service else role]
        self.broker.queue({"person": person, "organisation": ORGANISATION, "dv": self.profile.dv_entity_id})
        seq = self.broker.journal_seq()
        page = browser.get(self.portal + path)
        journal = self.broker.journal(seq)
        found = oracle.decision(journal)
        if found is None:
            self.say("MISS", f"login.{role}", f"{path} (HTTP {page.status} at {page.url}) sent no AuthnRequest to "
                                             "the broker")
            return
        asked = (found.get("identity") or {}).get("service_id")
        if oracle.refused(found):
            self.say("MISS", f"login.{role}", f"the broker refused: {oracle.describe(found)}")
            return
        ok = "OK" if asked == service_id else "MISS"
        self.say(ok, f"login.{role}", f"{path} asks for {asked}" + ("" if ok == "OK" else f", not {service_id}"))
        self._binding(journal, page, role)
        self._after_login(browser, page, role, person)

    def _binding(self, journal: list[dict], page: Page, role: str) -> None:
        sent = [e for e in journal if e.get("event") == "sent" and e.get("message_type") == "Response"]
        taken = "artifact" if sent and sent[-1].get("binding") == ns.BINDING_ARTIFACT else "post" if sent else None
        said = self.profile.binding
        if said is None:
            self.say("MISS", "binding", f"not given; this login took the answer by {taken} (write binding: {taken})")
        else:
            self.say("OK" if said == taken else "MISS", "binding", f"{said}; this login took the answer by {taken}")
        if taken == "artifact":
            resolved = any(e.get("message_type") == "ArtifactResolve" for e in journal)
            self.say("OK" if resolved else "MISS", f"login.{role} (artifact)",
                     "the portal resolved the artifact" if resolved else "the portal never resolved the artifact")
        if page.status >= 500:
            self.say("MISS", f"login.{role} (page)", f"HTTP {page.status} at {page.url}")
        elif self.profile.recognises_refusals and self.profile.shows_refusal(page.text):
            self.say("MISS", f"login.{role} (page)", f"a correct login ended on what the profile reads as a refusal "
                                                    f"({page.url}): check refusals")
        else:
            self.say("OK", f"login.{role} (page)", f"HTTP {page.status} at {page.url}")

    def _after_login(self, browser: Browser, page: Page, role: str, person: str) -> None:
        seen = self._whoami(browser)
        if seen is None:
            return
        want = {"logged_in": True, "kvk": KVK, "intermediary_kvk": None}
        for name in ("logged_in", "kvk", "intermediary_kvk", "acting_subject", "rights", "route", "refusal",
                     "refusal_check"):
            if not self.profile.observes(name):
                self.say("SKIP", f"whoami.fields.{name}", "not given: scenarios that need it are skipped")
                continue
            value = seen[name]
            if value is paths.MISSING:
                self.say("MISS", f"whoami.fields.{name}",
                         f"{self.profile.whoami['fields'][name]!r} is not in the whoami answer")
            elif name in want and value != want[name]:
                self.say("MISS", f"whoami.fields.{name}", f"{value!r} after a login of {person} for KvK {KVK}; "
                                                          f"expected {want[name]!r}")
            elif name == "acting_subject" and not (isinstance(value, str) and _PSEUDONYM.match(value)):
                self.say("MISS", f"whoami.fields.{name}", f"{value!r} is not the broker's pseudonym (<64 hex>@<32 hex>)")
            else:
                self.say("OK", f"whoami.fields.{name}", repr(value))
        try:
            spec = self.profile.action("logout")
        except CannotDo:
            self.say("SKIP", "actions.logout", "not given: the security suite's replay cases are skipped")
            return
        method = "post" if "post" in spec else "get"
        browser.post(self.portal + spec["post"], spec.get("form") or {}) if method == "post" \
            else browser.get(self.portal + spec["get"])
        after = self._whoami(browser, quiet=True)
        out = after is not None and after.get("logged_in") is False
        self.say("OK" if out else "MISS", "actions.logout",
                 "logged out" if out else f"whoami after logout: {after and after.get('logged_in')!r}")

    def _whoami(self, browser: Browser, quiet: bool = False) -> dict | None:
        spec = self.profile.whoami
        if spec is None:
            if not quiet:
                self.say("SKIP", "whoami", "not given: every scenario that checks the session is skipped")
            return None
        resp = browser.session.get(self.portal + spec["path"], timeout=10)
        try:
            data = resp.json()
        except ValueError:
            self.say("MISS", "whoami.path", f"{spec['path']} answered HTTP {resp.status_code}, not JSON")
            return None
        if not quiet:
            self.say("OK", "whoami.path", f"{spec['path']}: keys {', '.join(sorted(data)) if isinstance(data, dict) else type(data).__name__}")
        return self.profile.read_whoami(data)

    def _cancel(self) -> None:
        browser = Browser()
        self.broker.queue({"cancel": True, "dv": self.profile.dv_entity_id})
        page = browser.get(self.portal + self.profile.login_path("edit"))
        if not self.profile.recognises_refusals:
            self.say("SKIP", "refusals", "not given: no refusal can be recognised; refusal scenarios are skipped")
            return
        code = self.profile.refusal_code(page.text)
        shown = self.profile.shows_refusal(page.text) and page.status in self.profile.refusal_statuses
        self.say("OK" if shown else "MISS", "refusals",
                 f"a cancel at the broker ended on HTTP {page.status} at {page.url}: "
                 + (f"read as a refusal (code {code or 'none'})" if shown else "not read as a refusal "
                    f"(status in {sorted(self.profile.refusal_statuses)}? page/code_pattern/texts match?)"))

    def _state(self) -> None:
        for name in ("reset", "default_seed", "seed", "outbox", "audit"):
            if name not in (self.profile.data.get("state") or {}):
                self.say("SKIP", f"state.{name}", "not given: scenarios that need it are skipped")
        for action in ("legacy_login", "choose_employer", "choices", "change", "grant_access", "change_grant",
                       "add_kvk"):
            if action not in (self.profile.data.get("actions") or {}):
                self.say("SKIP", f"actions.{action}", "not given: scenarios with this step are skipped")


def add_check(sub) -> None:
    p = sub.add_parser("check", help="log in once per service and say what the profile can and cannot observe")
    p.add_argument("profile", help="the profile file")
    p.add_argument("--portal-url", required=True, help="the running portal")
    p.add_argument("--broker-url", default="http://127.0.0.1:8480", help="the mock broker the portal trusts")
    p.add_argument("--register", action="store_true", help="register the portal's metadata with the broker first")
    p.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    try:
        profile = load_profile(args.profile)
        checker = Checker(profile, args.broker_url, args.portal_url)
        if args.register:
            portal = args.portal_url.rstrip("/")
            catalogue = profile.data.get("catalogue")
            checker.broker.register(portal + profile.data.get("metadata", "/saml/metadata"),
                                    portal + catalogue if catalogue else None, profile.register_options)
        lines = checker.run()
    except (DataFileError, HarnessError, CannotDo) as exc:
        print(f"harness: {exc}")
        return 2
    except HttpError as exc:
        print(f"harness: cannot reach the portal or the broker: {exc}")
        return 2
    for line in lines:
        print(line)
    missing = [x for x in lines if x.status == "MISS"]
    print(f"{len(lines)} fields: {sum(x.status == 'OK' for x in lines)} observed, {len(missing)} not as expected, "
          f"{sum(x.status == 'SKIP' for x in lines)} not in the profile")
    return 1 if missing else 0
