"""Ed25519 signatures over canonical JSON: the export manifests' signing key and its checks.

The private key comes from TECHAUCTION_SIGNING_KEY (PKCS#8 PEM, or base64 of the raw 32-byte
seed); outside production one is generated once under var_dir (file mode 0600). The key id is
the SHA-256 fingerprint (hex) of the raw 32-byte public key.
"""

import base64
import binascii
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.audit.ledger import canonical_json
from app.keys import parse_private_key

ALGORITHM = "Ed25519"
KEY_FILE = "signing_key.pem"


def private_key_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """The SHA-256 fingerprint (hex) of the raw public key."""
    return hashlib.sha256(raw_public_key(key)).hexdigest()


def read_or_create_key(path: Path, make: Callable[[], str] | None = None) -> str:
    """The PEM key kept in path; made once (by make, default a new Ed25519 key), atomically
    (link(2) refuses to overwrite), mode 0600."""
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".signing-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make() if make else private_key_pem(Ed25519PrivateKey.generate()))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race: use its key
    finally:
        os.unlink(tmp)
    return path.read_text()


@dataclass(frozen=True)
class Signer:
    """The signing key with its public half and id."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, document: dict[str, Any]) -> str:
        """The base64 Ed25519 signature of the document's canonical JSON."""
        return base64.b64encode(self.private_key.sign(canonical_bytes(document))).decode()

    def public_key_document(self) -> dict[str, str]:
        public = self.public_key
        return {
            "algorithm": ALGORITHM, "key_id": key_id(public), "public_key_pem": public_key_pem(public),
            "public_key_base64": base64.b64encode(raw_public_key(public)).decode(),
        }


def canonical_bytes(document: dict[str, Any]) -> bytes:
    return canonical_json(document).encode()


def signer_from_settings(settings: Any) -> Signer:
    """The configured key, or (outside production) the one generated under var_dir."""
    secret = settings.signing_key.get_secret_value().strip() if settings.signing_key else ""
    if not secret:
        secret = read_or_create_key(settings.var_dir / KEY_FILE)
    return Signer(parse_private_key(secret))


def configured_public_key(settings: Any) -> Ed25519PublicKey | None:
    """The public half of the configured (or already generated) key; never makes a new one."""
    secret = settings.signing_key.get_secret_value().strip() if settings.signing_key else ""
    if not secret:
        path = settings.var_dir / KEY_FILE
        if not path.exists():
            return None
        secret = path.read_text()
    return parse_private_key(secret).public_key()


def verify_signature(public_key: Ed25519PublicKey, document: dict[str, Any], signature: Any) -> bool:
    """Whether signature (base64) is the key's Ed25519 signature of the document's canonical JSON."""
    if not isinstance(signature, str):
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, canonical_bytes(document))
    except (binascii.Error, ValueError, TypeError, InvalidSignature):
        return False
    return True


class DocumentError(ValueError):
    """A signed document (manifest) that cannot be read at all."""


def load_document(path: Path) -> dict[str, Any]:
    """A signed JSON document; duplicate keys are refused (they could hide a second value)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read the manifest {path}: {exc}") from exc
    return parse_document(raw, name=str(path))


def parse_document(raw: bytes, *, name: str = "") -> dict[str, Any]:
    """A signed JSON document from its bytes (duplicate keys refused)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise DocumentError(f"duplicate field in the manifest: {sorted(keys)}")
        return dict(pairs)

    try:
        document = json.loads(raw, object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DocumentError(f"cannot read the manifest {name}: {exc}") from exc
    if not isinstance(document, dict):
        raise DocumentError("the manifest is not a JSON object")
    return document


def signature_problems(document: dict[str, Any], public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong with the document's key_id and signature (over all its other fields)."""
    trusted = key_id(public_key)
    problems = []
    if document.get("key_id") != trusted:
        problems.append(
            f"SIGNATURE: the manifest names signing key {document.get('key_id')!r}, but the trusted "
            f"key is {trusted} (signed with another key, or key_id edited)"
        )
    body = {k: v for k, v in document.items() if k != "signature"}
    if not verify_signature(public_key, body, document.get("signature")):
        problems.append(
            f"SIGNATURE: the signature does not verify with the trusted key {trusted}: a manifest "
            "field was changed or the signature replaced"
        )
    return problems
