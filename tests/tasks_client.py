"""A client of the MCP tasks extension for tests: it declares ``io.modelcontextprotocol/tasks``, follows every task
it is given with ``tasks/get`` (at the server's poll interval, capped at a second) and can cancel it first."""

from __future__ import annotations

from typing import Any, Literal

import anyio
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import CallToolResult, Request, RequestParams, Result, TextContent
from pydantic import ConfigDict, TypeAdapter

TASKS = "io.modelcontextprotocol/tasks"
ANY_DICT = TypeAdapter(dict[str, Any])


class TaskRef(RequestParams):
    task_id: str


class TasksGet(Request[TaskRef, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    name_param = "taskId"


class TasksCancel(Request[TaskRef, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    name_param = "taskId"


class CreatedTask(Result):
    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"]
    task_id: str
    status: str
    created_at: str
    last_updated_at: str
    ttl_ms: int | None
    poll_interval_ms: int | None = None
    status_message: str | None = None


class TasksClient(ClientExtension):
    """A client that follows tasks: every answer it saw, then the result of the completed task."""

    identifier = TASKS

    def __init__(self, *, cancel: bool = False) -> None:
        self.created: list[CreatedTask] = []
        self.polls: list[dict[str, Any]] = []
        self.cancel = cancel

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreatedTask, resolve=self.follow)]

    async def follow(self, task: CreatedTask, ctx: ClaimContext) -> CallToolResult:
        self.created.append(task)
        if self.cancel:
            ack = await ctx.session.send_request(TasksCancel(params=TaskRef(task_id=task.task_id)), ANY_DICT)
            assert ack.get("resultType") == "complete" and set(ack) <= {"resultType", "_meta"}, ack
        for _ in range(200):
            got = await ctx.session.send_request(TasksGet(params=TaskRef(task_id=task.task_id)), ANY_DICT)
            self.polls.append(got)
            if got["status"] == "completed":
                return CallToolResult.model_validate(got["result"])
            if got["status"] != "working":
                return CallToolResult(content=[TextContent(type="text", text=f"task {got['status']}")], is_error=True)
            await anyio.sleep(min(got["pollIntervalMs"], 1000) / 1000)
        raise AssertionError("the task never ended")
