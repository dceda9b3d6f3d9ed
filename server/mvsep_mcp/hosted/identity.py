"""Who a verified bearer token is: a :class:`Principal` (what the verifier read) and a :class:`User` (what the server
keys everything by: the MVSep account link, the journal's account keys, the storage folder).

A user is the pair (issuer, subject): two authorization servers may both have a ``sub`` of "42", and a token without a
subject stands for its OAuth client. The key is a hash of that pair, so no folder name, log line or database row
shows the subject itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

USER_KEY_HEX_CHARS = 24  # 96 bits: no two users of one deployment collide
NAME_MAX_CHARS = 120  # a shown name longer than this is cut (it is the authorization server's, shown on a page)
TOKEN_HEADER = "x-mvsep-token"  # an automation host's MVSep token, sent with each request instead of a linked one


@dataclass(frozen=True)
class Principal:
    """A verified token: who it stands for, what it may do, until when, and for which audience."""

    issuer: str
    subject: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: int | None = None
    audience: str | None = None
    name: str = ""  # how the authorization server names them (name, e-mail or subject): shown on the link page


def shown_name(claims: Mapping[str, Any], fallback: str) -> str:
    """Who a token's claims say the user is, for a person to recognise: "Name (e-mail)", either, or ``fallback``."""
    name = next((str(claims[k]).strip() for k in ("name", "preferred_username", "username")
                 if isinstance(claims.get(k), str) and str(claims[k]).strip()), "")
    email = str(claims["email"]).strip() if isinstance(claims.get("email"), str) else ""
    if name and email and email != name:
        return f"{name} ({email})"[:NAME_MAX_CHARS]
    return (name or email or fallback)[:NAME_MAX_CHARS]


@dataclass(frozen=True)
class User:
    """An authenticated user as the server keys them."""

    key: str
    name: str = field(default="", compare=False)  # as the authorization server named them (``Principal.name``)

    @classmethod
    def of(cls, issuer: str | None, subject: str | None, client_id: str, name: str = "") -> User:
        """The user a token stands for: its subject at its issuer, or its client when it names no subject."""
        who = f"sub\0{subject}" if subject else f"client\0{client_id}"
        digest = hashlib.sha256(f"{issuer or ''}\0{who}".encode()).hexdigest()
        return cls(key=digest[:USER_KEY_HEX_CHARS], name=name or subject or client_id)


def hosted_account_key(user_key: str, account_key: str) -> str:
    """The journal's key for one user's use of one MVSep account: two users who link the same MVSep account still
    never see each other's jobs, files or reused results."""
    return hashlib.sha256(f"{user_key}\0{account_key}".encode()).hexdigest()[:20]
