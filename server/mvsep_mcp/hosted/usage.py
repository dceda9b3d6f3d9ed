"""When a hosted user's account was last used, and whether a request is using it right now (:class:`Usage`).

A request handler runs inside :func:`request_scope`; every account it asks for (``Usage.touch``) counts as in use
until the handler ends, so an idle account is never let go under a running request. Outside a scope a touch only
records the time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_HELD: ContextVar[list[Usage] | None] = ContextVar("mvsep_accounts_in_use", default=None)


class Usage:
    """One account's use: the last time, and how many running requests hold it."""

    def __init__(self) -> None:
        self.last_used = time.monotonic()
        self.holders = 0

    def touch(self) -> None:
        """Used now, and held until the request under way (if any) ends."""
        self.last_used = time.monotonic()
        held = _HELD.get()
        if held is not None and not any(use is self for use in held):
            held.append(self)
            self.holders += 1

    def idle_s(self) -> float:
        """Seconds since the last use; 0 while a request holds it."""
        return 0.0 if self.holders else time.monotonic() - self.last_used


@contextmanager
def request_scope() -> Iterator[None]:
    """The accounts this request touches stay in use until it ends."""
    held: list[Usage] = []
    token = _HELD.set(held)
    try:
        yield
    finally:
        _HELD.reset(token)
        for use in held:
            use.holders -= 1
            use.last_used = time.monotonic()
