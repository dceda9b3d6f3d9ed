"""Hosted for many users: one server (or several replicas) that many people reach over streamable HTTP.

Free of MCP like the rest of the domain; the HTTP and MCP wiring is :mod:`mvsep_mcp.serving.http_server`.

- ``settings``: ``MVSEP_AUTH_*``, ``MVSEP_HOSTED``, ``MVSEP_PUBLIC_URL``, the server key, quota and retention.
- ``identity``, ``scopes``: who a verified token is (a non-reversible user key) and what it may do.
- ``tokens``, ``api_keys``: bearer tokens verified as a JWT against the authorization server's JWKS, by RFC 7662
  introspection, or as a static API key from a file that holds only their SHA-256.
- ``vault``, ``signing``: the server key (Fernet for MVSep tokens at rest, itsdangerous for download URLs).
- ``storage``: each user's folder under the output folder, its quota and retention.
- ``accounts``: each user's own MVSep account (linked once through ``web``'s page, or per request by header).
- ``web``: the link page, signed downloads, ``/healthz``, ``/readyz``, ``/metrics``; ``metrics``: Prometheus.

Needs the ``[hosted]`` extra (cryptography, prometheus_client, itsdangerous); stdio users never import it.
"""
