"""SP profiles: how the runner drives one portal (start a login, recognise outcomes, seed state)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ehsaml.datafile import DataFileError, read_yaml, schema_validator

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE = PROFILE_DIR / "example-portal.yaml"
_VALIDATOR = schema_validator(Path(__file__).with_name("schemas") / "profile.schema.json")


class ProfileError(DataFileError):
    pass


class CannotDo(Exception):
    """The profile does not say how to do this step: the scenario is skipped with this reason."""


@dataclass(frozen=True)
class Profile:
    name: str
    dv_entity_id: str
    data: dict
    source: str

    def login_path(self, service: str, binding: str | None = None) -> str:
        """Where the portal starts a login; `binding` asks for an answer binding (profile key login_by_binding)."""
        if binding is None:
            return self.data["login"][service]
        by_binding = self.data.get("login_by_binding", {}).get(binding)
        if by_binding is None:
            raise CannotDo(f"profile {self.name!r} cannot ask for the {binding} binding (login_by_binding.{binding})")
        return by_binding[service]

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
    def whoami(self) -> dict | None:
        return self.data.get("whoami")

    @property
    def refusal_statuses(self) -> set[int]:
        return set(self.data.get("refusals", {}).get("status") or range(400, 500))

    def refusal_code(self, page_text: str) -> str | None:
        """The reason code the page shows: by the profile's code pattern, or by its per-code texts."""
        spec = self.data.get("refusals", {})
        if spec.get("code_pattern"):
            m = re.search(spec["code_pattern"], page_text)
            if m:
                return m.group(1)
        for code, pattern in (spec.get("texts") or {}).items():
            if re.search(pattern, page_text):
                return code
        return None

    def rights_list(self, rights: str) -> list[str]:
        mapping = (self.whoami or {}).get("rights") or {"view": ["view"], "edit": ["view", "change"]}
        return mapping[rights]


def load_profile(path: str | Path = DEFAULT_PROFILE) -> Profile:
    f = read_yaml(path, what="SP profile", error_class=ProfileError)
    if not isinstance(f.data, dict):
        raise ProfileError("a profile is a mapping with name, dv_entity_id and login", file=f.source, line=1)
    f.check_schema(_VALIDATOR)
    for name, call in (f.data.get("actions") or {}).items():
        for key in ("pattern",):
            if key in call:
                _check_regex(f, ("actions", name, key), call[key])
        for var, find in (call.get("find") or {}).items():
            _check_regex(f, ("actions", name, "find", var, "pattern"), find["pattern"])
    return Profile(name=f.data["name"], dv_entity_id=f.data["dv_entity_id"], data=f.data, source=f.source)


def _check_regex(f, path: tuple, pattern: str) -> None:
    try:
        re.compile(re.sub(r"\{([a-z_]+)\}", "x", pattern))  # placeholders are filled in at run time
    except re.error as exc:
        raise f.error(path, f"not a regular expression: {exc}") from None


def fill(template: Any, values: dict) -> Any:
    """Put step values into a profile template: "{kvk}" → "12345678"; regex metacharacters stay as written."""
    if isinstance(template, str):
        return re.sub(r"\{([a-z_]+)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    return template


def json_field(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data
