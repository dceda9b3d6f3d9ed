"""Every fault kind on the wire, driven with plain httpx against a running sandbox: status, body, dropped connection,
Host; and the counters a fault suite reads (``state.traffic``, ``rule.fired``)."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from mvsep_mcp_testbench.sandbox import (
    SANDBOX_FREE_TOKEN,
    SANDBOX_PREMIUM_TOKEN,
    FaultRule,
    SandboxServer,
    SandboxState,
)
from mvsep_mcp_testbench.sandbox.fault_wire import PHP_WARNING, WRONG_BODY_HTML, WRONG_BODY_JSON

from tests.sandbox.conftest import POLL_LIMIT_S, POLL_S, create, poll

PREMIUM = SANDBOX_PREMIUM_TOKEN


def new_job(api: httpx.Client, song: Path, token: str = PREMIUM) -> str:
    answer = create(api, token, song)
    assert answer.status_code == 200, answer.text
    job_hash: str = answer.json()["data"]["hash"]
    return job_hash


def done_job(api: httpx.Client, song: Path) -> tuple[str, dict[str, Any]]:
    job_hash = new_job(api, song)
    body, _ = poll(api, job_hash)
    assert body["status"] == "done"
    return job_hash, body


def read_until_dropped(url: str, headers: dict[str, str] | None = None) -> tuple[httpx.Response, bytes, Exception]:
    """Stream a download; the response, the bytes that arrived and the transport error that ended it."""
    got = bytearray()
    with httpx.Client(trust_env=False, timeout=30) as client, client.stream("GET", url, headers=headers) as response:
        try:
            for chunk in response.iter_raw():
                got += chunk
        except httpx.TransportError as exc:
            return response, bytes(got), exc
    raise AssertionError(f"the download of {url} was not dropped ({len(got)} bytes arrived)")


# --- error answers --------------------------------------------------------------------------------------------------


def test_5xx_html_then_the_real_answer(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    job_hash = new_job(api, song)
    (rule,) = sandbox.state.inject("get:status=502:count=2")
    answers = [api.get("/separation/get", params={"hash": job_hash}) for _ in range(3)]
    assert [a.status_code for a in answers] == [502, 502, 200]
    assert answers[0].headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in answers[0].text and "nginx" in answers[0].text
    assert answers[2].json()["success"] is True
    assert rule.fired == 2 and rule.exhausted


def test_5xx_json_body(api: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.state.inject("algorithms:status=500:body=json")
    answer = api.get("/app/algorithms")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.content == b'{"message":"Server Error"}'
    sandbox.state.inject("algorithms:status=503:body=json")
    assert api.get("/app/algorithms").json() == {"message": "Service Unavailable"}


def test_503_html_is_apaches_maintenance_page(api: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.state.faults.append(FaultRule("/api/app/user", kind="status", status=503))
    answer = api.get("/app/user", params={"api_token": PREMIUM})
    assert answer.status_code == 503 and "Service Temporarily Unavailable" in answer.text


def test_5xx_before_the_create_creates_nothing_but_handled_creates(api: httpx.Client, sandbox: SandboxServer,
                                                                   song: Path) -> None:
    state = sandbox.state
    state.inject("create:status=502")
    assert create(api, PREMIUM, song).status_code == 502
    assert state.traffic.creates(PREMIUM) == 0 and state.jobs_of(PREMIUM) == []
    credits = state.accounts.get(PREMIUM).premium_minutes  # type: ignore[union-attr]
    (rule,) = state.inject("create:status=502:handled")
    answer = create(api, PREMIUM, song)
    assert answer.status_code == 502 and "502 Bad Gateway" in answer.text
    assert rule.fired == 1 and state.traffic.creates(PREMIUM) == 1 and len(state.jobs_of(PREMIUM)) == 1
    assert state.accounts.get(PREMIUM).premium_minutes < credits  # type: ignore[union-attr]  # charged
    (record,) = state.traffic.records("/api/separation/create", job_hash=state.jobs_of(PREMIUM)[0].hash)
    assert record.status == 502 and record.faults == ["status"]


def test_429_with_and_without_retry_after(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    sandbox.state.inject("create:rate_limit=7,create:rate_limit=none")
    first = create(api, PREMIUM, song)
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert first.content == b'{"message":"Too Many Attempts."}' and first.headers["X-RateLimit-Remaining"] == "0"
    second = create(api, PREMIUM, song)
    assert second.status_code == 429 and "Retry-After" not in second.headers
    assert sandbox.state.traffic.creates() == 0
    assert create(api, PREMIUM, song).status_code == 200


def test_slow_answer_and_slow_handled_create(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    state = sandbox.state
    (rule,) = state.inject("user:slow=2")
    with httpx.Client(base_url=sandbox.base_url, timeout=0.3, trust_env=False) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.get("/app/user", params={"api_token": PREMIUM})
        assert rule.fired == 1
        assert impatient.get("/app/user", params={"api_token": PREMIUM}).status_code == 200
        (late,) = state.inject("create:slow=2:handled")
        with pytest.raises(httpx.ReadTimeout):
            create(impatient, PREMIUM, song)
    deadline = time.monotonic() + POLL_LIMIT_S  # the create may still be finishing when the client gives up
    while late.fired == 0 and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert late.fired == 1 and state.traffic.creates(PREMIUM) == 1  # the create happened; only its answer was late


# --- dropped connections --------------------------------------------------------------------------------------------


def test_reset_mid_upload(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    state = sandbox.state
    (rule,) = state.inject("create:reset_mid=0.25")
    upload = os.urandom(3_000_000)
    with pytest.raises(httpx.TransportError):
        api.post("/separation/create", data={"api_token": PREMIUM, "sep_type": "20"},
                 files={"audiofile": ("big.mp3", upload)})
    (record,) = state.traffic.records("/api/separation/create")
    assert rule.fired == 1 and record.dropped and record.status is None and record.bytes_out == 0
    assert len(upload) * 0.25 <= record.bytes_in < len(upload)
    assert state.traffic.creates() == 0 and state.jobs_of(PREMIUM) == []
    assert create(api, PREMIUM, song).status_code == 200  # the rule is spent


def test_reset_mid_download_then_range_resume(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    state = sandbox.state
    _, body = done_job(api, song)
    url = body["data"]["files"][0]["url"]
    whole = httpx.get(url, trust_env=False).content
    (rule,) = state.inject("download:reset_mid=0.5:count=2")
    response, got, error = read_until_dropped(url)
    assert isinstance(error, httpx.RemoteProtocolError)
    assert response.status_code == 200 and int(response.headers["content-length"]) == len(whole)
    assert response.headers["accept-ranges"] == "bytes"
    assert got == whole[: len(whole) // 2]
    # the retry asks for the rest; it is dropped halfway too, and the next one completes
    response, more, _ = read_until_dropped(url, {"Range": f"bytes={len(got)}-"})
    rest = len(whole) - len(got)
    assert response.status_code == 206 and response.headers["content-range"] == \
        f"bytes {len(got)}-{len(whole) - 1}/{len(whole)}"
    assert more == whole[len(got): len(got) + rest // 2]
    last = httpx.get(url, headers={"Range": f"bytes={len(got) + len(more)}-"}, trust_env=False)
    assert last.status_code == 206 and got + more + last.content == whole
    assert rule.fired == 2
    drops = [r for r in state.traffic.records("/storage/processed/*") if r.dropped]
    assert [r.bytes_out for r in drops] == [len(got), len(more)]


def test_drop_after_the_create_acted(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    state = sandbox.state
    state.inject("create:drop")
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        create(api, PREMIUM, song)
    (job,) = state.jobs_of(PREMIUM)
    (record,) = state.traffic.records("/api/separation/create")
    assert record.dropped and record.status is None and record.job_hash == job.hash
    history = api.get("/app/separation_history", params={"api_token": PREMIUM}).json()
    assert [item["hash"] for item in history["data"]] == [job.hash]


# --- broken JSON ----------------------------------------------------------------------------------------------------


def test_truncated_json(api: httpx.Client, sandbox: SandboxServer) -> None:
    params = {"api_token": PREMIUM}
    sandbox.state.inject("user:truncated=0.5")
    cut = api.get("/app/user", params=params)
    whole = api.get("/app/user", params=params).content
    assert cut.status_code == 200 and int(cut.headers["content-length"]) == len(cut.content)
    assert cut.content == whole[: len(whole) // 2]
    with pytest.raises(ValueError):
        json.loads(cut.content)


def test_malformed_json_is_the_answer_after_a_php_warning(api: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.state.inject("user:malformed")
    broken = api.get("/app/user", params={"api_token": PREMIUM})
    whole = api.get("/app/user", params={"api_token": PREMIUM}).content
    assert broken.status_code == 200 and broken.content == PHP_WARNING + whole
    with pytest.raises(ValueError):
        json.loads(broken.content)


# --- job faults -----------------------------------------------------------------------------------------------------


def test_unknown_status_for_n_polls(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    job_hash = new_job(api, song)
    (rule,) = sandbox.state.inject("get:unknown_status=queued_v2:count=3")
    bodies = [api.get("/separation/get", params={"hash": job_hash}).json() for _ in range(4)]
    assert [b["status"] for b in bodies[:3]] == ["queued_v2"] * 3
    assert bodies[3]["status"] in ("waiting", "processing", "done")
    assert all(b["success"] is True and isinstance(b["data"], dict) for b in bodies)
    assert rule.fired == 3


def test_fail_job_at_create_by_job_number(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    (rule,) = sandbox.state.inject("create:fail_job=Out of memory:job=2")
    first, second = new_job(api, song), new_job(api, song)
    assert poll(api, second)[0] == {"success": True, "status": "failed", "data": {"message": "Out of memory"}}
    assert poll(api, first)[0]["status"] == "done"
    assert rule.fired == 1


def test_fail_job_when_polled(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    job_hash = new_job(api, song)
    (rule,) = sandbox.state.inject(f"get:fail_job:hash={job_hash}")
    body, seen = poll(api, job_hash)
    assert body["status"] == "failed"
    assert body["data"]["message"] == "Error while processing the file: out of GPU memory"
    assert seen[-1] == "failed" and "done" not in seen and rule.fired == 1


def test_fail_job_spares_finished_jobs(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    job_hash, _ = done_job(api, song)
    (rule,) = sandbox.state.inject("get:fail_job:count=all")
    assert api.get("/separation/get", params={"hash": job_hash}).json()["status"] == "done"
    assert rule.fired == 0


@pytest.mark.parametrize(("spec", "status", "body"), [
    ("not_found", 404, {"success": False, "message": "Separation not found"}),
    ("not_found=410", 410, {"success": False, "message": "Separation not found"}),
    ("not_found=false", 200, {"success": False, "status": "not_found", "data": {"message": "Separation not found"}}),
    ("not_found=true", 200, {"success": True, "status": "not_found", "data": {"message": "Separation not found"}}),
])
def test_not_found_for_a_known_job(api: httpx.Client, sandbox: SandboxServer, song: Path, spec: str, status: int,
                                   body: dict[str, Any]) -> None:
    first, second = new_job(api, song), new_job(api, song)
    (rule,) = sandbox.state.inject(f"get:{spec}:job=1:count=all")
    for _ in range(3):
        answer = api.get("/separation/get", params={"hash": first})
        assert answer.status_code == status and answer.json() == body
    assert api.get("/separation/get", params={"hash": second}).json()["status"] != "not_found"
    assert rule.fired == 3
    assert len(sandbox.state.traffic.records("/api/separation/get", job_hash=first)) == 3


def test_not_found_as_an_html_page(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    job_hash = new_job(api, song)
    sandbox.state.inject(f"get:not_found:body=html:hash={job_hash}")
    answer = api.get("/separation/get", params={"hash": job_hash})
    assert answer.status_code == 404 and "<title>404 Not Found</title>" in answer.text


# --- file faults ----------------------------------------------------------------------------------------------------


def test_vanished_file(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    _, body = done_job(api, song)
    files = {f["type"]: f["url"] for f in body["data"]["files"]}
    (rule,) = sandbox.state.inject("files:vanish:stem=bass:count=all")
    gone = httpx.get(files["Bass"], trust_env=False)
    assert gone.status_code == 404 and gone.content == b"Not Found"
    assert httpx.get(files["Vocals"], trust_env=False).status_code == 200
    assert httpx.get(files["Bass"], trust_env=False).status_code == 404 and rule.fired == 2


@pytest.mark.parametrize(("kind", "content", "content_type"), [
    ("json", WRONG_BODY_JSON, "application/json"),
    ("html", WRONG_BODY_HTML, "text/html; charset=utf-8"),
])
def test_wrong_body_with_200(api: httpx.Client, sandbox: SandboxServer, song: Path, kind: str, content: bytes,
                             content_type: str) -> None:
    _, body = done_job(api, song)
    sandbox.state.inject(f"files:wrong_body={kind}")
    answer = httpx.get(body["data"]["files"][0]["url"], trust_env=False)
    assert answer.status_code == 200 and answer.content == content
    assert answer.headers["content-type"] == content_type
    assert len(WRONG_BODY_JSON) == 30


def test_foreign_host_file_urls(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    state = sandbox.state
    port = sandbox.port
    job_hash, _ = done_job(api, song)
    (rule,) = state.inject("files:foreign_host:stem=Vocals")
    body = api.get("/separation/get", params={"hash": job_hash}).json()
    urls = {f["type"]: httpx.URL(f["url"]) for f in body["data"]["files"]}
    assert urls["Vocals"].host == "localhost" and urls["Vocals"].port == port
    assert {u.host for t, u in urls.items() if t != "Vocals"} == {"127.0.0.1"}
    assert rule.fired == 1
    fetched = httpx.get(str(urls["Vocals"]), trust_env=False)
    assert fetched.status_code == 200 and fetched.headers["content-type"].startswith("audio/")
    assert state.traffic.hosts()[f"localhost:{port}"] == 1
    (record,) = state.traffic.records(host=f"localhost:{port}")
    assert record.path == urls["Vocals"].path and record.status == 200 and record.bytes_out == len(fetched.content)
    # the next answer is back on the API's host (the rule fired once)
    again = api.get("/separation/get", params={"hash": job_hash}).json()
    assert {httpx.URL(f["url"]).host for f in again["data"]["files"]} == {"127.0.0.1"}


def test_foreign_host_only_on_done_answers(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    job_hash = new_job(api, song)
    (rule,) = sandbox.state.inject("files:foreign_host=localhost")
    body, _ = poll(api, job_hash)
    assert {httpx.URL(f["url"]).host for f in body["data"]["files"]} == {"localhost"}
    assert rule.fired == 1


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
def test_foreign_host_ipv6(tmp_path: Path, song: Path) -> None:
    from mvsep_mcp_testbench.sandbox import JobTiming

    state = SandboxState(storage_dir=tmp_path / "v6", timing=JobTiming.fast())
    with SandboxServer(state, faults="files:foreign_host=[::1]:count=all", also_ipv6=True) as server, \
            httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as api:
        _, body = done_job(api, song)
        url = body["data"]["files"][0]["url"]
        assert url.startswith(f"http://[::1]:{server.port}/storage/processed/")
        assert httpx.get(url, trust_env=False).status_code == 200
        assert state.traffic.hosts()[f"[::1]:{server.port}"] == 1
    state.close()


# --- targeting and counting -----------------------------------------------------------------------------------------


def test_after_method_and_order(api: httpx.Client, sandbox: SandboxServer) -> None:
    state = sandbox.state
    posted, skipped = state.inject("/api/app/news:status=500:method=POST,/api/app/news:status=503:after=1")
    codes = [api.get("/app/news").status_code for _ in range(3)]
    assert codes == [200, 503, 200]
    assert skipped.passed == 1 and skipped.fired == 1 and posted.fired == 0
    assert state.faults.fired() == 1 and state.faults.fired("status") == 1


def test_stem_and_job_filters_on_downloads(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    _, first = done_job(api, song)
    _, second = done_job(api, song)
    (rule,) = sandbox.state.inject("files:status=502:job=2:stem=drums:count=all")
    codes = {(n, f["type"]): httpx.get(f["url"], trust_env=False).status_code
             for n, body in ((1, first), (2, second)) for f in body["data"]["files"]}
    assert {k for k, code in codes.items() if code == 502} == {(2, "Drums")}
    assert rule.fired == 1


def test_traffic_log_and_counters(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    state = sandbox.state
    job_hash, body = done_job(api, song)
    assert create(api, SANDBOX_FREE_TOKEN, song).status_code == 200
    file_url = body["data"]["files"][0]["url"]
    served_before = state.traffic.bytes_served
    data = httpx.get(file_url, trust_env=False).content
    assert state.traffic.bytes_served - served_before == len(data)
    assert state.traffic.creates(PREMIUM) == 1 and state.traffic.creates(SANDBOX_FREE_TOKEN) == 1
    assert state.traffic.creates() == 2
    (download,) = state.traffic.records("/storage/processed/*")
    assert (download.method, download.status, download.host, download.bytes_out, download.job_hash) == \
        ("GET", 200, f"127.0.0.1:{sandbox.port}", len(data), job_hash)
    (first_create, _) = state.traffic.records("/api/separation/create", method="POST")
    assert first_create.job_hash == job_hash and first_create.bytes_in > song.stat().st_size
    assert state.traffic.hosts() == {f"127.0.0.1:{sandbox.port}": state.traffic.requests}
    logged = repr(list(state.traffic.log)) + json.dumps(state.traffic.summary())
    assert PREMIUM not in logged and SANDBOX_FREE_TOKEN not in logged and "api_token" not in logged


def test_control_routes(api: httpx.Client, sandbox: SandboxServer, song: Path) -> None:
    root = sandbox.root_url
    with httpx.Client(base_url=root, trust_env=False) as control:
        added = control.post("/_sandbox/faults", content="get:status=502:count=all,files:vanish")
        assert added.status_code == 200
        assert [r["rule"] for r in added.json()] == ["get:status=502:count=all", "files:vanish"]
        bad = control.post("/_sandbox/faults", content="get:explode")
        assert bad.status_code == 400 and "unknown fault 'explode'" in bad.json()["error"]
        assert create(api, PREMIUM, song).status_code == 200
        assert api.get("/separation/get", params={"hash": "x"}).status_code == 502
        stats = control.get("/_sandbox/stats").json()
        assert stats["faults"][0] == {"rule": "get:status=502:count=all", "kind": "status", "fired": 1,
                                      "remaining": None}
        assert stats["creates_by_account"] == {"premium@sandbox.mvsep.test": 1}
        assert stats["requests"] == 2 and stats["requests_by_host"] == {f"127.0.0.1:{sandbox.port}": 2}
        log = control.get("/_sandbox/requests", params={"limit": 1}).json()
        assert [(r["method"], r["path"], r["status"], r["faults"]) for r in log] == \
            [("GET", "/api/separation/get", 502, ["status"])]
        assert control.delete("/_sandbox/faults").json() == []
        assert PREMIUM not in control.get("/_sandbox/stats").text


def test_server_takes_a_fault_text(tmp_path: Path) -> None:
    state = SandboxState(storage_dir=tmp_path / "s")
    with SandboxServer(state, faults="user:status=500:body=json") as server:
        answer = httpx.get(f"{server.base_url}/app/user", params={"api_token": PREMIUM}, trust_env=False)
        assert answer.status_code == 500 and answer.json() == {"message": "Server Error"}
    state.close()
