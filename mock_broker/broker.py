"""The broker object of one app: settings, keys (loaded once), DV registry, world, store and journal."""

from __future__ import annotations

import base64
import functools
import threading
from dataclasses import dataclass, field

from flask import Response, current_app, g, has_request_context, redirect
from lxml import etree

from urllib.parse import urlencode, urlsplit

from ehsaml import bindings, ns, timeutil
from ehsaml.keys import KeyPair, load_keypair
from ehsaml.xml import local_name, tostring

from . import faults
from .authn import PendingLogin
from .guard import auto_post_response
from .decide import Outcome
from .hm_metadata import build_hm_metadata
from .registry import Registry
from .response import build_response
from .settings import BrokerSettings
from .store import Store
from .world import World
from .world_changes import WorldChanges


def exact(element: etree._Element) -> str:
    """The message as sent or read, not re-indented: signatures still verify on the journal's copy."""
    return etree.tostring(element, encoding="unicode")


@dataclass
class Broker:
    settings: BrokerSettings
    keypair: KeyPair
    registry: Registry
    store: Store
    initial_world: World
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # the file's world plus the changes made since the last reset (kept in the store: see world_changes.py)
    world_changes: WorldChanges = field(init=False)

    def __post_init__(self):
        self.world_changes = WorldChanges(self.initial_world, self.store)

    @classmethod
    def build(cls, settings: BrokerSettings, *, registry: Registry, store: Store, world: World) -> "Broker":
        keypair = load_keypair(str(settings.key_file), str(settings.cert_file))
        return cls(settings=settings, keypair=keypair, registry=registry, store=store, initial_world=world)

    @property
    def world(self) -> World:
        """The world now: the file's, with the changes made through the management page or control API."""
        return self.world_changes.current()

    @functools.cached_property
    def metadata_xml(self) -> bytes:
        return build_hm_metadata(self.settings, self.keypair)

    # --- journal ---------------------------------------------------------------------------------
    def log(self, event: str, *, reason: str, dv: str | None = None, message: etree._Element | None = None,
            binding: str | None = None, **extra) -> int | None:
        """Journal one event. Within a request the entries are kept and written together when it ends
        (`flush_journal`, before the answer leaves): one store round trip a request, not one an entry."""
        entry = {"event": event, "reason": reason, "dv": dv, "binding": binding}
        if message is not None:
            entry.update(message_type=local_name(message), id=message.get("ID"),
                         in_response_to=message.get("InResponseTo"),
                         xml=extra.pop("xml", None) or exact(message))  # serialised once, where the caller has it
        entry.update({k: v for k, v in extra.items() if v is not None})
        entry["time"] = timeutil.fmt(timeutil.utcnow())
        if has_request_context():
            g.setdefault("journal_entries", []).append(entry)
            return None
        return self.store.append_journal(entry)

    def flush_journal(self) -> int | None:
        """Write the request's journal entries; the sequence number of the last, or None when there were none."""
        entries = g.pop("journal_entries", None) if has_request_context() else None
        return self.store.append_journal(*entries) if entries else None

    def reset(self) -> None:
        self.store.reset()
        with self._lock:
            self.world_changes.reset()

    # --- pending logins ------------------------------------------------------------------------------
    def save_pending(self, pending: PendingLogin) -> None:
        self.store.put("pending", pending.token, pending.to_dict(), self.settings.pending_ttl_seconds)

    def load_pending(self, token: str) -> PendingLogin | None:
        data = self.store.get("pending", token or "")
        return PendingLogin.from_dict(data) if data else None

    def finished_login(self, token: str) -> dict | None:
        """A login page's token whose answer was sent (Back to the page after logging in): {"dv": ...} or None."""
        return self.store.get("finished", token or "")

    def dv_home(self, entity_id: str | None) -> str | None:
        """Where an error page sends the user back to: the origin of the DV's default ACS (its metadata names no
        home page). Only a URL of a registered DV's metadata, never one taken from the request."""
        dv = self.registry.get(entity_id) if entity_id else None
        acs = dv.metadata.default_acs() if dv else None
        if acs is None:
            return None
        parts = urlsplit(acs.location)
        return f"{parts.scheme}://{parts.netloc}/" if parts.scheme in ("http", "https") and parts.netloc else None

    # --- answering ----------------------------------------------------------------------------------
    def answer(self, pending: PendingLogin, outcome: Outcome, *, fault: str | None = None) -> Response:
        """Build the Response for `outcome` (with a catalogue fault applied, if given) and send it by the
        pending login's binding."""
        dv = self.registry.get(pending.dv)
        applied, raw = False, None
        if fault:
            faulted = faults.build_response(self, fault, dv=dv, pending=pending, outcome=outcome)
            response, applied, raw = faulted.response, faulted.applied, faulted.raw
        else:
            response = build_response(settings=self.settings, keypair=self.keypair, dv=dv, pending=pending,
                                      outcome=outcome)
        self.log("decision", reason=outcome.reason, dv=dv.entity_id, request_id=pending.request_id,
                 status=outcome.top, sub_status=outcome.second, status_message=outcome.message,
                 identity=outcome.identity.__dict__ if outcome.identity else None, fault=fault)
        if fault:  # one entry, true to what is sent: applied (or armed for the artifact exchange), or not and why
            case = faults.case_of(fault)
            self.log("fault", reason=faulted.reason, dv=dv.entity_id, fault=fault, fault_applied=applied,
                     phase=case.phase.value, rule=case.rule)
        armed = fault if applied else None  # a fault that was not applied must not act later either
        # a fault in the bytes (DOCTYPE, UTF-16, a second root…) goes out as made; the journal keeps its text
        xml = tostring(response).decode("utf-8") if raw is None else faults.raw_text(raw)
        # The answer's writes go to the store together, in one round trip, before it leaves: the pending login
        # ends, Back to its login page later says it is done (with a way back to the DV), and the artifact and
        # the DV's last answer (for the replay faults, read above) are kept.
        puts = [("finished", pending.token, {"dv": pending.dv}, self.settings.pending_ttl_seconds * 4)] \
            if pending.token else []
        artifact = None
        if pending.binding == ns.BINDING_ARTIFACT:
            artifact = bindings.Artifact.new(self.settings.entity_id, self.settings.artifact_endpoint_index)
            sent = faults.artifact_to_send(self, armed, dv=dv, artifact=artifact.encode())
            puts.append(("artifact", artifact.message_handle.hex(), {"dv": dv.entity_id, "xml": xml, "fault": armed},
                         self.settings.artifact_ttl_seconds))
        puts.append(faults.remembered_answer(self, dv=dv.entity_id, request_id=pending.request_id, response_xml=xml,
                                             artifact=artifact.encode() if artifact else None))
        self.store.put_many(puts, discard=[("pending", pending.token)])
        if artifact is not None:
            self.log("sent", reason="Response stored for artifact resolution", dv=dv.entity_id,
                     binding=ns.BINDING_ARTIFACT, message=response, xml=xml, artifact=sent, fault=fault,
                     fault_applied=applied if fault else None)
            params = {"SAMLart": sent}
            if pending.relay_state is not None:
                params["RelayState"] = pending.relay_state
            sep = "&" if "?" in pending.acs_url else "?"
            return redirect(pending.acs_url + sep + urlencode(params), code=302)
        self.log("sent", reason="Response sent by HTTP-POST", dv=dv.entity_id, binding=ns.BINDING_POST,
                 message=response, xml=xml, fault=fault, fault_applied=applied if fault else None)
        body = xml.encode("utf-8") if raw is None else raw
        form = bindings.post_form(pending.acs_url, {"SAMLResponse": base64.b64encode(body).decode(),
                                                    "RelayState": pending.relay_state})
        return auto_post_response(form)


def get_broker() -> Broker:
    return current_app.extensions["mock_broker"]
