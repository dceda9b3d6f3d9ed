"""``mvsep-mcp bench``: how fast the product is, as ratios to references measured in the same run.

It starts the sandbox on 127.0.0.1 (needs the ``[sandbox]`` extra, and ``curl`` for two references), drives the
product only through its public surfaces — ``MVSepClient`` and the MCP server over stdio — and prints a table:
figure, value, reference, ratio, target, pass. A full run takes a few minutes; ``--quick`` is a smoke run of about a
minute with small sizes (its numbers are not meant to be compared). ``--json PATH`` writes the results too.

Modules: ``service`` (the sandbox, its accounts, timings and request log), ``mcp_server`` (the product as a stdio
subprocess), ``startup``, ``upload``, ``jobs``, ``transfer`` (the scenarios), ``baseline`` (today's polling, frozen),
``figures`` (the table), ``run`` (the command).
"""

from __future__ import annotations
