"""WSGI entry for production servers: `mock-broker serve --workers N` uses it under gunicorn.

The settings travel to the worker processes as JSON in the environment variable MOCK_BROKER_SETTINGS
(written by the CLI, or by hand: any BrokerSettings field, e.g. {"base_url": "http://127.0.0.1:8480",
"store_url": "redis://127.0.0.1:6379/0", "csrf_secret": "<random>"}; a shared store needs csrf_secret, so
that a form one worker served is accepted by the others). Each worker builds its own app once: keys, xmlsec key objects,
the world and the DV registry are made at worker start, never per request.

    MOCK_BROKER_SETTINGS='{"store_url": "redis://127.0.0.1:6379/0", "csrf_secret": "'$(openssl rand -hex 16)'"}' \\
        gunicorn -w 2 -b 127.0.0.1:8480 'mock_broker.wsgi:create()'
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from pathlib import Path

from flask import Flask

from ehsaml.eherkenning import Level

from . import faults
from .app import create_app
from .settings import BrokerSettings

ENV = "MOCK_BROKER_SETTINGS"
_PATHS = {"key_file", "cert_file", "world_file", "metadata_dir"}
_TUPLES = {"sp_metadata", "catalogues"}
_LEVELS = {"default_min_level"}


def settings_to_json(settings: BrokerSettings) -> str:
    data = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Level):
            value = value.name
        data[f.name] = value
    return json.dumps(data)


def settings_from_json(text: str) -> BrokerSettings:
    data = json.loads(text or "{}")
    known = {f.name for f in dataclasses.fields(BrokerSettings)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{ENV}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    for name, value in list(data.items()):
        if name in _PATHS and value is not None:
            data[name] = Path(value)
        elif name in _TUPLES:
            data[name] = tuple(value)
        elif name in _LEVELS:
            data[name] = Level[value]
    return BrokerSettings(**data)


def create(environ: dict | None = None) -> Flask:
    """The app of one worker process, from MOCK_BROKER_SETTINGS."""
    environ = os.environ if environ is None else environ
    settings = settings_from_json(environ.get(ENV, "{}"))
    if settings.csrf_secret is None and settings.store_url != "memory":
        # Each worker would sign its forms with a secret of its own: a login page served by one worker
        # would be refused by the next.
        raise ValueError(f'{ENV}: several workers on a shared store need one "csrf_secret" (any random text of '
                         "16 bytes or more; `mock-broker serve --workers N` makes one)")
    app = create_app(settings)
    threading.Thread(target=faults.preload, name="fault-catalogue", daemon=True).start()  # as `serve` does
    pid = str(os.getpid())

    @app.after_request
    def _which_worker(response):
        # Lets tests (and people) see that requests of one login landed on different workers.
        response.headers["X-Mock-Broker-Worker"] = pid
        return response

    return app
