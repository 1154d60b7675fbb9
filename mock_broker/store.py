"""The broker's run-time state behind one small interface.

Pending logins, artifacts, queued answers, seen request IDs, the journal, DV registrations and
world changes (the management page's, which reset removes). Values are plain
JSON-able dicts so that a shared store (several worker processes answering as one broker) can
implement the same interface. `MemoryStore` is the default.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import OrderedDict, deque
from typing import Protocol

JOURNAL_LIMIT = 5000  # entries
JOURNAL_MAX_BYTES = 32 * 1024 * 1024  # of the entries as JSON


class Store(Protocol):
    def put(self, kind: str, key: str, value: dict, ttl: float) -> None: ...
    def get(self, kind: str, key: str) -> dict | None: ...
    def take(self, kind: str, key: str) -> dict | None:
        """Remove and return; of concurrent takers of one key exactly one gets the value."""
    def put_many(self, puts: list[tuple[str, str, dict, float]], discard: list[tuple[str, str]] = ()) -> None:
        """Several `put`s (kind, key, value, ttl) and removals (kind, key) in one round trip: the writes of an
        answer that nothing in the same request reads back."""
    def remember(self, kind: str, key: str, ttl: float) -> bool:
        """Record `key`; True when it was already recorded (a replay)."""
    def enqueue(self, value: dict) -> None: ...
    def dequeue(self, dv: str) -> dict | None:
        """The oldest queued answer for this DV (or for any DV), taken once."""
    def queued(self) -> list[dict]: ...
    def append_journal(self, *entries: dict) -> int:
        """Append entries in order, in one round trip; returns the sequence number of the last."""
    def journal(self, since: int = 0) -> list[dict]: ...
    def add_registration(self, record: dict) -> int:
        """Append a DV registration (kept by `reset`); returns how many there are now."""
    def registrations(self, since: int = 0) -> list[dict]:
        """The registrations after the first `since`, oldest first."""
    def add_world_change(self, record: dict, expected: int) -> int | None:
        """Append a world change if exactly `expected` are recorded (else None: another came first);
        returns how many there are now. `reset` removes them all."""
    def world_changes(self, since: int = 0) -> list[dict]:
        """The world changes after the first `since`, oldest first."""
    def reset(self) -> None: ...


class MemoryStore:
    shared = False  # one process only: several workers need a shared store (RedisStore)

    def __init__(self, journal_limit: int = 5000, journal_max_bytes: int = JOURNAL_MAX_BYTES):
        self._journal_max_bytes = journal_max_bytes
        self._journal_bytes = 0
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], tuple[float, dict]] = {}
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._queue: deque[dict] = deque()
        self._journal_limit = journal_limit
        self._journal: deque[tuple[dict, int]] = deque()  # (entry, its size as JSON)
        self._seq = itertools.count(1)
        self._registrations: list[dict] = []
        self._world_changes: list[dict] = []

    def put(self, kind, key, value, ttl):
        with self._lock:
            self._purge()
            self._items[(kind, key)] = (time.monotonic() + ttl, value)

    def put_many(self, puts, discard=()):
        with self._lock:
            self._purge()
            for kind, key in discard:
                self._items.pop((kind, key), None)
            for kind, key, value, ttl in puts:
                self._items[(kind, key)] = (time.monotonic() + ttl, value)

    def get(self, kind, key):
        with self._lock:
            item = self._items.get((kind, key))
            if item is None or item[0] < time.monotonic():
                return None
            return item[1]

    def take(self, kind, key):
        with self._lock:
            item = self._items.pop((kind, key), None)
            if item is None or item[0] < time.monotonic():
                return None
            return item[1]

    def remember(self, kind, key, ttl):
        with self._lock:
            now = time.monotonic()
            while self._seen and next(iter(self._seen.values())) < now:
                self._seen.popitem(last=False)
            if (kind, key) in self._seen and self._seen[(kind, key)] >= now:
                return True
            self._seen[(kind, key)] = now + ttl
            return False

    def enqueue(self, value):
        with self._lock:
            self._queue.append(value)

    def dequeue(self, dv):
        with self._lock:
            for i, value in enumerate(self._queue):
                if value.get("dv") in (None, dv):
                    del self._queue[i]
                    return value
            return None

    def queued(self):
        with self._lock:
            return list(self._queue)

    def append_journal(self, *entries):
        sizes = [len(json.dumps(entry, default=str)) for entry in entries]
        with self._lock:
            for entry, size in zip(entries, sizes):
                seq = next(self._seq)
                self._journal.append(({"seq": seq, **entry}, size))
                self._journal_bytes += size
            # bounded in entries and in bytes, oldest dropped first; the newest entry always stays
            while len(self._journal) > 1 and (len(self._journal) > self._journal_limit
                                              or self._journal_bytes > self._journal_max_bytes):
                self._journal_bytes -= self._journal.popleft()[1]
            return seq

    def journal(self, since=0):
        with self._lock:
            return [e for e, _ in self._journal if e["seq"] > since]

    def add_registration(self, record):
        with self._lock:
            self._registrations.append(record)
            return len(self._registrations)

    def registrations(self, since=0):
        with self._lock:
            return list(self._registrations[since:])

    def add_world_change(self, record, expected):
        with self._lock:
            if len(self._world_changes) != expected:
                return None
            self._world_changes.append(record)
            return len(self._world_changes)

    def world_changes(self, since=0):
        with self._lock:
            return list(self._world_changes[since:])

    def reset(self):
        with self._lock:
            self._world_changes.clear()
            self._items.clear()
            self._seen.clear()
            self._queue.clear()
            self._journal.clear()
            self._journal_bytes = 0

    def _purge(self):
        now = time.monotonic()
        for k in [k for k, (exp, _) in self._items.items() if exp < now]:
            del self._items[k]


def open_store(url: str | None, *, base_url: str = "", journal_limit: int = 5000,
               journal_max_bytes: int = JOURNAL_MAX_BYTES) -> Store:
    """`memory` (the default) or `redis://host:port/db[?prefix=NAME]`.

    Without a prefix a Redis store uses `mock-broker:<base URL>:`, so the workers of one broker share
    state and brokers on other ports sharing the same Redis database do not.
    """
    if not url or url == "memory":
        return MemoryStore(journal_limit, journal_max_bytes)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .redis_store import RedisStore
        return RedisStore.from_url(url, default_prefix=f"mock-broker:{base_url}:", journal_limit=journal_limit,
                                   journal_max_bytes=journal_max_bytes)
    raise ValueError(f"store {url!r}: give 'memory' or a redis:// URL (redis://127.0.0.1:6379/0)")
