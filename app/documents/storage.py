"""Where document bytes live, addressed by their SHA-256: files under var_dir, or SQL rows.

Both stores are written before the document's row commits and never overwrite: a crash leaves
either a complete blob nobody points to yet, or nothing; never a row without its bytes, nor
half a file (docs/decisions/0012-document-storage.md)."""

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.documents.models import DocumentChunk

READ_CHUNK = 256 * 1024
DB_CHUNK = 1024 * 1024  # one row's bytes: small enough to stream, large enough to be few


class BlobStore(Protocol):
    spool_dir: Path  # where uploads are spooled before put() takes them

    async def put(self, session: AsyncSession, *, sha256: str, source: Path) -> None:
        """Keep the bytes of source (already hashed to sha256) durably, in session's transaction."""

    def read(self, sha256: str) -> AsyncIterator[bytes]:
        """The stored bytes, in chunks."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStore:
    """Blobs as files var_dir/documents/ab/abcdef...: renamed into place once fsynced."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def spool_dir(self) -> Path:
        """Uploads are spooled on the same file system, so a rename puts them in place."""
        return self.root / "incoming"

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    async def put(self, session: AsyncSession, *, sha256: str, source: Path) -> None:
        await anyio.to_thread.run_sync(self._put, sha256, source)

    def _put(self, sha256: str, source: Path) -> None:
        target = self.path_of(sha256)
        if target.exists():  # the same bytes are already here: keep those
            source.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        # the spooler fsynced the file; the rename is atomic, and the directory's fsync makes
        # the new name itself survive a crash
        os.replace(source, target)
        _fsync_dir(target.parent)

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self.path_of(sha256), "rb") as handle:
            while chunk := await handle.read(READ_CHUNK):
                yield chunk


class DatabaseStore:
    """Blobs as DB_CHUNK-sized rows in SQL, written in the document's own transaction."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], spool_dir: Path) -> None:
        self.sessionmaker = sessionmaker
        self.spool_dir = spool_dir

    async def put(self, session: AsyncSession, *, sha256: str, source: Path) -> None:
        try:
            present = await session.scalar(select(exists().where(DocumentChunk.sha256 == sha256)))
            if present:
                return
            index = 0
            async with await anyio.open_file(source, "rb") as handle:
                while data := await handle.read(DB_CHUNK):
                    chunk = DocumentChunk(sha256=sha256, chunk_index=index, data=data)
                    session.add(chunk)
                    await session.flush()
                    session.expunge(chunk)  # one chunk in memory at a time
                    index += 1
        finally:
            await anyio.Path(source).unlink(missing_ok=True)

    async def read(self, sha256: str) -> AsyncIterator[bytes]:
        # A session of its own: the response streams after the request's session has closed.
        index = 0
        async with self.sessionmaker() as session:
            while True:
                data = await session.scalar(select(DocumentChunk.data).where(
                    DocumentChunk.sha256 == sha256, DocumentChunk.chunk_index == index))
                if data is None:
                    return
                yield data
                index += 1
