"""One blueprint per endpoint group: SSO, artifact resolution, metadata, logout, login page, control API."""
