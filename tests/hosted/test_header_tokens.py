"""X-MVSep-Token's cost (hosted.header_tokens): 3,000 different tokens from one principal ask MVSep a bounded number
of times, a refusal is remembered, and one token sent at once is asked about once."""

from __future__ import annotations

import anyio
import pytest
from mvsep_mcp import policy
from mvsep_mcp.hosted.errors import TokenRefused, TooBusy
from mvsep_mcp.hosted.header_tokens import HeaderTokens


async def test_three_thousand_header_tokens_cost_a_bounded_number_of_mvsep_requests() -> None:
    asked: list[str] = []

    async def mvsep(token: str) -> bool:
        asked.append(token)
        return token.startswith("good")

    tokens = HeaderTokens(mvsep)
    refused = busy = 0
    for n in range(3000):
        try:
            await tokens.check("mallory", f"bad-token-{n:06d}")
        except TokenRefused as exc:
            refused += 1
            assert "X-MVSep-Token" in exc.user_text() and "MVSEP_API_TOKEN" not in exc.user_text()
            assert "mvsep-mcp login" not in exc.user_text()
        except TooBusy:
            busy += 1
    assert len(asked) == refused == policy.HEADER_TOKENS_PER_USER and busy == 3000 - refused
    for _ in range(100):  # a refused token again: remembered, MVSep not asked
        with pytest.raises(TokenRefused):
            await tokens.check("mallory", "bad-token-000000")
    assert len(asked) == policy.HEADER_TOKENS_PER_USER
    await tokens.check("alice", "good-token")  # another principal is not held up
    await tokens.check("alice", "good-token")
    assert asked.count("good-token") == 1


async def test_the_same_new_token_sent_at_once_is_asked_about_once() -> None:
    asked: list[str] = []

    async def slow(token: str) -> bool:
        asked.append(token)
        await anyio.sleep(0.1)
        return True

    tokens = HeaderTokens(slow)
    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(tokens.check, "alice", "good-token")
    assert asked == ["good-token"]
