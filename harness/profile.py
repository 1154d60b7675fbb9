"""SP profiles: how the runner drives one portal (start a login, recognise outcomes, seed state).

A profile says what the harness can do on a portal and what it can observe there. What it cannot do
or observe makes a scenario `skipped` with the reason, before anything runs (`CannotDo`): never a
comparison with a value the portal did not give. Field paths use the syntax of `harness.paths`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ehsaml.datafile import DataFileError, read_yaml, schema_validator

from . import paths

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE = PROFILE_DIR / "example-portal.yaml"
_VALIDATOR = schema_validator(Path(__file__).with_name("schemas") / "profile.schema.json")
ROLES = ("view", "edit")  # the FAQ's two services: "Bekijk gegevens" and "Bekijk en wijzig gegevens"
BINDINGS = ("artifact", "post")


class ProfileError(DataFileError):
    pass


class CannotDo(Exception):
    """The profile cannot do this step or observe this expectation: the scenario is skipped with this reason."""


def _by_role(spec: str | dict, role: str) -> str:
    """A login URL: one for every service (a string), or per role; a role left out uses the other's."""
    if isinstance(spec, str):
        return spec
    return spec.get(role) or spec[next(r for r in ROLES if r in spec)]


@dataclass(frozen=True)
class Profile:
    name: str
    dv_entity_id: str
    data: dict
    source: str

    # --- what the harness can do --------------------------------------------------------------
    @property
    def binding(self) -> str | None:
        """The answer binding the portal's own login asks for (artifact or post), when the profile says."""
        return self.data.get("binding")

    def login_path(self, service: str, binding: str | None = None, why: str | None = None) -> str:
        """Where the portal starts a login; `binding` asks for an answer binding (profile key login_by_binding),
        `why` says why the case needs it (a security case's binding_reason, for the skip reason)."""
        by_binding = (self.data.get("login_by_binding") or {}).get(binding) if binding else None
        if binding is None or (by_binding is None and self.binding == binding):
            return _by_role(self.data["login"], service)
        if by_binding is None:
            takes = f"its login takes the answer by {self.binding}" if self.binding else \
                "it does not say which binding its login takes (binding)"
            needs = f"the case needs the {binding} binding — {why} — and " if why else ""
            raise CannotDo(f"{needs}profile {self.name!r} cannot ask for the {binding} binding: {takes}, and "
                           f"login_by_binding.{binding} is not given")
        return _by_role(by_binding, service)

    def action(self, name: str) -> dict:
        actions = self.data.get("actions", {})
        if name not in actions:
            raise CannotDo(f"profile {self.name!r} does not say how to do '{name}' (actions.{name})")
        return actions[name]

    def state(self, name: str) -> dict:
        state = self.data.get("state", {})
        if name not in state:
            raise CannotDo(f"profile {self.name!r} cannot {name.replace('_', ' ')} the portal (state.{name})")
        return state[name]

    @property
    def rules(self) -> frozenset[str] | None:
        """The FAQ rules (P1–P12) this portal implements; None: all of them."""
        return frozenset(self.data["rules"]) if "rules" in self.data else None

    @property
    def services(self) -> dict[str, str]:
        """The profile's own mapping of the roles view/edit to ServiceIDs (may be empty: derived at run time)."""
        return dict(self.data.get("services") or {})

    @property
    def register_options(self) -> dict:
        return dict((self.data.get("register") or {}).get("options") or {})

    def text(self, name: str) -> str:
        texts = self.data.get("texts") or {}
        if name not in texts:
            raise CannotDo(f"profile {self.name!r} does not say how this portal's page words '{name}' (texts.{name})")
        return texts[name]

    # --- what the harness can observe ------------------------------------------------------------
    @property
    def whoami(self) -> dict | None:
        return self.data.get("whoami")

    def observes(self, field: str) -> bool:
        return bool(self.whoami) and field in self.whoami["fields"]

    def need(self, field: str, what: str) -> None:
        if not self.observes(field):
            raise CannotDo(f"profile {self.name!r} cannot observe '{what}': whoami.fields.{field} is not given")

    def read_whoami(self, data: Any) -> dict:
        """Each field of the profile read from the portal's whoami JSON (MISSING where it is not there)."""
        return {name: paths.read(data, path) for name, path in self.whoami["fields"].items()}

    @property
    def refusal_statuses(self) -> set[int]:
        return set(self.data.get("refusals", {}).get("status") or range(400, 500))

    def can_read_code(self, code: str) -> bool:
        spec = self.data.get("refusals", {})
        return bool(spec.get("code_pattern")) or code in (spec.get("texts") or {})

    def tells_refusal(self, code: str) -> bool:
        """The page tells this refusal from a refusal for another reason: by the code pattern, or by a text of its
        own (a `texts.<code>` that is the text of every refusal page, `refusals.page`, tells nothing)."""
        spec = self.data.get("refusals", {})
        text = (spec.get("texts") or {}).get(code)
        return bool(spec.get("code_pattern")) or (text is not None and text != spec.get("page"))

    @property
    def recognises_refusals(self) -> bool:
        spec = self.data.get("refusals", {})
        return bool(spec.get("code_pattern") or spec.get("texts") or spec.get("page"))

    def refusal_code(self, page_text: str, expected: str | None = None) -> str | None:
        """The reason code the page shows: by the profile's code pattern, or by its per-code texts (where a
        portal shows one text for several reasons, the expected one when its text is there)."""
        spec = self.data.get("refusals", {})
        if spec.get("code_pattern"):
            m = re.search(spec["code_pattern"], page_text)
            if m:
                return m.group(1)
        texts = spec.get("texts") or {}
        if expected in texts and re.search(texts[expected], page_text):
            return expected
        return next((code for code, pattern in texts.items() if re.search(pattern, page_text)), None)

    def shows_refusal(self, page_text: str) -> bool:
        """The page is one of this portal's refusals: it shows a reason code, or matches refusals.page."""
        spec = self.data.get("refusals", {})
        return self.refusal_code(page_text) is not None or bool(spec.get("page") and re.search(spec["page"], page_text))

    def refusal_check(self, page_text: str, whoami: dict) -> str | None:
        """The DV check that refused, where the portal names it (whoami field refusal_check, or refusals.check_pattern)."""
        value = whoami.get("refusal_check")
        if isinstance(value, str) and value:
            return value
        pattern = self.data.get("refusals", {}).get("check_pattern")
        m = re.search(pattern, page_text) if pattern else None
        return m.group(1) if m else None

    @property
    def reads_refusal_check(self) -> bool:
        return self.observes("refusal_check") or bool(self.data.get("refusals", {}).get("check_pattern"))

    def rights_list(self, rights: str) -> list[str]:
        mapping = (self.whoami or {}).get("rights") or {"view": ["view"], "edit": ["view", "edit"]}
        return mapping[rights]


