"""Control routes of the sandbox, for a fault suite that runs it as a separate process (``mvsep-mcp sandbox``).

``GET /_sandbox/stats``: the traffic counters and every fault rule with how often it fired.
``GET /_sandbox/requests?limit=N``: the newest N entries of the request log (method, path, host, status, bytes...).
``GET|POST|DELETE /_sandbox/faults``: list the rules, add rules from a ``--faults`` text (the request body), clear them.
These routes are not MVSep's: they are never faulted, rate limited or logged, and they never show a token.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mvsep_mcp_testbench.sandbox.fault_spec import FaultSpecError, format_rule
from mvsep_mcp_testbench.sandbox.faults import FaultRule
from mvsep_mcp_testbench.sandbox.state import SandboxState

REQUEST_LOG_DEFAULT = 200


def rule_view(rule: FaultRule) -> dict[str, Any]:
    return {"rule": format_rule(rule), "kind": rule.kind, "fired": rule.fired, "remaining": rule.remaining}


def stats(state: SandboxState) -> dict[str, Any]:
    names = {token: account.email for token, account in state.accounts.accounts.items()}
    return {**state.traffic.summary(names), "faults": [rule_view(r) for r in list(state.faults)]}


def control_routes(state: SandboxState) -> list[Route]:
    async def stats_route(request: Request) -> Response:
        return JSONResponse(stats(state))

    async def requests_route(request: Request) -> Response:
        try:
            limit = max(0, int(request.query_params.get("limit", REQUEST_LOG_DEFAULT)))
        except ValueError:
            limit = REQUEST_LOG_DEFAULT
        records = list(state.traffic.log)[-limit:] if limit else []
        return JSONResponse([asdict(r) for r in records])

    async def faults_route(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
        elif request.method == "POST":
            text = (await request.body()).decode("utf-8", "replace")
            try:
                state.inject(text)
            except FaultSpecError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse([rule_view(r) for r in list(state.faults)])

    return [
        Route("/_sandbox/stats", stats_route, methods=["GET"]),
        Route("/_sandbox/requests", requests_route, methods=["GET"]),
        Route("/_sandbox/faults", faults_route, methods=["GET", "POST", "DELETE"]),
    ]
