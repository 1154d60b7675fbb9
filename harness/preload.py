"""Server processes forked from one interpreter that has already imported the broker and the example portal.

A broker or portal started as `python -m …` spends 0.3 s of CPU importing Flask, lxml, xmlsec, cryptography
and jsonschema before it serves; a runner with two workers and a waiting lane starts six, on two cores
shared with the scenarios. Forked from a process that holds those imports, each costs a tenth of that and is
ready in about 0.1 s, as gunicorn's `--preload` starts its workers. Each server is still a process of its
own, with its own memory after the fork, serving real HTTP on its own loopback port.

A module may offer `warm_up()`, run once here before any fork (the broker reads its fault catalogue).
The preloading process (`python -m harness.preload`) is single-threaded (forking a process with threads
is unsafe), is started once per harness process on first use, and takes one JSON line per request on
stdin: `spawn` (module, arguments, log file, working folder, environment) → the child's pid; `poll` →
its exit code or null; `stop` → SIGTERM, then SIGKILL after a time-out, → its exit code. It reaps its
children itself. When the harness goes away, stdin closes: the preloader ends, and its children, which
asked the kernel to be sent SIGTERM when their parent dies, end with it.

Only on Linux (the parent-death signal is Linux's); elsewhere the servers are started with subprocess as before.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback

MODULES = ("mock_broker.cli", "example_portal.cli")  # what the servers run, imported once here
AVAILABLE = sys.platform.startswith("linux")


# ---- the preloading process ------------------------------------------------------------------------

def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(module: str, args: list[str], log: str, cwd: str, env: dict[str, str]) -> None:
    """In the forked child: become the server (never returns)."""
    code = 1
    try:
        _die_with_parent()
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        os.close(null)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = [module, *args]
        result = importlib.import_module(module).main(args)
        code = result if isinstance(result, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - reported in the server's log, as the interpreter would
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C reaches the servers; this process ends with stdin
    for module in MODULES:
        warm_up = getattr(importlib.import_module(module), "warm_up", None)  # what every child would read again
        if warm_up is not None:
            warm_up()
    done: dict[int, int] = {}

    def reap(pid: int, block: bool) -> int | None:
        if pid in done:
            return done[pid]
        try:
            got, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return done.get(pid, -1)
        if got == 0:
            return None
        done[pid] = os.waitstatus_to_exitcode(status)
        return done[pid]

    reply = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        if "spawn" in req:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(req["spawn"], req["args"], req["log"], req["cwd"], req["env"])
            answer: dict = {"pid": pid}
        elif "poll" in req:
            answer = {"exit": reap(req["poll"], block=False)}
        else:
            pid, code = req["stop"], reap(req["stop"], block=False)
            if code is None:
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + req.get("timeout", 15)
                while code is None and time.monotonic() < deadline:
                    time.sleep(0.005)
                    code = reap(pid, block=False)
                if code is None:
                    os.kill(pid, signal.SIGKILL)
                    code = reap(pid, block=True)
            answer = {"exit": code}
        reply.write(json.dumps(answer) + "\n")
        reply.flush()


# ---- the harness's side ----------------------------------------------------------------------------

class PreloadError(Exception):
    """The preloading process is gone (harness.servers reports it as a server that could not start)."""


class Preloader:
    """The harness's handle on its preloading process; safe to use from several threads."""

    def __init__(self, command: list[str] | None = None):
        self._command = command or [sys.executable, "-m", "harness.preload"]
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None

    def _ask(self, request: dict) -> dict:
        with self._lock:
            if self._proc is not None and self._proc.poll() is not None:
                self._end(self._proc)
                self._proc = None
            if self._proc is None:
                self._proc = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                              bufsize=1)
            try:
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
                line = self._proc.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            if not line:
                raise PreloadError(f"the preloading process stopped (exit {self._proc.wait()})")
            return json.loads(line)

    def spawn(self, module: str, args: list[str], log: str) -> "Child":
        answer = self._ask({"spawn": module, "args": args, "log": log, "cwd": os.getcwd(), "env": dict(os.environ)})
        return Child(self, answer["pid"])

    def close(self) -> None:
        """End the preloading process (its children, stopped or not, end with it)."""
        with self._lock:
            if self._proc is not None:
                self._end(self._proc)
            self._proc = None

    @staticmethod
    def _end(proc: subprocess.Popen) -> None:
        try:
            proc.stdin.close()  # its signal to end
        except OSError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


class Child:
    """A server forked by the preloader, with the part of subprocess.Popen the harness uses."""

    def __init__(self, preloader: Preloader, pid: int):
        self._preloader, self.pid, self.returncode = preloader, pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._preloader._ask({"poll": self.pid})["exit"]
        return self.returncode

    def stop(self, timeout: float = 15) -> None:
        if self.returncode is None:
            self.returncode = self._preloader._ask({"stop": self.pid, "timeout": timeout})["exit"]


_shared: Preloader | None = None
_shared_lock = threading.Lock()


def shared() -> Preloader:
    """The harness process's preloader, started on first use and closed at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Preloader()
            atexit.register(_shared.close)
        return _shared


if __name__ == "__main__":
    serve()
