"""Whether the current tool call will be answered with a task (see ``tasks``): then a spending tool returns as soon
as its jobs are recorded instead of waiting for their creates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from mvsep_mcp import policy

_answer_with_task: ContextVar[bool] = ContextVar("answer_with_task", default=False)


@contextmanager
def answering_with_task() -> Iterator[None]:
    """Within this block, the tool call under way will be answered with a task."""
    token = _answer_with_task.set(True)
    try:
        yield
    finally:
        _answer_with_task.reset(token)


def submit_wait_s() -> float:
    """How long a spending tool waits for its creates: not at all when a task will follow them."""
    return 0.0 if _answer_with_task.get() else policy.SUBMIT_WAIT_S
