"""The broker's app factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from . import guard
from .broker import Broker
from .errors import BrokerRefusal
from .fetch import FetchPolicy
from .registry import Registry
from .settings import BrokerSettings
from .store import Store, open_store
from .views import artifact, beheer, control, journal, login, metadata, slo, sso
from .world import World, load_world


def default_sources(settings: BrokerSettings) -> list[str]:
    sources = [str(p) for p in sorted(Path(settings.metadata_dir).glob("*.xml"))] if settings.metadata_dir else []
    return sources + list(settings.catalogues) + list(settings.sp_metadata)


def create_app(settings: BrokerSettings | None = None, *, store: Store | None = None,
               world: World | None = None) -> Flask:
    settings = settings or BrokerSettings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    if store is None:
        store = open_store(settings.store_url, base_url=settings.base_url, journal_limit=settings.journal_limit,
                           journal_max_bytes=settings.journal_max_bytes)
    # With a shared store, DVs registered at run time are recorded there so that every worker knows them.
    registry = Registry(shared=store if getattr(store, "shared", False) else None,
                        policy=FetchPolicy.from_settings(settings))
    # Catalogues first, so DVs are enriched with levels and ServiceUUIDs as they register.
    registry.load(default_sources(settings))
    broker = Broker.build(settings, registry=registry, store=store, world=world or load_world(settings.world_file))
    app.extensions["mock_broker"] = broker
    # A request's journal entries are written when it ends, before its answer leaves (the body is sent
    # after the request context is gone), whatever became of the request.
    app.teardown_request(lambda _exc: broker.flush_journal())

    def refuse(status: int, message: str, where: str):
        broker.log("refused", reason=message, where=where, path=request.path, http_status=status)
        return _page_or_json(message, where, status)

    @app.get("/favicon.ico")
    def favicon():  # browsers ask on every first visit; an icon keeps the journal free of their 404s
        return app.send_static_file("favicon.svg"), 200, {"Content-Type": "image/svg+xml",
                                                          "Cache-Control": "max-age=86400"}

    guard.install(app, settings, refuse)
    for module in (sso, artifact, metadata, slo, login, control, beheer, journal):
        app.register_blueprint(module.bp)

    @app.get("/")
    def index():
        return render_template("index.html", broker=broker)

    @app.errorhandler(BrokerRefusal)
    def refused(exc: BrokerRefusal):
        broker.log("refused", reason=exc.message, where=exc.where, path=request.path, dv=exc.dv)
        return _page_or_json(exc.message, exc.where, exc.http_status, back=broker.dv_home(exc.dv))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {413: f"the request body is larger than {settings.max_body_bytes} bytes",
                    415: exc.description or "unsupported Content-Type",
                    405: f"{request.method} is not allowed on {request.path}",
                    404: f"nothing at {request.path}"}
        message = messages.get(exc.code, exc.description or exc.name)
        broker.log("refused", reason=message, path=request.path, http_status=exc.code)
        return _page_or_json(message, None, exc.code or 400)

    return app


def _page_or_json(message: str, where: str | None, status: int, *, back: str | None = None):
    if request.path.startswith("/_mock/"):
        return jsonify(error=message, where=where), status
    return render_template("error.html", message=message, where=where, back=back, status=status), status
