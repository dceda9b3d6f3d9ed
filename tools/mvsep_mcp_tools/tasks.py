"""The MCP tasks extension (``io.modelcontextprotocol/tasks``, SEP-2663): a separation request answered with a task.

When a client declares the extension on a 2026-era request, ``separate_audio``, ``master_audio`` and
``generate_from_text`` answer with a task as soon as their jobs are recorded (``resultType: "task"``): the task is
the request's batch of jobs (its id is the batch id, random and unguessable), so it lives in the journal and
survives a restart. ``tasks/get`` reports the batch: ``working`` with the progress line and the poll interval the
runner will actually keep; then ``completed`` with the result inline (the starting tool's own answer with its jobs
as they ended, and ``wait_for_jobs``' text), or ``cancelled``. ``tasks/cancel`` cancels each job where MVSep still
allows it and acknowledges at once, a refusal showing in the task's status message; ``tasks/update`` has nothing to
answer (consent is asked before the task exists). Calls that create nothing (a dry run, a "no", a refusal) answer
as they always do; a client that did not declare the extension, or a legacy connection, gets today's job ids and
``wait_for_jobs``.

The task shapes are written from the extension's schema: the SDK's ``mcp_types`` task models are the older
2025-11-25 ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.server import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolRequestParams, CallToolResult, RequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from mvsep_mcp import policy
from mvsep_mcp.errors import UserError
from mvsep_mcp.hosted.usage import request_scope
from mvsep_mcp.jobs.batches import batch_status
from mvsep_mcp.jobs.errors import JobNotCancellable
from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.session import Account, Session

from mvsep_mcp_tools import separation, studio
from mvsep_mcp_tools._caller import request_account
from mvsep_mcp_tools._registration import results_as
from mvsep_mcp_tools._task_mode import answering_with_task

TASKS = "io.modelcontextprotocol/tasks"
# a finished task's result: the answer of the tool that started it, rebuilt from its jobs (by the kind of job)
FINISHED_ANSWERS: dict[str, Callable[[list[JobRecord]], CallToolResult]] = {
    "file": separation.finished_answer,
    "url": separation.finished_answer,
    "matchering": studio.finished_answer,
    "text": studio.finished_answer,
}
BEING_SENT = frozenset({JobState.SUBMITTING, JobState.UNCERTAIN})
TASK_TOOLS = frozenset({"separate_audio", "master_audio", "generate_from_text"})
MAX_JOBS_PER_TASK = 1000  # a batch is one request's inputs; far more than any folder a request may name

class TaskParams(RequestParams):
    """``tasks/get`` and ``tasks/cancel``."""

    task_id: str


class TaskUpdateParams(TaskParams):
    input_responses: dict[str, Any] | None = None


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _client_declared(ctx: ServerRequestContext[Any, Any]) -> bool:
    capabilities = ctx.session.client_capabilities
    return bool(capabilities and capabilities.extensions and TASKS in capabilities.extensions)


class TasksExtension(Extension):
    identifier = TASKS

    def methods(self) -> list[MethodBinding]:
        modern = frozenset(MODERN_PROTOCOL_VERSIONS)
        return [
            MethodBinding("tasks/get", TaskParams, self._get, protocol_versions=modern),
            MethodBinding("tasks/cancel", TaskParams, self._cancel, protocol_versions=modern),
            MethodBinding("tasks/update", TaskUpdateParams, self._update, protocol_versions=modern),
        ]

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if (params.name not in TASK_TOOLS or ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS
                or not _client_declared(ctx)):
            return await call_next(ctx)
        with request_scope(), answering_with_task():
            return await self._answer_with_task(ctx, call_next)

    async def _answer_with_task(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        answer = await call_next(ctx)
        tool_result = _as_tool_result(answer)
        if tool_result is None or tool_result.is_error:
            return answer  # an input round (consent) or a refusal: answered as usual
        job_ids = [job["id"] for job in (tool_result.structured_content or {}).get("jobs") or []]
        if not job_ids:
            return answer  # a dry run, a "no", or a confirmation to ask for: nothing to follow
        session, account = await _account(ctx)
        batch_id = session.runner.get(account.key, job_ids[0]).spec.batch_id
        if batch_id is None:
            return answer
        return _task(session, batch_id, _batch(session, account, batch_id), result_type="task")

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> dict[str, Any]:
        require_client_extension(ctx, TASKS)
        with request_scope():
            session, account = await _account(ctx)
            return _task(session, params.task_id, _batch(session, account, params.task_id), result_type="complete")

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> dict[str, Any]:
        require_client_extension(ctx, TASKS)
        with request_scope():
            await self._cancel_batch(ctx, params.task_id)
        return {}

    async def _cancel_batch(self, ctx: ServerRequestContext[Any, Any], task_id: str) -> None:
        session, account = await _account(ctx)
        for record in _batch(session, account, task_id):
            if record.is_terminal:
                continue
            if record.state in BEING_SENT:  # MVSep cannot be asked until its create has been answered
                await session.runner.wait(account.key, [record.id], timeout=policy.SUBMIT_WAIT_S, until="submitted")
            try:
                await session.runner.cancel(account.key, record.id)
            except JobNotCancellable as refused:
                session.runner.changes.update(record.id, cancel_refused=refused.user_text())

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: TaskUpdateParams) -> dict[str, Any]:
        require_client_extension(ctx, TASKS)
        with request_scope():
            session, account = await _account(ctx)
            _batch(session, account, params.task_id)  # an unknown task is an error; no request is ever outstanding
        return {}


def _as_tool_result(answer: HandlerResult) -> CallToolResult | None:
    if isinstance(answer, CallToolResult):
        return answer
    if isinstance(answer, Mapping) and answer.get("resultType", "complete") == "complete" and "content" in answer:
        return CallToolResult.model_validate(answer)
    return None


async def _account(ctx: ServerRequestContext[Any, Any]) -> tuple[Session, Account]:
    session: Session = ctx.lifespan_context
    try:
        return session, await request_account(session, getattr(ctx.request, "headers", None))
    except UserError as exc:
        raise MCPError(code=INVALID_PARAMS, message=exc.user_text()) from None


def _batch(session: Session, account: Account, task_id: str) -> list[JobRecord]:
    """The task's jobs, of this account only (a task id of another account is as unknown as a made-up one)."""
    records = session.runner.list(account.key, batch_id=task_id, limit=MAX_JOBS_PER_TASK) if task_id else []
    if not records:
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown task {task_id!r}: it was not started on this account.")
    return sorted(records, key=lambda r: r.created_at)


def _task(session: Session, task_id: str, records: list[JobRecord], *, result_type: str) -> dict[str, Any]:
    status = batch_status(records, session.runner.next_check_s(records))
    task: dict[str, Any] = {
        "resultType": result_type,
        "taskId": task_id,
        "status": status.state,
        "statusMessage": status.message,
        "createdAt": _iso(status.created_at),
        "lastUpdatedAt": _iso(status.updated_at),
        "ttlMs": None,  # the journal keeps jobs: a task does not expire (its stems are on disk)
    }
    if status.poll_interval_s is not None:
        task["pollIntervalMs"] = round(status.poll_interval_s * 1000)
    if status.state == "completed" and result_type == "complete":
        shown = results_as.set(session.settings.results_as)  # as the tool shows files (hosted: never server paths)
        try:
            answer = FINISHED_ANSWERS[records[0].spec.kind](records)
        finally:
            results_as.reset(shown)
        task["result"] = answer.model_dump(mode="json", by_alias=True, exclude_none=True)
    return task
