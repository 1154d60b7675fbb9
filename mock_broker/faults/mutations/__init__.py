"""The named mutations of the fault catalogue, registered in `registry.REGISTRY` on import.

Response mutations take the correct, signed samlp:Response (`ctx.response`) and return the faulty
one (for the `control` family: a legitimate variation a DV must accept). Where only one defect should
show, they re-sign what they did not mean to break with the broker key (`_common._resign`), so a DV is caught by the check the case names and not an earlier one.
One module per family; importing this package registers them all.
"""

from . import artifact, control, cve, eherkenning, encryption, parser, protocol, service, signature, status  # noqa: F401
from .eherkenning import encrypt_assertions

__all__ = ["encrypt_assertions"]
