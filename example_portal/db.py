"""The portal's SQLite database: one connection per request, schema by `PRAGMA user_version` migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Each entry migrates from version i to i + 1; never edit a released entry, append a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: contracts, employers, participants, advisors, grants, outbox, audit
    """
    CREATE TABLE contracts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL
    );
    CREATE TABLE contract_kvks (
        contract_id INTEGER NOT NULL REFERENCES contracts(id),
        kvk TEXT NOT NULL UNIQUE CHECK (length(kvk) = 8),
        employer_name TEXT NOT NULL,
        email TEXT NOT NULL
    );
    CREATE TABLE participants (
        id INTEGER PRIMARY KEY,
        employer_kvk TEXT NOT NULL REFERENCES contract_kvks(kvk),
        name TEXT NOT NULL,
        salary INTEGER NOT NULL CHECK (salary >= 0)
    );
    CREATE TABLE advisors (
        kvk TEXT PRIMARY KEY CHECK (length(kvk) = 8),
        name TEXT NOT NULL,
        licence_checked INTEGER NOT NULL CHECK (licence_checked IN (0, 1))
    );
    CREATE TABLE grants (
        id INTEGER PRIMARY KEY,
        employer_kvk TEXT NOT NULL REFERENCES contract_kvks(kvk),
        advisor_kvk TEXT NOT NULL REFERENCES advisors(kvk),
        rights TEXT NOT NULL CHECK (rights IN ('view', 'edit')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
        token_hash TEXT UNIQUE,
        created TEXT NOT NULL,
        confirmed TEXT,
        UNIQUE (employer_kvk, advisor_kvk)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        to_address TEXT NOT NULL,
        to_kvk TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        link TEXT,
        created TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        acting_subject TEXT,
        represented_kvk TEXT,
        intermediary_kvk TEXT,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused')),
        reason_code TEXT,
        detail TEXT
    );
    """,
    # 2: KvK numbers added to an employer's portal (rule P9: only within the same pension contract)
    """
    CREATE TABLE portal_kvks (
        employer_kvk TEXT NOT NULL REFERENCES contract_kvks(kvk),
        kvk TEXT NOT NULL REFERENCES contract_kvks(kvk),
        added_by TEXT,
        created TEXT NOT NULL,
        PRIMARY KEY (employer_kvk, kvk)
    );
    """,
    # 3: the dashboard's figures: participants who activated their account (Rapportages), and the employer's
    # change log with each change's effective date (Tijdigheid wijzigingen, Statische wijzigingen)
    """
    ALTER TABLE participants ADD COLUMN activated INTEGER NOT NULL DEFAULT 0 CHECK (activated IN (0, 1));
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        employer_kvk TEXT NOT NULL REFERENCES contract_kvks(kvk),
        participant_id INTEGER REFERENCES participants(id),
        what TEXT NOT NULL,
        effective TEXT NOT NULL,
        entered TEXT NOT NULL,
        acting_subject TEXT,
        intermediary_kvk TEXT
    );
    """,
)

TABLES = ("portal_kvks", "audit", "outbox", "grants", "changes", "participants", "advisors", "contract_kvks", "contracts")


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode; group writes with `transaction`."""
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 10000")
    # With WAL (set once, in migrate) and synchronous=NORMAL a commit appends to the log instead of an fsync
    # of the database: a crash can lose the last commits but never corrupts the file (a test portal's trade)
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Pool:
    """Connections kept open and reused by the requests (opening one, and closing the last one, which
    checkpoints the WAL, would otherwise cost more than most requests' own work)."""

    def __init__(self, path: Path | str, size: int = 8):
        self.path, self.size = path, size
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return connect(self.path)

    def put(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # a request that failed half-way: nothing of it stays
            conn.execute("ROLLBACK")
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(conn)
                return
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: all of a change is written, or nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrate(path: Path | str) -> int:
    """Create the file (and its folder) if needed and bring the schema to the newest version; returns it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")  # kept by the file
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise RuntimeError(f"{path}: schema version {version} is newer than this portal knows "
                               f"({len(MIGRATIONS)}); use a newer portal or another --db file")
        for number in range(version, len(MIGRATIONS)):
            with transaction(conn):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")
        return len(MIGRATIONS)
    finally:
        conn.close()


def clear(conn: sqlite3.Connection) -> None:
    """Empty every table (the test reset); the schema stays."""
    with transaction(conn):
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")
