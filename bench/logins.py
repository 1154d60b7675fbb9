"""The broker over HTTP: full logins per second under gunicorn with 1, 2 and 4 workers on a Redis store.

    python bench/logins.py [--quick] [--workers 1,2,4] [--no-pysaml2]

A full login: a signed AuthnRequest (HTTP-Redirect) in, a 302 with SAMLart out, a signed ArtifactResolve
(SOAP) in, the signed ArtifactResponse with the Response out. The load runs from this process over
loopback with a few threads (each its own keep-alive connection), after the AuthnRequests were built and
signed; it checks that every ArtifactResponse holds a Response with status Success (the signature and
content checks of a real DV are the test suite's job, and would only take CPU from the two cores the
broker runs on). Then the same load against a broker made with pysaml2's Server and its default crypto
backend (bench/pysaml2_broker.py), under the same gunicorn settings and store; and against a bare Flask app
with the same two requests and answer bytes and no SAML (bench/bare_broker.py), the floor of this server
stack. Bounded: a number of logins per run and a time limit (BENCH_LOGINS overrides the number, for
profiling); loopback only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from machine import ROOT, describe

sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402
from redisserver import RedisServer  # noqa: E402

from ehsaml.processes import stop_process  # noqa: E402
from harness.servers import free_port  # noqa: E402
from testdv import dv_catalogue, dv_metadata, portal_keypair  # noqa: E402

from ehsaml import ns  # noqa: E402
from ehsaml.bindings import soap_envelope  # noqa: E402
from ehsaml.dv.client import SOAP_ACTION, build_artifact_resolve, build_authn_request, redirect_url, \
    resolve_artifact  # noqa: E402
from ehsaml.xml import tostring  # noqa: E402
from ehsaml.testids import PORTAL_ENTITY_ID  # noqa: E402

HERE = Path(__file__).resolve().parent


def wait_ready(base: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if requests.get(f"{base}/saml/metadata", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base} did not answer within {seconds} s")


def start_mock(workers: int, redis_url: str, log) -> tuple[str, subprocess.Popen]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mock_broker.cli", "serve", "--port", str(port), "--workers",
                             str(workers), "--store", redis_url, "--metadata-dir", ""],
                            cwd=ROOT, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, proc)
    resp = requests.post(f"{base}/_mock/sps", timeout=10,
                         json={"metadata": dv_metadata().decode(), "catalogue": dv_catalogue().decode()})
    resp.raise_for_status()
    return base, proc


def start_pysaml2(workers: int, redis_url: str, log) -> tuple[str, subprocess.Popen]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # its workers write pysaml2's metadata file beside the run's log, in the run's temporary folder
    opts = {"base_url": base, "store_url": redis_url, "workdir": str(Path(log.name).parent)}
    env = dict(os.environ, PYSAML2_BROKER=json.dumps(opts), PYTHONWARNINGS="ignore")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads", "4",
                             "-b", f"127.0.0.1:{port}", "--chdir", str(HERE), "--log-level", "warning",
                             "pysaml2_broker:create()"], cwd=ROOT, env=env, stdout=log, stderr=log)
    wait_ready(base, proc)
    return base, proc


def start_bare(workers: int, answer_file: Path, log) -> tuple[str, subprocess.Popen]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, BARE_BROKER=f'{{"answer_file": "{answer_file}", "acs": "http://127.0.0.1:1/acs"}}')
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads", "4",
                             "-b", f"127.0.0.1:{port}", "--chdir", str(HERE), "--log-level", "warning",
                             "bare_broker:create()"], cwd=ROOT, env=env, stdout=log, stderr=log)
    wait_ready(base, proc)
    return base, proc


def capture_answer(base: str, path: Path) -> int:
    """One login at the mock broker; its ArtifactResponse envelope, as sent, goes to `path` (for the bare app)."""
    keypair = portal_keypair()
    sso, art_url = f"{base}/saml/sso", f"{base}/saml/artifact"
    requests.post(f"{base}/_mock/next", json={"person": "anna-de-vries"}, timeout=5).raise_for_status()
    _, element = build_authn_request(dv=PORTAL_ENTITY_ID, destination=sso, service_index=2)
    resp = requests.get(redirect_url(sso, element, keypair, "bench"), allow_redirects=False, timeout=10)
    art = parse_qs(urlparse(resp.headers["Location"]).query)["SAMLart"][0]
    envelope = soap_envelope(build_artifact_resolve(dv=PORTAL_ENTITY_ID, destination=art_url, artifact=art,
                                                    keypair=keypair))
    answer = requests.post(art_url, data=tostring(envelope), timeout=10,
                           headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": SOAP_ACTION})
    answer.raise_for_status()
    path.write_bytes(answer.content)
    return len(answer.content)


def redis_commands(redis: RedisServer) -> int:
    """Commands the Redis server has processed so far (INFO stats)."""
    import redis as redis_client

    client = redis_client.Redis.from_url(redis.url)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def server_cpu_seconds(proc: subprocess.Popen) -> float:
    """User + system CPU of the server process and its live children (the gunicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [proc.pid]
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def _client(urls: list[str], art_url: str, stop_at: float) -> tuple[list[float], list[str], float]:
    """One load-client process: its logins one after another on one keep-alive connection."""
    keypair = portal_keypair()
    session = requests.Session()
    latencies, errors = [], []
    cpu0 = time.process_time()
    for url in urls:
        if time.monotonic() > stop_at:
            break
        t0 = time.perf_counter()
        try:
            resp = session.get(url, allow_redirects=False, timeout=60)
            if resp.status_code != 302 or "SAMLart=" not in resp.headers.get("Location", ""):
                raise RuntimeError(f"SSO answered HTTP {resp.status_code}: {resp.text[:200]}")
            art = parse_qs(urlparse(resp.headers["Location"]).query)["SAMLart"][0]
            _, answer = resolve_artifact(session, art_url, art, keypair, PORTAL_ENTITY_ID, timeout=60)
            inner = answer.find(ns.q("samlp", "Response"))
            code = None if inner is None else inner.find(f"{ns.q('samlp', 'Status')}/{ns.q('samlp', 'StatusCode')}")
            if code is None or code.get("Value") != ns.STATUS_SUCCESS:
                raise RuntimeError("the ArtifactResponse holds no successful Response")
        except Exception as exc:  # noqa: BLE001 - counted and shown
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        latencies.append(time.perf_counter() - t0)
    return latencies, errors, time.process_time() - cpu0


def run_load(base: str, *, logins: int, concurrency: int, time_limit: float, queue_answers: bool,
             proc: subprocess.Popen | None = None, counter=None) -> dict:
    """`counter`: a function read when the clock starts and when it stops (the store's command count)."""
    keypair = portal_keypair()
    sso, art_url = f"{base}/saml/sso", f"{base}/saml/artifact"
    if queue_answers:
        for _ in range(logins):
            requests.post(f"{base}/_mock/next", json={"person": "anna-de-vries"}, timeout=5).raise_for_status()
    urls = []
    for _ in range(logins):  # built and signed before the clock starts
        _, element = build_authn_request(dv=PORTAL_ENTITY_ID, destination=sso, service_index=2)
        urls.append(redirect_url(sso, element, keypair, "bench"))
    chunks = [urls[i::concurrency] for i in range(concurrency)]
    # client processes, not threads: the GIL would make the load generator the bottleneck
    with multiprocessing.get_context("fork").Pool(concurrency) as pool:
        pool.map(time.sleep, [0.01] * concurrency)  # the processes exist before the clock starts
        stop_at = time.monotonic() + time_limit
        cpu0 = server_cpu_seconds(proc) if proc else 0.0
        count0 = counter() if counter else 0
        t0 = time.perf_counter()
        parts = pool.starmap(_client, [(chunk, art_url, stop_at) for chunk in chunks])
        elapsed = time.perf_counter() - t0
    server_cpu = server_cpu_seconds(proc) - cpu0 if proc else float("nan")
    counted = counter() - count0 - 1 if counter else 0  # less the INFO command that read it
    latencies = [x for part in parts for x in part[0]]
    errors = [x for part in parts for x in part[1]]
    client_cpu = sum(part[2] for part in parts)
    latencies.sort()
    done = len(latencies)
    return {"done": done, "errors": errors, "elapsed": elapsed, "rate": done / elapsed if elapsed else 0.0,
            "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": latencies[min(done - 1, int(done * 0.99))] if latencies else float("nan"),
            "limited": done + len(errors) < logins,
            "server_cpu_ms": server_cpu / max(done, 1) * 1e3, "client_cpu_ms": client_cpu / max(done, 1) * 1e3,
            "counted_per_login": counted / max(done, 1)}


def crypto_per_login_ms() -> tuple[float, str]:
    """The raw RSA work the broker does for one full artifact login, timed with `cryptography` in this run:
    it checks the AuthnRequest's query-string signature and the ArtifactResolve's signature, signs the
    assertion, the Response and the ArtifactResponse, and encrypts three session keys (KvK, RSIN, pseudonym)."""
    import statistics as st
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from ehsaml import testkeys
    from ehsaml.keys import load_keypair

    broker = load_keypair(str(testkeys.key_file("broker")), str(testkeys.cert_file("broker")))
    portal = load_keypair(str(testkeys.key_file("portal")), str(testkeys.cert_file("portal")))
    data = os.urandom(640)
    signature = portal.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    ops = {
        "sign": lambda: broker.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
        "verify": lambda: portal.certificate.public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256()),
        "encrypt": lambda: portal.certificate.public_key.encrypt(os.urandom(32), oaep),
    }
    per = {}
    for name, fn in ops.items():
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(200):
                fn()
            runs.append((time.perf_counter() - t0) / 200)
        per[name] = st.median(runs)
    total = 3 * per["sign"] + 2 * per["verify"] + 3 * per["encrypt"]
    how = (f"3 signs x {per['sign'] * 1e3:.3f} + 2 verifies x {per['verify'] * 1e3:.3f} + 3 OAEP encryptions x "
           f"{per['encrypt'] * 1e3:.3f} ms")
    return total * 1e3, how


