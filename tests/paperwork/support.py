"""Shared helpers of the paperwork tests: what poppler reads of a PDF."""

import shutil
import subprocess
from pathlib import Path

import pytest


def pdf_text(data: bytes) -> str:
    """The text of a PDF as poppler's pdftotext reads it (installed by scripts/install-browser.sh)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: run scripts/install-browser.sh (poppler-utils)")
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                            check=True, timeout=60)
    return result.stdout.decode()


def pdfsig(data: bytes, path: Path) -> str:
    """What poppler's pdfsig says of the PDF's signatures (a reader that validates them)."""
    if shutil.which("pdfsig") is None:
        pytest.fail("pdfsig is missing: run scripts/install-browser.sh (poppler-utils)")
    path.write_bytes(data)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout
