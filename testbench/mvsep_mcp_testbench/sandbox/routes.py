"""Starlette routes of the MVSep-compatible sandbox: thin translations of HTTP into ``SandboxState`` calls."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from mvsep_mcp_testbench.sandbox import views
from mvsep_mcp_testbench.sandbox.control import control_routes
from mvsep_mcp_testbench.sandbox.fault_wire import FILE_NOT_FOUND_BODY
from mvsep_mcp_testbench.sandbox.middleware import PhpJSONResponse, SandboxMiddleware
from mvsep_mcp_testbench.sandbox.mvsep_names import date_text, slugify
from mvsep_mcp_testbench.sandbox.quality_routes import quality_routes
from mvsep_mcp_testbench.sandbox.remote import RemoteFetchError, check_loopback_url, fetch_to_file
from mvsep_mcp_testbench.sandbox.state import CreateError, SandboxState

PAGE_DEFAULT, PAGE_MAX = 10, 20


def _json(body: Any, status: int = 200) -> Response:
    return PhpJSONResponse(body, status_code=status)


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _page(request: Request) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        try:
            return max(0, int(request.query_params.get(name, default)))
        except ValueError:
            return default

    return number("start", 0), min(PAGE_MAX, number("limit", PAGE_DEFAULT) or PAGE_DEFAULT)


def _text_fields(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def _upload(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and (value.filename or value.size) else None


async def _stage(state: SandboxState, upload: UploadFile, limit: int) -> Path:
    suffix = Path(upload.filename or "audio").suffix.lower()
    staged = state.staging_dir / f"{uuid.uuid4().hex}{suffix}"

    def copy() -> int:
        upload.file.seek(0)
        with staged.open("wb") as out:
            shutil.copyfileobj(upload.file, out)
        return staged.stat().st_size

    size = await anyio.to_thread.run_sync(copy)
    if size > limit:
        staged.unlink(missing_ok=True)
        raise CreateError(400, f"The audiofile may not be greater than {limit // 1024} kilobytes.")
    return staged


def _synthesize_speech(state: SandboxState, prompt: str) -> Path:
    """Input audio for text-only models: a short tone sequence whose length follows the prompt."""
    import numpy as np
    import soundfile as sf

    seconds = min(20.0, max(2.0, len(prompt) / 15.0))
    rate = 44100
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.2 * np.sin(2 * np.pi * (180 + 40 * np.sin(2 * np.pi * 3 * t)) * t)
    staged = state.staging_dir / f"{uuid.uuid4().hex}.wav"
    sf.write(staged, np.stack([wave, wave], axis=1).astype("float32"), rate, subtype="PCM_16")
    return staged


def build_app(state: SandboxState) -> Starlette:
    async def create(request: Request) -> Response:
        try:
            form = await request.form()
        except ClientDisconnect:  # the client went away mid-upload: nothing is created (as on MVSep)
            return Response(status_code=499)
        fields = _text_fields(form)
        try:
            checked = state.check_create(fields.get("api_token"), fields)
            algorithm = checked.algorithm
            limit = state.upload_limit(checked)
            url = (fields.get("url") or "").strip()
            if algorithm.is_matchering:
                target, reference = _upload(form, "target_audiofile"), _upload(form, "reference_audiofile")
                if target is None or reference is None:
                    missing = "target_audiofile" if target is None else "reference_audiofile"
                    raise CreateError(400, f"The {missing.replace('_', ' ')} field is required.")
                staged_target, staged_ref = await _stage(state, target, limit), await _stage(state, reference, limit)
                job = await anyio.to_thread.run_sync(state.create_job, checked, target.filename or "target.wav",
                                                     staged_target, staged_ref)
            elif not algorithm.takes_audio:
                prompt = algorithm.text_prompt(checked.options) or "speech"
                staged = await anyio.to_thread.run_sync(_synthesize_speech, state, prompt)
                name = f"{slugify(prompt)[:40]}.wav"
                job = await anyio.to_thread.run_sync(state.create_job, checked, name, staged)
            elif _upload(form, "audiofile") is not None:
                upload = _upload(form, "audiofile")
                assert upload is not None
                staged = await _stage(state, upload, limit)
                job = await anyio.to_thread.run_sync(state.create_job, checked, upload.filename or "audio.mp3", staged)
            elif url:
                remote_type = (fields.get("remote_type") or "direct").strip()
                if remote_type != "direct":
                    raise CreateError(400, f"Remote type {remote_type} is not available in the sandbox")
                problem = check_loopback_url(url)
                if problem:
                    raise CreateError(400, problem)
                remote = state.add_remote(checked, url)
                _spawn_remote_download(request, state, remote)
                link = f"{_root(request)}/api/separation/get-remote?hash={remote.hash}"
                return _json({"success": True, "data": {"link": link, "hash": remote.hash}})
            else:
                raise CreateError(400, "The audiofile field is required.")
        except CreateError as exc:
            return _json({"success": False, "errors": exc.errors}, exc.status)
        link = f"{_root(request)}/api/separation/get?hash={job.hash}"
        return _json({"success": True, "data": {"link": link, "hash": job.hash}})

    async def get(request: Request) -> Response:
        params = request.query_params
        if params.get("mirror") == "1":
            problem = state.charge_mirror(params.get("api_token"))
            if problem:
                return _json({"success": False, "errors": [problem]}, 401 if problem == "invalid token" else 400)
        job = state.jobs.get(params.get("hash", ""))
        body = await anyio.to_thread.run_sync(views.separation_body, state, job, _root(request))
        return _json(body)

    async def get_remote(request: Request) -> Response:
        remote = state.remote_jobs.get(request.query_params.get("hash", ""))
        return _json(views.remote_body(state, remote, _root(request)))

    async def cancel(request: Request) -> Response:
        fields = _text_fields(await request.form())
        if state.accounts.get(fields.get("api_token")) is None:
            return _json({"success": False, "errors": ["invalid token"]}, 401)
        return _json({"success": state.cancel(fields.get("api_token"), fields.get("hash", ""))})

    async def algorithms(request: Request) -> Response:
        return _json(state.catalog.listing(request.query_params.get("scopes")))

    async def user(request: Request) -> Response:
        account = state.accounts.get(request.query_params.get("api_token"))
        if account is None:
            return _json({"success": False, "message": "invalid token"}, 400)
        return _json({"success": True, "data": account.public(current_queue=state.in_flight(account.token))})

    async def login(request: Request) -> Response:
        fields = _text_fields(await request.form())
        account, errors = state.accounts.login(fields.get("email", ""), fields.get("password", ""))
        if account is None:
            return _json({"success": False, "message": errors}, 400)
        return _json({"success": True, "data": account.public(current_queue=None)})

    async def register(request: Request) -> Response:
        fields = _text_fields(await request.form())
        account, errors = state.accounts.register(fields.get("name", ""), fields.get("email", ""),
                                                  fields.get("password", ""), fields.get("password_confirmation", ""),
                                                  date_text(state.now()))
        if account is None:
            return _json({"success": False, "message": errors}, 400)
        return _json({"success": True, "message": f"Account verification email sent to {account.email}"})

    def toggle(flag: str, value: int) -> Any:
        async def handler(request: Request) -> Response:
            fields = _text_fields(await request.form())
            token = fields.get("api_token") or request.query_params.get("api_token")
            if not state.set_flag(token, flag, value):
                return _json({"success": False, "message": "invalid token"}, 400)
            return _json({"success": True, "message": "successfully enabled" if value else "successfully disabled"})

        return handler

    async def history(request: Request) -> Response:
        account = state.accounts.get(request.query_params.get("api_token"))
        if account is None:
            return _json({"success": False, "message": "invalid token"}, 400)
        start, limit = _page(request)
        jobs = state.jobs_of(account.token)[start : start + limit]
        return _json({"success": True, "data": [views.history_item(state, j) for j in jobs]})

    async def queue(request: Request) -> Response:
        return _json(views.queue_body(state, request.query_params.get("api_token")))

    async def news(request: Request) -> Response:
        lang = request.query_params.get("lang", "en")
        start, limit = _page(request)
        items = [n for n in state.news if n.get("lang") == lang]
        return _json(items[start : start + limit])

    async def demo(request: Request) -> Response:
        start, limit = _page(request)
        jobs = state.demo_jobs()[start : start + limit]
        return _json([views.demo_item(j, _root(request)) for j in jobs])

    async def storage(request: Request) -> Response:
        folder = request.path_params["folder"]
        name = request.path_params["name"]
        base = state.processed_dir if folder == "processed" else state.temp_dir
        path = (base / name).resolve()
        if "/" in name or path.parent != base.resolve() or not path.is_file():
            return Response(FILE_NOT_FOUND_BODY, status_code=404, media_type="text/html")
        return FileResponse(path)

    routes = [
        Route("/api/separation/create", create, methods=["POST"]),
        Route("/api/separation/get", get, methods=["GET", "POST"]),
        Route("/api/separation/get-remote", get_remote, methods=["GET"]),
        Route("/api/separation/cancel", cancel, methods=["POST"]),
        Route("/api/app/algorithms", algorithms, methods=["GET"]),
        Route("/api/app/user", user, methods=["GET"]),
        Route("/api/app/login", login, methods=["POST"]),
        Route("/api/app/register", register, methods=["POST"]),
        Route("/api/app/separation_history", history, methods=["GET"]),
        Route("/api/app/enable_premium", toggle("premium_enabled", 1), methods=["POST"]),
        Route("/api/app/disable_premium", toggle("premium_enabled", 0), methods=["POST"]),
        Route("/api/app/enable_long_filenames", toggle("long_filenames_enabled", 1), methods=["POST"]),
        Route("/api/app/disable_long_filenames", toggle("long_filenames_enabled", 0), methods=["POST"]),
        Route("/api/app/queue", queue, methods=["GET"]),
        Route("/api/app/news", news, methods=["GET"]),
        Route("/api/app/demo", demo, methods=["GET"]),
        *quality_routes(state, _json, _page),
        Route("/storage/{folder:str}/{name:str}", storage, methods=["GET", "HEAD"]),
        *control_routes(state),
    ]
    app = Starlette(routes=routes)
    app.state.tasks = set()
    app.add_middleware(SandboxMiddleware, state=state)  # outermost: counts every request, then faults, rate limits
    return app


def _spawn_remote_download(request: Request, state: SandboxState, remote: Any) -> None:
    """Download the URL in the background on the server's own event loop (it may be one of our own files)."""
    import asyncio

    async def run() -> None:
        name = remote.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "audio.mp3"
        staged = state.staging_dir / f"{uuid.uuid4().hex}{Path(name).suffix.lower()}"
        try:
            await fetch_to_file(remote.url, staged)
        except RemoteFetchError as exc:
            remote.error = str(exc)
            return
        await anyio.to_thread.run_sync(state.finish_remote, remote, name, staged)

    task = asyncio.get_running_loop().create_task(run())
    tasks: set[Any] = request.app.state.tasks
    tasks.add(task)
    task.add_done_callback(tasks.discard)
