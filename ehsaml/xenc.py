"""XML encryption of identifiers and assertions: a fresh AES-256 key each, rsa-oaep-mgf1p key transport.

Encrypting (the broker side) is done with `cryptography` and lxml, building the same xenc:EncryptedData
that xmlsec's template makes; decrypting (the DV side) stays python-xmlsec, which the tests also use to
cross-check every encrypted identifier, beside the `xmlsec1` program.
"""

from __future__ import annotations

import base64
import enum
import os

import xmlsec
from cryptography.hazmat.primitives import hashes, padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

from . import ns
from .errors import DecryptionFailed
from .keys import Certificate, KeyPair


class DataCipher(enum.Enum):
    AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
    AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"


RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
TYPE_ELEMENT = "http://www.w3.org/2001/04/xmlenc#Element"
# rsa-oaep-mgf1p: OAEP with MGF1 over SHA-1 and a SHA-1 digest (XML Encryption 1.0, 5.4.2), no label
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def _x(parent: etree._Element, prefix: str, local: str, **attrs) -> etree._Element:
    return etree.SubElement(parent, ns.q(prefix, local), attrs)


def _cipher_data(parent: etree._Element, value: bytes) -> None:
    _x(_x(parent, "xenc", "CipherData"), "xenc", "CipherValue").text = base64.b64encode(value).decode("ascii")


def _encrypt(data: bytes, key: bytes, cipher: DataCipher) -> bytes:
    """IV || ciphertext (|| tag for GCM), as xenc:CipherValue carries it."""
    if cipher is DataCipher.AES256_GCM:
        iv = os.urandom(12)
        return iv + AESGCM(key).encrypt(iv, data, None)
    iv = os.urandom(16)
    padder = sym_padding.PKCS7(128).padder()  # its last byte counts the padding, as XML Encryption wants
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()


def encrypt_into(
    container: etree._Element,
    plaintext: etree._Element,
    recipient: Certificate,
    *,
    recipient_entity_id: str,
    cipher: DataCipher = DataCipher.AES256_CBC,
) -> etree._Element:
    """Encrypt `plaintext` (already a child of `container`) in place; returns the xenc:EncryptedData.

    `container` is the saml:EncryptedID or saml:EncryptedAssertion that will hold the result.
    """
    key = os.urandom(32)
    # Encrypt the serialised element, not the node: serialising on its own keeps its namespace
    # declarations (xmlns:saml), so it decrypts standalone as real DVs do.
    value = _encrypt(etree.tostring(plaintext), key, cipher)
    enc_data = etree.Element(ns.q("xenc", "EncryptedData"), {"Type": TYPE_ELEMENT}, nsmap={"xenc": ns.XENC})
    _x(enc_data, "xenc", "EncryptionMethod", Algorithm=cipher.value)
    key_info = etree.SubElement(enc_data, ns.q("ds", "KeyInfo"), nsmap={"ds": ns.DS})
    enc_key = _x(key_info, "xenc", "EncryptedKey", Recipient=recipient_entity_id)
    _x(enc_key, "xenc", "EncryptionMethod", Algorithm=RSA_OAEP_MGF1P)
    _x(_x(enc_key, "ds", "KeyInfo"), "ds", "KeyName").text = recipient.key_name  # schema order: before CipherData
    _cipher_data(enc_key, recipient.public_key.encrypt(key, _OAEP))
    _cipher_data(enc_data, value)
    plaintext.getparent().replace(plaintext, enc_data)
    return enc_data


def decrypt(container: etree._Element, keypair: KeyPair, *, where: str) -> etree._Element:
    """Decrypt the xenc:EncryptedData inside an EncryptedID / EncryptedAssertion; return the plaintext element."""
    enc_data = container.find(ns.q("xenc", "EncryptedData"))
    if enc_data is None:
        raise DecryptionFailed("no xenc:EncryptedData inside", where=where)
    # Work on a copy: a failed decryption must not leave the document half-changed.
    holder = etree.fromstring(etree.tostring(container))
    enc_copy = holder.find(ns.q("xenc", "EncryptedData"))
    ctx = xmlsec.EncryptionContext(keypair.keys_manager)
    try:
        result = ctx.decrypt(enc_copy)
    except xmlsec.Error as exc:
        raise DecryptionFailed(
            f"cannot decrypt with the key of certificate {keypair.certificate.key_name[:16]}… ({exc})", where=where
        ) from None
    if not isinstance(result, etree._Element):
        raise DecryptionFailed("decrypted content is not an XML element", where=where)
    return result
