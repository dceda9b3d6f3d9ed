"""Serving the MCP server over streamable HTTP, for one user or many: the package above the session.

``http_server`` (the app: auth, scopes, resource metadata, origins, request ids, session affinity, the endpoints beside
/mcp), ``guards`` (limits before parsing, fair shares per signed-in user), ``sse_resume`` (priming events, resumable
streams), ``stopping`` (a clean stop on SIGTERM/SIGINT, stdio too), ``users`` (hosted mode's per-user accounts:
linking, tokens kept for jobs, idle and retention sweeps), ``pages`` (the link page, signed downloads, health) and
``metrics`` (Prometheus). The leaves they stand on, free of the session, are :mod:`mvsep_mcp.hosted`.
"""
