"""The bookkeeping of fair shares (hosted.limits), on a clock of the test's: calls per minute, each principal's
sessions, MVSep's verdicts on tokens, distinct tokens per principal."""

from __future__ import annotations

import pytest
from mvsep_mcp.hosted.limits import DistinctTokens, RateLimiter, SessionBook, Verdicts, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_calls_per_minute_with_the_wait_named() -> None:
    clock = Clock()
    limiter = RateLimiter(60, max_keys=10, clock=clock)
    assert all(limiter.take("alice") == 0 for _ in range(60))  # a minute's calls at once
    wait = limiter.take("alice")
    assert 0.9 < wait <= 1.0 and retry_after_header(wait) == "1"
    assert limiter.take("bob") == 0  # another principal's budget is their own
    clock.now += 10
    assert sum(limiter.take("alice") == 0 for _ in range(20)) == 10  # refilled evenly, one a second


def test_the_rate_limiter_remembers_a_bounded_number_of_principals() -> None:
    clock = Clock()
    limiter = RateLimiter(10, max_keys=100, clock=clock)
    for n in range(1000):
        limiter.take(f"user-{n}")
    assert len(limiter._buckets) <= 100


def test_a_principal_at_its_cap_closes_its_own_idlest_session_first() -> None:
    clock = Clock()
    book = SessionBook(per_owner=3, global_cap=None, idle_s=1800, clock=clock)
    for n in range(3):
        assert not book.admit("mallory").close
        book.opened("mallory", f"m{n}", f"ctx-m{n}")
        clock.now += 1
    book.admit("alice")
    book.opened("alice", "a0", "ctx-a0")
    assert book.began("m0")  # m0 busy (a request in flight): m1 is the idlest idle one
    admission = book.admit("mallory")
    assert admission.close == [("m1", "ctx-m1")] and admission.refused is None
    book.opened("mallory", "m3", "ctx-m3")
    assert book.count("mallory") == 3 and book.count("alice") == 1
    for sid in ("m2", "m3"):
        book.began(sid)
    refused = book.admit("mallory")  # all busy: refused, nobody else's session touched
    assert refused.refused == "principal" and refused.retry_after > 0 and not refused.close
    assert book.count("alice") == 1
    book.finished("m2")
    assert book.admit("mallory").close == [("m2", "ctx-m2")]


def test_at_the_global_cap_the_largest_holders_idle_sessions_go_first() -> None:
    clock = Clock()
    book = SessionBook(per_owner=100, global_cap=10, idle_s=1800, clock=clock)
    for n in range(9):
        book.admit("mallory")
        book.opened("mallory", f"m{n}", n)
    book.admit("bob")
    book.opened("bob", "b0", "b")
    for _ in range(50):  # others keep opening sessions: mallory's idle ones make room, never bob's
        admission = book.admit("alice")
        assert admission.refused is None and all(ctx != "b" for _, ctx in admission.close)
        book.opened("alice", f"a{clock.now}", "a")
        clock.now += 1
    assert book.count("bob") == 1 and len(book) <= 10


def test_sessions_idle_past_the_sdks_idle_time_no_longer_count() -> None:
    clock = Clock()
    book = SessionBook(per_owner=2, global_cap=None, idle_s=60, clock=clock)
    for n in range(2):
        book.admit("carol")
        book.opened("carol", f"c{n}", n)
    clock.now += 61
    assert book.count("carol") == 0 and not book.admit("carol").close


def test_a_session_that_never_opened_frees_its_place() -> None:
    book = SessionBook(per_owner=1, global_cap=None, idle_s=None)
    book.admit("dan")
    assert book.admit("dan").refused == "principal"  # one being opened counts
    book.abandoned("dan")
    assert book.admit("dan").refused is None


def test_verdicts_and_distinct_tokens_are_bounded_and_expire() -> None:
    clock = Clock()
    verdicts = Verdicts(300, max_entries=3, clock=clock)
    for n in range(5):
        verdicts.put(f"d{n}", n % 2 == 0)
    assert verdicts.get("d0") is None and verdicts.get("d4") is True and verdicts.get("d3") is False
    clock.now += 301
    assert verdicts.get("d4") is None
    distinct = DistinctTokens(2, 900, max_keys=10, clock=clock)
    assert distinct.admit("eve", "t1") == 0 and distinct.admit("eve", "t2") == 0
    assert distinct.admit("eve", "t1") == 0  # one already sent
    assert distinct.admit("eve", "t3") == pytest.approx(900)
    clock.now += 901
    assert distinct.admit("eve", "t3") == 0
