"""SAML timestamps: always UTC with a `Z` suffix (`+00:00` breaks real DV libraries)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .errors import MalformedInput


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def fmt(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse(value: str | None, *, where: str) -> datetime:
    if not value:
        raise MalformedInput("timestamp missing", where=where)
    text = value.strip()
    if not text.endswith("Z"):
        raise MalformedInput(f"timestamp {text!r} is not UTC with a 'Z' suffix", where=where)
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        raise MalformedInput(f"timestamp {text!r} is not an xs:dateTime", where=where) from None
    return moment


def ago(seconds: float) -> datetime:
    return utcnow() - timedelta(seconds=seconds)


def ahead(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)
