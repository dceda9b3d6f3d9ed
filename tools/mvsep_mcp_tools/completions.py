"""``completion/complete``: suggestions while a person fills a resource template's variables or a prompt's arguments.

- ``render_id`` (``mvsep://models/{render_id}``): render ids of the models what was typed may mean (a number or part
  of a name), best first (``catalog.suggestions``).
- ``job_id`` (every ``mvsep://jobs/{job_id}…`` template): the caller's own jobs, newest first (in hosted mode the
  signed-in user's only; nothing without an account); ``stem`` and ``name``: that job's saved stems and DAW
  sessions (the job from the request's ``context.arguments``; a file template's extension narrows them).
- prompts: ``model`` (names, or render ids where a name is shared), ``output_format``, ``path`` and ``paths`` (the
  server's folders and audio files; none on a hosted server, which reads no files of its own disk).

Anything else has no suggestions. An unknown prompt or template, or a name it does not have: -32602.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import CompleteRequestParams, CompleteResult, Completion, PromptReference
from mcp_types.jsonrpc import INVALID_PARAMS
from mvsep_mcp import policy
from mvsep_mcp.catalog import Catalog
from mvsep_mcp.catalog.suggestions import model_values, suggest_models
from mvsep_mcp.errors import UserError
from mvsep_mcp.hosted.usage import request_scope
from mvsep_mcp.jobs import suggestions as job_suggestions
from mvsep_mcp.matching import ranked
from mvsep_mcp.media.path_suggestions import suggest_path_list, suggest_paths
from mvsep_mcp.mvsep.formats import FORMAT_NAMES

from mvsep_mcp_tools._caller import request_account

if TYPE_CHECKING:
    from mvsep_mcp.session import Account, Session

_VARIABLE = re.compile(r"\{(\w+)\}")
JOB_TEMPLATES = "mvsep://jobs/"


def register(server: MCPServer[Any]) -> None:
    """Answer ``completion/complete`` (and so advertise ``completions``) for ``server``'s prompts and templates."""

    async def complete(ctx: ServerRequestContext[Any, Any], params: CompleteRequestParams) -> CompleteResult:
        session: Session = ctx.lifespan_context
        name, typed = params.argument.name, params.argument.value
        known = (params.context.arguments if params.context else None) or {}
        with request_scope():
            if isinstance(params.ref, PromptReference):
                _check_prompt(server, params.ref.name, name)
                values = await _prompt_values(session, ctx, name, typed)
            else:
                _check_template(server, params.ref.uri, name)
                values = await _template_values(session, ctx, params.ref.uri, name, typed, known)
        shown = values[: policy.COMPLETION_MAX_VALUES]
        return CompleteResult(completion=Completion(values=shown, total=len(values),
                                                    has_more=len(values) > len(shown)))

    server._lowlevel_server.add_request_handler("completion/complete", CompleteRequestParams, complete)


def _check_prompt(server: MCPServer[Any], prompt_name: str, argument: str) -> None:
    prompt = server._prompt_manager.get_prompt(prompt_name)
    if prompt is None:
        names = ", ".join(p.name for p in server._prompt_manager.list_prompts())
        raise MCPError(code=INVALID_PARAMS, message=f"No prompt is named {prompt_name!r}; this server's prompts are "
                       f"{names}.")
    arguments = [a.name for a in prompt.arguments or []]
    if argument not in arguments:
        raise MCPError(code=INVALID_PARAMS, message=f"The prompt {prompt_name!r} has no argument {argument!r}; its "
                       f"arguments are {', '.join(arguments)}.")


def _check_template(server: MCPServer[Any], uri: str, variable: str) -> None:
    templates = [t.uri_template for t in server._resource_manager.list_templates()]
    if uri not in templates:
        raise MCPError(code=INVALID_PARAMS, message=f"No resource template is {uri!r}; this server's templates are "
                       f"{', '.join(dict.fromkeys(templates))}.")
    variables = _VARIABLE.findall(uri)
    if variable not in variables:
        raise MCPError(code=INVALID_PARAMS, message=f"The template {uri!r} has no variable {variable!r}; its "
                       f"variables are {', '.join(variables)}.")


async def _prompt_values(session: Session, ctx: ServerRequestContext[Any, Any], name: str, typed: str) -> list[str]:
    if name == "model":
        catalog = await _catalog(session)
        return model_values(catalog, suggest_models(catalog, typed)) if catalog is not None else []
    if name == "output_format":
        return ranked(FORMAT_NAMES, typed)
    if name in ("path", "paths") and session.users is None:  # a hosted server reads no files of its own disk
        suggest = suggest_paths if name == "path" else suggest_path_list
        return await anyio.to_thread.run_sync(suggest, typed)
    return []


async def _template_values(session: Session, ctx: ServerRequestContext[Any, Any], template: str, name: str,
                           typed: str, known: Mapping[str, str]) -> list[str]:
    if name == "render_id":
        catalog = await _catalog(session)
        return [str(a.render_id) for a in suggest_models(catalog, typed)] if catalog is not None else []
    if not template.startswith(JOB_TEMPLATES):
        return []
    account = await _account(session, ctx)
    if account is None:
        return []
    runner = session.runner
    if name == "job_id":
        records = runner.list(account.key, limit=policy.COMPLETION_JOBS_SCANNED)
        return job_suggestions.job_ids(records, typed)
    job_id = unquote(known.get("job_id", ""))
    if name not in ("stem", "name") or not job_id:
        return []
    try:
        record = runner.get(account.key, job_id)
    except UserError:  # not a job of this caller's
        return []
    suffix = template.rsplit("{" + name + "}", 1)[1].lstrip(".") or None  # a file template's fixed extension
    pick = job_suggestions.stems if name == "stem" else job_suggestions.sessions
    return pick(record, typed, suffix)


async def _catalog(session: Session) -> Catalog | None:
    try:
        return await session.catalog()
    except UserError:  # MVSep unreachable and nothing cached: nothing to suggest
        return None


async def _account(session: Session, ctx: ServerRequestContext[Any, Any]) -> Account | None:
    """The caller's account (hosted: the signed-in user's own), or None when there is none to look in."""
    try:
        return await request_account(session, getattr(ctx.request, "headers", None))
    except UserError:
        return None
