"""An MVSep-compatible local API for tests and offline demos (see ``server/sandbox/server.py``)."""

from __future__ import annotations

from server.sandbox.accounts import SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN
from server.sandbox.faults import FaultRule
from server.sandbox.jobs import JobTiming
from server.sandbox.server import SandboxServer, run_sandbox
from server.sandbox.state import SandboxState

__all__ = ["SANDBOX_FREE_TOKEN", "SANDBOX_PREMIUM_TOKEN", "FaultRule", "JobTiming", "SandboxServer", "SandboxState",
           "run_sandbox"]
