"""Arguments that do not fit a schema, as one sentence per argument: what was given and what the schema takes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from mcp.server.mcpserver.utilities.func_metadata import func_metadata
from mvsep_mcp.logs import register_secret
from mvsep_mcp_tools._arguments import argument_sentences, describe, failed_arguments, shown
from mvsep_mcp_tools._schema import compact
from pydantic import Field, ValidationError

SCHEMA: dict[str, Any] = {
    "properties": {
        "inputs": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50},
        "fmt": {"enum": ["mp3", "wav"]},
        "ratio": {"type": "number", "exclusiveMinimum": 0},
        "flag": {"type": "boolean"},
        "options": {"type": "object", "additionalProperties": {"type": "string"}},
        "where": {"$ref": "#/$defs/Place"},
        "name": {"type": "string", "minLength": 1, "maxLength": 40},
        "model": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
    },
    "$defs": {"Place": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}},
}


@pytest.mark.parametrize(("name", "takes"), [
    ("inputs", "a list of at least 1 item, each a text"),
    ("limit", "a whole number from 1 to 50"),
    ("fmt", "one of 'mp3', 'wav'"),
    ("ratio", "a number above 0"),
    ("flag", "true or false"),
    ("options", "an object whose values are each a text"),
    ("where", "an object with the fields 'x', 'y'"),
    ("name", "a text of 1 to 40 characters"),
    ("model", "a text or a whole number"),
])
def test_what_a_schema_takes(name: str, takes: str) -> None:
    assert describe(SCHEMA["properties"][name], SCHEMA) == takes


def test_one_sentence_per_argument_in_order() -> None:
    given = {"inputs": "song.flac", "limit": 500, "fmt": None}
    assert argument_sentences(["inputs", "limit", "fmt", "flag", "inputs"], given, SCHEMA, missing=["flag"]) == [
        "The argument 'inputs' was \"song.flac\" (a text); it takes a list of at least 1 item, each a text.",
        "The argument 'limit' was 500 (a number); it takes a whole number from 1 to 50.",
        "The argument 'fmt' was null; it takes one of 'mp3', 'wav'.",
        "The argument 'flag' is missing; it takes true or false.",
    ]
    assert argument_sentences(["speed"], {"speed": 2}, SCHEMA) == [
        "There is no argument 'speed'; the arguments are 'inputs', 'limit', 'fmt', 'ratio', 'flag', 'options', "
        "'where', 'name', 'model'."]


def test_a_value_is_shown_short_on_one_line_and_never_a_secret() -> None:
    assert shown("text", "a\nb") == '"a\\nb" (a text)'
    long = shown("text", "x" * 500)
    assert long.endswith("… (a text)") and len(long) < 80
    assert shown("password", "hunter2") == "a text (not repeated here)"
    register_secret("Sekrit0000000000000000000")
    assert "Sekrit" not in shown("inputs", ["Sekrit0000000000000000000"])
    assert shown("flag", {"a": [1]}) == '{"a": [1]} (an object)'


def tool(inputs: Annotated[list[str], Field(min_length=1)], model: str | int,
         output_format: Literal["mp3", "wav"] = "mp3", limit: Annotated[int, Field(ge=1, le=50)] = 10) -> None:
    """A stand-in with the shapes of the real tools' arguments."""


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"inputs": 3, "output_format": "ogg"}, [
        "The argument 'inputs' was 3 (a number); it takes a list of at least 1 item, each a text.",
        "The argument 'model' is missing; it takes a text or a whole number.",
        "The argument 'output_format' was \"ogg\" (a text); it takes one of 'mp3', 'wav'."]),
    ({"inputs": [], "model": [1], "limit": 0}, [
        "The argument 'inputs' was [] (a list); it takes a list of at least 1 item, each a text.",
        "The argument 'model' was [1] (a list); it takes a text or a whole number.",
        "The argument 'limit' was 0 (a number); it takes a whole number from 1 to 50."]),
    ({"inputs": ["a", 5], "model": "x"}, [
        "The argument 'inputs' was [\"a\", 5] (a list); it takes a list of at least 1 item, each a text."]),
])
def test_from_what_pydantic_refused(arguments: dict[str, Any], expected: list[str]) -> None:
    """The SDK's own argument model refuses; the sentences come from the compact schema the client was given."""
    metadata = func_metadata(tool)
    schema = compact(metadata.arg_model.model_json_schema(by_alias=True))
    with pytest.raises(ValidationError) as refused:
        metadata.validate_arguments(arguments)
    names, missing = failed_arguments(refused.value.errors())
    sentences = argument_sentences(names, arguments, schema, missing)
    assert sentences == expected
    assert not any(word in " ".join(sentences) for word in ("pydantic", "type=", "Input should", "Arguments"))
