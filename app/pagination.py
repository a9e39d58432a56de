"""Keyset pagination shared by every collection: newest first, opaque cursors."""

from collections.abc import Callable
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
    rows = list((await session.scalars(_keyset(stmt, id_column, page))).all())
    return _cut(rows, page, lambda row: getattr(row, id_column.key))


async def fetch_rows_page(
    session: AsyncSession, stmt: Select[Any], *, id_column: Any, page: PageParams
) -> tuple[list[Any], str | None]:
    """As fetch_page, for a select of several columns whose first is the entity paged by id."""
    rows = list((await session.execute(_keyset(stmt, id_column, page))).all())
    return _cut(rows, page, lambda row: getattr(row[0], id_column.key))


def _keyset(stmt: Select[Any], id_column: Any, page: PageParams) -> Select[Any]:
    if page.after_id is not None:
        stmt = stmt.where(id_column < page.after_id)
    return stmt.order_by(id_column.desc()).limit(page.limit + 1)


def _cut(rows: list[Any], page: PageParams, key: Callable[[Any], int]) -> tuple[list[Any], str | None]:
    # one row more than the page was read: its presence says a next page exists
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, encode_cursor(key(rows[-1]))
