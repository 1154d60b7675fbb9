"""Reads and writes of the portal's data. Writers take a connection inside a `db.transaction`."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

MAX_ROW_ID = 2 ** 63 - 1  # SQLite's largest integer (rowid)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Employer:
    kvk: str
    name: str
    email: str
    contract_id: int
    contract_name: str


@dataclass(frozen=True)
class Advisor:
    kvk: str
    name: str
    licence_checked: bool


# --- employers, contracts, advisors ---------------------------------------------------------------

def employer(conn: sqlite3.Connection, kvk: str | None) -> Employer | None:
    """The employer with this KvK number in a pension contract, or None (rule P4)."""
    if not kvk:
        return None
    row = conn.execute(
        "SELECT k.kvk, k.employer_name, k.email, c.id, c.name FROM contract_kvks k "
        "JOIN contracts c ON c.id = k.contract_id WHERE k.kvk = ?", (kvk,)).fetchone()
    return Employer(*row) if row else None


def contract_employers(conn: sqlite3.Connection, contract_id: int) -> list[Employer]:
    rows = conn.execute(
        "SELECT k.kvk, k.employer_name, k.email, c.id, c.name FROM contract_kvks k "
        "JOIN contracts c ON c.id = k.contract_id WHERE c.id = ? ORDER BY k.kvk", (contract_id,)).fetchall()
    return [Employer(*r) for r in rows]


def advisor(conn: sqlite3.Connection, kvk: str | None) -> Advisor | None:
    """An advisor in the register whose licences the provider checked (rule P6), or None."""
    row = conn.execute("SELECT kvk, name, licence_checked FROM advisors WHERE kvk = ? AND licence_checked = 1",
                       (kvk or "",)).fetchone()
    return Advisor(row[0], row[1], bool(row[2])) if row else None


# --- participants ----------------------------------------------------------------------------------

def participants(conn: sqlite3.Connection, employer_kvk: str, search: str = "") -> list[sqlite3.Row]:
    """The employer's participants, those whose name holds `search` (case-insensitive) if given."""
    pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return conn.execute("SELECT id, name, salary, activated FROM participants WHERE employer_kvk = ? "
                        "AND name LIKE ? ESCAPE '\\' ORDER BY id", (employer_kvk, pattern)).fetchall()


def add_participant(conn: sqlite3.Connection, employer_kvk: str, name: str, salary: int) -> int:
    return conn.execute("INSERT INTO participants (employer_kvk, name, salary) VALUES (?, ?, ?)",
                        (employer_kvk, name, salary)).lastrowid


def participant(conn: sqlite3.Connection, participant_id: int, employer_kvk: str) -> sqlite3.Row | None:
    if not 0 <= participant_id <= MAX_ROW_ID:  # from a URL: SQLite cannot even compare a larger one
        return None
    return conn.execute("SELECT id, name, salary, activated FROM participants WHERE id = ? AND employer_kvk = ?",
                        (participant_id, employer_kvk)).fetchone()


def set_salary(conn: sqlite3.Connection, participant_id: int, salary: int) -> None:
    conn.execute("UPDATE participants SET salary = ? WHERE id = ?", (salary, participant_id))


# --- the employer's change log and the dashboard's figures ------------------------------------------

def add_change(conn: sqlite3.Connection, *, employer_kvk: str, participant_id: int | None, what: str,
               effective: date, acting_subject: str | None, intermediary_kvk: str | None) -> None:
    conn.execute("INSERT INTO changes (employer_kvk, participant_id, what, effective, entered, acting_subject, "
                 "intermediary_kvk) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (employer_kvk, participant_id, what, effective.isoformat(), now_iso(), acting_subject,
                  intermediary_kvk))


def changes(conn: sqlite3.Connection, employer_kvk: str, limit: int = 200) -> list[sqlite3.Row]:
    """The newest changes first, with the participant's name."""
    return conn.execute(
        "SELECT c.*, p.name AS participant_name FROM changes c LEFT JOIN participants p ON p.id = c.participant_id "
        "WHERE c.employer_kvk = ? ORDER BY c.id DESC LIMIT ?", (employer_kvk, limit)).fetchall()


