"""The sandbox's model catalogue: the real 2026 dump plus a few non-upload models, and the rules MVSep applies to it.

The raw dicts are served unchanged by ``GET /api/app/algorithms`` (JSON-in-a-string fields stay strings). This module
also validates a create request's ``add_optN`` values against ``algorithm_fields`` the way MVSep's Laravel
backend would, and works out which stems a job produces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
CATALOG_FILE = DATA_DIR / "algorithms.json"
EXTRA_CATALOG_FILE = DATA_DIR / "extra_algorithms.json"  # matchering_upload / no_upload models the dump lacks

DEFAULT_SCOPE = "single_upload"


class OptionError(ValueError):
    """A create request's option does not fit the algorithm; the message is MVSep-style text for ``errors[]``."""


def _json_text(value: Any, fallback: Any) -> Any:
    if value is None:
        return fallback
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return fallback


@dataclass
class AlgorithmEntry:
    """One catalogue item: the raw dict plus decoded views of it."""

    raw: dict[str, Any]

    @property
    def render_id(self) -> int:
        return int(self.raw["render_id"])

    @property
    def name(self) -> str:
        return str(self.raw["name"])

    @property
    def orientation(self) -> int:
        return int(self.raw.get("orientation") or 0)

    @property
    def price_coefficient(self) -> float:
        return float(self.raw.get("price_coefficient") or 1)

    @property
    def is_active(self) -> bool:
        return bool(self.raw.get("is_active", 1))

    @property
    def audio_widget(self) -> str:
        return str(self.raw.get("audio_widget") or DEFAULT_SCOPE)

    @property
    def takes_audio(self) -> bool:
        return self.audio_widget != "no_upload" and not self.raw.get("audio_upload_disabled")

    @property
    def is_matchering(self) -> bool:
        return self.audio_widget == "matchering_upload"

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.raw.get("algorithm_fields") or [])

    @cached_property
    def outputs(self) -> dict[str, str]:
        """Stem key -> label (the labels MVSep puts in ``files[].type``)."""
        decoded = _json_text(self.raw.get("outputs"), {})
        if isinstance(decoded, dict) and decoded:
            return {str(k): str(v) for k, v in decoded.items()}
        return _outputs_from_name(self.name)

    @property
    def description(self) -> str:
        for item in self.raw.get("algorithm_descriptions") or []:
            if isinstance(item, dict) and item.get("lang") == "en" and item.get("short_description"):
                return str(item["short_description"])
        return str(self.raw.get("description") or "")

    @property
    def slug(self) -> str:
        """Short algorithm tag used in output file names (``bs6stem``-like)."""
        base = self.name.split("(")[0]
        return re.sub(r"[^a-z0-9]", "", base.lower())[:24] or f"algo{self.render_id}"

    @property
    def long_slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", self.name).strip("-")[:60] or self.slug

    def summary(self, *, with_group: bool) -> dict[str, Any]:
        """The short ``algorithm{...}`` object of history and demo items."""
        keys = ("name", "algorithm_group_id", "orientation", "render_id", "order_id", "created_at", "updated_at")
        out = {k: self.raw.get(k) for k in keys}
        if with_group:
            out["algorithm_group"] = self.raw.get("algorithm_group")
        return out

    # --- option validation --------------------------------------------------------------------------------------

    def resolve_options(self, given: Mapping[str, str]) -> dict[str, str]:
        """``{add_optN: value}`` after defaults and validation; raises OptionError with a Laravel-style text."""
        by_id = {int(f["id"]): f for f in self.fields if f.get("id") is not None}
        chosen: dict[str, str] = {}
        for fld in sorted(self.fields, key=lambda f: str(f.get("name"))):
            name = str(fld.get("name"))
            value = (given.get(name) or "").strip() if name in given else ""
            input_type = fld.get("input_type") or "select"
            options = _json_text(fld.get("options"), {}) or {}
            if input_type == "select":
                if value == "":
                    default = fld.get("default_key")
                    if default is None and fld.get("required") and options:
                        default = next(iter(options))
                    if default is None:
                        continue
                    value = str(default)
                elif value not in {str(k) for k in options}:
                    raise OptionError(f"The selected {name} is invalid.")
            elif value == "":
                if fld.get("required"):
                    raise OptionError(f"The {name} field is required.")
                continue
            chosen[name] = value
        # Fields hidden by a condition do not apply: MVSep ignores their values.
        for fld in self.fields:
            name = str(fld.get("name"))
            if name in chosen and not _field_visible(fld, chosen, by_id):
                del chosen[name]
        return chosen

    def price_multiplier(self, chosen: Mapping[str, str]) -> float:
        mult = 1.0
        for fld in self.fields:
            value = chosen.get(str(fld.get("name")))
            for rule in fld.get("price_rules") or []:
                if rule.get("mode") == "multiplier" and str(rule.get("option_key")) == value:
                    mult *= float(rule.get("value") or 1)
        return mult

    def model_key(self, chosen: Mapping[str, str]) -> str:
        """The ``mt_<model>`` part of file names: the model-type option, else add_opt1, else 0."""
        for fld in self.fields:
            if fld.get("server_key") == "model_type" and fld.get("input_type", "select") == "select":
                value = chosen.get(str(fld.get("name")))
                if value is not None:
                    return _file_token(value)
        select = [f for f in self.fields if f.get("input_type", "select") == "select"]
        for fld in sorted(select, key=lambda f: str(f.get("name"))):
            value = chosen.get(str(fld.get("name")))
            if value is not None:
                return _file_token(value)
        return "0"

    def option_tokens(self, chosen: Mapping[str, str]) -> list[str]:
        """``server_key-value`` pieces for long file names (select fields only)."""
        out = []
        for fld in sorted(self.fields, key=lambda f: str(f.get("name"))):
            value = chosen.get(str(fld.get("name")))
            if value is not None and fld.get("input_type", "select") == "select":
                out.append(f"{fld.get('server_key') or fld.get('name')}-{_file_token(value)}")
        return out

    def text_prompt(self, chosen: Mapping[str, str]) -> str | None:
        for fld in self.fields:
            if fld.get("input_type") in ("text", "textarea") and chosen.get(str(fld.get("name"))):
                return chosen[str(fld.get("name"))]
        return None


