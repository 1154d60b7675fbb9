"""Running one scenario against one portal and broker: the steps, as a browser does them, and their checks."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests

from ehsaml.checks import Check

from . import expect
from .browser import Browser, Page, forms_of
from .profile import CannotDo, Profile, fill, json_field
from .scenario import Scenario, Step

# How a scenario's login step becomes the broker's queued answer (its control API, POST /_mock/next).
_LOGIN_ANSWER = {"as": "person", "for": "organisation", "branch": "branch"}


class Verdict:
    PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
    XFAIL, XPASS = "xfail", "xpass"  # listed as an expected failure: failed as expected / no longer fails


@dataclass
class StepResult:
    step: Step
    checks: list[Check] = field(default_factory=list)
    page: Page | None = None
    whoami: dict = field(default_factory=dict)
    journal: list[dict] = field(default_factory=list)

    @property
    def failure(self) -> Check | None:
        return next((c for c in self.checks if not c.passed), None)


@dataclass
class ScenarioResult:
    scenario: Scenario
    verdict: str
    steps: list[StepResult]
    reason: str = ""
    seconds: float = 0.0

    @property
    def first_failure(self) -> tuple[StepResult, Check] | None:
        for s in self.steps:
            if s.failure is not None:
                return s, s.failure
        return None


class Broker:
    """The broker as the harness knows it: its control API only."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _post(self, path: str, body: dict) -> dict:
        resp = requests.post(f"{self.url}/_mock/{path}", json=body, timeout=10)
        if resp.status_code >= 400:
            raise HarnessError(f"the broker refused {path}: {resp.text[:300]}")
        return resp.json()

    def reset(self) -> None:
        self._post("reset", {})

    def queue(self, answer: dict) -> None:
        self._post("next", answer)

    def change_world(self, change: dict) -> dict:
        """A fix at the supplier's management portal (beheerportaal): one change of the broker's world."""
        return self._post("world/changes", change)

    def journal_seq(self) -> int:
        entries = self.journal(0)
        return entries[-1]["seq"] if entries else 0

    def journal(self, since: int) -> list[dict]:
        return requests.get(f"{self.url}/_mock/journal", params={"since": since}, timeout=10).json()["entries"]


class HarnessError(Exception):
    """The harness could not do what the scenario says (not a portal failure)."""


