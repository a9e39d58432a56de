"""Streaming a multipart upload to a temporary file: capped, hashed and sniffed as it arrives.

The body is never held in memory: each chunk is counted, hashed and written out as it comes,
and the upload is refused the moment it passes the cap or its first bytes are no allowed type.
A body that ends before multipart's closing boundary (a truncated upload) is refused too."""

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import filetype
from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from app.errors import AppError, Unprocessable

# What a lot document may be, by content (PRODUCT.md: PDF, PNG, JPEG): media type -> extension.
ALLOWED_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
SNIFF_BYTES = 261  # what filetype reads to decide
MAX_FIELD_BYTES = 1024  # the text fields (kind, visibility, a form's CSRF token) are short
FILE_FIELD = "file"


class TooLarge(AppError):
    status, code = 413, "payload_too_large"


class UnsupportedType(AppError):
    status, code = 415, "unsupported_document_type"


def sniff(head: bytes) -> str | None:
    """The allowed media type the bytes start with, or None."""
    kind = filetype.guess(head)
    return kind.mime if kind is not None and kind.mime in ALLOWED_TYPES else None


@dataclass
class Spooled:
    """An uploaded file written to a temporary path, with what was learnt on the way."""

    path: Path
    filename: str
    media_type: str
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        """Remove the temporary file (idempotent)."""
        self.path.unlink(missing_ok=True)


class _Part:
    """The headers of the part being received."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.header_name = b""
        self.header_value = b""
        self.name: str | None = None
        self.value = bytearray()


class _Receiver:
    """Callbacks of the multipart parser: text fields to memory, the file to disk."""

    def __init__(self, *, spool_dir: Path, max_bytes: int) -> None:
        self.spool_dir, self.max_bytes = spool_dir, max_bytes
        self.fields: dict[str, str] = {}
        self.ended = self.file_seen = False
        self.filename = ""
        self.size = 0
        self.digest = hashlib.sha256()
        self.head = b""
        self.media_type: str | None = None
        self.handle = None
        self.path: Path | None = None
        self.part = _Part()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field,
            "on_header_value": self._header_value, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished, "on_part_data": self._data,
            "on_part_end": self._part_end, "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self.part = _Part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def _header_end(self) -> None:
        part = self.part
        # latin-1 maps every byte to one character and back: the header's bytes stay as sent
        # (browsers send UTF-8 file names), to be decoded once parsed
        part.headers[part.header_name.decode("latin-1").lower()] = part.header_value.decode("latin-1")
        part.header_name, part.header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get("content-disposition", ""))
        name = options.get(b"name")
        if name is None:
            raise Unprocessable("Every form part needs a name.", code="malformed_upload")
        self.part.name = name.decode("utf-8", "replace")
        if self.part.name == FILE_FIELD:
            if self.file_seen:
                raise Unprocessable("Send one file per upload.", code="malformed_upload")
            self.file_seen = True
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
            fd, path = tempfile.mkstemp(dir=self.spool_dir, prefix="upload-", suffix=".part")
            self.path, self.handle = Path(path), os.fdopen(fd, "wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.name != FILE_FIELD:
            self.part.value += chunk
            if len(self.part.value) > MAX_FIELD_BYTES:
                raise Unprocessable(f"Form field {self.part.name} is too long.", code="malformed_upload")
            return
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge(f"Documents are limited to {self.max_bytes} bytes.")
        if self.media_type is None:
            self.head += chunk
            if len(self.head) >= SNIFF_BYTES:
                self._decide_type()
        self.digest.update(chunk)
        self.handle.write(chunk)

    def _decide_type(self) -> None:
        self.media_type = sniff(self.head[:SNIFF_BYTES])
        if self.media_type is None:
            raise UnsupportedType("Documents must be PDF, PNG or JPEG files (judged by content).")

    def _part_end(self) -> None:
        if self.part.name == FILE_FIELD:
            if self.media_type is None:  # a file shorter than SNIFF_BYTES
                self._decide_type()
            self.handle.flush()
        elif self.part.name is not None:
            if self.part.name in self.fields:
                raise Unprocessable(f"Form field {self.part.name} is given twice.", code="malformed_upload")
            self.fields[self.part.name] = bytes(self.part.value).decode("utf-8", "replace")

    def _end(self) -> None:
        self.ended = True

    def sync(self) -> None:
        """fsync and close the file: its bytes are on disk before anything points to them."""
        if self.handle is not None:
            os.fsync(self.handle.fileno())
            self.handle.close()
            self.handle = None

    def cleanup(self) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def boundary_of(content_type: str | None) -> bytes:
    """The multipart boundary of a Content-Type header; 422 when it is no multipart form."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Unprocessable("Send the document as multipart/form-data.", code="malformed_upload")
    return boundary


async def spool(
    chunks: AsyncIterator[bytes], *, content_type: str | None, spool_dir: Path, max_bytes: int
) -> Spooled:
    """The uploaded file, fully received and fsynced to spool_dir; nothing is left on refusal."""
    boundary = boundary_of(content_type)
    await anyio.Path(spool_dir).mkdir(parents=True, exist_ok=True)
    receiver = _Receiver(spool_dir=spool_dir, max_bytes=max_bytes)
    parser = MultipartParser(boundary, receiver.callbacks())
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
        if not receiver.ended:
            raise Unprocessable("The upload ended before its last boundary (truncated).",
                                code="upload_truncated")
        if not receiver.file_seen or receiver.size == 0:
            raise Unprocessable("The form has no (non-empty) file field.", code="file_missing")
        await anyio.to_thread.run_sync(receiver.sync)
    except MultipartParseError as exc:
        receiver.cleanup()
        raise Unprocessable("The multipart body is malformed.", code="malformed_upload") from exc
    except BaseException:
        receiver.cleanup()  # a refusal, a disconnect or a cancellation: nothing stays behind
        raise
    return Spooled(
        path=receiver.path, filename=receiver.filename, media_type=receiver.media_type,
        size=receiver.size, sha256=receiver.digest.hexdigest(), fields=receiver.fields,
    )
