"""The test bench of mvsep-mcp, kept apart from the product: it ships in the same distribution, but the product
(``mvsep_mcp``, ``mvsep_mcp_tools``) never imports it; only the command line's ``sandbox``, ``demo``, ``bench`` and
``faults`` do, when one of them runs.

``sandbox`` (an MVSep-compatible HTTP server with real audio and fault injection: the ``[sandbox]`` extra), ``demo``
(a real separation through the MCP server against it), ``bench`` (speed and memory as ratios, the soak) and
``faults`` (the fault and abuse suite: the ``[faults]`` extra).
"""
