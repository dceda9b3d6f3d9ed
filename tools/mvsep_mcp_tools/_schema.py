"""JSON schemas as short as they can be without losing anything a client validates, in the portable dialect.

Pydantic's schemas repeat themselves for a model reader: a ``title`` on every property (its name again) and
``anyOf: [X, {"type": "null"}]`` with ``"default": null`` for every optional field. ``compact`` keeps one ``type``
per schema (type arrays are legal JSON Schema but not portable: the MCP Inspector's strict mode and Gemini-style
clients reject them) and says "optional" the way every dialect understands, by leaving the field out of
``required``:

- an optional input loses its ``null`` branch (leaving it out means "use the default"; the server still accepts an
  explicit null);
- an output field that may be null becomes optional instead, and results leave out such fields when they are
  null (``mvsep_mcp_tools._registration.result`` dumps with ``exclude_none``), so every result still validates;
- titles, null defaults, the default ``additionalProperties: true`` go; so do an output schema's descriptions and
  defaults (programs read the structure; the model reads the text), a switch's ``default: false`` (a switch left out
  is off) and ``integer`` beside ``number`` in an ``anyOf`` (every integer is a number: the same values pass);
- a ``$defs`` entry used once is written where it is used (the same schema, without the name and the reference);
  one used twice or more, or by itself, stays shared.
"""

from __future__ import annotations

from typing import Any

_NULL = {"type": "null"}


def compact(schema: dict[str, Any], *, output: bool = False) -> dict[str, Any]:
    """A compact copy of ``schema`` that accepts the same values (see the module docstring for null)."""
    return _inline_single_use_defs(_schema(schema, output))


_REF_PREFIX = "#/$defs/"


def _refs(node: Any, counts: dict[str, int]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            counts[ref[len(_REF_PREFIX):]] = counts.get(ref[len(_REF_PREFIX):], 0) + 1
        for value in node.values():
            _refs(value, counts)
    elif isinstance(node, list):
        for value in node:
            _refs(value, counts)


def _inline_single_use_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """Definitions referenced exactly once (and not from inside themselves) replace their reference."""
    defs: dict[str, Any] = dict(schema.get("$defs") or {})
    while True:
        counts: dict[str, int] = {}
        _refs({k: v for k, v in schema.items() if k != "$defs"}, counts)
        _refs(defs, counts)
        single = [name for name in defs if counts.get(name) == 1 and not _uses(defs[name], name)]
        if not single:
            break
        name = single[0]
        body = defs.pop(name)
        schema = {k: _replace(v, name, body) for k, v in schema.items() if k != "$defs"}
        defs = {k: _replace(v, name, body) for k, v in defs.items()}
    out = {k: v for k, v in schema.items() if k != "$defs"}
    if defs:
        out["$defs"] = defs
    return out


def _uses(node: Any, name: str) -> bool:
    counts: dict[str, int] = {}
    _refs(node, counts)
    return name in counts


def _replace(node: Any, name: str, body: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if node.get("$ref") == _REF_PREFIX + name:
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**body, **rest} if rest else body
        return {k: _replace(v, name, body) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, name, body) for v in node]
    return node


def _schema(node: dict[str, Any], output: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if output and key in ("description", "default"):
            continue
        if key in ("properties", "$defs", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _schema(sub, output) if isinstance(sub, dict) else sub for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _schema(value, output)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(value, list):
            out[key] = [_schema(sub, output) if isinstance(sub, dict) else sub for sub in value]
        else:
            out[key] = value
    if out.get("default", 0) is None:
        del out["default"]  # an optional field says as much by not being required
    if out.get("type") == "boolean" and out.get("default", True) is False:
        del out["default"]  # a switch left out is off: the convention every reader already assumes
    if isinstance(out.get("anyOf"), list) and {"type": "number"} in out["anyOf"]:
        out["anyOf"] = [o for o in out["anyOf"] if o != {"type": "integer"}]  # every integer is a number
    if out.get("additionalProperties") is True:
        del out["additionalProperties"]  # JSON Schema's default
    if isinstance(out.get("properties"), dict):
        _optional_instead_of_null(out, output)
    return out


def _optional_instead_of_null(node: dict[str, Any], output: bool) -> None:
    """Nullable properties become plain optional ones (outputs: and leave ``required``)."""
    required = list(node.get("required", []))
    for name, prop in node["properties"].items():
        if not isinstance(prop, dict) or (name in required and not output):
            continue
        options = prop.get("anyOf")
        if not isinstance(options, list) or _NULL not in options:
            continue
        rest = [o for o in options if o != _NULL]
        bare = {k: v for k, v in prop.items() if k != "anyOf"}
        node["properties"][name] = {**bare, **rest[0]} if len(rest) == 1 else {**bare, "anyOf": rest}
        if name in required:
            required.remove(name)
    if "required" in node:
        if required:
            node["required"] = required
        else:
            del node["required"]
