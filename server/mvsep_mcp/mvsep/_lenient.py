"""Lenient field types for MVSep's PHP-flavoured JSON.

MVSep encodes some fields as JSON inside a string (``options``, ``outputs``, ``output_stems``, ``output_variants``),
sends numbers as strings (``rating.average: "4.5366"``, ``price_rules[].value: "2.0000"``), booleans as 0/1, and PHP
turns empty maps into ``[]``. These annotated types accept every variant seen and never fail on a bad value: a field
that cannot be understood becomes empty/None rather than rejecting the whole response.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator


def _decode_json(value: Any, *, keep_text: bool) -> Any:
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return json.loads(text)  # dicts keep the document's key order
        except ValueError:
            return value if keep_text else None
    return value


def decode_json_string(value: Any) -> Any:
    """``'{"a": 1}'`` -> ``{"a": 1}``; already-decoded values pass through; ``""``/invalid JSON -> ``None``."""
    return _decode_json(value, keep_text=False)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def to_str_dict(value: Any) -> dict[str, str]:
    """A JSON object (maybe inside a string, maybe a PHP list) -> ``{str: str}`` in the original order."""
    value = decode_json_string(value)
    if isinstance(value, dict):
        return {str(k): _text(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return {str(i): _text(v) for i, v in enumerate(value) if v is not None}
    return {}


def to_str_list(value: Any) -> list[str]:
    """A JSON array (maybe inside a string) -> ``[str]``; a single scalar becomes a one-item list."""
    value = decode_json_string(value)
    if value is None:
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        value = [value]
    return [_text(v) for v in value if v is not None]


def to_opt_str_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    decoded = decode_json_string(value)
    return None if decoded is None else to_str_list(decoded)


def to_opt_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            return None
    return None


def to_float(value: Any) -> float:
    result = to_opt_float(value)
    return 0.0 if result is None else result


def to_opt_int(value: Any) -> int | None:
    number = to_opt_float(value)
    if number is None:
        return None
    return int(number)


def to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def to_opt_str(value: Any) -> str | None:
    if value is None:
        return None
    return _text(value)


def to_map(value: Any) -> dict[str, Any]:
    """An object, tolerating PHP's ``[]`` for an empty one and JSON inside a string."""
    value = decode_json_string(value)
    return dict(value) if isinstance(value, dict) else {}


def to_list(value: Any) -> list[Any]:
    """A list, tolerating PHP's object-with-numeric-keys form and ``null``."""
    value = decode_json_string(value)
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def decode_json_or_keep(value: Any) -> Any:
    """Like :func:`decode_json_string`, but a string that is not JSON (``"sdr_vocals"``) is kept as it is."""
    return _decode_json(value, keep_text=True)


JsonValue = Annotated[Any, BeforeValidator(decode_json_or_keep)]
StrDict = Annotated[dict[str, str], BeforeValidator(to_str_dict)]
StrList = Annotated[list[str], BeforeValidator(to_str_list)]
OptStrList = Annotated[list[str] | None, BeforeValidator(to_opt_str_list)]
OptFloat = Annotated[float | None, BeforeValidator(to_opt_float)]
Float = Annotated[float, BeforeValidator(to_float)]
OptInt = Annotated[int | None, BeforeValidator(to_opt_int)]
Bool = Annotated[bool, BeforeValidator(to_bool)]
OptStr = Annotated[str | None, BeforeValidator(to_opt_str)]
Map = Annotated[dict[str, Any], BeforeValidator(to_map)]
