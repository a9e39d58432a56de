"""Settings from TECHAUCTION_* environment variables, validated at start-up."""

import os
import secrets
import time
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "placeholder", "dev", "test"}
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    production = "production"
    test = "test"
    embedded = "embedded"


class Settings(BaseSettings):
    # hide_input_in_errors: a malformed secret must not be echoed into logs.
    model_config = SettingsConfigDict(
        env_prefix="TECHAUCTION_", extra="ignore", hide_input_in_errors=True
    )

    env: Environment = Environment.embedded
    database_url: str | None = None
    redis_url: str | None = None
    redis_cluster: bool = False
    redis_prefix: str = Field(default="ta", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    jwt_secret: SecretStr | None = None
    access_token_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    var_dir: Path = Path("var")
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # Failed sign-ins per email from one client address, and from one client address for any
    # email, per minute (app/identity/signin.py). A correct password from an address within
    # its limits signs in, however many failures others sent for the same email.
    login_attempts_per_minute: int = Field(default=10, ge=1)
    login_attempts_per_address_per_minute: int = Field(default=100, ge=1)
    # Enterprise sign-up applications (POST /signup) per client address per hour.
    signups_per_address_per_hour: int = Field(default=10, ge=1)
    # The least zxcvbn score (0-4) a new password must reach (app/identity/passwords.py).
    password_min_score: int = Field(default=3, ge=0, le=4)
    # GET /metrics answers only with `Authorization: Bearer <metrics_token>`; unset: 404.
    metrics_token: SecretStr | None = None
    # Close due rounds inside the API process too (default: only in embedded mode, where
    # `make run` starts no separate worker). Closers are idempotent, so extra ones are safe.
    closer_in_api: bool | None = None
    # Freeze the objects made at start-up out of the cyclic GC's reach and collect young
    # objects less often (app.serving.gc.tune_gc). Off in processes that build many apps (tests).
    gc_freeze: bool = True
    # How long the bid journal waits after the first bid of a batch for more to join it (ms;
    # 0 = write at once). Fewer, larger commits cost PostgreSQL and the API less CPU, which
    # at moderate rates shortens the queues more than the wait lengthens them
    # (docs/decisions/0005-journal-linger.md).
    journal_linger_ms: float = Field(default=2.5, ge=0, le=50)
    # The live feed (app.feed): open streams per client address (429 past it) and per process
    # (503), events buffered per watcher before a slow one is dropped (it resumes with
    # Last-Event-ID), entries kept encoded per stream, seconds between keep-alive comments.
    feed_max_streams_per_client: int = Field(default=32, ge=1)
    feed_max_streams_per_process: int = Field(default=20_000, ge=1)
    feed_queue_size: int = Field(default=1024, ge=1)
    feed_history_size: int = Field(default=10_000, ge=1)
    feed_keepalive_seconds: float = Field(default=10.0, gt=0, le=15)
    # Ed25519 key signing export manifests: PKCS#8 PEM, or base64 of the raw 32-byte seed.
    # Required in production; elsewhere one is generated once under var_dir (mode 0600).
    signing_key: SecretStr | None = None
    # The PDF signature's ECDSA key and X.509 certificate, both in this one PEM file
    # (app/paperwork/signing.py); unset: a self-signed pair is made once under var_dir.
    pdf_signing_file: Path | None = None
    # Lot documents (app/documents): the largest upload (its route is exempt from
    # max_body_bytes), and where the bytes live: "files" under var_dir (one machine: the
    # embedded default) or "database" (chunked rows in SQL, shared by every API machine: the
    # production default; docs/decisions/0012-document-storage.md).
    document_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    document_store: Literal["files", "database"] | None = None
    _jwt_key: str | None = PrivateAttr(default=None)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str | None) -> str | None:
        """Accept plain postgresql:// and sqlite:// URLs and pick the async driver."""
        if not url:
            return None
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            return url
        raise ValueError("DATABASE_URL must be a postgresql:// or sqlite:// URL")

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> "Settings":
        if self.env is Environment.production:
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"TECHAUCTION_JWT_SECRET must be a real secret of at least "
                    f"{MIN_SECRET_LENGTH} characters in production"
                )
            if not self.database_url or not self.redis_url:
                raise ValueError("production needs TECHAUCTION_DATABASE_URL and _REDIS_URL")
            if not self.signing_key or not self.signing_key.get_secret_value().strip():
                raise ValueError("production needs TECHAUCTION_SIGNING_KEY (an Ed25519 private key)")
        return self

    @field_validator("signing_key")
    @classmethod
    def _readable_signing_key(cls, key: SecretStr | None) -> SecretStr | None:
        """Refuse a malformed signing key at start-up, not at the first export."""
        if key is not None and key.get_secret_value().strip():
            from app.keys import parse_private_key

            parse_private_key(key.get_secret_value())
        return key

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to a SQLite file under var_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'techauction.db').resolve()}"

    @property
    def runs_closer_in_api(self) -> bool:
        """Whether the API process also runs the round closer."""
        if self.closer_in_api is None:
            return self.env is Environment.embedded
        return self.closer_in_api

    @property
    def documents_in_database(self) -> bool:
        """Whether document bytes go into SQL (production default) or files under var_dir."""
        if self.document_store is None:
            return self.env is Environment.production
        return self.document_store == "database"

    def jwt_key(self) -> str:
        """The JWT signing secret; outside production one is generated and kept under var_dir."""
        if self._jwt_key is None:
            if self.jwt_secret is not None and self.jwt_secret.get_secret_value():
                self._jwt_key = self.jwt_secret.get_secret_value()
            else:
                self._jwt_key = read_or_create_secret(self.var_dir / "jwt_secret")
        return self._jwt_key


def read_or_create_secret(path: Path) -> str:
    """A secret kept in a file; created atomically so racing workers agree on one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            if value := path.read_text().strip():
                return value
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
