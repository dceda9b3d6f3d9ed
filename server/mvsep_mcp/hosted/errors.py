"""Errors of hosted mode (``HostedError`` and its subclasses, drawn in ARCHITECTURE.md, "Error tree"); each message
is a sentence for the user of a hosted server, naming what to do."""

from __future__ import annotations

from mvsep_mcp.errors import UserError


class HostedError(UserError):
    """Base of every error of :mod:`mvsep_mcp.hosted`."""


class AccountNotLinked(HostedError):
    """This user has not linked an MVSep account yet: the sentence carries a one-time link page."""

    def __init__(self, link_url: str, ttl_minutes: int) -> None:
        super().__init__(
            f"No MVSep account is linked to you on this server yet. Ask the user to open {link_url} (valid "
            f"{ttl_minutes} minutes, once) and paste their MVSep API token from https://mvsep.com/user-api there, "
            f"then call this tool again. Never ask for the token in the chat."
        )
        self.link_url = link_url


class NotSignedIn(HostedError):
    """A hosted call without an authenticated user (a misconfigured deployment)."""

    def __init__(self) -> None:
        super().__init__("This hosted server needs a signed-in user for this call: connect with a bearer token.")


class NotOnThisServer(HostedError):
    """A request that names something on the server's own disk."""


class QuotaExceeded(HostedError):
    """The user's storage holds more than the quota."""


class LinkInvalid(HostedError):
    """An account-link ticket or a download URL that is unknown, used or expired."""


class TokenRefused(HostedError):
    """MVSep does not accept the token of this request: what a hosted user does about it (never a local setting)."""

    @classmethod
    def header(cls) -> TokenRefused:
        return cls("MVSep does not accept the token sent in the X-MVSep-Token header. Send a valid one from "
                   "https://mvsep.com/user-api in that header, or leave the header out to use the MVSep account "
                   "linked to you on this server (a call without it offers the page to link one).")

    @classmethod
    def linked(cls, link_url: str | None) -> TokenRefused:
        where = (f"Ask the user to open {link_url} (once) and paste their current MVSep API token from "
                 f"https://mvsep.com/user-api there; never ask for it in the chat." if link_url else
                 "Sign in with the mvsep:account scope and call account_info for a page where the user links their "
                 "current token from https://mvsep.com/user-api (never in the chat).")
        return cls(f"MVSep no longer accepts the MVSep token linked to you on this server (it was changed or "
                   f"revoked on mvsep.com). {where}")


class TooBusy(HostedError):
    """One user's share of the server is used up for now."""
