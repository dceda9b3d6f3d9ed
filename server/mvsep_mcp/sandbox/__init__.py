"""An MVSep-compatible local API for tests and offline demos (see ``mvsep_mcp/sandbox/server.py``)."""

from __future__ import annotations

from mvsep_mcp.sandbox.accounts import SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN
from mvsep_mcp.sandbox.faults import FaultRule
from mvsep_mcp.sandbox.jobs import JobTiming
from mvsep_mcp.sandbox.server import SandboxServer, run_sandbox
from mvsep_mcp.sandbox.state import SandboxState

__all__ = ["SANDBOX_FREE_TOKEN", "SANDBOX_PREMIUM_TOKEN", "FaultRule", "JobTiming", "SandboxServer", "SandboxState",
           "run_sandbox"]
