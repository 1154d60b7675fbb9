"""One error tree for SAML input: every error says what was wrong and where."""


class SamlError(Exception):
    """Base class. `where` names the SAML element, field or file the problem is in."""

    def __init__(self, message: str, *, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class MalformedInput(SamlError):
    """The bytes could not be read as the expected SAML message (base64, deflate, XML, size)."""


class SignatureInvalid(SamlError):
    """A signature is missing, made with a refused algorithm, covers the wrong element or fails."""


class DecryptionFailed(SamlError):
    """An EncryptedID or EncryptedAssertion could not be decrypted with the given key."""


class MetadataError(SamlError):
    """Metadata or a service catalogue is unreadable or lacks something required."""
