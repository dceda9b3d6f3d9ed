"""Routes of the quality checker: ``/api/quality_checker/{queue,leaderboard,entry,add,delete}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mvsep_mcp_testbench.sandbox.quality_checker import DATASETS
from mvsep_mcp_testbench.sandbox.state import SandboxState

REQUIRED_ADD_FIELDS = ("zipfile", "algo_name", "main_text", "password")


def quality_routes(state: SandboxState, as_json: Callable[..., Response],
                   page: Callable[[Request], tuple[int, int]]) -> list[Route]:
    def quality_s() -> float:
        return state.timing.quality_s

    async def queue(request: Request) -> Response:
        start, limit = page(request)
        return as_json(state.quality.queue(state.now(), quality_s(), start, limit))

    async def leaderboard(request: Request) -> Response:
        params = request.query_params
        try:
            dataset_type = int(params.get("dataset_type", "0") or 0)
        except ValueError:
            dataset_type = 0
        if dataset_type not in DATASETS:
            dataset_type = 0
        start, limit = page(request)
        return as_json(state.quality.leaderboard(state.now(), quality_s(), dataset_type, start, limit,
                                                 params.get("algo_name_filter"), params.get("sort")))

    async def entry(request: Request) -> Response:
        try:
            found = state.quality.entries.get(int(request.query_params.get("id", "")))
        except ValueError:
            found = None
        if found is None:
            return as_json({"success": False, "message": "Entry not found"}, 404)
        return as_json({"success": True, "data": found.view(state.now(), quality_s())})

    async def add(request: Request) -> Response:
        form = await request.form()
        fields: dict[str, Any] = dict(form.items())
        if state.accounts.get(str(fields.get("api_token") or "")) is None:
            return as_json({"success": False, "errors": ["invalid token"]}, 401)
        errors = {name: [f"The {name.replace('_', ' ')} field is required."] for name in REQUIRED_ADD_FIELDS
                  if not fields.get(name) or (name == "zipfile" and not isinstance(fields[name], UploadFile))}
        dataset_raw = str(fields.get("dataset_type") or "0")
        if not dataset_raw.isdigit() or int(dataset_raw) not in DATASETS:
            errors["dataset_type"] = ["The selected dataset type is invalid."]
        if errors:
            return as_json({"success": False, "message": errors}, 400)
        upload: UploadFile = fields["zipfile"]
        data = await upload.read()
        created = await anyio.to_thread.run_sync(lambda: state.quality.add(
            data=data, algo_name=str(fields["algo_name"]), main_text=str(fields["main_text"]),
            dataset_type=int(dataset_raw), ensemble=1 if str(fields.get("ensemble", "0")) == "1" else 0,
            password=str(fields["password"]), token=str(fields["api_token"]), now=state.now()))
        link = f"{str(request.base_url).rstrip('/')}/api/quality_checker/entry?id={created.id}"
        return as_json({"success": True, "data": {"id": created.id, "link": link}})

    async def delete(request: Request) -> Response:
        fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            entry_id = int(fields.get("id", ""))
        except ValueError:
            return as_json({"success": False, "message": {"id": ["The id field is required."]}}, 400)
        result = state.quality.delete(entry_id, fields.get("password", ""))
        if result is None:
            return as_json({"success": False, "data": {"message": "entry not found"}}, 400)
        if result is False:
            return as_json({"success": False, "data": {"message": "wrong password"}}, 400)
        return as_json({"success": True, "data": {"message": "successfully deleted"}})

    return [
        Route("/api/quality_checker/queue", queue, methods=["GET"]),
        Route("/api/quality_checker/leaderboard", leaderboard, methods=["GET"]),
        Route("/api/quality_checker/entry", entry, methods=["GET"]),
        Route("/api/quality_checker/add", add, methods=["POST"]),
        Route("/api/quality_checker/delete", delete, methods=["POST", "GET"]),
    ]
