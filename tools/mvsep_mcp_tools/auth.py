"""Toolset ``auth`` (opt-in, never part of "all"): sign in and register through the model.

The normal way to set a token is `mvsep-mcp login` in a terminal, so that a password never passes through the model.
This toolset exists for hosts without a terminal; it must be named explicitly in MVSEP_TOOLSETS. The token obtained
is stored owner-only and used from the next call on; it is never returned to the model.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from pydantic import Field

from mvsep_mcp_tools._caller import session_of
from mvsep_mcp_tools._registration import CHANGES_ACCOUNT, SPENDS_AND_WRITES, ToolOutput, result, tool


class LoginOut(ToolOutput):
    signed_in_as: str | None = None


class RegisterOut(ToolOutput):
    message: str


def register(server: MCPServer[Any]) -> None:
    @tool(server, name="login", annotations=CHANGES_ACCOUNT)
    async def login(
        ctx: Context[Any, Any],
        email: Annotated[str, Field(min_length=3)],
        password: Annotated[str, Field(min_length=1)],
    ) -> Annotated[CallToolResult, LoginOut]:
        """Sign in by email and password; the token is kept owner-only and used from now on.
        Prefer `mvsep-mcp login`."""
        who = await session_of(ctx).sign_in(email, password)
        return result(
            LoginOut(signed_in_as=who),
            f"Signed in as {who}; the token is stored on this machine and used from now on.",
        )

    @tool(server, name="register_account", annotations=SPENDS_AND_WRITES)
    async def register_account(
        ctx: Context[Any, Any],
        name: Annotated[str, Field(min_length=1, description="Display name")],
        email: Annotated[str, Field(min_length=3)],
        password: Annotated[str, Field(min_length=8)],
    ) -> Annotated[CallToolResult, RegisterOut]:
        """Create an MVSep account; verify the email, then use login."""
        message = await session_of(ctx).any_client().register(name, email, password, password)
        return result(RegisterOut(message=message), f"{message}. Verify the email, then call login.")
