"""Console tables paged one by one, with plain links: `?<table>_cursor=` (the API's cursors)."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from app.pagination import PageParams
from app.schemas import decode_cursor

# What a paging link leaves out of the query string: a notice or refusal is shown once.
_ONCE = frozenset({"notice", "error"})


class InvalidCursor(ValueError):
    """A `?<table>_cursor=` that no page made."""


@dataclass
class Pager:
    """Each table's page (its own cursor in the query string) and the links to the next one."""

    size: int
    query: list[tuple[str, str]]
    next_cursors: dict[str, str] = field(default_factory=dict)

    def page(self, table: str) -> PageParams:
        """The page of the table the query string asks for (the first one by default)."""
        try:
            after_id = decode_cursor(self._cursor(table))
        except ValueError as exc:
            raise InvalidCursor(table) from exc
        return PageParams(limit=self.size, after_id=after_id)

    def found(self, table: str, next_cursor: str | None) -> None:
        """Note where the table's next page starts (None: this page was its last)."""
        if next_cursor is not None:
            self.next_cursors[table] = next_cursor

    def next_url(self, table: str) -> str | None:
        """This page with the table moved to its next page, the other tables where they are."""
        cursor = self.next_cursors.get(table)
        return None if cursor is None else self._url(table, cursor)

    def first_url(self, table: str) -> str | None:
        """This page with the table back on its first page (None: it is there already)."""
        return None if self._cursor(table) is None else self._url(table, None)

    def _cursor(self, table: str) -> str | None:
        return next((v for k, v in self.query if k == f"{table}_cursor"), None)

    def _url(self, table: str, cursor: str | None) -> str:
        key = f"{table}_cursor"
        items = [(k, v) for k, v in self.query if k != key and k not in _ONCE]
        if cursor is not None:
            items.append((key, cursor))
        return "?" + urlencode(items)


def pager(query: Any, size: int) -> Pager:
    """The pager of a request's query string (its multi-items, in order)."""
    return Pager(size=size, query=[(k, str(v)) for k, v in query.multi_items()])
