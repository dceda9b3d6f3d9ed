"""The suite's oracles themselves: each check finds what it must (a suite whose checks never fire proves nothing)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from mcp_types import CallToolResult, TextContent
from mvsep_mcp.jobs import JobSpec, JobState
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.media.files import temp_path_for
from mvsep_mcp_testbench.faults import checks
from mvsep_mcp_testbench.sandbox.samples import make_audio


def job(state: JobState, job_hash: str, finished_at: float | None = None) -> JobRecord:
    spec = JobSpec(account_key="a", base_url="http://127.0.0.1:1/api", sep_type=27, output_root="/tmp/x")
    return JobRecord(id=f"j-{job_hash}", spec=spec, state=state, hash=job_hash, created_at=0.0, updated_at=0.0,
                     finished_at=finished_at)


def test_not_audio_reads_the_files_back(tmp_path: Path) -> None:
    song = make_audio(tmp_path, "flac", name="ok", seconds=0.5)
    page = tmp_path / "Song (Vocals).flac"
    page.write_bytes(b'{"message":"Unauthenticated."}')
    junk = tmp_path / "Song (Bass).flac"
    junk.write_bytes(b"\x00" * 400)
    found = checks.not_audio([song, page, junk, tmp_path / "gone.flac"])
    assert len(found) == 3 and "text" in found[0] and "missing" in found[2]


@pytest.mark.parametrize("fmt", ["flac", "wav", "mp3", "m4a"])
def test_not_audio_decodes_each_stem_to_its_end(tmp_path: Path, fmt: str) -> None:
    whole = make_audio(tmp_path, fmt, name="whole", seconds=3.0)
    assert checks.not_audio([whole]) == []
    if fmt == "m4a":
        return  # AAC: only its header is read (libsndfile cannot decode it); an Ogg cut between pages looks whole
    cut = tmp_path / f"cut.{fmt}"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.8)])  # the header still promises the whole length
    [found] = checks.not_audio([cut])
    assert found.startswith(f"cut.{fmt}: ") and ("decode" in found or "mutagen" in found), found


def test_stray_files_finds_temporary_and_unreported_files(tmp_path: Path) -> None:
    stem = tmp_path / "Song" / "Song (Vocals).flac"
    stem.parent.mkdir()
    stem.write_bytes(b"x")
    temp_path_for(stem, "j1/0/Vocals").write_bytes(b"x")
    (tmp_path / "Song" / "Song (Vocals) (2).flac").write_bytes(b"x")
    found = checks.stray_files(tmp_path, [stem])
    assert len(found) == 2 and found[0].startswith("temporary file left: Song/.Song (Vocals).flac.")
    assert found[1] == "file no job reports: Song/Song (Vocals) (2).flac"
    assert checks.stray_files(tmp_path / "absent", []) == []


def test_late_polls_count_only_polls_after_every_job_on_the_hash_ended() -> None:
    now = time.time()
    log = [SimpleNamespace(path=checks.STATUS_PATH, job_hash=h, started=at)
           for h, at in (("h1", now - 1), ("h1", now + 1), ("h1", now + 2), ("h2", now + 5), ("h3", now + 5))]
    jobs = [job(JobState.EXPIRED, "h1", now), job(JobState.COMPLETED, "h2", now), job(JobState.ACTIVE, "h2"),
            job(JobState.COMPLETED, "h3", now + 10)]
    assert checks.late_polls(log, jobs) == ["2 poll(s) of h1… after the job ended"]


def test_token_leaks_in_texts_and_files(tmp_path: Path) -> None:
    token = "SecretToken0123456789"
    (tmp_path / "journal.sqlite3").write_bytes(b"...." + token.encode() + b"....")
    allowed = tmp_path / "credentials.json"
    allowed.write_text(json.dumps({"token": token}))
    found = checks.token_leaks(token, {"the log": f"GET /x?api_token={token}", "a result": "fine"}, [tmp_path],
                               allowed_files=[allowed])
    assert found == ["token in the log", "token in the file journal.sqlite3"]
    assert checks.token_leaks(None, {"x": token}) == []


def result(text: str, error: bool = True) -> Any:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=error)


def test_crashes_are_bare_errors_tracebacks_or_raw_validation_text() -> None:
    found = checks.crashes([
        ("a", result("Error executing tool a")),
        ("b", result("Error executing tool b: Error executing tool c")),
        ("c", result("Error executing tool c: The output folder /x is a file; choose a folder.")),
        ("d", result("Traceback (most recent call last):\n  File ...", error=False)),
        ("e", result("Error executing tool e: 1 validation error for eArguments")),
        ("f", result("Error executing tool f: The argument 'limit' was 0 (a number); it takes a whole number from "
                     "1 to 50.")),
        ("g", result("x\n  Input should be a valid list [type=list_type, input_value=3, input_type=int]")),
        ("h", result("For further information visit https://errors.pydantic.dev/2.14/v/missing")),
    ])
    assert [f.split(":")[0] for f in found] == ["a", "b", "d", "e", "g", "h"]


def test_a_missing_argument_is_refused_by_name() -> None:
    schema = {"properties": {"inputs": {}, "model": {}}, "required": ["inputs", "model"]}
    named = result("Error executing tool s: The argument 'model' is missing; it takes a text.")
    assert checks.unnamed_arguments("s", schema, {"inputs": []}, named) == []
    assert checks.unnamed_arguments("s", schema, {}, named) == [
        "s: the refusal does not name the missing 'inputs': \"Error executing tool s: The argument 'model' is "
        "missing; it takes a text.\""]
    assert checks.unnamed_arguments("s", schema, {"inputs": []}, result("done", error=False)) == [
        "s ran without its required model"]
    invented = result("Error executing tool s: The argument 'speed' was 2 (a number); it takes a text.")
    assert checks.unnamed_arguments("s", schema, {"inputs": [], "model": "x"}, invented) == [
        "s: a refusal names 'speed', which is no argument of it"]


def test_foreign_requests_by_host_header() -> None:
    hosts = {"127.0.0.1:8765": 40, "localhost:8765": 2, "[::1]:8765": 0}
    assert checks.foreign_requests(hosts, {"127.0.0.1:8765"}) == ["2 request(s) to localhost:8765"]
