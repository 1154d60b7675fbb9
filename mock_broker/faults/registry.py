"""The named mutations: what a fault case refers to by name, and what a mutation is given.

This module imports nothing of the catalogue or of how an answer is built, so the mutations (which
import only this) and the catalogue (which imports the mutations to register them) form no cycle.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class NotApplicable(Exception):
    """The fault cannot be made from this base answer (no assertion, no KvK, no earlier login…)."""


class Phase(enum.Enum):
    """Where a mutation acts: on the samlp:Response, on the SAMLart sent, or on the ArtifactResponse."""

    RESPONSE = "response"
    ARTIFACT = "artifact"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Mutation:
    name: str
    phase: Phase
    fn: Callable[..., Any]
    doc: str
    waits: bool = False  # it makes the DV wait (a slow answer): a runner can overlap it with other cases


REGISTRY: dict[str, Mutation] = {}


def mutation(name: str, phase: Phase = Phase.RESPONSE, *, waits: bool = False):
    """Register `fn(ctx, **params)` under `name`; the catalogue refers to it by this name only."""
    def register(fn):
        if name in REGISTRY:
            raise ValueError(f"mutation {name!r} registered twice")
        REGISTRY[name] = Mutation(name, phase, fn, (fn.__doc__ or "").strip().splitlines()[0], waits)
        return fn
    return register


@dataclass(frozen=True)
class RawDocument:
    """What a Response mutation returns when the fault is in the bytes (a DOCTYPE, an encoding, a second root):
    sent as they are by HTTP-POST; `element` is the tree it was made from, for the journal."""

    data: bytes
    element: Any


@dataclass
class FaultContext:
    """What a mutation may use: the broker, the case, the DV, the pending login, the outcome and the element at hand."""

    broker: Any
    case: Any  # the FaultCase
    dv: Any = None
    pending: Any = None
    outcome: Any = None
    response: Any = None  # samlp:Response (phase response)
    artifact: str | None = None  # SAMLart (phase artifact)
    artifact_response: Any = None  # samlp:ArtifactResponse (phase resolve)
    response_signed: bool = False

    @property
    def keypair(self):
        return self.broker.keypair

    @property
    def params(self) -> dict:
        return self.case.params


def remembered_answer(broker, *, dv: str, request_id: str, response_xml: str,
                      artifact: str | None) -> tuple[str, str, dict, float]:
    """The store item (kind, key, value, ttl) that keeps the last answer per DV: the replay faults send it again.
    The caller writes it with the answer's other items, after every fault has read the DV's earlier one."""
    return ("last-answer", dv, {"request_id": request_id, "xml": response_xml, "artifact": artifact},
            broker.settings.pending_ttl_seconds)


def last_answer(broker, dv: str) -> dict | None:
    return broker.store.get("last-answer", dv)
