"""The ``--faults`` text: every kind and option parses to the rule it names, round-trips, and bad text is refused."""

from __future__ import annotations

import pytest
from mvsep_mcp import cli
from mvsep_mcp_testbench.sandbox import FaultRule, FaultSpecError, parse_faults
from mvsep_mcp_testbench.sandbox.fault_spec import FILES_PATTERN, format_rule, parse_rule
from mvsep_mcp_testbench.sandbox.faults import DEFAULT_FAIL_MESSAGE, FaultList, RequestFacts


@pytest.mark.parametrize(("text", "expected"), [
    ("get:status=502:count=2", FaultRule("/api/separation/get", "status", status=502, count=2)),
    ("create:status=500:body=json:handled",
     FaultRule("/api/separation/create", "status", status=500, body="json", handled=True)),
    ("api:status", FaultRule("/api/*", "status", status=503)),
    ("create:rate_limit=7", FaultRule("/api/separation/create", "rate_limit", retry_after=7)),
    ("create:rate_limit=none:count=all", FaultRule("/api/separation/create", "rate_limit", retry_after=None,
                                                   count=None)),
    ("user:slow=2.5", FaultRule("/api/app/user", "slow", delay_s=2.5)),
    ("create:reset_mid=0.3", FaultRule("/api/separation/create", "reset_mid", fraction=0.3)),
    ("download:reset_mid=0.5:count=all:side=response",
     FaultRule(FILES_PATTERN, "reset_mid", fraction=0.5, count=None, side="response")),
    ("create:drop", FaultRule("/api/separation/create", "drop")),
    ("get:truncated", FaultRule("/api/separation/get", "truncated", fraction=0.5)),
    ("algorithms:malformed:after=2", FaultRule("/api/app/algorithms", "malformed", after=2)),
    ("get:unknown_status=queued_v2:count=3", FaultRule("/api/separation/get", "unknown_status", text="queued_v2",
                                                       count=3)),
    ("get:unknown_status", FaultRule("/api/separation/get", "unknown_status", text="paused")),
    ("create:fail_job=Out of memory%3A try later:job=2",
     FaultRule("/api/separation/create", "fail_job", text="Out of memory: try later", job_number=2)),
    ("create:fail_job", FaultRule("/api/separation/create", "fail_job", text=DEFAULT_FAIL_MESSAGE)),
    ("get:not_found:job=1:count=all", FaultRule("/api/separation/get", "not_found", status=404, job_number=1,
                                                count=None)),
    ("get:not_found=410:body=html", FaultRule("/api/separation/get", "not_found", status=410, body="html")),
    ("get:not_found=false", FaultRule("/api/separation/get", "not_found", status=200, body="false")),
    ("get:not_found=true:hash=abc.mp3", FaultRule("/api/separation/get", "not_found", status=200, body="true",
                                                  job_hash="abc.mp3")),
    ("files:vanish:stem=bass", FaultRule(FILES_PATTERN, "vanish", stem="bass")),
    ("files:wrong_body=html", FaultRule(FILES_PATTERN, "wrong_body", body="html")),
    ("files:wrong_body", FaultRule(FILES_PATTERN, "wrong_body", body="json")),
    ("files:foreign_host", FaultRule(FILES_PATTERN, "foreign_host")),
    ("get:foreign_host=[::1]:count=all", FaultRule(FILES_PATTERN, "foreign_host", host="[::1]", count=None)),
    ("/storage/processed/*_bass.*:foreign_host=localhost", FaultRule("/storage/processed/*_bass.*", "foreign_host",
                                                                     host="localhost")),
    ("/api/app/news:status=502:method=post", FaultRule("/api/app/news", "status", status=502, method="POST")),
    (" input : vanish ", FaultRule("/storage/temp/*", "vanish")),
])
def test_parse(text: str, expected: FaultRule) -> None:
    assert parse_rule(text) == expected
    assert parse_rule(format_rule(expected)) == expected


def test_a_list_of_rules_keeps_its_order() -> None:
    rules = parse_faults("get:status=502:count=2, download:reset_mid=0.5 ,files:foreign_host,")
    assert [r.kind for r in rules] == ["status", "reset_mid", "foreign_host"]
    assert parse_faults("") == [] and parse_faults(None) == []


@pytest.mark.parametrize(("text", "message"), [
    ("get", "TARGET:KIND"),
    ("get:explode", "unknown fault 'explode'"),
    ("nowhere:status", "unknown target 'nowhere'"),
    ("get:status=abc", "status must be a whole number"),
    ("get:status=99", "HTTP status code"),
    ("get:status:count=-1", "must not be negative"),
    ("get:status:colour=red", "unknown option 'colour'"),
    ("get:status:count", "needs a value"),
    ("get:truncated=1.5", "between 0 and 1"),
    ("get:drop=3", "drop takes no value"),
    ("get:malformed:handled", "handled applies to"),
    ("files:wrong_body=xml", "wrong_body is one of"),
    ("get:status:body=xml", "body of a status fault"),
    ("create:foreign_host", "foreign_host moves the file URLs"),
    ("create:reset_mid:side=sideways", "side is one of"),
])
def test_bad_text_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        parse_faults(text)


def test_fire_counts_after_and_count() -> None:
    rule = FaultRule("/x", "status", count=2, after=1)
    faults = FaultList([rule])
    facts = RequestFacts("GET", "/x")
    assert faults.candidates(RequestFacts("GET", "/y")) == []
    assert [faults.fire(rule) for _ in range(4)] == [False, True, True, False]
    assert rule.fired == 2 and rule.passed == 1 and rule.exhausted and faults.candidates(facts) == []


def test_cli_refuses_a_bad_fault_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sandbox", "--faults", "get:explode"]) == 2
    assert "unknown fault 'explode'" in capsys.readouterr().err


def test_cli_reads_the_environment(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MVSEP_SANDBOX_FAULTS", "nowhere:status")
    assert cli.main(["sandbox"]) == 2
    assert "unknown target 'nowhere'" in capsys.readouterr().err
