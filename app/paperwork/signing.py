"""The platform's PDF signature: an ECDSA P-256 key with its X.509 certificate, and pyHanko.

Why not the Ed25519 key of the export manifests: EdDSA in PDF signatures (ISO 32002) is not
validated by common readers yet (poppler's pdfsig reports an Ed25519-signed file as
"corrupted"), while ECDSA P-256 with SHA-256 is (docs/decisions/0014-paperwork-pdfs.md).

The key and certificate come from TECHAUCTION_PDF_SIGNING_FILE (one PEM file holding the
private key and the certificate, e.g. one a CA issued); without it a self-signed pair is made
once under var_dir (mode 0600) and kept, so every document of this installation verifies
against the same certificate.
"""

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from app.audit.signing import read_or_create_key

KEY_FILE = "pdf_signing.pem"
FIELD = "PlatformSignature"
SUBJECT = "techauction platform"
VALID_YEARS = 10


class SigningFileError(ValueError):
    """A PDF signing file without a usable key and matching certificate."""


def _self_signed_pem() -> str:
    """A new P-256 key and its self-signed certificate (a CA of itself), as one PEM text."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, SUBJECT),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "techauction"),
    ])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * VALID_YEARS))
        .add_extension(usage, critical=True)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return (key_pem + cert.public_bytes(serialization.Encoding.PEM)).decode()


def read_or_create(path: Path) -> str:
    """The PEM pair kept in path; made once, atomically, mode 0600 (as the export key is)."""
    return read_or_create_key(path, _self_signed_pem)


@dataclass(frozen=True)
class PdfSigner:
    """The platform's key and certificate, parsed from one PEM text."""

    pem: str

    @cached_property
    def certificate(self) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate(self.pem.encode())
        except ValueError as exc:
            raise SigningFileError(f"no PEM certificate in the PDF signing file: {exc}") from exc

    @cached_property
    def _signer(self) -> signers.SimpleSigner:
        try:
            key = serialization.load_pem_private_key(self.pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningFileError(f"no readable private key in the PDF signing file: {exc}") from exc
        if key.public_key() != self.certificate.public_key():
            raise SigningFileError("the PDF signing file's key does not match its certificate")
        der_key = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        return signers.SimpleSigner(
            signing_cert=self.trust_root, signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=None,
        )

    @cached_property
    def trust_root(self) -> asn1_x509.Certificate:
        """The certificate, as pyHanko's validation takes it."""
        return asn1_x509.Certificate.load(self.certificate.public_bytes(serialization.Encoding.DER))

    def sign(self, pdf: bytes, *, reason: str) -> bytes:
        """pdf with the platform's signature over every byte (an incremental update), made now."""
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD, reason=reason, location="techauction", name=SUBJECT,
            md_algorithm="sha256",
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        return signers.PdfSigner(meta, signer=self._signer).sign_pdf(writer).getvalue()

    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def signing_pem(settings: Any) -> str:
    """The configured PDF signing file's text, or the pair made once under var_dir."""
    configured = getattr(settings, "pdf_signing_file", None)
    if configured:
        return Path(configured).read_text()
    return read_or_create(settings.var_dir / KEY_FILE)


def configured_certificate(settings: Any) -> asn1_x509.Certificate | None:
    """The platform certificate to trust when verifying, never making a new pair."""
    configured = getattr(settings, "pdf_signing_file", None)
    path = Path(configured) if configured else settings.var_dir / KEY_FILE
    if not path.exists():
        return None
    return PdfSigner(path.read_text()).trust_root
