"""mvsep-mcp: the MVSep music-separation API as an MCP server.

The product alone (the map is ARCHITECTURE.md): ``mvsep_mcp.mvsep`` (HTTP client), ``mvsep_mcp.media`` (audio files:
probe, tags, naming, manifests), ``mvsep_mcp.jobs`` (journal and runner), ``mvsep_mcp.results`` (a finished job's
files), ``mvsep_mcp.serving`` (HTTP), ``mvsep_mcp.app``/``mvsep_mcp.cli`` (MCP wiring and entry point); the tools
are the ``mvsep_mcp_tools`` package, the sandbox, demo, benchmark and fault suite ``mvsep_mcp_testbench``.

The version is declared once, in ``pyproject.toml``, and read here from the installed distribution's metadata
(``serverInfo``, ``--version``); ``manifest.json`` and ``server.json`` carry copies written by
``.ci/release.py set-version``, and ``tests/ship/test_versions.py`` fails when any of them differs.
"""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "mvsep-mcp"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # a source tree on sys.path that was never installed: no metadata to read
    __version__ = "0+unknown"