class Run:
    """One scenario's run: a fresh browser, the portal's state seeded, the steps in order."""

    def __init__(self, scenario: Scenario, profile: Profile, broker_url: str, portal_url: str):
        self.scenario, self.profile = scenario, profile
        self.broker = Broker(broker_url)
        self.portal = portal_url.rstrip("/")
        self.browser = Browser()
        self.pseudonyms: list[str] = []
        self.confirm_links: list[str] = []

    def execute(self) -> ScenarioResult:
        started = time.monotonic()
        results: list[StepResult] = []
        try:
            self._prepare()
            for step in self.scenario.steps:
                result = self._step(step)
                results.append(result)
                if result.failure is not None:
                    break
        except CannotDo as exc:
            return ScenarioResult(self.scenario, Verdict.SKIPPED, results, str(exc), time.monotonic() - started)
        except (HarnessError, requests.RequestException) as exc:
            return ScenarioResult(self.scenario, Verdict.ERROR, results, f"harness: {exc}", time.monotonic() - started)
        verdict, reason = Verdict.PASSED, ""
        for r in results:
            if r.failure is not None:
                verdict = Verdict.ERROR if r.failure.check == "no_server_error" else Verdict.FAILED
                reason = f"step {r.step.index} ({r.step.describe()}): {r.failure.explain()}"
                break
        return ScenarioResult(self.scenario, verdict, results, reason, time.monotonic() - started)

    # --- set-up ---------------------------------------------------------------------------------------
    def _prepare(self) -> None:
        self.broker.reset()
        portal = self.scenario.portal  # "default", "empty", or data added to the default seed
        self._call_state("reset" if portal == "empty" else "default_seed")
        if isinstance(portal, dict):
            self._call_state("seed", json_body=portal)

    def _call_state(self, name: str, json_body: dict | None = None) -> requests.Response:
        spec = self.profile.state(name)
        method, path = ("POST", spec["post"]) if "post" in spec else ("GET", spec["get"])
        body = json_body if json_body is not None else spec.get("json")
        resp = requests.request(method, self.portal + path, json=body, timeout=15)
        if resp.status_code >= 400:
            raise HarnessError(f"portal state call {name} ({method} {path}) gave HTTP {resp.status_code}: "
                               f"{resp.text[:300]}")
        return resp

    def _listing(self, name: str) -> tuple[list[dict], dict]:
        spec = self.profile.state(name)
        data = self._call_state(name).json()
        return json_field(data, spec["items"]) or [], spec

    # --- steps ------------------------------------------------------------------------------------------
    def _step(self, step: Step) -> StepResult:
        seq = self.broker.journal_seq()
        special = {"login": self._do_login, "seed": self._do_seed, "confirm_email": self._do_confirm_email,
                   "supplier_change": self._do_supplier_change}
        page = special[step.action](step.params) if step.action in special else self._call_action(step.action,
                                                                                                    step.params)
        result = StepResult(step=step, page=page)
        result.whoami = self._whoami()
        result.journal = self.broker.journal(seq)
        if page is not None:
            result.checks.append(expect.no_server_error(page))
        result.checks.extend(self._expectations(step, result))
        if result.whoami.get("acting_subject") and result.whoami.get("acting_subject") not in self.pseudonyms:
            self.pseudonyms.append(result.whoami["acting_subject"])
        return result

    def _do_login(self, p: dict) -> Page:
        answer: dict = {"dv": self.profile.dv_entity_id}
        if "as" in p:
            answer.update({_LOGIN_ANSWER[k]: v for k, v in p.items() if k in _LOGIN_ANSWER})
        elif "identity" in p:
            answer["identity"] = p["identity"]
        elif p.get("cancel"):
            answer["cancel"] = True
        elif "fault" in p:
            answer["fault"] = p["fault"]
        else:
            answer.update(p["broker_status"])
        path = self.profile.login_path(p["service"], p.get("binding"))
        self.broker.queue(answer)
        return self.browser.get(self.portal + path)

    def _do_seed(self, p: dict) -> None:
        self._call_state("seed", json_body=p)
        return None

    def _do_supplier_change(self, p: dict) -> None:
        self.broker.change_world(p)
        return None

    def _do_confirm_email(self, p: dict) -> Page:
        if p.get("again"):
            if not self.confirm_links:
                raise HarnessError("confirm_email again: no link was used before in this scenario")
            link = self.confirm_links[-1]
        else:
            messages, spec = self._listing("outbox")
            links = [m.get(spec.get("link", "link")) for m in messages if m.get(spec.get("link", "link"))]
            if not links:
                raise HarnessError("confirm_email: the portal's outbox holds no message with a link")
            link = links[-1]
            self.confirm_links.append(link)
        page = self.browser.get(link)
        if self.profile.action("confirm_email").get("submit_form") and page.status < 400:
            form = next((f for f in forms_of(page.text) if f["method"] == "post"), None)
            if form is not None:
                page = self.browser.post(urljoin(page.url, form["action"]) if form["action"] else page.url,
                                         form["fields"])
        return page

    def _call_action(self, action: str, params: dict) -> Page:
        spec = self.profile.action(action)
        values = dict(params)
        for var, find in (spec.get("find") or {}).items():
            page = self.browser.get(self.portal + fill(find["get"], values))
            m = re.search(fill(find["pattern"], values), page.text)
            if m is None:
                raise HarnessError(f"{action}: no {var} found on {find['get']} (pattern {find['pattern']!r}, "
                                   f"HTTP {page.status})")
            values[var] = m.group(1)
        if "post" in spec:
            return self.browser.post(self.portal + fill(spec["post"], values), fill(spec.get("form") or {}, values))
        return self.browser.get(self.portal + fill(spec["get"], values))

    # --- reading the outcome ----------------------------------------------------------------------------
    def _whoami(self) -> dict:
        spec = self.profile.whoami
        if spec is None:
            return {}
        resp = self.browser.session.get(self.portal + spec["path"], timeout=10)
        if resp.status_code != 200:
            raise HarnessError(f"whoami {spec['path']} gave HTTP {resp.status_code}")
        data = resp.json()
        return {name: json_field(data, path) for name, path in spec["fields"].items()}

    def _need_whoami(self, what: str) -> None:
        if self.profile.whoami is None:
            raise CannotDo(f"profile {self.profile.name!r} has no whoami oracle to check '{what}'")

    def _expectations(self, step: Step, result: StepResult) -> list[Check]:
        e, w, page = step.expect, result.whoami, result.page
        checks = []
        for key in ("logged_in", "kvk", "intermediary_kvk", "rights", "route", "acting_subject"):
            if key in e:
                self._need_whoami(key)
        if "logged_in" in e:
            checks.append(expect.logged_in(w, e["logged_in"], self.scenario.breaks))
        if "kvk" in e:
            checks.append(expect.field_equals("kvk", w, e["kvk"], "the portal shows the employer chosen at the broker"))
        if "intermediary_kvk" in e:
            checks.append(expect.field_equals("intermediary_kvk", w, e["intermediary_kvk"],
                                              "P5/P7: the intermediary (advisor) is recorded"))
        if "route" in e:
            checks.append(expect.field_equals("route", w, e["route"], "P5/P7: route A (chain) or B (grant)"))
        if "rights" in e:
            expected = sorted({r for name in e["rights"] for r in self.profile.rights_list(name)})
            checks.append(expect.rights(w, expected))
        if "refused" in e or "allowed" in e:
            if page is None:
                raise HarnessError(f"step {step.index}: 'refused'/'allowed' needs a step that loads a page")
            code = self.profile.refusal_code(page.text)
            if "refused" in e:
                checks.append(expect.refused(page, code, self.profile.refusal_statuses, e["refused"],
                                             self.scenario.breaks))
            else:
                checks.append(expect.allowed(page, code))
        if "page_contains" in e:
            checks.append(expect.page_contains(page, e["page_contains"]))
        if "choices" in e:
            spec = self.profile.action("choices")
            found = re.findall(spec["pattern"], self.browser.get(self.portal + spec["get"]).text)
            checks.append(expect.choices(found, e["choices"]))
        if "acting_subject" in e:
            checks.append(expect.acting_subject(w.get("acting_subject"), self.pseudonyms, e["acting_subject"]))
        if e.get("audit_names_every_actor"):
            entries, spec = self._listing("audit")
            actors = {str(x.get(spec.get("actor", "acting_subject"))) for x in entries}
            pseudonyms = self.pseudonyms + ([w["acting_subject"]] if w.get("acting_subject") else [])
            checks.append(expect.audit_names_every_actor(actors, list(dict.fromkeys(pseudonyms))))
        if "outbox" in e:
            messages, spec = self._listing("outbox")
            checks.extend(expect.outbox(messages, e["outbox"], spec.get("to", "to")))
        return checks

