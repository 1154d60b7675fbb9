"""One contract for every Store: the memory store and the Redis store behave the same."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.servers import free_port
from mock_broker.store import MemoryStore, open_store

JOURNAL_BYTES = 20_000


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        yield MemoryStore(journal_limit=50, journal_max_bytes=JOURNAL_BYTES)
        return
    url = request.getfixturevalue("redis_url")
    # a prefix of its own per test: tests share one redis-server, as brokers may share one database
    s = open_store(f"{url}?prefix=contract-{uuid.uuid4().hex}:", journal_limit=50, journal_max_bytes=JOURNAL_BYTES)
    yield s
    s.reset()
    s.client.delete(s._seq_key, s._registrations_key)
    s.close()


def test_put_get_take_once(store):
    store.put("artifact", "a1", {"dv": "x", "xml": "<r/>"}, 60)
    assert store.get("artifact", "a1") == {"dv": "x", "xml": "<r/>"}
    assert store.get("artifact", "a1") == {"dv": "x", "xml": "<r/>"}  # get does not take
    assert store.take("artifact", "a1") == {"dv": "x", "xml": "<r/>"}
    assert store.take("artifact", "a1") is None
    assert store.get("artifact", "a1") is None
    assert store.get("artifact", "never") is None and store.take("artifact", "never") is None


def test_put_many_writes_and_discards_together(store):
    store.put("pending", "p1", {"v": 0}, 60)
    store.put("pending", "keep", {"v": 9}, 60)
    store.put_many([("finished", "p1", {"dv": "x"}, 60), ("artifact", "a1", {"xml": "<r/>"}, 60),
                    ("artifact", "short", {"v": 1}, 0.05)], discard=[("pending", "p1"), ("pending", "never")])
    assert store.get("pending", "p1") is None and store.get("pending", "keep") == {"v": 9}
    assert store.get("finished", "p1") == {"dv": "x"}
    assert store.take("artifact", "a1") == {"xml": "<r/>"}
    time.sleep(0.1)
    assert store.get("artifact", "short") is None  # each item keeps its own time to live
    store.put_many([], discard=[])  # nothing to do is no error


def test_kinds_are_separate(store):
    store.put("pending", "k", {"v": 1}, 60)
    store.put("artifact", "k", {"v": 2}, 60)
    assert store.take("pending", "k") == {"v": 1}
    assert store.get("artifact", "k") == {"v": 2}


def test_values_round_trip_as_json(store):
    value = {"text": "é ✓ \"quoted\" \t", "n": 3, "none": None, "list": [1, "2"], "nested": {"b": True}}
    store.put("pending", "j", value, 60)
    assert store.get("pending", "j") == value


def test_remember_says_replay_the_second_time(store):
    assert store.remember("request", "dv1 _id1", 60) is False
    assert store.remember("request", "dv1 _id1", 60) is True
    assert store.remember("request", "dv1 _id2", 60) is False
    assert store.remember("other", "dv1 _id1", 60) is False


def test_queue_is_per_dv_in_order_and_taken_once(store):
    store.enqueue({"kind": "person", "dv": "dv-a", "person": "a1"})
    store.enqueue({"kind": "person", "dv": None, "person": "any1"})
    store.enqueue({"kind": "person", "dv": "dv-b", "person": "b1"})
    store.enqueue({"kind": "person", "dv": "dv-a", "person": "a2"})
    assert [q["person"] for q in store.queued()] == ["a1", "any1", "b1", "a2"]
    assert store.dequeue("dv-b")["person"] == "any1"  # the oldest for this DV or for any DV
    assert store.dequeue("dv-b")["person"] == "b1"
    assert store.dequeue("dv-b") is None
    assert store.dequeue("dv-a")["person"] == "a1"
    assert store.dequeue("dv-c") is None
    assert [q["person"] for q in store.queued()] == ["a2"]
    assert store.dequeue("dv-a") == {"kind": "person", "dv": "dv-a", "person": "a2"}
    assert store.queued() == [] and store.dequeue("dv-a") is None


def test_identical_queued_answers_are_each_taken_once(store):
    for _ in range(3):
        store.enqueue({"kind": "cancel", "dv": None})
    assert [store.dequeue("x") for _ in range(4)] == [{"kind": "cancel", "dv": None}] * 3 + [None]


def test_journal_sequence_and_since(store):
    seqs = [store.append_journal({"event": "e", "i": i}) for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5 and seqs[-1] - seqs[0] == 4
    assert [e["i"] for e in store.journal(0)] == [0, 1, 2, 3, 4]
    since = store.journal(seqs[2])
    assert [e["seq"] for e in since] == seqs[3:] and since[0] == {"seq": seqs[3], "event": "e", "i": 3}
    assert store.journal(seqs[-1]) == []


def test_journal_is_capped_in_bytes_oldest_first_and_keeps_the_newest(store):
    seqs = [store.append_journal({"xml": "x" * 1000, "i": i}) for i in range(40)]  # 40 kB, limit 20 kB
    entries = store.journal(0)
    assert 10 <= len(entries) < 21, len(entries)  # ~1 kB each: about 19 fit
    assert sum(len(json.dumps({k: v for k, v in e.items() if k != "seq"})) for e in entries) <= JOURNAL_BYTES
    assert [e["seq"] for e in entries] == seqs[-len(entries):]  # the oldest went first
    huge = store.append_journal({"xml": "y" * (JOURNAL_BYTES * 2)})  # larger than the whole budget
    assert [e["seq"] for e in store.journal(0)] == [huge]  # kept alone, not lost
    assert store.append_journal({"i": "after"}) > huge and [e.get("i") for e in store.journal(0)] == ["after"]


def test_journal_is_capped_and_since_still_works(store):
    seqs = [store.append_journal({"i": i}) for i in range(60)]  # limit 50
    entries = store.journal(0)
    assert len(entries) == 50 and entries[0]["seq"] == seqs[10] and entries[-1]["seq"] == seqs[-1]
    assert [e["seq"] for e in store.journal(seqs[55])] == seqs[56:]


def test_reset_clears_state_but_keeps_registrations_and_sequence(store):
    store.put("artifact", "a", {"x": 1}, 60)
    store.remember("request", "r", 60)
    store.enqueue({"kind": "cancel", "dv": None})
    last = store.append_journal({"event": "before"})
    store.add_registration({"id": "r1"})
    store.reset()
    assert store.get("artifact", "a") is None
    assert store.remember("request", "r", 60) is False
    assert store.queued() == [] and store.journal(0) == []
    assert store.append_journal({"event": "after"}) > last
    assert store.registrations() == [{"id": "r1"}]


def test_registrations_since(store):
    assert store.add_registration({"id": "1"}) == 1
    assert store.add_registration({"id": "2"}) == 2
    assert store.registrations(0) == [{"id": "1"}, {"id": "2"}]
    assert store.registrations(1) == [{"id": "2"}] and store.registrations(2) == []


def test_ttl_expiry(store):
    store.put("artifact", "short", {"v": 1}, 0.05)
    store.put("artifact", "long", {"v": 2}, 60)
    assert store.remember("request", "short", 0.05) is False
    time.sleep(0.2)
    assert store.get("artifact", "short") is None and store.take("artifact", "short") is None
    assert store.get("artifact", "long") == {"v": 2}
    assert store.remember("request", "short", 60) is False  # forgotten after its TTL


def test_concurrent_take_of_one_key_has_exactly_one_winner(store):
    for round_ in range(5):
        store.put("artifact", f"race{round_}", {"round": round_}, 60)
        barrier = threading.Barrier(16)

        def take(_):
            barrier.wait()
            return store.take("artifact", f"race{round_}")

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(take, range(16)))
        assert [r for r in results if r is not None] == [{"round": round_}]


def test_concurrent_dequeue_takes_each_answer_once(store):
    for i in range(40):
        store.enqueue({"kind": "person", "dv": None, "person": f"p{i}"})
    barrier = threading.Barrier(8)

    def drain(_):
        barrier.wait()
        got = []
        while (item := store.dequeue("dv")) is not None:
            got.append(item["person"])
        return got

    with ThreadPoolExecutor(8) as pool:
        taken = [p for got in pool.map(drain, range(8)) for p in got]
    assert sorted(taken) == sorted(f"p{i}" for i in range(40))


def test_redis_reset_deletes_only_its_own_prefix(redis_url):
    mine = open_store(f"{redis_url}?prefix=mine-[{uuid.uuid4().hex}]:")
    other = open_store(f"{redis_url}?prefix=mine-other-{uuid.uuid4().hex}:")
    try:
        mine.put("artifact", "a", {"v": 1}, 60)
        other.put("artifact", "a", {"v": 2}, 60)
        other.enqueue({"kind": "cancel", "dv": None})
        mine.reset()
        assert mine.get("artifact", "a") is None
        assert other.get("artifact", "a") == {"v": 2} and len(other.queued()) == 1
    finally:
        for s in (mine, other):
            s.reset()
            s.close()


def test_unreachable_redis_is_a_clear_error():
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(ValueError, match="cannot reach the store redis://127.0.0.1"):
        open_store(url)


def test_unknown_store_url_is_refused():
    with pytest.raises(ValueError, match="give 'memory' or a redis:// URL"):
        open_store("postgres://x")
