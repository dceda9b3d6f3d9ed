"""mvsep-mcp: the MVSep music-separation API as an MCP server.

Layout: ``mvsep_mcp.mvsep`` (HTTP client), ``mvsep_mcp.sandbox`` (local MVSep stand-in),
``mvsep_mcp.media`` (audio files: probe, tags, naming, manifests), ``mvsep_mcp.jobs`` (journal and runner),
``mvsep_mcp.app``/``mvsep_mcp.cli`` (MCP wiring and entry point); tools live in the top-level ``tools`` package.
"""

__version__ = "0.1.0"