def show(name: str, workers: int, r: dict) -> None:
    note = " (time limit reached)" if r["limited"] else ""
    print(f"{name:<22} workers={workers}: {r['done']:4d} logins in {r['elapsed']:6.2f} s = {r['rate']:7.1f} logins/s, "
          f"errors {len(r['errors'])}, p50 {r['p50'] * 1e3:7.1f} ms, p99 {r['p99'] * 1e3:7.1f} ms; CPU per login: "
          f"server {r['server_cpu_ms']:.1f} ms, load client {r['client_cpu_ms']:.1f} ms{note}")
    for e in r["errors"][:3]:
        print(f"    error: {e}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer logins (about half a minute in all)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to measure (default 1,2,4)")
    parser.add_argument("--no-pysaml2", action="store_true", help="skip the pysaml2-default comparison")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    mock_logins, py_logins, limit = (150, 12, 20.0) if args.quick else (800, 40, 60.0)
    mock_logins = int(os.environ.get("BENCH_LOGINS", mock_logins))
    describe("broker over HTTP: full artifact logins under gunicorn (gthread, 4 threads/worker), Redis store")
    print(f"load: up to {mock_logins} logins per run (pysaml2: {py_logins}), {limit:.0f} s limit, client processes "
          f"= workers + 1 (min 2), each one keep-alive connection, loopback\n")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisServer(Path(tmp) / "redis")
        log_path = Path(tmp) / "servers.log"
        try:
            with open(log_path, "w") as log:
                answer_file = Path(tmp) / "answer.xml"

                def measure(kind: str, label: str, start, *, logins: int, warm: int, queue: bool, between=None,
                            counter=None) -> None:
                    """Start a server with w workers, warm it, run the measured load, stop it; show the result."""
                    for w in counts:
                        base, proc = start(w)
                        try:
                            run_load(base, logins=warm, concurrency=min(warm, 4), time_limit=limit,
                                     queue_answers=queue)
                            if between:
                                between(base)
                            r = run_load(base, logins=logins, concurrency=max(2, w + 1), time_limit=limit,
                                         queue_answers=queue, proc=proc, counter=counter)
                        finally:
                            stop_process(proc)
                        results[(kind, w)] = r
                        show(label, w, r)

                def capture_then_reset(base: str) -> None:
                    if not answer_file.exists():  # the bare app's answer: the mock's own, as sent
                        capture_answer(base, answer_file)
                    requests.post(f"{base}/_mock/reset", timeout=5).raise_for_status()

                measure("mock", "mock broker", lambda w: start_mock(w, redis.url, log), logins=mock_logins, warm=20,
                        queue=True, between=capture_then_reset, counter=lambda: redis_commands(redis))
                measure("bare", "bare Flask (floor)", lambda w: start_bare(w, answer_file, log), logins=mock_logins,
                        warm=20, queue=False)
                if not args.no_pysaml2:
                    measure("pysaml2", "pysaml2 (xmlsec1)", lambda w: start_pysaml2(w, redis.url, log),
                            logins=py_logins, warm=2, queue=False)
        except Exception:
            print(log_path.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            redis.stop()
    print()
    for w in counts:
        m, p = results.get(("mock", w)), results.get(("pysaml2", w))
        if m and p and p["rate"]:
            print(f"workers={w}: mock {m['rate']:.1f} logins/s vs pysaml2-default {p['rate']:.1f} logins/s "
                  f"= {m['rate'] / p['rate']:.1f}x")
    if len(counts) > 1 and all(("mock", w) in results for w in counts):
        base_rate = results[("mock", counts[0])]["rate"]
        print("scaling (mock): " + ", ".join(f"{w} workers {results[('mock', w)]['rate'] / base_rate:.2f}x"
                                            for w in counts) + f" of {counts[0]} worker(s), on {os.cpu_count()} cores")
    crypto_ms, how = crypto_per_login_ms()
    print(f"\ncryptography per full login (raw, this machine): {crypto_ms:.2f} ms ({how})")
    for w in counts:
        m, b = results.get(("mock", w)), results.get(("bare", w))
        if m:
            print(f"workers={w}: server CPU per login {m['server_cpu_ms']:.2f} ms = {m['server_cpu_ms'] / crypto_ms:.2f}x "
                  f"its cryptography (goal: <= 2x), {m['rate']:.1f} logins/s, {m['counted_per_login']:.1f} Redis "
                  f"commands per login (those its Lua scripts run counted too)")
        if m and b:
            rest = m["server_cpu_ms"] - b["server_cpu_ms"] - crypto_ms
            print(f"           the two requests through gunicorn and Flask alone (bare app): {b['server_cpu_ms']:.2f} ms "
                  f"= {b['server_cpu_ms'] / crypto_ms:.2f}x the cryptography; the broker's own work beyond both: "
                  f"{rest:.2f} ms")
    total_errors = sum(len(r["errors"]) for r in results.values())
    print(f"errors in all runs: {total_errors}")
    return 1 if total_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
