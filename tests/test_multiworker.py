"""Several gunicorn workers on one Redis store answer as one broker: `mock-broker serve --workers 2 --store redis://…`."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from testdv import TestDV, dv_catalogue, dv_metadata

from ehsaml import ns
from ehsaml.dv.client import resolve_artifact
from ehsaml.processes import stop_process
from harness.servers import free_port
from mock_broker.cli import main

WORKER = "X-Mock-Broker-Worker"


def test_several_workers_need_a_shared_store(capsys):
    assert main(["serve", "--port", "0", "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "needs a shared store" in err and "--store redis://" in err


@pytest.fixture(scope="module")
def workers(redis_url, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("multiworker") / "broker.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "mock_broker.cli", "serve", "--port", str(port),
                                 "--workers", "2", "--store", redis_url, "--metadata-dir", ""],
                                stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        seen = set()
        while time.monotonic() < deadline and len(seen) < 2:  # both workers up
            try:
                resp = requests.get(f"{base}/saml/metadata", timeout=2, headers={"Connection": "close"})
                seen.add(resp.headers.get(WORKER))
            except requests.ConnectionError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        if len(seen) < 2 and not _both_workers_answer(base):
            raise AssertionError(f"two workers did not start within 30 s:\n{log.read_text()[-2000:]}")
        resp = requests.post(f"{base}/_mock/sps", timeout=10, json={
            "metadata": dv_metadata().decode(), "catalogue": dv_catalogue().decode(),
            "options": {"data_cipher": "aes256-gcm"}})
        assert resp.status_code == 201, resp.text
        yield base
    finally:
        stop_process(proc)


def _both_workers_answer(base: str) -> bool:
    def one(_):
        return requests.get(f"{base}/saml/metadata", timeout=5, headers={"Connection": "close"}).headers.get(WORKER)
    with ThreadPoolExecutor(8) as pool:
        return len(set(pool.map(one, range(40)))) >= 2


class TrackingSession(requests.Session):
    """A new connection per request (so any worker may take it), remembering which worker answered last."""

    last_worker: str | None = None

    def __init__(self):
        super().__init__()
        self.headers["Connection"] = "close"

    def request(self, *args, **kwargs):
        resp = super().request(*args, **kwargs)
        self.last_worker = resp.headers.get(WORKER)
        return resp


def _dv(base: str) -> TestDV:
    return TestDV(base, session=TrackingSession())


def test_every_worker_knows_the_dv_registered_on_one_and_its_options(workers):
    def sps(_):
        resp = requests.get(f"{workers}/_mock/sps", timeout=5, headers={"Connection": "close"})
        return resp.headers[WORKER], resp.json()["sps"]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(sps, range(24)))
    assert len({w for w, _ in answers}) == 2
    for _, listed in answers:
        entry = next(s for s in listed if s["entity_id"] == TestDV.entity_id)
        assert entry["options"]["data_cipher"] == "aes256-gcm"


def test_logins_across_workers_each_resolve_once(workers):
    requests.post(f"{workers}/_mock/reset", timeout=5).raise_for_status()
    logins = 40
    for _ in range(logins):
        requests.post(f"{workers}/_mock/next", json={"person": "anna-de-vries"}, timeout=5).raise_for_status()

    def login(_):
        dv = _dv(workers)
        _, resp = dv.request(service_index=2)
        assert resp.status_code == 302, resp.text[:300]
        made_by = resp.headers[WORKER]
        art = parse_qs(urlparse(resp.headers["Location"]).query)["SAMLart"][0]
        result = dv.resolve(art)
        resolved_by = dv.session.last_worker
        again = dv.resolve(art)  # single use, whichever worker takes it
        assert not again.ok and again.failure.check == "artifact_response_has_response"
        return result, made_by, resolved_by

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(login, range(logins)))
    failures = [r.failure for r, _, _ in outcomes if not r.ok]
    assert not failures, failures[:3]
    assert len({w for _, made, resolved in outcomes for w in (made, resolved)}) == 2
    assert any(made != resolved for _, made, resolved in outcomes), \
        "no artifact made by one worker was resolved by the other"
    assert requests.get(f"{workers}/_mock/next", timeout=5).json()["queued"] == []


def test_concurrent_resolves_of_one_artifact_give_the_response_exactly_once(workers):
    requests.post(f"{workers}/_mock/reset", timeout=5).raise_for_status()
    for round_ in range(3):
        requests.post(f"{workers}/_mock/next", json={"person": "anna-de-vries"}, timeout=5).raise_for_status()
        dv = _dv(workers)
        _, resp = dv.request(service_index=2)
        art = parse_qs(urlparse(resp.headers["Location"]).query)["SAMLart"][0]
        takers = 12
        barrier = threading.Barrier(takers)

        def resolve(_):
            session = requests.Session()
            session.headers["Connection"] = "close"
            barrier.wait()
            _, answer = resolve_artifact(session, dv.hm.artifact_resolution[0].location, art, dv.keypair,
                                         dv.entity_id, timeout=20)
            return answer.find(ns.q("samlp", "Response")) is not None

        with ThreadPoolExecutor(takers) as pool:
            got = list(pool.map(resolve, range(takers)))
        assert got.count(True) == 1, f"round {round_}: {got.count(True)} of {takers} resolves got the Response"
    sent = [e for e in requests.get(f"{workers}/_mock/journal", timeout=5).json()["entries"]
            if e["event"] == "sent" and e.get("binding") == ns.BINDING_SOAP]
    assert sum(e["reason"] == "ArtifactResponse with the Response" for e in sent) == 3
