"""Keyset pagination shared by every collection: newest first, opaque cursors."""

from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Unprocessable
from app.schemas import decode_cursor, encode_cursor


class PageParams:
    """?limit= (1..1000, default 100) and ?cursor= from the previous page."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: Annotated[str | None, Query(max_length=64)] = None,
    ) -> None:
        self.limit = limit
        try:
            self.after_id = decode_cursor(cursor)
        except ValueError as exc:
            raise Unprocessable("The cursor is not valid.", code="invalid_cursor") from exc


PageDep = Annotated[PageParams, Depends()]


async def fetch_page(
    session: AsyncSession, stmt: Select[Any], *, id_column: Any, page: PageParams
) -> tuple[list[Any], str | None]:
    """Rows of one page (ordered by id descending) and the cursor of the next one."""
    if page.after_id is not None:
        stmt = stmt.where(id_column < page.after_id)
    rows = list((await session.scalars(stmt.order_by(id_column.desc()).limit(page.limit + 1))).all())
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, encode_cursor(getattr(rows[-1], id_column.key))