def _file_token(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", value).strip("-")[:20] or "0"


def _field_visible(fld: Mapping[str, Any], chosen: Mapping[str, str], by_id: Mapping[int, Mapping[str, Any]]) -> bool:
    for cond in fld.get("conditions") or []:
        other = by_id.get(int(cond.get("depends_on_field_id") or -1))
        if other is None:
            continue
        current = chosen.get(str(other.get("name")))
        values = [str(v) for v in (cond.get("value_json") or [])]
        matches = current in values if cond.get("operator", "in") == "in" else current not in values
        if cond.get("action", "show") == "show" and not matches:
            return False
        if cond.get("action") == "hide" and matches:
            return False
    return True


def _outputs_from_name(name: str) -> dict[str, str]:
    """Stems for catalogue items without ``outputs``: the name's parenthesised list, an instrument, or one result."""
    inner = re.search(r"\(([^)]*,[^)]*)\)", name)
    if inner:
        words = [w.strip() for w in inner.group(1).split(",") if w.strip()]
        return {re.sub(r"[^a-z0-9]+", "_", w.lower()).strip("_"): w.title() for w in words}
    plain = re.fullmatch(r"MVSep ([A-Za-z ]+)", name.strip())
    if plain:
        word = plain.group(1).strip()
        return {re.sub(r"[^a-z0-9]+", "_", word.lower()): word, "other": "Other"}
    return {"result": "Result"}


@dataclass
class Catalog:
    """All algorithms the sandbox knows, in catalogue order."""

    entries: list[AlgorithmEntry] = field(default_factory=list)

    @classmethod
    def load(cls, *paths: Path) -> Catalog:
        files = paths or (CATALOG_FILE, EXTRA_CATALOG_FILE)
        entries: list[AlgorithmEntry] = []
        for path in files:
            if path.exists():
                entries.extend(AlgorithmEntry(item) for item in json.loads(path.read_text(encoding="utf-8")))
        return cls(entries)

    def find(self, render_id: int) -> AlgorithmEntry | None:
        for entry in self.entries:
            if entry.render_id == render_id:
                return entry
        return None

    def listing(self, scopes: str | None) -> list[dict[str, Any]]:
        wanted = {s.strip() for s in (scopes or DEFAULT_SCOPE).split(",") if s.strip()} or {DEFAULT_SCOPE}
        return [e.raw for e in self.entries if e.audio_widget in wanted]
