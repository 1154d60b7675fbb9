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


# What a DV accepts (eherkenning-interface.md: aes256-cbc or aes256-gcm, rsa-oaep-mgf1p; the other AES sizes and
# xmlenc11 rsa-oaep are their standard siblings). Refused by name: rsa-1_5 (Bleichenbacher's attack on PKCS#1 v1.5)
# and triple-DES (64-bit blocks).
DATA_ALGORITHMS = frozenset({
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc", "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2009/xmlenc11#aes192-gcm", "http://www.w3.org/2009/xmlenc11#aes256-gcm",
})
KEY_TRANSPORT_ALGORITHMS = frozenset({"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
                                      "http://www.w3.org/2009/xmlenc11#rsa-oaep"})
_REFUSED = {"http://www.w3.org/2001/04/xmlenc#rsa-1_5": "rsa-1_5 key transport (PKCS#1 v1.5, Bleichenbacher)",
            "http://www.w3.org/2001/04/xmlenc#tripledes-cbc": "triple-DES"}


def decrypt(container: etree._Element, keypair: KeyPair, *, where: str, expect: str | None = None) -> etree._Element:
    """Decrypt the xenc:EncryptedData inside an EncryptedID / EncryptedAssertion; return the plaintext element.

    Algorithms are checked first (a refusal names them). Every failure after that, a wrong key, bad padding or
    a plaintext that is not the `expect`ed element, gets the same message: a DV that answered them differently
    would be a padding oracle (Jager and Somorovsky, "How to break XML Encryption", 2011).
    """
    enc_data = container.find(ns.q("xenc", "EncryptedData"))
    if enc_data is None:
        raise DecryptionFailed("no xenc:EncryptedData inside", where=where)
    _check_algorithms(container, enc_data, where)
    failed = DecryptionFailed(f"cannot decrypt{' to ' + _short(expect) if expect else ''} with the key of certificate "
                              f"{keypair.certificate.key_name[:16]}…", where=where)
    # Work on a copy: a failed decryption must not leave the document half-changed.
    holder = etree.fromstring(etree.tostring(container))
    enc_copy = holder.find(ns.q("xenc", "EncryptedData"))
    ctx = xmlsec.EncryptionContext(keypair.keys_manager)
    try:
        result = ctx.decrypt(enc_copy)
    except xmlsec.Error:
        raise failed from None
    if not isinstance(result, etree._Element) or (expect is not None and result.tag != expect):
        raise failed
    return result


def _check_algorithms(container, enc_data, where: str) -> None:
    method = enc_data.find(ns.q("xenc", "EncryptionMethod"))
    data_alg = None if method is None else method.get("Algorithm")
    if data_alg not in DATA_ALGORITHMS:
        raise DecryptionFailed(f"data encryption {_REFUSED.get(data_alg, repr(data_alg))} is refused; "
                               "AES (CBC or GCM) is required", where=where)
    keys = container.iter(ns.q("xenc", "EncryptedKey"))
    algs = [None if (m := k.find(ns.q("xenc", "EncryptionMethod"))) is None else m.get("Algorithm") for k in keys]
    if len(algs) != 1:
        raise DecryptionFailed(f"{len(algs)} xenc:EncryptedKey elements; exactly one is expected", where=where)
    if algs[0] not in KEY_TRANSPORT_ALGORITHMS:
        raise DecryptionFailed(f"key transport {_REFUSED.get(algs[0], repr(algs[0]))} is refused; RSA-OAEP is required",
                               where=where)


def _short(tag: str) -> str:
    qname = etree.QName(tag)
    return {ns.SAML: "saml:"}.get(qname.namespace, "") + qname.localname
