"""Keys and certificates, loaded once per process and reused (loading a PEM costs ~50 ms)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import xmlsec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from .errors import MetadataError

MIN_RSA_BITS = 2048


@dataclass(frozen=True, eq=False)
class Certificate:
    """A trusted certificate with what signing and encryption need, built once."""

    pem: bytes
    cert: x509.Certificate

    @functools.cached_property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @functools.cached_property
    def b64(self) -> str:
        """Base64 DER, as in ds:X509Certificate."""
        return base64.b64encode(self.der).decode("ascii")

    @functools.cached_property
    def key_name(self) -> str:
        """Hex SHA-256 fingerprint: what eHerkenning puts in ds:KeyName."""
        return hashlib.sha256(self.der).hexdigest()

    @functools.cached_property
    def public_key(self) -> rsa.RSAPublicKey:
        """The certificate's public key, parsed once (the broker encrypts session keys to it)."""
        return self.cert.public_key()

    @functools.cached_property
    def xmlsec_key(self) -> xmlsec.Key:
        """The public key alone, for verifying: a SignatureContext copies the key it is given, and a key
        loaded with its certificate costs 0.06 ms to copy against 0.001 ms (the certificate is copied too)."""
        spki = self.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return xmlsec.Key.from_memory(spki, xmlsec.constants.KeyDataFormatDer, None)

    @functools.cached_property
    def keys_manager(self) -> xmlsec.KeysManager:
        """A manager holding this certificate's public key, for encrypting to it."""
        manager = xmlsec.KeysManager()
        key = xmlsec.Key.from_memory(self.pem, xmlsec.constants.KeyDataFormatCertPem, None)
        key.name = self.key_name
        manager.add_key(key)
        return manager

    def verify_rsa_sha256(self, signature: bytes, data: bytes) -> bool:
        try:
            self.cert.public_key().verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):  # ValueError: a signature that is not even the right size
            return False
        return True

    @classmethod
    def from_pem(cls, pem: bytes | str, *, where: str = "certificate") -> "Certificate":
        if isinstance(pem, str):
            pem = pem.encode("ascii")
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError as exc:
            raise MetadataError(f"not a PEM certificate ({exc})", where=where) from None
        _check_rsa(cert.public_key(), where)
        return cls(pem=pem, cert=cert)

    @classmethod
    def from_b64(cls, text: str, *, where: str = "ds:X509Certificate") -> "Certificate":
        try:
            der = base64.b64decode("".join(text.split()), validate=True)
            cert = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise MetadataError(f"not a base64 DER certificate ({exc})", where=where) from None
        _check_rsa(cert.public_key(), where)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        return cls(pem=pem, cert=cert)


def _check_rsa(public_key, where: str) -> None:
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise MetadataError("only RSA keys are used in eHerkenning", where=where)
    if public_key.key_size < MIN_RSA_BITS:
        raise MetadataError(f"RSA key of {public_key.key_size} bits; at least {MIN_RSA_BITS} are required", where=where)


@dataclass(frozen=True, eq=False)
class KeyPair:
    """A private key with its certificate, for signing and decrypting."""

    key_pem: bytes
    certificate: Certificate
    private_key: rsa.RSAPrivateKey

    @functools.cached_property
    def xmlsec_key(self) -> xmlsec.Key:
        key = xmlsec.Key.from_memory(self.key_pem, xmlsec.constants.KeyDataFormatPem, None)
        key.load_cert_from_memory(self.certificate.pem, xmlsec.constants.KeyDataFormatCertPem)
        key.name = self.certificate.key_name
        return key

    @functools.cached_property
    def keys_manager(self) -> xmlsec.KeysManager:
        """A manager holding the private key, for decrypting EncryptedKeys addressed to it."""
        manager = xmlsec.KeysManager()
        key = xmlsec.Key.from_memory(self.key_pem, xmlsec.constants.KeyDataFormatPem, None)
        key.name = self.certificate.key_name
        manager.add_key(key)
        return manager

    def sign_rsa_sha256(self, data: bytes) -> bytes:
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@functools.lru_cache(maxsize=32)
def load_keypair(key_path: str, cert_path: str) -> KeyPair:
    """Load a PEM key and certificate once per process (cached by path)."""
    key_pem = Path(key_path).read_bytes()
    cert = load_certificate(cert_path)
    try:
        # OpenSSL's consistency check of the RSA key costs 40 ms per load, at every start of a broker or
        # portal; the key is the operator's own, and its pairing with the certificate is checked below.
        private_key = serialization.load_pem_private_key(key_pem, password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError) as exc:
        raise MetadataError(f"not an unencrypted PEM private key ({exc})", where=key_path) from None
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise MetadataError("only RSA keys are used in eHerkenning", where=key_path)
    if private_key.public_key().public_numbers() != cert.cert.public_key().public_numbers():
        raise MetadataError(f"the key does not belong to the certificate {cert_path}", where=key_path)
    return KeyPair(key_pem=key_pem, certificate=cert, private_key=private_key)


@functools.lru_cache(maxsize=64)
def load_certificate(cert_path: str) -> Certificate:
    return Certificate.from_pem(Path(cert_path).read_bytes(), where=cert_path)


def generate_test_keypair(common_name: str, *, days: int = 3650, bits: int = 2048) -> tuple[bytes, bytes]:
    """A fresh RSA key and a self-signed certificate whose names say it is for tests only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TEST ONLY - eHerkenning broker mock"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"TEST ONLY {common_name}"),
    ])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)
