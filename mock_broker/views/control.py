"""The control API for tests: JSON under /_mock/. Queue one-shot answers, reset, read the journal."""

from __future__ import annotations

import functools
import json
from importlib.resources import files

import jsonschema
from flask import Blueprint, abort, jsonify, request

from ehsaml import websec
from ehsaml.errors import MetadataError

from .. import faults
from ..broker import get_broker
from ..decide import SECOND_LEVEL, TOP_LEVEL, check_inline
from ..fetch import fetch_document
from ..settings import DvOptions
from ..world_changes import ChangeError, change_world

bp = Blueprint("control", __name__, url_prefix="/_mock")

ANSWER_KINDS = ("person", "identity", "status", "cancel")
# Raw DV metadata may be POSTed as XML; none of these is a type a page of another site can send unasked.
XML_TYPES = ("application/xml", "text/xml", "application/samlmetadata+xml")
_WANT = {"string": "a non-empty string", "array": "a non-empty list", "object": "an object", "boolean": "true or false",
         "null": "null", "integer": "a whole number", "number": "a number"}


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400):
        self.status = status
        super().__init__(message)


@functools.lru_cache(maxsize=None)
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((files("mock_broker") / "control_schema.json").read_text("utf-8"))
    # the definition itself at the top (its own refs still resolve in $defs): a "$ref" there would be looked up
    # again at every call, a third of the validation's time
    return jsonschema.Draft202012Validator({**schema["$defs"][name], "$defs": schema["$defs"]})


def _schema_problem(error: jsonschema.ValidationError) -> str:
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".") or "body"
    if error.validator == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        got = "null" if error.instance is None else type(error.instance).__name__
        return f"{field}: give {' or '.join(_WANT.get(t, t) for t in types)}, not {got}"
    if error.validator == "maxProperties":
        return f"{field}: give no fields (got {', '.join(sorted(map(str, error.instance)))})"
    return f"{field}: {error.message}"


@bp.before_request
def _enabled():
    if not get_broker().settings.control_api:
        abort(404)


@bp.errorhandler(ControlError)
def _control_error(exc):
    return jsonify(error=str(exc)), exc.status


def _json(schema: str, *, empty=..., example: str = "") -> dict:
    """The body as a JSON object whose every field has the type control_schema.json gives; else ControlError."""
    try:
        data = websec.read_json(empty=empty)
    except websec.JsonInputError as exc:
        raise ControlError(f"{exc}{example}" if exc.status == 415 else f"{exc}: send a JSON object{example}",
                           exc.status) from None
    if not isinstance(data, dict):
        raise ControlError(f"send a JSON object, not {type(data).__name__}{example}")
    error = next(iter(sorted(_validator(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))),
                 None)
    if error is not None:
        raise ControlError(_schema_problem(error))
    return data


