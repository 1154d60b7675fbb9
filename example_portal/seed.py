"""Seeding the portal's data from JSON (the test endpoint and the default seed file), checked field by field.

Format (every key optional except where noted):
{
  "contracts": [{"id": 1, "name": "...", "employers": [
      {"kvk": "12345678", "name": "...", "email": "...",
       "participants": [{"name": "...", "salary": 42000, "activated": true}]}]}],
      (a contract given by id alone, without a name, must exist: its employers are added to it)
  "advisors": [{"kvk": "45678901", "name": "...", "licence_checked": true}],
  "grants": [{"employer_kvk": "12345678", "advisor_kvk": "45678901", "rights": "view" | "edit",
              "status": "pending" | "confirmed", "token": "(optional, for pending)"}]
}
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ehsaml.eherkenning import is_kvk

from . import data
from .db import transaction


class SeedError(ValueError):
    """Bad seed data; the message names the field (e.g. contracts[0].employers[1].kvk)."""


def _obj(value, where: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
    if not isinstance(value, dict):
        raise SeedError(f"{where}: give an object, got {type(value).__name__}")
    unknown = set(value) - allowed
    if unknown:
        raise SeedError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    missing = required - set(value)
    if missing:
        raise SeedError(f"{where}: missing field(s) {sorted(missing)}")
    return value


def _list(value, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SeedError(f"{where}: give a list, got {type(value).__name__}")
    return value


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SeedError(f"{where}: give a non-empty string")
    return value.strip()


def _kvk(value, where: str) -> str:
    if not isinstance(value, str) or not is_kvk(value):
        raise SeedError(f"{where}: {value!r} is not a KvK number (a string of exactly 8 digits)")
    return value


def _choice(value, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SeedError(f"{where}: {value!r}; give one of {list(choices)}")
    return value


def check(seed) -> dict:
    """Validate the whole seed before anything is written; returns it."""
    seed = _obj(seed, "seed", {"contracts", "advisors", "grants"})
    for i, c in enumerate(_list(seed.get("contracts"), "contracts")):
        w = f"contracts[{i}]"
        _obj(c, w, {"id", "name", "employers"}, {"id"})
        if not isinstance(c["id"], int) or isinstance(c["id"], bool) or c["id"] < 1:
            raise SeedError(f"{w}.id: give a positive integer")
        if "name" in c:
            _text(c["name"], f"{w}.name")
        for j, e in enumerate(_list(c.get("employers"), f"{w}.employers")):
            we = f"{w}.employers[{j}]"
            _obj(e, we, {"kvk", "name", "email", "participants"}, {"kvk", "name"})
            _kvk(e["kvk"], f"{we}.kvk")
            _text(e["name"], f"{we}.name")
            if "email" in e:
                _text(e["email"], f"{we}.email")
            for k, p in enumerate(_list(e.get("participants"), f"{we}.participants")):
                wp = f"{we}.participants[{k}]"
                _obj(p, wp, {"name", "salary", "activated"}, {"name"})
                _text(p["name"], f"{wp}.name")
                if not isinstance(p.get("activated", False), bool):
                    raise SeedError(f"{wp}.activated: give true or false")
                if "salary" in p and (not isinstance(p["salary"], int) or isinstance(p["salary"], bool)
                                      or p["salary"] < 0):
                    raise SeedError(f"{wp}.salary: give a whole number of euros, at least 0")
    for i, a in enumerate(_list(seed.get("advisors"), "advisors")):
        w = f"advisors[{i}]"
        _obj(a, w, {"kvk", "name", "licence_checked"}, {"kvk", "name"})
        _kvk(a["kvk"], f"{w}.kvk")
        _text(a["name"], f"{w}.name")
        if not isinstance(a.get("licence_checked", True), bool):
            raise SeedError(f"{w}.licence_checked: give true or false")
    for i, g in enumerate(_list(seed.get("grants"), "grants")):
        w = f"grants[{i}]"
        _obj(g, w, {"employer_kvk", "advisor_kvk", "rights", "status", "token"}, {"employer_kvk", "advisor_kvk"})
        _kvk(g["employer_kvk"], f"{w}.employer_kvk")
        _kvk(g["advisor_kvk"], f"{w}.advisor_kvk")
        _choice(g.get("rights", "view"), f"{w}.rights", ("view", "edit"))
        _choice(g.get("status", "confirmed"), f"{w}.status", ("pending", "confirmed"))
        if "token" in g:
            _text(g["token"], f"{w}.token")
    return seed


def load(conn: sqlite3.Connection, seed) -> dict[str, int]:
    """Check, then write the seed in one transaction (added to what is there); returns what was added."""
    seed = check(seed)
    added = {"contracts": 0, "employers": 0, "participants": 0, "advisors": 0, "grants": 0}
    try:
        with transaction(conn):
            for i, c in enumerate(seed.get("contracts") or []):
                exists = conn.execute("SELECT 1 FROM contracts WHERE id = ?", (c["id"],)).fetchone() is not None
                if "name" in c:
                    _insert(conn, f"contracts[{i}].id", str(c["id"]), "INSERT INTO contracts (id, name) VALUES (?, ?)",
                            (c["id"], c["name"]))
                    added["contracts"] += 1
                elif not exists:
                    raise SeedError(f"contracts[{i}].name: contract {c['id']} does not exist; a new contract needs a name")
                for j, e in enumerate(c.get("employers") or []):
                    _insert(conn, f"contracts[{i}].employers[{j}].kvk", e["kvk"],
                            "INSERT INTO contract_kvks (contract_id, kvk, employer_name, email) VALUES (?, ?, ?, ?)",
                            (c["id"], e["kvk"], e["name"], e.get("email") or f"werkgever-{e['kvk']}@example.test"))
                    added["employers"] += 1
                    for p in e.get("participants") or []:
                        conn.execute("INSERT INTO participants (employer_kvk, name, salary, activated) "
                                     "VALUES (?, ?, ?, ?)", (e["kvk"], p["name"], p.get("salary", 30000),
                                                             int(p.get("activated", False))))
                        added["participants"] += 1
            for i, a in enumerate(seed.get("advisors") or []):
                _insert(conn, f"advisors[{i}].kvk", a["kvk"], "INSERT INTO advisors (kvk, name, licence_checked) VALUES (?, ?, ?)",
                        (a["kvk"], a["name"], int(a.get("licence_checked", True))))
                added["advisors"] += 1
            for i, g in enumerate(seed.get("grants") or []):
                w = f"grants[{i}]"
                if data.employer(conn, g["employer_kvk"]) is None:
                    raise SeedError(f"{w}.employer_kvk: {g['employer_kvk']} is in no contract (seed it first)")
                if conn.execute("SELECT 1 FROM advisors WHERE kvk = ?", (g["advisor_kvk"],)).fetchone() is None:
                    raise SeedError(f"{w}.advisor_kvk: {g['advisor_kvk']} is not in the advisor register")
                status = g.get("status", "confirmed")
                _insert_grant(conn, w, g, status)
                added["grants"] += 1
    except sqlite3.IntegrityError as exc:
        raise SeedError(f"seed: {exc}") from None
    return added


def _insert(conn, where: str, value: str, sql: str, params: tuple) -> None:
    try:
        conn.execute(sql, params)
    except sqlite3.IntegrityError as exc:
        raise SeedError(f"{where}: {value} cannot be added ({exc}); is it there already?") from None


def _insert_grant(conn, where: str, g: dict, status: str) -> None:
    try:
        data.add_grant(conn, employer_kvk=g["employer_kvk"], advisor_kvk=g["advisor_kvk"],
                       rights=g.get("rights", "view"), token=g.get("token") if status == "pending" else None,
                       status=status)
    except sqlite3.IntegrityError:
        raise SeedError(f"{where}: a grant for employer {g['employer_kvk']} and advisor {g['advisor_kvk']} "
                        f"exists already") from None


def load_file(conn: sqlite3.Connection, path: Path) -> dict[str, int]:
    try:
        seed = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SeedError(f"{path}: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    try:
        return load(conn, seed)
    except SeedError as exc:
        raise SeedError(f"{path}: {exc}") from None


def is_empty(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT COUNT(*) FROM contracts").fetchone()[0] == 0
