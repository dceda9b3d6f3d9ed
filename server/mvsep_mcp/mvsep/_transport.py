"""The TLS context of every ``MVSepClient``: one for the process.

Building an ``httpx`` client without a context loads the CA bundle into a new TLS context, tens of milliseconds each
time, and a server makes a client per account. So the context is built once, by the first client, and shared by
every client after it (``ssl.SSLContext`` is safe to share between connections). Everything else is httpx's own
default transport, so the environment's proxies (``HTTP(S)_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) and CA settings
(``SSL_CERT_FILE``, ``SSL_CERT_DIR``) apply as they would to any httpx client.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The process's TLS context: certifi's CAs, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as httpx reads them."""
    return httpx.create_ssl_context(trust_env=True)
