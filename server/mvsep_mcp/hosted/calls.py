"""Tool calls and their errors, counted per tool for ``/metrics`` (the MCP wiring records every call here)."""

from __future__ import annotations

import threading
from collections import Counter


class ToolCalls:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def record(self, tool: str, *, error: bool) -> None:
        with self._lock:
            self.calls[tool] += 1
            if error:
                self.errors[tool] += 1

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        with self._lock:
            return dict(self.calls), dict(self.errors)


TOOL_CALLS = ToolCalls()  # one per process, like Prometheus' own registry
