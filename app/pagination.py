"""Keyset pagination shared by every collection: newest first, opaque cursors."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Unprocessable
from app.schemas import CURSOR_PATTERN, decode_cursor, encode_cursor


@dataclass(frozen=True, slots=True)
class PageParams:
    """?limit= (1..1000, default 100) and ?cursor= from the previous page."""

    limit: int
    after_id: int | None


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    # the pattern is checked by decode_cursor, which answers with the code invalid_cursor
    cursor: Annotated[str | None, Query(
        description="next_cursor of the previous page",
        json_schema_extra={"pattern": CURSOR_PATTERN})] = None,
) -> PageParams:
    # async: a plain dependency would be run in the thread pool.
    try:
        return PageParams(limit=limit, after_id=decode_cursor(cursor))
    except ValueError as exc:
        raise Unprocessable("The cursor is not valid.", code="invalid_cursor") from exc


PageDep = Annotated[PageParams, Depends(_page_params)]


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
