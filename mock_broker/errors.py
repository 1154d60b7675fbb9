"""The broker's refusals. Each says why, in words a support desk can read out."""

from __future__ import annotations

from ehsaml import ns


class BrokerRefusal(Exception):
    """Refused before the broker knows where to answer: an error page (4xx), no assertion."""

    def __init__(self, message: str, *, where: str | None = None, http_status: int = 400, dv: str | None = None):
        self.message = message
        self.where = where
        self.http_status = http_status
        self.dv = dv  # the DV's entity ID, when known: the error page links back to it
        super().__init__(f"{where}: {message}" if where else message)


class SamlRefusal(Exception):
    """Refused after the DV and its ACS are known: answered to the DV with a SAML error status."""

    def __init__(self, message: str, *, top: str = ns.STATUS_REQUESTER, second: str | None = ns.STATUS_REQUEST_UNSUPPORTED):
        self.message = message
        self.top = top
        self.second = second
        super().__init__(message)
