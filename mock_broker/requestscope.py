"""Work done once per HTTP request: the shared store's lists of DV registrations and world changes are
looked at once a request (each look is a round trip to Redis), not at every use within it."""

from __future__ import annotations

from flask import g, has_request_context


def first_time(what: str) -> bool:
    """True outside a request, and at the first call for `what` within one."""
    if not has_request_context():
        return True
    key = f"_once_{what}"
    if key in g:
        return False
    setattr(g, key, True)
    return True
