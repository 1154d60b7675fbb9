"""The example werkgeversportaal: a reference eHerkenning DV (service provider) that follows the FAQ's rules.

TEST ONLY: a pension provider's employer portal as the FAQ describes it (rules P1–P12 of
harness/cases.yaml), behind the mock broker. Its keys, data and people are fictitious.
"""

from .app import create_app
from .settings import PortalSettings

__all__ = ["create_app", "PortalSettings"]
