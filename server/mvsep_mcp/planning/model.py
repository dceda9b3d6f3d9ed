"""The model, its options and the output format of a request, checked against the catalogue for the account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from mvsep_mcp.catalog import AccountKind, Catalog, can_use, check_access, resolve_options
from mvsep_mcp.mvsep.formats import FORMAT_BY_NAME, FORMAT_NAMES
from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.planning.errors import PlanError

Widget = Literal["single_upload", "no_upload", "matchering_upload"]
TOOL_FOR_WIDGET: dict[str, tuple[str, str]] = {  # the tool (and its toolset) that sends each kind of input
    "single_upload": ("separate_audio", "separation"),
    "no_upload": ("generate_from_text", "studio"),
    "matchering_upload": ("master_audio", "studio"),
}
TAKES = {"no_upload": "no audio upload", "matchering_upload": "a target and a reference file"}


def model_widget(algorithm: Algorithm) -> Widget:
    """What kind of input the model takes, as MVSep's site says (one file, none, or target + reference)."""
    extra = algorithm.model_extra or {}
    widget = str(extra.get("audio_widget") or "single_upload")
    if widget not in TOOL_FOR_WIDGET:
        widget = "single_upload"
    if str(extra.get("audio_upload_disabled") or "0") in ("1", "true", "True") and widget == "single_upload":
        return "no_upload"
    return widget  # type: ignore[return-value]


def choose_model(
    catalog: Catalog, model: str | int | None, account_kind: AccountKind | None, widget: Widget = "single_upload"
) -> Algorithm:
    """The model, checked for the account and for the kind of input the request sends; without one, the first
    model of that kind the account may use."""
    if model is None or (isinstance(model, str) and not model.strip()):
        return _first_model(catalog, widget, account_kind)
    algorithm = catalog.find(model)
    check_access(algorithm, account_kind)
    actual = model_widget(algorithm)
    if actual != widget:
        tool, toolset = TOOL_FOR_WIDGET[actual]
        raise PlanError(
            f"{algorithm.name} (model {algorithm.render_id}) takes {TAKES.get(actual, 'one audio file')}: "
            f"use {tool} for it (toolset {toolset})."
        )
    return algorithm


def _first_model(catalog: Catalog, widget: Widget, account_kind: AccountKind | None) -> Algorithm:
    for algorithm in catalog.algorithms:
        if model_widget(algorithm) == widget and can_use(algorithm, account_kind):
            return algorithm
    raise PlanError("MVSep's catalogue lists no model of that kind that your account may use right now; search_models "
                    "to see what exists.")


def check_options(
    algorithm: Algorithm, given: Mapping[str, str | int | float] | None, account_kind: AccountKind | None
) -> dict[str, str]:
    """Options by label or key, resolved to ``{add_optN: key}`` (raises ``InvalidOption`` naming the choices)."""
    return resolve_options(algorithm, dict(given or {}), account_kind=account_kind)


def output_format_code(name: str) -> int:
    known = FORMAT_BY_NAME.get(name.lower())
    if known is None:
        raise PlanError(f"Unknown output format {name!r}: use one of {', '.join(FORMAT_NAMES)}.")
    return known.code
