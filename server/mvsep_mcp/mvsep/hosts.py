"""Which hosts result files may come from: MVSep's own site, and the mirrors the user named.

MVSep serves result files from the API's host or a regional host of the same site (``de.mvsep.com`` for
``mvsep.com``). Whatever a server answers, the client fetches files only from hosts this policy allows, and checks
every redirect too: nothing is ever fetched from a host the user did not configure.

"Same site" is the registrable part of the host name: its last two labels, or three where the second-to-last is a
common second-level label under a country code (``example.co.uk``). An IP address or a single-label host
(``localhost``) is its own site. Extra hosts: exact names, or ``*.example.org`` for a domain and every subdomain.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "or", "ne", "go"})


def _hostname(url_or_host: str) -> str:
    text = url_or_host.strip()
    host = urlsplit(text).hostname if "://" in text else urlsplit(f"//{text}").hostname
    return (host or "").rstrip(".").lower()


def site_of(host: str) -> str:
    """The registrable site of a host name (an IP or a single label is its own site)."""
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    if len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


@dataclass(frozen=True)
class DownloadHosts:
    """The hosts result files may be fetched from."""

    site: str  # the base URL's site
    extra: tuple[str, ...] = ()  # exact host names or "*.domain" patterns from the settings

    @classmethod
    def for_base_url(cls, base_url: str, extra: Iterable[str] = ()) -> DownloadHosts:
        return cls(site=site_of(_hostname(base_url)), extra=tuple(e.strip().lower() for e in extra if e.strip()))

    def allows(self, url: str) -> bool:
        """True when ``url`` is http(s) on an allowed host."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return False
        host = _hostname(url)
        if not host:
            return False
        if site_of(host) == self.site:
            return True
        for pattern in self.extra:
            if pattern.startswith("*."):
                domain = pattern[2:]
                if host == domain or host.endswith("." + domain):
                    return True
            elif host == _hostname(pattern):
                return True
        return False