def activation(conn: sqlite3.Connection, employer_kvk: str) -> tuple[int, int]:
    """(participants who activated their own account, all participants): the 'Rapportages' figure."""
    row = conn.execute("SELECT COALESCE(SUM(activated), 0), COUNT(*) FROM participants WHERE employer_kvk = ?",
                       (employer_kvk,)).fetchone()
    return row[0], row[1]


def timeliness(conn: sqlite3.Connection, employer_kvk: str, days: int = 60) -> tuple[int, int]:
    """(changes of the last year entered at most `days` after their effective date, all changes of the last
    year): the 'Tijdigheid wijzigingen' figure."""
    since = (datetime.now(timezone.utc) - timedelta(days=365)).strftime("%Y-%m-%d")
    rows = conn.execute("SELECT effective, entered FROM changes WHERE employer_kvk = ? AND entered >= ?",
                        (employer_kvk, since)).fetchall()
    timely = sum(1 for r in rows if (date.fromisoformat(r["entered"][:10]) - date.fromisoformat(r["effective"])).days
                 <= days)
    return timely, len(rows)


def payroll(conn: sqlite3.Connection, contract_id: int) -> list[sqlite3.Row]:
    """Per employer of the contract: its participants and their yearly salaries together ('Financiën')."""
    return conn.execute(
        "SELECT k.kvk, k.employer_name AS name, COUNT(p.id) AS participants, COALESCE(SUM(p.salary), 0) AS salaries "
        "FROM contract_kvks k LEFT JOIN participants p ON p.employer_kvk = k.kvk WHERE k.contract_id = ? "
        "GROUP BY k.kvk ORDER BY k.kvk", (contract_id,)).fetchall()


# --- route-B grants ----------------------------------------------------------------------------------

def grants_of_employer(conn: sqlite3.Connection, employer_kvk: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT g.id, g.advisor_kvk, a.name AS advisor_name, g.rights, g.status, g.created, g.confirmed "
        "FROM grants g JOIN advisors a ON a.kvk = g.advisor_kvk WHERE g.employer_kvk = ? ORDER BY g.id",
        (employer_kvk,)).fetchall()


def grant(conn: sqlite3.Connection, employer_kvk: str, advisor_kvk: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM grants WHERE employer_kvk = ? AND advisor_kvk = ?",
                        (employer_kvk, advisor_kvk)).fetchone()


def grant_by_id(conn: sqlite3.Connection, grant_id: int, employer_kvk: str) -> sqlite3.Row | None:
    if not 0 <= grant_id <= MAX_ROW_ID:
        return None
    return conn.execute("SELECT * FROM grants WHERE id = ? AND employer_kvk = ?", (grant_id, employer_kvk)).fetchone()


def grant_by_token(conn: sqlite3.Connection, token: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM grants WHERE token_hash = ?", (token_hash(token),)).fetchone()


def confirmed_employers(conn: sqlite3.Connection, advisor_kvk: str) -> list[sqlite3.Row]:
    """Employers with a CONFIRMED grant for exactly this advisor KvK (rule P7), still in a contract."""
    return conn.execute(
        "SELECT g.employer_kvk AS kvk, k.employer_name AS name, g.rights FROM grants g "
        "JOIN contract_kvks k ON k.kvk = g.employer_kvk "
        "WHERE g.advisor_kvk = ? AND g.status = 'confirmed' ORDER BY k.employer_name", (advisor_kvk,)).fetchall()


def confirmed_grant_rights(conn: sqlite3.Connection, employer_kvk: str, advisor_kvk: str) -> str | None:
    row = conn.execute("SELECT rights FROM grants WHERE employer_kvk = ? AND advisor_kvk = ? AND status = 'confirmed'",
                       (employer_kvk, advisor_kvk)).fetchone()
    return row[0] if row else None


def add_grant(conn: sqlite3.Connection, *, employer_kvk: str, advisor_kvk: str, rights: str, token: str | None,
              status: str = "pending") -> int:
    now = now_iso()
    cur = conn.execute(
        "INSERT INTO grants (employer_kvk, advisor_kvk, rights, status, token_hash, created, confirmed) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (employer_kvk, advisor_kvk, rights, status, token_hash(token) if token else None, now,
         now if status == "confirmed" else None))
    return cur.lastrowid


