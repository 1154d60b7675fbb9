"""The Store interface on Redis, so that several worker processes (or machines) answer as one broker.

Every key starts with this broker's prefix (by default `mock-broker:<base URL>:`), so brokers that
share one Redis database do not see each other's state and `reset` deletes only its own keys.

- items (pending logins, artifacts): one string key each, `SET ... PX ttl`; `take` is `GETDEL`, so of
  concurrent takers of one key exactly one gets the value, whichever process they run in;
- seen request IDs: `SET ... NX PX ttl` (the reply says whether it was new);
- queued answers: one list; finding the oldest answer for a DV and removing it is one Lua script;
- journal: one list, each entry `"<seq>\\t<json>"`, capped in entries and in bytes (a counter key kept
  in the same script); the sequence number comes from `INCR` in the same script as the `RPUSH`, so the
  list is always in sequence order;
- DV registrations: an append-only list that `reset` keeps (see Registry);
- world changes: a list that `reset` deletes; a change is appended only if the list has the length
  its worker checked it against (one Lua script), so every worker replays the same sequence.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import redis

from .store import JOURNAL_MAX_BYTES

_APPEND_JOURNAL = """
local seq, n, total
for i = 3, #ARGV do
  seq = redis.call('INCR', KEYS[2])
  local item = seq .. '\\t' .. ARGV[i]
  n = redis.call('RPUSH', KEYS[1], item)
  total = redis.call('INCRBY', KEYS[3], #item)
end
while n > 1 and (n > tonumber(ARGV[1]) or total > tonumber(ARGV[2])) do
  local old = redis.call('LPOP', KEYS[1])
  total = redis.call('INCRBY', KEYS[3], -#old)
  n = n - 1
end
return seq
"""

_JOURNAL_SINCE = """
local first = redis.call('LINDEX', KEYS[1], 0)
if not first then return {} end
local first_seq = tonumber(string.match(first, '^(%d+)'))
local start = tonumber(ARGV[1]) - first_seq + 1
if start < 0 then start = 0 end
return redis.call('LRANGE', KEYS[1], start, -1)
"""

_DEQUEUE = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
for _, raw in ipairs(items) do
  local dv = cjson.decode(raw)['dv']
  if dv == nil or dv == cjson.null or dv == ARGV[1] then
    redis.call('LREM', KEYS[1], 1, raw)
    return raw
  end
end
return false
"""

_ADD_WORLD_CHANGE = """
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[2]) then return -1 end
return redis.call('RPUSH', KEYS[1], ARGV[1])
"""

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


def _ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


class RedisStore:
    """State in Redis. Give a URL such as redis://127.0.0.1:6379/0 (optionally ?prefix=NAME)."""

    shared = True

    def __init__(self, client: redis.Redis, *, prefix: str, journal_limit: int = 5000,
                 journal_max_bytes: int = JOURNAL_MAX_BYTES, url: str = ""):
        self.client = client
        self.prefix = prefix
        self.url = url
        self.journal_limit = journal_limit
        self.journal_max_bytes = journal_max_bytes
        self._journal_bytes_key = f"{prefix}journal-bytes"
        self._queue_key = f"{prefix}queue"
        self._journal_key = f"{prefix}journal"
        self._seq_key = f"{prefix}journal-seq"
        self._registrations_key = f"{prefix}registrations"
        self._world_changes_key = f"{prefix}world-changes"
        self._add_world_change = client.register_script(_ADD_WORLD_CHANGE)
        self._append_journal = client.register_script(_APPEND_JOURNAL)
        self._journal_since = client.register_script(_JOURNAL_SINCE)
        self._dequeue = client.register_script(_DEQUEUE)

    @classmethod
    def from_url(cls, url: str, *, default_prefix: str = "mock-broker:", journal_limit: int = 5000,
                 journal_max_bytes: int = JOURNAL_MAX_BYTES, check: bool = True) -> "RedisStore":
        parts = urlparse(url)
        query = parse_qs(parts.query)
        prefix = query.pop("prefix", [default_prefix])[0]
        client_url = urlunparse(parts._replace(query=urlencode(query, doseq=True)))
        client = redis.Redis.from_url(client_url, decode_responses=True, socket_connect_timeout=5,
                                      socket_timeout=10, health_check_interval=30)
        if check:
            try:
                version = client.info("server").get("redis_version", "0")
            except redis.RedisError as exc:
                raise ValueError(f"cannot reach the store {url}: {exc}") from None
            if tuple(int(p) for p in version.split(".")[:2]) < (6, 2):
                raise ValueError(f"the store {url} runs Redis {version}; GETDEL needs Redis 6.2 or newer")
        return cls(client, prefix=prefix, journal_limit=journal_limit, journal_max_bytes=journal_max_bytes, url=url)

    def _item(self, kind: str, key: str) -> str:
        return f"{self.prefix}item:{kind}:{key}"

    def _seen(self, kind: str, key: str) -> str:
        return f"{self.prefix}seen:{kind}:{key}"

    # --- items ---------------------------------------------------------------------------------------
    def put(self, kind, key, value, ttl):
        self.client.set(self._item(kind, key), json.dumps(value), px=_ms(ttl))

    def put_many(self, puts, discard=()):
        pipe = self.client.pipeline(transaction=False)
        if discard:
            pipe.delete(*(self._item(kind, key) for kind, key in discard))
        for kind, key, value, ttl in puts:
            pipe.set(self._item(kind, key), json.dumps(value), px=_ms(ttl))
        pipe.execute()

    def get(self, kind, key):
        raw = self.client.get(self._item(kind, key))
        return None if raw is None else json.loads(raw)

    def take(self, kind, key):
        raw = self.client.getdel(self._item(kind, key))
        return None if raw is None else json.loads(raw)

    def remember(self, kind, key, ttl):
        return not self.client.set(self._seen(kind, key), "1", nx=True, px=_ms(ttl))

    # --- queued answers ---------------------------------------------------------------------------------
    def enqueue(self, value):
        self.client.rpush(self._queue_key, json.dumps(value))

    def dequeue(self, dv):
        raw = self._dequeue(keys=[self._queue_key], args=[dv or ""])
        return None if raw is None else json.loads(raw)

    def queued(self):
        return [json.loads(raw) for raw in self.client.lrange(self._queue_key, 0, -1)]

    # --- journal -----------------------------------------------------------------------------------------
    def append_journal(self, *entries):
        return int(self._append_journal(keys=[self._journal_key, self._seq_key, self._journal_bytes_key],
                                        args=[self.journal_limit, self.journal_max_bytes,
                                              *(json.dumps(e) for e in entries)]))

    def journal(self, since=0):
        entries = []
        for raw in self._journal_since(keys=[self._journal_key], args=[int(since)]):
            seq, _, body = raw.partition("\t")
            if int(seq) > since:
                entries.append({"seq": int(seq), **json.loads(body)})
        return entries

    # --- DV registrations (kept by reset) ---------------------------------------------------------------
    def add_registration(self, record):
        return int(self.client.rpush(self._registrations_key, json.dumps(record)))

    def registrations(self, since=0):
        return [json.loads(raw) for raw in self.client.lrange(self._registrations_key, int(since), -1)]

    # --- world changes (removed by reset) ------------------------------------------------------------------
    def add_world_change(self, record, expected):
        n = int(self._add_world_change(keys=[self._world_changes_key], args=[json.dumps(record), int(expected)]))
        return None if n < 0 else n

    def world_changes(self, since=0):
        return [json.loads(raw) for raw in self.client.lrange(self._world_changes_key, int(since), -1)]

    # --- reset ---------------------------------------------------------------------------------------------
    def reset(self):
        """Delete this broker's state (not its registrations, not the journal's sequence counter)."""
        pattern = _GLOB_SPECIAL.sub(r"\\\1", self.prefix)
        doomed = [self._queue_key, self._journal_key, self._journal_bytes_key, self._world_changes_key]
        for sub in ("item:*", "seen:*"):
            doomed.extend(self.client.scan_iter(match=pattern + sub, count=1000))
        for i in range(0, len(doomed), 500):
            self.client.delete(*doomed[i:i + 500])

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, prefix={self.prefix!r})"
