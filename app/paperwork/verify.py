"""Checking a signed PDF offline: the platform's signature, and that not a byte has changed."""

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext


@dataclass
class PdfCheck:
    """What verify-pdf reports: the file's SHA-256, the signer, the signing time, problems."""

    sha256: str
    signer: str | None = None
    signed_at: datetime | None = None
    trusted: bool | None = None  # None: no platform certificate to check the signer against
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_pdf(data: bytes, trust_root: asn1_x509.Certificate | None) -> PdfCheck:
    """Every problem with data's one signature: broken, not covering the whole file, or (with
    trust_root) not the platform's. The signature covers the file's every byte but its own
    contents, and those are the signature: a changed byte anywhere fails. Synchronous (pyHanko
    runs its own event loop here): for the CLI and threads, not inside a running loop."""
    check = PdfCheck(sha256=hashlib.sha256(data).hexdigest())
    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        check.problems.append(f"not a readable PDF: {exc}")
        return check
    if len(signatures) != 1:
        check.problems.append(f"expected one signature, found {len(signatures)}")
        return check
    context = ValidationContext(trust_roots=[trust_root] if trust_root else [], allow_fetching=False)
    try:
        status = validate_pdf_signature(signatures[0], context)
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
        check.problems.append(f"the signature cannot be validated: {exc}")
        return check
    check.signer = status.signing_cert.subject.human_friendly
    check.signed_at = status.signer_reported_dt
    if not status.intact or not status.valid:
        check.problems.append("the signature does not match the document: bytes were changed")
    if status.coverage is not SignatureCoverageLevel.ENTIRE_FILE:
        check.problems.append("bytes were added or changed outside what the signature covers")
    if trust_root is not None:
        check.trusted = status.trusted and status.signing_cert.sha256 == trust_root.sha256
        if not check.trusted:
            check.problems.append("the signer is not the platform's certificate")
    return check
