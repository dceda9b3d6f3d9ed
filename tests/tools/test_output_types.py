"""Outputs that MVSep sends loosely typed get a declared type (the Inspector's --strict rejects untyped fields)."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.app import create_server
from mvsep_mcp_tools.quality import EntriesOut, EntryOut, sortables_out, state_out
from mvsep_mcp_tools.site import QueueOut, plan_out
from pydantic import BaseModel

from .conftest import make_settings


@pytest.mark.parametrize("proc, state", [(0, 0), (2, 2), ("1", 1), ("-1", -1), ("done", "done"), (None, None),
                                         ({"x": 1}, '{"x": 1}')])
def test_state(proc: Any, state: int | str | None) -> None:
    assert state_out(proc) == state


@pytest.mark.parametrize("value, columns", [(["sdr_vocals", "sdr_bass"], ["sdr_vocals", "sdr_bass"]),
                                            ({"sdr_vocals": "Vocals"}, ["sdr_vocals"]), ("sdr_drums", ["sdr_drums"]),
                                            (None, []), ([1, None], ["1"])])
def test_sortables(value: Any, columns: list[str]) -> None:
    assert sortables_out(value) == columns


@pytest.mark.parametrize("plan, out", [(None, None), ({"name": "premium"}, {"name": "premium"}), (3, "3")])
def test_plan(plan: Any, out: Any) -> None:
    assert plan_out(plan) == out


def test_no_output_field_is_left_untyped() -> None:
    """Every property of these outputs names a type (directly or in each anyOf branch, or by reference)."""

    def typed(spec: dict[str, Any]) -> bool:
        if "type" in spec or "$ref" in spec:
            return True
        return bool(spec.get("anyOf")) and all(typed(branch) for branch in spec["anyOf"])

    for model in (QueueOut, EntriesOut, EntryOut):
        schema = model.model_json_schema()
        for name, spec in schema["properties"].items():
            assert typed(spec), f"{model.__name__}.{name}: {spec}"


def test_a_field_that_may_be_null_may_be_left_out(tmp_path: Path) -> None:
    """Results leave out null fields (``_registration.result``) and the SDK checks them against the output model, so a
    nullable field needs a default: ``get_model`` of a model without a rating crashed on one (found by the fuzzer)."""
    server = create_server(make_settings(tmp_path, "http://127.0.0.1:9/api", toolsets="all,auth"))
    required_nullable: list[str] = []
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            args = typing.get_args(field.annotation)
            if field.is_required() and type(None) in args:
                required_nullable.append(f"{model.__name__}.{name}")
            for kind in (field.annotation, *args, *(a for arg in args for a in typing.get_args(arg))):
                if isinstance(kind, type) and issubclass(kind, BaseModel):
                    walk(kind)

    for tool in server._tool_manager.list_tools():
        if tool.fn_metadata.output_model is not None:
            walk(tool.fn_metadata.output_model)
    assert len(seen) > 20 and required_nullable == []
