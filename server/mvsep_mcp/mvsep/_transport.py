"""The TLS context of every ``MVSepClient``, one for the process, and the connection pool a server's clients share.

Building an ``httpx`` client without a context loads the CA bundle into a new TLS context, tens of milliseconds each
time, and a server makes a client per account. So the context is built once, by the first client, and shared by
every client after it (``ssl.SSLContext`` is safe to share between connections). Everything else is httpx's own
default transport, so the environment's proxies (``HTTP(S)_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) and CA settings
(``SSL_CERT_FILE``, ``SSL_CERT_DIR``) apply as they would to any httpx client.
"""

from __future__ import annotations

import functools
import http.cookiejar
import ssl

import httpx

from mvsep_mcp import policy


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The process's TLS context: certifi's CAs, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as httpx reads them."""
    return httpx.create_ssl_context(trust_env=True)


def shared_pool(timeout: httpx.Timeout) -> httpx.AsyncClient:
    """One HTTP client (one bounded pool: ``MVSEP_MAX_CONNECTIONS`` sockets, ``MVSEP_KEEPALIVE_CONNECTIONS`` kept
    while idle) for every account's ``MVSepClient`` of a server, so that many accounts never mean many sockets; the
    environment's proxies apply as to any httpx client. It keeps no cookies: its requests are many users'."""
    no_cookies = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(verify=shared_tls_context(), timeout=timeout, headers={"Accept": "application/json"},
                             cookies=no_cookies, limits=httpx.Limits(
                                 max_connections=policy.MVSEP_MAX_CONNECTIONS,
                                 max_keepalive_connections=policy.MVSEP_KEEPALIVE_CONNECTIONS))
