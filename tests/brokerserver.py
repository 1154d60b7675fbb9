"""Run the mock broker on a free loopback port in a thread, over real HTTP (werkzeug's threaded server)."""

from __future__ import annotations

import threading
from dataclasses import replace

from werkzeug.serving import make_server

from mock_broker.app import create_app
from mock_broker.settings import BrokerSettings


class ServedApp:
    def __init__(self, make_app, host: str = "127.0.0.1"):
        # Bind first (port 0 = a free port) so the app can be built knowing its own base URL.
        self.server = make_server(host, 0, lambda environ, start: [], threaded=True)
        self.port = self.server.server_port
        self.base_url = f"http://{host}:{self.port}"
        self.app = make_app(self.base_url)
        self.server.app = self.app
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_broker(**overrides) -> ServedApp:
    def make(base_url):
        settings = replace(BrokerSettings(), base_url=base_url, metadata_dir=None, **overrides)
        return create_app(settings)
    return ServedApp(make)
