"""send_create: every answer of ``/separation/create`` sorted into what the runner does next; build_request per kind."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.jobs import JobRecord, JobSpec, JobState
from mvsep_mcp.jobs.creating import TOKEN_REFUSED, build_request, send_create
from mvsep_mcp.mvsep import errors
from mvsep_mcp.mvsep.errors import MISSING_TOKEN_HINT

from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import input_file, make_spec

REFUSED = (
    "MVSep refused the job: {}. Check the model (premium-only models need premium) and its options with the "
    "catalogue, then submit again."
)


def record_for(spec: JobSpec) -> JobRecord:
    return JobRecord(id="job1", spec=spec, state=JobState.SUBMITTING, created_at=0, updated_at=0)


@pytest.fixture
def job(tmp_path: Path) -> JobRecord:
    return record_for(make_spec(tmp_path, input_file(tmp_path)))


# --- build_request --------------------------------------------------------------------------------------------------

def test_request_for_a_file(job: JobRecord) -> None:
    request = build_request(job)
    assert request.input_kind == "file" and request.audiofile == Path(job.spec.input_path or "")
    assert (request.sep_type, request.options, request.output_format, request.is_demo) == (
        40, {"add_opt1": "0"}, 2, False)


def test_request_for_a_url(tmp_path: Path) -> None:
    spec = JobSpec(account_key="a", base_url="http://h/api", kind="url", url="https://example.com/x.mp3",
                   remote_type="dropbox", sep_type=40, output_root=str(tmp_path), is_demo=True)
    request = build_request(record_for(spec))
    assert (request.input_kind, request.url, request.remote_type, request.is_demo) == (
        "url", "https://example.com/x.mp3", "dropbox", True)
    plain = build_request(record_for(spec.model_copy(update={"remote_type": None})))
    assert plain.remote_type is None and plain.form_fields()["remote_type"] == "direct"


def test_request_for_matchering(tmp_path: Path) -> None:
    spec = JobSpec(account_key="a", base_url="http://h/api", kind="matchering", target_path="/m/mix.wav",
                   reference_path="/m/ref.wav", sep_type=68, output_root=str(tmp_path))
    request = build_request(record_for(spec))
    assert request.input_kind == "matchering"
    assert request.upload_files() == [("target_audiofile", Path("/m/mix.wav")),
                                      ("reference_audiofile", Path("/m/ref.wav"))]


def test_request_for_a_text_model(tmp_path: Path) -> None:
    spec = JobSpec(account_key="a", base_url="http://h/api", kind="text", sep_type=104,
                   options={"add_opt2": "Hello"}, output_root=str(tmp_path))
    request = build_request(record_for(spec))
    assert request.input_kind == "none" and request.upload_files() == []
    assert request.form_fields()["add_opt2"] == "Hello"


# --- send_create ----------------------------------------------------------------------------------------------------

async def test_created_records_the_hash(job: JobRecord) -> None:
    fake = FakeMVSep()
    outcome = await send_create(fake, job)
    assert outcome.kind == "created" and outcome.error is None
    [made] = fake.jobs
    assert outcome.fields == {"state": JobState.ACTIVE, "hash": made, "mvsep_status": None, "message": None}


async def test_created_url_job_records_the_remote_hash(tmp_path: Path) -> None:
    spec = JobSpec(account_key="a", base_url="http://h/api", kind="url", url="https://example.com/x.mp3",
                   sep_type=40, output_root=str(tmp_path))
    fake = FakeMVSep()
    outcome = await send_create(fake, record_for(spec))
    assert outcome.kind == "created" and set(outcome.fields) == {"state", "remote_hash", "mvsep_status", "message"}
    assert outcome.fields["remote_hash"] in fake.jobs


def ambiguous() -> errors.AmbiguousCreateError:
    return errors.AmbiguousCreateError("no answer", sep_type=40, file_name="My Song.flac", sent_at=datetime.now(UTC))


@pytest.mark.parametrize(("error", "kind", "fields"), [
    (ambiguous(), "uncertain", {}),
    (errors.InvalidResponseError("not JSON", status_code=200), "uncertain", {}),
    (errors.AuthenticationError("invalid token", status_code=401), "failed",
     {"error": TOKEN_REFUSED, "message": "invalid token"}),
    (errors.MissingTokenError(), "failed", {"error": MISSING_TOKEN_HINT}),
    (errors.RateLimitError("slow down", status_code=429, retry_after=7.0), "retry",
     {"retry_after": 7.0, "message": "slow down"}),
    (errors.RateLimitError("slow down", status_code=429), "retry", {"retry_after": None}),
    (errors.ConnectError("refused"), "retry", {}),
    (errors.TimeoutError("read timed out"), "retry", {}),
    (errors.ServerError("Bad gateway", status_code=502), "retry", {}),
    (errors.BadRequestError("You can have only 1 active separation at a time", status_code=400), "limit",
     {"message": "You can have only 1 active separation at a time",
      "error": REFUSED.format("You can have only 1 active separation at a time")}),
    (errors.APIError("Teapot.", status_code=418), "failed", {"message": "Teapot.", "error": REFUSED.format("Teapot")}),
    (PermissionError(13, "Permission denied"), "failed",
     {"error": "Cannot read the input file (Permission denied); check that it exists and is readable, then submit "
               "the job again."}),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None)
async def test_each_answer_is_sorted(job: JobRecord, error: BaseException, kind: str, fields: dict[str, Any]) -> None:
    fake = FakeMVSep()
    fake.create_errors = [error]
    outcome = await send_create(fake, job)
    assert outcome.kind == kind and outcome.fields == {}
    for name, value in fields.items():
        assert getattr(outcome, name) == value, name
    if kind in ("uncertain", "retry"):
        assert outcome.error is None
    assert fake.create_calls == 1


async def test_a_vanished_input_fails_without_calling_mvsep(tmp_path: Path, job: JobRecord) -> None:
    Path(job.spec.input_path or "").unlink()
    fake = FakeMVSep()
    outcome = await send_create(fake, job)
    assert (outcome.kind, outcome.error) == (
        "failed", f"The input file {job.spec.input_path} no longer exists; restore it or submit another file.")
    assert fake.create_calls == 0


async def test_a_vanished_matchering_reference_fails_too(tmp_path: Path) -> None:
    target = input_file(tmp_path)
    spec = JobSpec(account_key="a", base_url="http://h/api", kind="matchering", target_path=str(target),
                   reference_path=str(tmp_path / "gone.wav"), sep_type=68, output_root=str(tmp_path))
    fake = FakeMVSep()
    outcome = await send_create(fake, record_for(spec))
    assert outcome.kind == "failed" and str(tmp_path / "gone.wav") in (outcome.error or "")
    assert fake.create_calls == 0


async def test_an_invalid_request_fails_without_calling_mvsep(tmp_path: Path) -> None:
    spec = JobSpec(account_key="a", base_url="http://h/api", kind="url", url="ftp://example.com/x.mp3",
                   sep_type=40, output_root=str(tmp_path))
    fake = FakeMVSep()
    outcome = await send_create(fake, record_for(spec))
    assert outcome.kind == "failed"
    assert outcome.error == ("The job's request is invalid (Value error, url must be an http:// or https:// link); "
                             "fix it and submit the job again.")
    assert fake.create_calls == 0
