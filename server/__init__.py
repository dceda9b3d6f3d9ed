"""mvsep-mcp: the MVSep music-separation API as an MCP server.

Layout: ``server.mvsep`` (HTTP client), ``server.sandbox`` (local MVSep stand-in),
``server.media`` (audio files: probe, tags, naming, manifests), ``server.jobs`` (journal and runner),
``server.app``/``server.cli`` (MCP wiring and entry point); tools live in the top-level ``tools`` package.
"""

__version__ = "0.1.0"
