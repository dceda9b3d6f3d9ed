"""The reference of the cold-start and memory figures: an ``MCPServer`` with one tool, over stdio, nothing else.

Run as a script (``python bare_server.py``), not as a module, so that it imports only the MCP SDK.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

server: MCPServer = MCPServer("bare")


@server.tool()
def ping() -> str:
    """Answer pong."""
    return "pong"


if __name__ == "__main__":
    server.run("stdio")
