"""MVSep tokens sent per request (``X-MVSep-Token``) at a small, bounded cost, whoever sends them.

A token is asked about once (one MVSep request: the account's info) and MVSep's verdict, accepted or refused, is
remembered by the token's SHA-256 for ``TOKEN_VERDICT_S``; requests asking about the same token at once wait for one
answer. One principal may use at most ``HEADER_TOKENS_PER_USER`` different tokens within ``HEADER_TOKEN_WINDOW_S``:
each costs an MVSep request, and an accepted one an account with its client. A refused token is refused with a
sentence for a hosted user (:class:`~mvsep_mcp.hosted.errors.TokenRefused`) and costs nothing more; nothing is
opened for it. Free of HTTP: the question to MVSep is given (``ask``).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Awaitable, Callable

import anyio

from mvsep_mcp import policy
from mvsep_mcp.hosted.errors import TokenRefused, TooBusy
from mvsep_mcp.hosted.limits import Clock, DistinctTokens, Verdicts

Ask = Callable[[str], Awaitable[bool]]  # True: MVSep accepts the token; False: it refuses it; raises when unsure


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class HeaderTokens:
    def __init__(self, ask: Ask, *, clock: Clock = time.monotonic) -> None:
        self._ask = ask
        self.verdicts = Verdicts(policy.TOKEN_VERDICT_S, max_entries=policy.TOKEN_VERDICTS_MAX, clock=clock)
        self._tried = DistinctTokens(policy.HEADER_TOKENS_PER_USER, policy.HEADER_TOKEN_WINDOW_S,
                                     max_keys=policy.RATE_LIMIT_KEYS_MAX, clock=clock)
        self._asking: dict[str, anyio.Event] = {}

    async def check(self, user_key: str, token: str, *, in_use: bool = False) -> None:
        """Raise unless ``user_key`` may use ``token`` now (``in_use``: its account is open, checked before)."""
        digest = token_digest(token)
        wait = self._tried.admit(user_key, digest)
        if wait > 0:
            minutes = max(1, math.ceil(wait / 60))
            raise TooBusy(f"This sign-in sent {policy.HEADER_TOKENS_PER_USER} different MVSep tokens "
                          f"(X-MVSep-Token) within {policy.HEADER_TOKEN_WINDOW_S / 60:.0f} minutes, the most this "
                          f"server takes: send one of those, or try this one in {minutes} minutes.")
        verdict = self.verdicts.get(digest)
        if verdict is None and in_use:
            return
        if verdict is None:
            verdict = await self._verdict(digest, token)
        if not verdict:
            raise TokenRefused.header()

    def refused(self, token: str) -> None:
        """MVSep refused ``token`` in a later call: remembered like a refusal here."""
        self.verdicts.put(token_digest(token), False)

    async def _verdict(self, digest: str, token: str) -> bool:
        pending = self._asking.get(digest)
        if pending is not None:  # another request asks about this token now: its answer serves this one
            await pending.wait()
            known = self.verdicts.get(digest)
            if known is not None:
                return known
        done = self._asking[digest] = anyio.Event()
        try:
            verdict = await self._ask(token)
            self.verdicts.put(digest, verdict)
            return verdict
        finally:
            if self._asking.get(digest) is done:
                del self._asking[digest]
            done.set()
