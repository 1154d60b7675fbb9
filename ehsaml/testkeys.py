"""The fixed TEST-ONLY keys and self-signed certificates that ship inside the package (ehsaml/certs/).

Found with importlib.resources, so a checkout, an editable install and an installed wheel find them
alike, from any directory. They are committed on purpose (reproducible metadata and tests) and
protect nothing: `broker` signs the mock broker's messages, `portal` is the example DV's signing and
encryption key, `attacker` is an unknown key for the fault cases.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CERTS_DIR = Path(str(files("ehsaml") / "certs"))
NAMES = ("broker", "portal", "attacker")


def key_file(name: str) -> Path:
    return CERTS_DIR / f"{name}.TEST-ONLY.key"


def cert_file(name: str) -> Path:
    return CERTS_DIR / f"{name}.TEST-ONLY.crt"