def confirm_grant(conn: sqlite3.Connection, grant_id: int) -> bool:
    """Pending → confirmed, once: the token is cleared so a second use finds nothing."""
    cur = conn.execute("UPDATE grants SET status = 'confirmed', confirmed = ?, token_hash = NULL "
                       "WHERE id = ? AND status = 'pending'", (now_iso(), grant_id))
    return cur.rowcount == 1


def set_grant_rights(conn: sqlite3.Connection, grant_id: int, rights: str) -> None:
    conn.execute("UPDATE grants SET rights = ? WHERE id = ?", (rights, grant_id))


def grant_link_expired(row: sqlite3.Row, days: int) -> bool:
    created = datetime.strptime(row["created"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) - created > timedelta(days=days)


# --- KvK numbers added to an employer's portal (P9) -------------------------------------------------

def portal_kvks(conn: sqlite3.Connection, employer_kvk: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT p.kvk, k.employer_name AS name, p.created FROM portal_kvks p "
        "JOIN contract_kvks k ON k.kvk = p.kvk WHERE p.employer_kvk = ? ORDER BY p.kvk", (employer_kvk,)).fetchall()


def add_portal_kvk(conn: sqlite3.Connection, employer_kvk: str, kvk: str, added_by: str | None) -> bool:
    cur = conn.execute("INSERT OR IGNORE INTO portal_kvks (employer_kvk, kvk, added_by, created) VALUES (?, ?, ?, ?)",
                       (employer_kvk, kvk, added_by, now_iso()))
    return cur.rowcount == 1


# --- outbox and audit ----------------------------------------------------------------------------------

def send_mail(conn: sqlite3.Connection, *, to_address: str, to_kvk: str, subject: str, body: str,
              link: str | None) -> None:
    conn.execute("INSERT INTO outbox (to_address, to_kvk, subject, body, link, created) VALUES (?, ?, ?, ?, ?, ?)",
                 (to_address, to_kvk, subject, body, link, now_iso()))


def outbox(conn: sqlite3.Connection) -> list[dict]:
    return [dict(r) for r in conn.execute("SELECT * FROM outbox ORDER BY id")]


def audit(conn: sqlite3.Connection, *, action: str, outcome: str, reason_code: str | None = None,
          acting_subject: str | None = None, represented_kvk: str | None = None,
          intermediary_kvk: str | None = None, detail: str | None = None) -> int:
    """One audit entry, in its own statement (autocommit) unless the caller holds a transaction; returns its id
    (a refusal page shows it as the reference to quote to the help desk)."""
    return conn.execute(
        "INSERT INTO audit (time, acting_subject, represented_kvk, intermediary_kvk, action, outcome, reason_code, "
        "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (now_iso(), acting_subject, represented_kvk, intermediary_kvk, action, outcome, reason_code, detail)).lastrowid


def audit_trail(conn: sqlite3.Connection, since: int = 0) -> list[dict]:
    return [dict(r) for r in conn.execute("SELECT * FROM audit WHERE id > ? ORDER BY id", (since,))]


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Row counts of the business tables: what a test compares to show a refusal wrote nothing."""
    tables = ("contracts", "contract_kvks", "participants", "advisors", "grants", "outbox", "portal_kvks", "changes")
    return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


def snapshot(conn: sqlite3.Connection) -> str:
    """A digest of every row of the business tables (all but the audit trail): equal before and after
    a refusal shows that the refusal wrote nothing but its audit entry."""
    digest = hashlib.sha256()
    for table in ("contracts", "contract_kvks", "participants", "advisors", "grants", "outbox", "portal_kvks", "changes"):
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
            digest.update(repr((table, tuple(row))).encode("utf-8"))
    return digest.hexdigest()
