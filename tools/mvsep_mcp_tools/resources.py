"""Resources: the catalogue, one model, one job (as JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mvsep_mcp.catalog import CatalogError, describe
from mvsep_mcp.jobs import JobError

from mvsep_mcp_tools._common import state_of
from mvsep_mcp_tools._job_view import job_view
from mvsep_mcp_tools.catalog import summary_of

if TYPE_CHECKING:
    from mvsep_mcp.app import AppState


def register(server: MCPServer[Any], current_state: Callable[[], AppState]) -> None:
    """``current_state`` gives the running server's state (static resources get no context in mcp 2.x)."""

    @server.resource(
        "mvsep://catalog",
        name="catalog",
        title="MVSep models",
        mime_type="application/json",
        description="Every active MVSep model: id, name, group, outputs, access, price, rating.",
    )
    async def catalog_resource() -> str:
        catalog = await current_state().catalog()
        page = catalog.search(sort="name", limit=10_000)
        return json.dumps([summary_of(a).model_dump(mode="json") for a in page.items], ensure_ascii=False)

    @server.resource(
        "mvsep://models/{render_id}",
        name="model",
        title="One MVSep model",
        mime_type="application/json",
        description="A model's details: options with labels and keys, defaults, conditions, prices.",
    )
    async def model_resource(render_id: str, ctx: Context[Any, Any]) -> str:
        catalog = await state_of(ctx).catalog()
        try:
            algorithm = catalog.find(render_id)
        except CatalogError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        return describe(algorithm).model_dump_json()

    @server.resource(
        "mvsep://jobs/{job_id}",
        name="job",
        title="One job",
        mime_type="application/json",
        description="A job from the local journal: state, progress, saved files, manifest.",
    )
    async def job_resource(job_id: str, ctx: Context[Any, Any]) -> str:
        state = state_of(ctx)
        if state.session is None:
            raise ResourceError("No MVSep API token is set: set MVSEP_API_TOKEN or run `mvsep-mcp login`.")
        try:
            record = state.runner.get(state.session.account_key, job_id)
        except JobError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        return job_view(record).model_dump_json()
