"""An MVSep-compatible local API for tests and offline demos (see ``mvsep_mcp_testbench/sandbox/server.py``).

Fault injection: ``faults.py`` (the rules and their kinds), ``fault_spec.py`` (the compact ``--faults`` text, with
examples), ``fault_wire.py`` (what the client sees), ``middleware.py`` (when each rule applies), ``traffic.py`` (the
request log and counters, ``state.traffic``), ``control.py`` (``/_sandbox/stats``, ``/_sandbox/faults``).
"""

from __future__ import annotations

from mvsep_mcp_testbench.sandbox.accounts import SANDBOX_FREE_TOKEN, SANDBOX_PREMIUM_TOKEN
from mvsep_mcp_testbench.sandbox.fault_spec import FaultSpecError, parse_faults
from mvsep_mcp_testbench.sandbox.faults import FaultRule
from mvsep_mcp_testbench.sandbox.separations import JobTiming
from mvsep_mcp_testbench.sandbox.server import SandboxServer, run_sandbox
from mvsep_mcp_testbench.sandbox.state import SandboxState

__all__ = ["SANDBOX_FREE_TOKEN", "SANDBOX_PREMIUM_TOKEN", "FaultRule", "FaultSpecError", "JobTiming", "SandboxServer",
           "SandboxState", "parse_faults", "run_sandbox"]
