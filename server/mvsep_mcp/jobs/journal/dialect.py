"""The SQL the journal speaks, and the little that SQLite and PostgreSQL spell differently.

Every statement of the journal (``sql``) and of hosted mode's rows (``linked``) is written once, with ``?`` for each
parameter (and never a literal ``?`` or ``%``), and run on a :class:`Connection`: ``execute`` and a cursor, what
``sqlite3`` and psycopg share (the PostgreSQL backend's connection turns ``?`` into psycopg's ``%s``). A
:class:`Dialect` holds what differs in the statements themselves; a backend (``sqlite``, ``postgres``) is a
:class:`SqlDatabase`: its dialect, its connections, one transaction helper and its clock.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What the journal runs its statements on (``sqlite3.Connection`` is one as it is)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...


@dataclass(frozen=True)
class Dialect:
    name: Literal["sqlite", "postgres"]  # whose statements of a ``Migration`` to run
    json: str  # a JSON document as a parameter: "?" (SQLite stores the text) or "?::jsonb"
    arrays: bool  # a set of values as one array parameter (``= ANY(?)``), else one parameter each (``IN (?, ?)``)
    row_order: str  # the tie-break of jobs created in the same instant: SQLite's rowid, PostgreSQL's identity column
    lock_row: str  # what a read adds to lock job ``j`` until its transaction ends ("": the transaction holds the
    #                whole file's write lock already, SQLite's BEGIN IMMEDIATE)
    outputs: str | None  # job ``j``'s outputs as one JSON array, or None: read with a query per job (SQLite orders an
    #                      aggregate's input only from 3.44)
    now: str | None  # the database's clock in epoch seconds, which processes on several machines agree on; None: the
    #                  process's clock (every process sharing the database runs on one machine)

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column`` is one of ``values``: the condition and its parameters."""
        if self.arrays:
            return f"{column} = ANY(?)", [list(values)]
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def upsert(table: str, columns: Sequence[str], key: Sequence[str], values: Sequence[str] | None = None) -> str:
    """An ``INSERT`` that replaces the other columns of the row with the same ``key`` (``ON CONFLICT … DO UPDATE``, as
    both databases write it); ``values`` are SQL expressions, one ``?`` per column by default."""
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns if column not in key)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values or ['?'] * len(columns))})"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")


class SqlDatabase(ABC):
    """A database the journal writes to: its dialect, its connections, one transaction helper and its clock."""

    _dialect: ClassVar[Dialect]
    _clock: Callable[[], float]  # stamps the journal's times (tests pass a fake one)

    @abstractmethod
    def _connection(self) -> AbstractContextManager[Connection]:
        """A connection whose statements each commit on their own."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Connection]:
        """A connection inside one transaction: committed when the block ends, rolled back when it raises. A row the
        transaction locks (``Dialect.lock_row``) or writes is its own until then, whatever the number of processes."""

    def _now(self) -> tuple[str, tuple[float, ...]]:
        """The clock every process sharing the database agrees on, as SQL and its parameters."""
        if self._dialect.now is not None:
            return self._dialect.now, ()
        return "?", (self._clock(),)
