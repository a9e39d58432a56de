"""Ed25519 key material: the platform's signing key read from PKCS#8 PEM or a base64 seed.

Core, so that settings can refuse a malformed key at start-up; the signatures themselves are
made in app/audit/signing.py."""

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SigningKeyError(ValueError):
    """A key that cannot be read (wrong format, wrong algorithm)."""


def _b64decode(text: str) -> bytes:
    text = "".join(text.split())
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningKeyError("not valid base64") from exc


def parse_private_key(material: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PKCS#8 PEM or base64 of the raw 32-byte seed."""
    material = material.strip()
    if material.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(material.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"unreadable PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("the PEM private key is not an Ed25519 key")
        return key
    raw = _b64decode(material)
    if len(raw) != 32:
        raise SigningKeyError(f"a raw Ed25519 private key is 32 bytes, this one is {len(raw)}")
    return Ed25519PrivateKey.from_private_bytes(raw)


def parse_public_key(material: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from SubjectPublicKeyInfo PEM or base64 of the raw 32 bytes."""
    text = material.decode() if isinstance(material, bytes) else material
    text = text.strip()
    if text.startswith("-----BEGIN"):
        if "PRIVATE KEY" in text.split("\n", 1)[0]:
            return parse_private_key(text).public_key()
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"unreadable PEM public key: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError("the PEM public key is not an Ed25519 key")
        return key
    raw = _b64decode(text)
    if len(raw) != 32:
        raise SigningKeyError(f"a raw Ed25519 public key is 32 bytes, this one is {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)