@bp.post("/next")
def queue_next():
    """Queue the answer to the next AuthnRequest (of one DV, with "dv"). It skips the login page."""
    broker = get_broker()
    data = _json("next")
    fault = _fault_case(data)
    if fault is not None and not any(k in data for k in ANSWER_KINDS):
        data.update(fault.base or faults.DEFAULT_BASE)
    kinds = [k for k in ANSWER_KINDS if k in data]
    if len(kinds) != 1:
        raise ControlError(f"give exactly one of {', '.join(ANSWER_KINDS)}; got {kinds or 'none'}")
    allowed = {"dv", "fault", kinds[0]} | {"person": {"organisation", "branch"}, "status": {"sub", "message"}}.get(kinds[0], set())
    unknown = set(data) - allowed
    if unknown:
        raise ControlError(f"unknown field(s) {sorted(unknown)} for a {kinds[0]} answer; allowed: {sorted(allowed)}")
    for name in ("dv", "person", "organisation", "branch", "status", "sub", "message"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ControlError(f"{name}: give a string, not {type(data[name]).__name__}")
    dv = data.get("dv")
    if dv is not None and broker.registry.get(dv) is None:
        raise ControlError(f"dv: {dv!r} is not a registered DV")
    world = broker.world
    answer: dict = {"kind": kinds[0], "dv": dv}
    if kinds[0] == "person":
        person = data["person"]
        if person not in world.people:
            raise ControlError(f"person: {person!r} is not in the world (GET /_mock/world lists the people)")
        org = data.get("organisation")
        if org is not None and not any(org in (o.id, o.kvk) for o in world.organisations.values()) \
                and " via " not in str(org):
            raise ControlError(f"organisation: {org!r} is no organisation id or KvK number of the world")
        answer.update(person=person, organisation=org, branch=data.get("branch"))
    elif kinds[0] == "identity":
        if not isinstance(data["identity"], dict):
            raise ControlError("identity: give an object")
        try:
            answer["identity"] = check_inline(data["identity"], world)
        except ValueError as exc:
            raise ControlError(str(exc)) from None
    elif kinds[0] == "status":
        if data["status"] not in TOP_LEVEL:
            raise ControlError(f"status: {data['status']!r}; the scheme uses only {sorted(TOP_LEVEL)}")
        if data.get("sub") is not None and data["sub"] not in SECOND_LEVEL:
            raise ControlError(f"sub: {data['sub']!r}; the scheme uses only {sorted(SECOND_LEVEL)}")
        answer.update(status=data["status"], sub=data.get("sub"), message=data.get("message"))
    elif data["cancel"] is not True:
        raise ControlError("cancel: give true")
    if fault is not None:
        if kinds[0] not in ("person", "identity"):
            raise ControlError(f"fault: a fault mutates a login; give a person or identity answer, not {kinds[0]}")
        answer["fault"] = fault.id
    broker.store.enqueue(answer)
    broker.log("control", reason=f"queued a {kinds[0]} answer" + (f" with fault {fault.id}" if fault else ""), dv=dv,
               queued=answer, fault=fault.id if fault else None)
    return jsonify(queued=answer, waiting=len(broker.store.queued())), 201


def _fault_case(data: dict):
    if "fault" not in data:
        return None
    catalogue = faults.catalogue()
    if data["fault"] not in catalogue:
        raise ControlError(f"fault: {data['fault']!r} is not in the fault catalogue "
                           f"({len(catalogue)} cases; GET /_mock/faults lists them)")
    return catalogue[data["fault"]]


@bp.get("/faults")
def list_faults():
    """The fault catalogue: id, family, title, rule, mutation, binding, setup and expect of each case."""
    cases = [case.to_json() for case in faults.catalogue().values()]
    family = request.args.get("family")
    if family is not None and family not in faults.FAMILIES:
        raise ControlError(f"family: {family!r}; the families are {', '.join(faults.FAMILIES)}")
    return jsonify(faults=[c for c in cases if family in (None, c["family"])])


@bp.get("/next")
def list_queued():
    return jsonify(queued=get_broker().store.queued())


@bp.post("/reset")
def reset():
    _json("reset", empty={})
    broker = get_broker()
    broker.reset()
    broker.log("control", reason="reset: queued answers, pending logins, artifacts, journal and world changes cleared")
    seq = broker.flush_journal()
    return jsonify(reset=True, seq=seq)  # the journal's newest entry: a reader asks for what comes after it


@bp.get("/journal")
def journal():
    try:
        since = int(request.args.get("since", "0"))
    except ValueError:
        raise ControlError("since: give a journal sequence number") from None
    return jsonify(entries=get_broker().store.journal(since))


@bp.get("/sps")
def list_sps():
    return jsonify(sps=[{
        "entity_id": dv.entity_id,
        "source": dv.source,
        "options": dv.options.__dict__,
        "services": [{"index": s.index, "name": s.name, "service_id": s.service_id, "default": s.is_default,
                      "service_uuid": s.service_uuid, "min_level": s.min_level.label if s.min_level else None}
                     for s in dv.services],
    } for dv in get_broker().registry.all()])


@bp.post("/sps")
def register_sp():
    """Register DV metadata: raw XML body, or JSON {metadata | metadata_url, catalogue | catalogue_url, options}."""
    broker = get_broker()
    mimetype = (request.mimetype or "").lower()
    try:
        if mimetype in XML_TYPES:
            source, metadata, catalogue, options = "POST /_mock/sps", request.get_data(), None, DvOptions()
        else:
            data = _json("sps", example=" (or DV metadata as XML with Content-Type: application/xml)")
            unknown = set(data) - {"metadata", "metadata_url", "catalogue", "catalogue_url", "options"}
            if unknown:
                raise ControlError(f"unknown field(s) {sorted(unknown)}")
            if ("metadata" in data) == ("metadata_url" in data):
                raise ControlError("give one of metadata (XML text) or metadata_url")
            if "catalogue" in data and "catalogue_url" in data:
                raise ControlError("give one of catalogue (XML text) or catalogue_url, not both")
            try:
                options = DvOptions.from_json(data.get("options"))
            except (TypeError, ValueError) as exc:
                raise ControlError(f"options: {exc}") from None
            policy = broker.registry.policy
            # Through the API only http(s) URLs by the fetch rules (mock_broker/fetch.py), never a file.
            source = data.get("metadata_url") or "POST /_mock/sps"
            metadata = (data["metadata"].encode() if "metadata" in data
                        else fetch_document(data["metadata_url"], policy, catalogue=False))
            catalogue = (data["catalogue"].encode() if "catalogue" in data
                         else fetch_document(data["catalogue_url"], policy, catalogue=True)
                         if "catalogue_url" in data else None)
        dv = broker.registry.register(metadata, source=source, catalogue=catalogue, options=options)
    except MetadataError as exc:
        raise ControlError(str(exc)) from None
    broker.log("control", reason=f"registered DV {dv.entity_id}", dv=dv.entity_id)
    return jsonify(registered=dv.entity_id, services=[s.service_id for s in dv.services]), 201


@bp.get("/world")
def world():
    return jsonify(get_broker().world.to_data())


@bp.post("/world/changes")
def add_world_change():
    """One change of the world (the management portal's work): see mock_broker/world_changes.py."""
    data = _json("world_change", example=' with one change, e.g. {"change": "set_level", "person": "eva-kok", '
                                          '"level": "EH3"}')
    try:
        record = change_world(get_broker(), data, via="control API")
    except ChangeError as exc:
        raise ControlError(str(exc)) from None
    return jsonify(applied=record["change"], seq=record["seq"]), 201


@bp.get("/world/changes")
def list_world_changes():
    """The changes applied since the last reset, in order."""
    return jsonify(changes=get_broker().world_changes.records())
