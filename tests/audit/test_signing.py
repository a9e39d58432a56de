"""The signing key: formats it is read from, how it is made, what production requires."""

import base64
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from app import keys
from app.audit import signing
from app.settings import Environment, Settings

PRODUCTION = {"env": Environment.production, "jwt_secret": "p" * 40,
              "database_url": "postgresql://db/techauction", "redis_url": "redis://redis:6379/0"}


def _seed_b64(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def test_pem_and_raw_base64_give_the_same_key():
    key = Ed25519PrivateKey.generate()
    from_pem = keys.parse_private_key(signing.private_key_pem(key))
    from_seed = keys.parse_private_key(_seed_b64(key))
    from_urlsafe = keys.parse_private_key(_seed_b64(key).replace("+", "-").replace("/", "_"))
    ids = {signing.key_id(k.public_key()) for k in (key, from_pem, from_seed, from_urlsafe)}
    assert len(ids) == 1
    public = key.public_key()
    raw = base64.b64encode(signing.raw_public_key(public)).decode()
    assert signing.key_id(keys.parse_public_key(raw)) == ids.pop()
    assert keys.parse_public_key(signing.public_key_pem(public)) == public


@pytest.mark.parametrize("material", [
    "", "not base64 !", base64.b64encode(b"short").decode(),
    "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----",
    ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode(),
])
def test_unreadable_keys_are_refused(material):
    with pytest.raises(keys.SigningKeyError):
        keys.parse_private_key(material)


def test_sign_and_verify_canonical_json():
    signer = signing.Signer(Ed25519PrivateKey.generate())
    document = {"b": [1, "二"], "a": {"y": None, "x": 1}}
    signature = signer.sign(document)
    assert signing.verify_signature(signer.public_key, {"a": {"x": 1, "y": None}, "b": [1, "二"]},
                                    signature)  # key order does not matter, content does
    assert not signing.verify_signature(signer.public_key, document | {"c": 1}, signature)
    assert not signing.verify_signature(signer.public_key, document, "!!not base64")
    assert not signing.verify_signature(signer.public_key, document, None)


def test_generated_key_is_private_and_made_once(tmp_path):
    path = tmp_path / "var" / signing.KEY_FILE
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: signing.read_or_create_key(path), range(16)))
    assert len(keys) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary files left behind
    settings = Settings(env=Environment.test, var_dir=tmp_path / "var")
    assert signing.key_id(signing.configured_public_key(settings)) == (
        signing.signer_from_settings(settings).key_id)


def test_no_key_is_made_just_to_verify(tmp_path):
    assert signing.configured_public_key(Settings(env=Environment.test, var_dir=tmp_path)) is None
    assert not (tmp_path / signing.KEY_FILE).exists()


def test_production_needs_a_signing_key():
    with pytest.raises(ValidationError, match="TECHAUCTION_SIGNING_KEY"):
        Settings(**PRODUCTION)
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(**PRODUCTION, signing_key=base64.b64encode(b"too short").decode())
    key = Ed25519PrivateKey.generate()
    settings = Settings(**PRODUCTION, signing_key=signing.private_key_pem(key))
    assert signing.signer_from_settings(settings).key_id == signing.key_id(key.public_key())
