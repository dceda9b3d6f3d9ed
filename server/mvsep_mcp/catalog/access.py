"""Who may use a model: MVSep's `orientation` (0 everyone, 1 registered users, 2 premium only).

Account kinds: "anonymous" (no MVSep account/token), "registered" (an API token, no premium) and "premium"
(premium purchased). `None` means no account is known and is treated as "anonymous". Since the API always
takes a token, a caller with a token should pass at least "registered".
An orientation outside 0-2 is treated as premium-only (the cautious reading).
"""

from __future__ import annotations

from typing import Literal

from mvsep_mcp.mvsep.models import Algorithm

from .errors import AccessDenied

AccountKind = Literal["anonymous", "registered", "premium"]

ACCESS_LABELS: dict[int, str] = {0: "everyone", 1: "registered users", 2: "premium only"}
_RANK: dict[str, int] = {"anonymous": 0, "registered": 1, "premium": 2}


def orientation(algorithm: Algorithm) -> int:
    return int(getattr(algorithm, "orientation", 0) or 0)


def access_label(algorithm: Algorithm) -> str:
    """ "everyone", "registered users" or "premium only"."""
    return ACCESS_LABELS.get(orientation(algorithm), "premium only")


def can_use(algorithm: Algorithm, account_kind: AccountKind | None) -> bool:
    needed = min(max(orientation(algorithm), 0), 2)
    return _RANK.get(account_kind or "anonymous", 0) >= needed


def access_error(algorithm: Algorithm, account_kind: AccountKind | None) -> str | None:
    """The sentence explaining why `account_kind` may not use `algorithm`, or None when it may."""
    if can_use(algorithm, account_kind):
        return None
    name = f"{algorithm.name} (render_id {algorithm.render_id})"
    if orientation(algorithm) == 1:
        return (
            f"{name} is for registered MVSep users only: set your MVSep API token "
            "(from your MVSep account page), or choose a model open to everyone."
        )
    return (
        f"{name} is for premium MVSep accounts only: buy premium on mvsep.com, "
        "or choose a model that your account may use."
    )


def check_access(algorithm: Algorithm, account_kind: AccountKind | None) -> None:
    """Raise AccessDenied with `access_error`'s sentence when the account may not use the model."""
    message = access_error(algorithm, account_kind)
    if message is not None:
        raise AccessDenied(message)
