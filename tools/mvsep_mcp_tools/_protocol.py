"""Answers by the book where the SDK leaves them to the server: the spec's error codes and sentences, not code 0
and a traceback, for what a client got wrong.

- ``tools/call`` of an unknown tool: JSON-RPC -32602 naming the tools; arguments that do not fit the tool's input
  schema: a tool result (``isError``) with one sentence per argument (``_arguments``), never pydantic's text.
- ``prompts/get`` of an unknown prompt, or with a required argument missing or one the prompt does not take:
  -32602 with a sentence (a value the prompt refuses is refused by the prompt itself, ``_registration.prompt``).
- ``resources/read`` of a URI no resource or template matches: -32602 (SEP-2164: resource not found) naming the
  resources and templates.
- ``logging/setLevel``: accepted (the logging capability, 2025-11-25). The server sends no log notifications (its log
  goes to stderr, and over HTTP would mix users), so there is nothing to filter.
- Anything else a handler raises is the server's fault: -32603 with a generic message (the traceback stays in the
  log), never the code 0 the SDK's legacy dispatcher would send.

The wrappers go around the SDK's own handlers (and, for ``tools/call``, around the extensions' interceptors), so
everything else the SDK does is unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, NoReturn

from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import HandlerEntry
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CallToolRequestParams,
    CallToolResult,
    EmptyResult,
    GetPromptRequestParams,
    ReadResourceRequestParams,
    SetLevelRequestParams,
    TextContent,
)
from mcp_types.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS
from pydantic import ValidationError

from mvsep_mcp_tools._arguments import argument_sentences, failed_arguments

log = logging.getLogger(__name__)

INTERNAL = "The server failed to answer this request; its log has the details."


def install(server: MCPServer[Any]) -> None:
    """Wrap the SDK's handlers of ``server`` (after every tool, prompt, resource and extension is registered)."""
    low = server._lowlevel_server
    for method, params_type, wrap in (("tools/call", CallToolRequestParams, _tool_calls),
                                      ("prompts/get", GetPromptRequestParams, _prompt_gets),
                                      ("resources/read", ReadResourceRequestParams, _resource_reads)):
        entry = low.get_request_handler(method)
        if entry is not None:
            low.add_request_handler(method, params_type, wrap(server, entry))
    low.add_request_handler("logging/setLevel", SetLevelRequestParams, _set_level)
    low.middleware.append(_server_faults)


def _tool_calls(server: MCPServer[Any], entry: HandlerEntry[Any]) -> Any:
    async def call(ctx: ServerRequestContext[Any, Any], params: CallToolRequestParams) -> Any:
        tool = server._tool_manager.get_tool(params.name)
        if tool is None:
            tools = ", ".join(t.name for t in server._tool_manager.list_tools())
            _refuse("tools/call", params.name, f"No tool is named {params.name!r}; this server's tools are {tools}.")
        arguments = params.arguments or {}
        try:
            tool.fn_metadata.validate_arguments(arguments)
        except ValidationError as exc:
            names, missing = failed_arguments(exc.errors())
            log.info("Tool %r rejected arguments: %r", params.name, names)  # names only: values are the caller's
            text = " ".join(argument_sentences(names, arguments, tool.parameters, missing))
            return CallToolResult(content=[TextContent(type="text", text=f"Error executing tool {params.name}: "
                                                       f"{text}")], is_error=True)
        except Exception:  # a validator that crashes: the SDK's own handling below reports it
            pass
        return await entry.handler(ctx, params)

    return call


def _prompt_gets(server: MCPServer[Any], entry: HandlerEntry[Any]) -> Any:
    async def get(ctx: ServerRequestContext[Any, Any], params: GetPromptRequestParams) -> Any:
        prompt = server._prompt_manager.get_prompt(params.name)
        if prompt is None:
            names = ", ".join(p.name for p in server._prompt_manager.list_prompts())
            _refuse("prompts/get", params.name, f"No prompt is named {params.name!r}; this server's prompts are "
                                                f"{names}.")
        arguments = params.arguments or {}
        declared = {a.name: a for a in prompt.arguments or []}
        unknown = [name for name in arguments if name not in declared]
        missing = [a.name for a in declared.values() if a.required and not str(arguments.get(a.name) or "").strip()]
        if unknown or missing:
            schema = {"properties": {name: {"type": "string"} for name in declared}}
            sentences = argument_sentences([*missing, *unknown], arguments, schema, missing)
            _refuse("prompts/get", params.name, " ".join(sentences))
        return await entry.handler(ctx, params)

    return get


def _resource_reads(server: MCPServer[Any], entry: HandlerEntry[Any]) -> Any:
    async def read(ctx: ServerRequestContext[Any, Any], params: ReadResourceRequestParams) -> Any:
        try:
            return await entry.handler(ctx, params)
        except MCPError as exc:
            if exc.error.code != INVALID_PARAMS or not exc.error.message.startswith("Unknown resource:"):
                raise
            fixed = [str(r.uri) for r in server._resource_manager.list_resources()]
            templates = _by_extension(t.uri_template for t in server._resource_manager.list_templates())
            raise MCPError(code=INVALID_PARAMS, message=f"No resource is at {params.uri}: this server's resources "
                           f"are {', '.join(fixed)} and the templates {', '.join(templates)}.",
                           data=exc.error.data) from None

    return read


def _by_extension(templates: Iterable[str]) -> list[str]:
    """Templates that differ only in their file extension said once: ``…/{stem}.mp3 (or .wav, .flac)``."""
    extensions: dict[str, list[str]] = {}
    for template in templates:
        base, dot, ext = template.rpartition(".")
        key = base if dot and base.endswith("}") and ext.isalnum() else template
        extensions.setdefault(key, []).append(ext if key == base else "")
    return [key if exts == [""] else f"{key}.{exts[0]}" + (f" (or .{', .'.join(exts[1:])})" if exts[1:] else "")
            for key, exts in extensions.items()]


def _refuse(method: str, name: str, sentence: str) -> NoReturn:
    log.info("%s %r refused: %r", method, name, sentence)
    raise MCPError(code=INVALID_PARAMS, message=sentence)


async def _set_level(ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
    return EmptyResult()


async def _server_faults(ctx: ServerRequestContext[Any, Any], call_next: Any) -> Any:
    """A request whose handler raised something that is no protocol answer: -32603, traceback in the log only."""
    try:
        return await call_next(ctx)
    except (MCPError, ValidationError):
        raise
    except Exception as exc:
        if ctx.request_id is None:
            raise
        log.exception("Request %r failed", ctx.method)
        raise MCPError(code=INTERNAL_ERROR, message=INTERNAL) from exc
