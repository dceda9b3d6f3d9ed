"""The MCP tools, one module per toolset, registered from a static table (nothing is discovered at import time).

```python
from mvsep_mcp_tools import register_all
server = MCPServer(..., extensions=extensions(toolsets))
register_all(server, toolsets=("catalog", "separation", "jobs"), current_session=...)
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp.server.extension import Extension
from mcp.server.mcpserver import MCPServer
from mvsep_mcp.config import ALL_TOOLSETS

from mvsep_mcp_tools import (
    _protocol,
    account,
    auth,
    catalog,
    completions,
    jobs,
    player,
    prompts,
    quality,
    resources,
    results,
    separation,
    site,
    studio,
    tasks,
)

if TYPE_CHECKING:
    from mvsep_mcp.session import Session

TOOLSETS: dict[str, Callable[[MCPServer[Any]], None]] = {
    "catalog": catalog.register,
    "separation": separation.register,
    "jobs": jobs.register,
    "studio": studio.register,
    "results": results.register,
    "account": account.register,
    "site": site.register,
    "quality": quality.register,
    "auth": auth.register,
}
assert tuple(TOOLSETS) == ALL_TOOLSETS, "the registry and the settings must name the same toolsets"


def extensions(toolsets: tuple[str, ...]) -> list[Extension]:
    """The MCP extensions the toolsets need, given to the server at construction: the stem player's MCP App
    (``player``) goes with ``jobs``, whose ``wait_for_jobs`` shows it; tasks (``tasks``) with the tools that start
    jobs (``separation``, ``studio``)."""
    found: list[Extension] = []
    if "jobs" in toolsets:
        found.append(player.extension())
    if {"separation", "studio"} & set(toolsets):
        found.append(tasks.TasksExtension())
    return found


def register_all(server: MCPServer[Any], toolsets: tuple[str, ...], current_session: Callable[[], Session]) -> None:
    """The tools of ``toolsets``, then every resource and prompt, their completions, and the answers by the book
    around the SDK's handlers (``_protocol``)."""
    for name in toolsets:
        TOOLSETS[name](server)
    resources.register(server, current_session)
    prompts.register(server)
    completions.register(server)
    _protocol.install(server)