def load_profile(path: str | Path = DEFAULT_PROFILE) -> Profile:
    f = read_yaml(path, what="SP profile", error_class=ProfileError)
    if not isinstance(f.data, dict):
        raise ProfileError("a profile is a mapping with name, dv_entity_id and login", file=f.source, line=1)
    f.check_schema(_VALIDATOR)
    for name, call in (f.data.get("actions") or {}).items():
        if "pattern" in call:
            _check_regex(f, ("actions", name, "pattern"), call["pattern"])
        for var, find in (call.get("find") or {}).items():
            _check_regex(f, ("actions", name, "find", var, "pattern"), find["pattern"])
    for key in ("code_pattern", "check_pattern", "page"):
        if key in (f.data.get("refusals") or {}):
            _check_regex(f, ("refusals", key), f.data["refusals"][key])
    for code, pattern in ((f.data.get("refusals") or {}).get("texts") or {}).items():
        _check_regex(f, ("refusals", "texts", code), pattern)
    for name, path in ((f.data.get("whoami") or {}).get("fields") or {}).items():
        _check_path(f, ("whoami", "fields", name), path)
    for name, spec in (f.data.get("state") or {}).items():
        for key in ("items", "to", "link", "actor"):
            if key in spec:
                _check_path(f, ("state", name, key), spec[key])
    return Profile(name=f.data["name"], dv_entity_id=f.data["dv_entity_id"], data=f.data, source=f.source)


def _check_regex(f, path: tuple, pattern: str) -> None:
    try:
        re.compile(re.sub(r"\{([a-z_]+)\}", "x", pattern))  # placeholders are filled in at run time
    except re.error as exc:
        raise f.error(path, f"not a regular expression: {exc}") from None


def _check_path(f, where: tuple, path: str) -> None:
    try:
        paths.parse(path)
    except paths.PathError as exc:
        raise f.error(where, f"{exc} (path syntax: docs/own-portal.md, 'Field paths')") from None


def fill(template: Any, values: dict) -> Any:
    """Put step values into a profile template: "{kvk}" → "12345678"; regex metacharacters stay as written."""
    if isinstance(template, str):
        return re.sub(r"\{([a-z_]+)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    return template


def json_field(data: Any, path: str) -> Any:
    """The value at a profile path (harness.paths syntax); None where it is not there (listings only)."""
    value = paths.read(data, path)
    return None if value is paths.MISSING else value
