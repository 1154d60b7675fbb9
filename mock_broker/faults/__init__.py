"""The fault catalogue and its mutations: deliberately broken or forged answers a careful DV must refuse.

One room: `registry.py` (the named mutations, what they are given, the last answer per DV that replays
use), `mutations/` (one module per family), `catalogue.py` with `catalogue/*.yaml` and its schema (the
cases as data), `apply.py` (applying a case to an answer). Imports point one way:
apply → catalogue → mutations → registry.
"""

from .apply import Applied, artifact_to_send, build_response, resolve_answer
from .catalogue import (CATALOGUE_DIR, CONTROL, DEFAULT_BASE, FAMILIES, CatalogueError, Expect, FaultCase, case_of, catalogue,
                        load_catalogue, preload)
from .mutations.parser import raw_text
from .registry import REGISTRY, NotApplicable, Phase, RawDocument, last_answer, remembered_answer

__all__ = ["Applied", "artifact_to_send", "build_response", "resolve_answer", "CATALOGUE_DIR", "CONTROL", "DEFAULT_BASE",
           "FAMILIES", "CatalogueError", "Expect", "FaultCase", "case_of", "catalogue", "load_catalogue", "preload", "REGISTRY",
           "NotApplicable", "Phase", "RawDocument", "last_answer", "raw_text", "remembered_answer"]
