"""One small blueprint per page group."""

from .auth import bp as auth
from .deelnemers import bp as deelnemers
from .kvk import bp as kvk
from .meta import bp as meta
from .portal import bp as portal
from .snelnaar import bp as snelnaar
from .testing import bp as testing
from .toegang import bp as toegang

ALL_BLUEPRINTS = (auth, meta, portal, deelnemers, snelnaar, toegang, kvk, testing)
