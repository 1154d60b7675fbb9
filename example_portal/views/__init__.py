"""One small blueprint per page group."""

from .auth import bp as auth
from .kvk import bp as kvk
from .meta import bp as meta
from .portal import bp as portal
from .testing import bp as testing
from .toegang import bp as toegang

ALL_BLUEPRINTS = (auth, meta, portal, toegang, kvk, testing)
