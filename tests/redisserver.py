"""A throw-away redis-server (Debian package redis-server) on a free loopback port, in a temporary folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from harness.servers import free_port

REDIS_SERVER = "redis-server"


class RedisServer:
    def __init__(self, folder: Path):
        binary = shutil.which(REDIS_SERVER) or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists()
                                                else None)
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (Debian package redis-server)")
        folder.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _ in range(5):  # the port is free when asked; another process may take it before redis binds
            self.port = free_port()
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(folder), "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if self._wait_ready(10):
                self.url = f"redis://127.0.0.1:{self.port}/0"
                return
            self.proc.kill()
            last_error = self.proc.communicate(timeout=5)[0][-500:]
        raise RuntimeError(f"redis-server did not start: {last_error}")

    def _wait_ready(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        self.proc.terminate()  # communicate, not wait: its output goes to a pipe that must be drained
        try:
            self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
