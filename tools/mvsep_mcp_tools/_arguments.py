"""Arguments that do not fit a schema, as sentences: one per argument, naming it, what was given and what it takes.

The SDK checks a tool's arguments with pydantic, whose own text (error codes, the argument model's class name, a
URL per error) is written for a Python programmer. A model or a person reads this instead, written from the JSON
schema the client was given, so it says what the schema says:

```python
argument_sentences(["limit"], {"limit": 500}, schema)
# ["The argument 'limit' was 500 (a number); it takes a whole number from 1 to 50."]
```

The same sentences serve prompt arguments (``prompts/get``), whose schema is a list of names, each a text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mvsep_mcp import policy
from mvsep_mcp.logs import redact

MISSING = object()  # an argument that was not given
_SECRET_WORDS = ("password", "token", "secret")  # values of such arguments are never repeated back
_TYPE_NAMES = {"string": "a text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "null": "null", "array": "a list", "object": "an object"}


def argument_sentences(names: Iterable[str], given: Mapping[str, Any], schema: Mapping[str, Any],
                       missing: Iterable[str] = ()) -> list[str]:
    """One sentence for each argument in ``names`` (in order, once each): ``missing`` ones were required and not
    given; the others were given a value that ``schema`` (an object schema: ``properties`` and ``$defs``) refuses."""
    absent = set(missing)
    properties: Mapping[str, Any] = schema.get("properties") or {}
    sentences = []
    for name in dict.fromkeys(names):
        prop = properties.get(name)
        if prop is None:
            known = ", ".join(f"'{n}'" for n in properties) or "none"
            sentences.append(f"There is no argument '{name}'; the arguments are {known}.")
            continue
        takes = describe(prop, schema)
        if name in absent or given.get(name, MISSING) is MISSING:
            sentences.append(f"The argument '{name}' is missing; it takes {takes}.")
        else:
            sentences.append(f"The argument '{name}' was {shown(name, given[name])}; it takes {takes}.")
    return sentences


def failed_arguments(errors: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """From pydantic's ``ValidationError.errors()``: the arguments in error (in order) and those of them missing."""
    names: list[str] = []
    missing: list[str] = []
    for error in errors:
        loc = error.get("loc") or ()
        if not loc:
            continue
        name = str(loc[0])
        names.append(name)
        if error.get("type") == "missing" and len(loc) == 1:
            missing.append(name)
    return list(dict.fromkeys(names)), missing


def shown(name: str, value: Any) -> str:
    """A value as a sentence repeats it: short, on one line, with its JSON kind; never a secret's value."""
    kind = _kind(value)
    if any(word in name.lower() for word in _SECRET_WORDS):
        return f"{kind} (not repeated here)"
    text = redact(json.dumps(value, ensure_ascii=False, default=str))
    if len(text) > policy.ARGUMENT_SHOWN_CHARS:
        text = text[: policy.ARGUMENT_SHOWN_CHARS - 1] + "…"
    return text if value is None else f"{text} ({kind})"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list | tuple):
        return "a list"
    return "an object"


def describe(schema: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    """What a schema admits, in words ("a whole number from 1 to 50", "one of 'mp3', 'wav'")."""
    schema = _resolved(schema, root)
    if "enum" in schema:
        return "one of " + ", ".join(_literal(v) for v in schema["enum"])
    if "const" in schema:
        return f"exactly {_literal(schema['const'])}"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            kinds = [describe(s, root) for s in schema[key] if _resolved(s, root).get("type") != "null"]
            return " or ".join(dict.fromkeys(kinds)) or "null"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(describe({**schema, "type": k}, root) for k in kind if k != "null") or "null"
    if kind in ("integer", "number"):
        return _TYPE_NAMES[kind] + _bounds(schema)
    if kind == "string":
        return "a text" + _length(schema, "minLength", "maxLength", "character")
    if kind == "array":
        items = schema.get("items")
        each = f", each {describe(items, root)}" if isinstance(items, Mapping) and items else ""
        return "a list" + _length(schema, "minItems", "maxItems", "item") + each
    if kind == "object" or "properties" in schema:
        fields = list(schema.get("properties") or {})
        if fields:
            return "an object with the fields " + ", ".join(f"'{f}'" for f in fields)
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping) and extra:
            return f"an object whose values are each {describe(extra, root)}"
        return "an object"
    if isinstance(kind, str) and kind in _TYPE_NAMES:
        return _TYPE_NAMES[kind]
    return "a value as the input schema describes"


def _resolved(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, Mapping) else {}
    rest = {k: v for k, v in schema.items() if k != "$ref"}
    return {**target, **rest} if isinstance(target, Mapping) else rest


def _literal(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else json.dumps(value)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds(schema: Mapping[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if low is not None and high is not None:
        return f" from {_number(low)} to {_number(high)}"
    parts = []
    if low is not None:
        parts.append(f"of at least {_number(low)}")
    if above is not None:
        parts.append(f"above {_number(above)}")
    if high is not None:
        parts.append(f"of at most {_number(high)}")
    if below is not None:
        parts.append(f"below {_number(below)}")
    return (" " + " and ".join(parts)) if parts else ""


def _length(schema: Mapping[str, Any], low_key: str, high_key: str, unit: str) -> str:
    low, high = schema.get(low_key), schema.get(high_key)

    def count(n: int) -> str:
        return f"{n} {unit}{'' if n == 1 else 's'}"

    if low and high is not None:
        return f" of {low} to {count(high)}" if low != high else f" of exactly {count(high)}"
    if low:
        return f" of at least {count(low)}"
    if high is not None:
        return f" of at most {count(high)}"
    return ""
