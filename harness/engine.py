"""Running one scenario against one portal and broker: the steps, as a browser does them, and their checks.

Verdicts that cannot lie: `passed` only when every expectation was observed and met. Before anything
runs, every step and expectation is checked against the profile: one it cannot do or observe skips the
scenario with the reason. A precondition that did not hold (the broker refused before the portal saw
the login, a fault not applied, a hostile answer never delivered or resolved) is `not-tested`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

from ehsaml.checks import Check

from . import expect, oracle, paths
from .brokerapi import Broker, HarnessError, PortalServices, portal_services
from .browser import Browser, Page, forms_of
from .cases import checks_of_refusals
from .httpclient import Answer, Client, Connections, HttpError
from .profile import CannotDo, Profile, fill, json_field
from .scenario import Scenario, Step

__all__ = ["Broker", "HarnessError", "Run", "ScenarioResult", "StepResult", "Verdict"]

# How a scenario's login step becomes the broker's queued answer (its control API, POST /_mock/next).
_LOGIN_ANSWER = {"as": "person", "for": "organisation", "branch": "branch"}
_WHOAMI_EXPECTATIONS = ("logged_in", "kvk", "intermediary_kvk", "rights", "route", "acting_subject")
_PLACEHOLDER = re.compile(r"\{(service|text):([a-z][a-z0-9_]*)\}")  # the names scenario.py lets through


class Verdict:
    PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
    NOT_TESTED = "not-tested"  # a precondition did not hold: the portal was never really tested
    XFAIL, XPASS = "xfail", "xpass"  # listed as an expected failure: failed as expected / no longer fails


@dataclass
class StepResult:
    step: Step
    checks: list[Check] = field(default_factory=list)
    page: Page | None = None
    whoami: dict = field(default_factory=dict)
    journal: list[dict] = field(default_factory=list)
    not_tested: str | None = None  # the precondition that did not hold

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
    warnings: list[str] = field(default_factory=list)

    @property
    def first_failure(self) -> tuple[StepResult, Check] | None:
        for s in self.steps:
            if s.failure is not None:
                return s, s.failure
        return None


class Run:
    """One scenario's run: a fresh browser, the portal's state seeded, the steps in order.

    `services` maps the FAQ's roles to the portal's services; with `bind_world` (the default) the world's
    mandates are made to name them after each reset. `strict_reasons`: a hostile answer refused by another
    check than the catalogue's is a failure, not a warning. `connections`: keep-alive connections to reuse
    (a runner worker's, shared by the scenarios it runs one after the other); the browser's cookies are
    always its own."""

    def __init__(self, scenario: Scenario, profile: Profile, broker_url: str, portal_url: str, *,
                 services: PortalServices | None = None, bind_world: bool = True, strict_reasons: bool = False,
                 connections: Connections | None = None):
        self.scenario, self.profile = scenario, profile
        self.broker = Broker(broker_url, connections)
        self.portal = portal_url.rstrip("/")
        self.browser = Browser(connections=connections)
        self.state_http = Client(connections=connections)  # the portal's test-state calls, kept alive
        self.services, self.bind_world, self.strict_reasons = services, bind_world, strict_reasons
        self.pseudonyms: list[str] = []
        self.confirm_links: list[str] = []
        self.refusal_url: str | None = None  # where the last refusal was shown (revisit_refusal opens it again)
        self.warnings: list[str] = []

    def execute(self) -> ScenarioResult:
        started = time.monotonic()
        results: list[StepResult] = []

        def done(verdict: str, reason: str) -> ScenarioResult:
            return ScenarioResult(self.scenario, verdict, results, reason, time.monotonic() - started, self.warnings)

        try:
            self.preflight()
            self._prepare()
            for step in self.scenario.steps:
                result = self._step(step)
                results.append(result)
                if result.not_tested or result.failure is not None:
                    break
        except CannotDo as exc:
            return done(Verdict.SKIPPED, str(exc))
        except (HarnessError, HttpError) as exc:
            return done(Verdict.ERROR, f"harness: {exc}")
        finally:  # a kept-alive connection left open holds a server thread until it is collected (not shared ones)
            for http in (self.browser.session, self.state_http, self.broker.http):
                http.close()
        for r in results:
            where = f"step {r.step.index} ({r.step.describe()})"
            if r.not_tested:
                return done(Verdict.NOT_TESTED, f"{where}: {r.not_tested}")
            if r.failure is not None:
                verdict = Verdict.ERROR if r.failure.check == "no_server_error" else Verdict.FAILED
                return done(verdict, f"{where}: {r.failure.explain()}{self._why(r)}")
        return done(Verdict.PASSED, "; ".join(self.warnings))

    def _why(self, r: StepResult) -> str:
        """What a failure needs beside the check: the broker's own refusal, what the portal concluded, the fault's check."""
        out = []
        found = oracle.decision(r.journal)
        if oracle.refused(found):
            out.append(f"the broker decided: {oracle.describe(found)}")
        if self.scenario.fault_check and r.step.params.get("fault"):
            out.append(f"the check that would have refused it: {self.scenario.fault_check}")
        concluded = {k: r.whoami[k] for k in ("kvk", "intermediary_kvk", "acting_subject")
                     if r.whoami.get(k) not in (None, paths.MISSING)}
        if concluded and r.whoami.get("logged_in") is True:
            out.append("the portal concluded " + ", ".join(f"{k}={v}" for k, v in concluded.items()))
            kvk = concluded.get("kvk")
            if isinstance(kvk, str) and not re.fullmatch(r"\d{8}", kvk):
                out.append(f"it accepted a KvK number of {len(kvk)} characters (identifier_formats: 8 digits)")
        return "".join(f"; {x}" for x in out)

    # --- before anything runs: can the profile do and observe every step? -------------------------
    def preflight(self) -> None:
        p, s = self.profile, self.scenario
        by_number = lambda rules: sorted(rules, key=lambda r: int(r[1:]))  # noqa: E731
        missing = by_number(set(s.rules) - p.rules) if p.rules is not None else []
        if missing:
            raise CannotDo(f"the portal does not implement rule {', '.join(missing)} (profile rules: "
                           f"{', '.join(by_number(p.rules)) or 'none'})")
        if s.portal == "empty" or isinstance(s.portal, dict):
            p.state("reset" if s.portal == "empty" else "seed")
        if s.min_services > 1 and self.bind_world:
            services = self._portal_services()
            if services.count < s.min_services:
                raise CannotDo(f"the case needs a portal with at least {s.min_services} services (it answers with "
                               f"the DV's other service); {services.dv} has {services.count} at the broker")
        for step in s.steps:
            if step.action == "login":
                p.login_path(step.params["service"], step.params.get("binding"), why=s.binding_reason)
            elif step.action in ("seed", "confirm_email"):
                p.state("seed" if step.action == "seed" else "outbox")
            elif step.action not in ("supplier_change", "revisit_refusal"):
                p.action(step.action)
            self._observable(step)

    def _observable(self, step: Step) -> None:
        p, e = self.profile, step.expect
        for key in _WHOAMI_EXPECTATIONS:
            if key in e:
                p.need(key, key)
        if "refused" in e or "allowed" in e:
            if not p.recognises_refusals:
                raise CannotDo(f"profile {p.name!r} cannot recognise a refusal page (refusals.code_pattern, texts "
                               "or page)")
            code = e.get("refused")
            if code not in (None, "*") and not p.can_read_code(code):
                raise CannotDo(f"profile {p.name!r} cannot read refusal reason '{code}' (refusals.code_pattern "
                               f"or refusals.texts.{code})")
        if "not_refused_as" in e and not any(p.tells_refusal(code) for code in e["not_refused_as"]):
            codes = " or ".join(e["not_refused_as"])
            raise CannotDo(f"profile {p.name!r} cannot tell a refusal of this forged error answer from the portal "
                           f"believing it ({codes}): its page for {codes} is the page of every refusal "
                           f"(refusals.code_pattern, or a refusals.texts.<code> of its own, would tell)")
        for text in e.get("page_contains", ()):
            self._text(text)
        if "choices" in e:
            p.action("choices")
        if e.get("audit_names_every_actor"):
            p.state("audit")
        if "outbox" in e:
            p.state("outbox")

    def _text(self, text: str) -> str:
        """A page text: {service:view} is the portal's name of that service, {text:name} the profile's texts."""
        def one(m):
            kind, name = m.groups()
            if kind == "text":
                return self.profile.text(name)
            texts = self.profile.data.get("texts") or {}
            if f"service_{name}" in texts:
                return texts[f"service_{name}"]
            if self.services is None:
                raise CannotDo(f"the name of the portal's '{name}' service is not known (texts.service_{name})")
            return self.services.names[name]
        return _PLACEHOLDER.sub(one, text)

    # --- set-up ---------------------------------------------------------------------------------------
    def _portal_services(self) -> PortalServices:
        if self.services is None:
            self.services = portal_services(self.broker, self.profile.dv_entity_id, self.profile.services)
        return self.services

    def _prepare(self) -> None:
        self.broker.reset()
        if self.bind_world:
            self._portal_services().bind(self.broker)
        portal = self.scenario.portal  # "default", "empty", or data added to the default seed
        if portal == "empty":
            self._call_state("reset")
        elif "default_seed" in (self.profile.data.get("state") or {}):  # a portal without test state: as it is
            self._call_state("default_seed")
        if isinstance(portal, dict):
            self._call_state("seed", json_body=portal)

    def _call_state(self, name: str, json_body: dict | None = None) -> Answer:
        spec = self.profile.state(name)
        method, path = ("POST", spec["post"]) if "post" in spec else ("GET", spec["get"])
        body = json_body if json_body is not None else spec.get("json")
        resp = self.state_http.request(method, self.portal + path, json=body, timeout=15)
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
                   "supplier_change": self._do_supplier_change, "revisit_refusal": self._do_revisit_refusal}
        page = special[step.action](step.params) if step.action in special else self._call_action(step.action,
                                                                                                    step.params)
        result = StepResult(step=step, page=page)
        result.whoami = self._whoami()
        result.journal = self.broker.journal(seq)
        if step.action == "login":
            result.not_tested = self._precondition(step, result)
            if result.not_tested:
                return result
        if page is not None:
            result.checks.append(expect.no_server_error(page))
        result.checks.extend(self._expectations(step, result))
        acting = result.whoami.get("acting_subject")
        if isinstance(acting, str) and acting and acting not in self.pseudonyms:
            self.pseudonyms.append(acting)
        return result

    def _precondition(self, step: Step, result: StepResult) -> str | None:
        p = step.params
        if "fault" in p:
            return oracle.delivery(result.journal, result.page.hops if result.page else [], p["fault"])
        if "as" not in p and "identity" not in p:
            return None  # a cancel or a status: the broker's answer is the case itself
        premise = step.expect.get("broker")
        if premise is None and step.expect.get("logged_in") is not False and "refused" not in step.expect:
            premise = "login"  # a step that needs a logged-in user: the broker must have let the person in
        return oracle.login_premise(result.journal, premise)

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

    def _do_revisit_refusal(self, p: dict) -> Page:
        if self.refusal_url is None:
            raise HarnessError("revisit_refusal: no step before showed a refusal on a page reached by GET (a refused "
                               "form's answer cannot be opened again without sending the form)")
        return self.browser.get(self.refusal_url)

    def _do_confirm_email(self, p: dict) -> Page:
        if p.get("again"):
            if not self.confirm_links:
                raise HarnessError("confirm_email again: no link was used before in this scenario")
            link = self.confirm_links[-1]
        else:
            messages, spec = self._listing("outbox")
            links = [json_field(m, spec.get("link", "link")) for m in messages]
            links = [x for x in links if x]
            if not links:
                raise HarnessError("confirm_email: the portal's outbox holds no message with a link")
            link = links[-1]
            if p.get("damaged"):  # one character changed: a token no grant has (the link is not kept for `again`)
                link = link[:-1] + ("B" if link[-1:] == "A" else "A")
            else:
                self.confirm_links.append(link)
        page = self.browser.get(link)
        if (p.get("open_only") is not True and (self.profile.data.get("actions") or {}).get("confirm_email", {})
                .get("submit_form") and page.status < 400):
            form = next((f for f in forms_of(page.text) if f["method"] == "post"), None)
            if form is not None:
                page = self.browser.post(urljoin(page.url, form["action"]) if form["action"] else page.url,
                                         form["fields"])
        return page

    def _call_action(self, action: str, params: dict) -> Page:
        spec = self.profile.action(action)
        values = dict(params)
        for var, find in (spec.get("find") or {}).items():
            if var in values:  # the step gives it (a reference that is not there): nothing to find
                continue
            page = self.browser.get(self.portal + fill(find["get"], values))
            if page.status >= 400:  # the form's page refused (or is not there): that is what the user sees
                return page
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
        try:
            data = resp.json()
        except ValueError:
            raise HarnessError(f"whoami {spec['path']} did not answer JSON: {resp.text[:200]!r}") from None
        return self.profile.read_whoami(data)

    def _expectations(self, step: Step, result: StepResult) -> list[Check]:
        e, w, page = step.expect, result.whoami, result.page
        checks = []
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
            checks.append(expect.rights(w, list(e["rights"]), self.profile.rights_list))
        if "refused" in e or "allowed" in e:
            if page is None:
                raise HarnessError(f"step {step.index}: 'refused'/'allowed' needs a step that loads a page")
            code = self.profile.refusal_code(page.text, e.get("refused"))
            shown = self.profile.shows_refusal(page.text)
            if "refused" in e:
                checks.append(expect.refused(page, code, shown, self.profile.refusal_statuses, e["refused"],
                                             self.scenario.breaks))
                # a page reached by GET can be opened again; a POST's answer would be the form sent again
                self.refusal_url = page.url if page.hops and page.hops[-1].method == "GET" else None
                checks.extend(self._reason(page, w))
                if "not_refused_as" in e:
                    told = [c for c in e["not_refused_as"] if self.profile.tells_refusal(c)]
                    believed = next((c for c in told if self.profile.refusal_code(page.text, c) == c), None)
                    checks.append(expect.not_refused_as(believed, told, self.scenario.breaks))
            else:
                checks.append(expect.allowed(page, code, shown))
        if "page_contains" in e:
            checks.append(expect.page_contains(page, [self._text(t) for t in e["page_contains"]]))
        if "choices" in e:
            spec = self.profile.action("choices")
            found = re.findall(spec["pattern"], self.browser.get(self.portal + spec["get"]).text)
            checks.append(expect.choices(found, e["choices"]))
        if "acting_subject" in e:
            checks.append(expect.acting_subject(w.get("acting_subject"), self.pseudonyms, e["acting_subject"]))
        if e.get("audit_names_every_actor"):
            entries, spec = self._listing("audit")
            actors = {str(json_field(x, spec.get("actor", "acting_subject"))) for x in entries}
            current = w.get("acting_subject")
            pseudonyms = self.pseudonyms + ([current] if isinstance(current, str) and current else [])
            checks.append(expect.audit_names_every_actor(actors, list(dict.fromkeys(pseudonyms))))
        if "outbox" in e:
            messages, spec = self._listing("outbox")
            checks.extend(expect.outbox(messages, e["outbox"], spec.get("to", "to")))
        return checks

    def _reason(self, page: Page, whoami: dict) -> list[Check]:
        """A hostile answer refused for another reason than the catalogue's check: a warning (or, strict, a failure)."""
        want = self.scenario.fault_check
        if not want or not self.profile.reads_refusal_check:
            return []
        got = self.profile.refusal_check(page.text, whoami)
        if got == want:
            return []
        if got is None:  # a page that names no check says by its cause which check failed (a level too low)
            code = self.profile.refusal_code(page.text)
            if code is None or want in checks_of_refusals().get(code, ()):
                return []
        else:
            code = None
        check = expect.refusal_reason(got, want, code)
        if self.strict_reasons:
            return [check]
        self.warnings.append(f"refused for another reason: {check.actual} (the catalogue expects {want} to fail "
                             "first; a missing check may be masked by another)")
        return []
