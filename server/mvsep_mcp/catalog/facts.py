"""Read-only facts about one `Algorithm`, tolerant of the older (2024) catalogue shape.

The 2024 catalogue lacks groups, ratings, usage and outputs; these helpers give neutral values then
instead of making every caller test for `None`.
"""

from __future__ import annotations

from collections.abc import Mapping

from mvsep_mcp.mvsep.models import Algorithm, AlgorithmField
from mvsep_mcp.policy import CATALOG_RATING_PRIOR_MEAN, CATALOG_RATING_PRIOR_VOTES

from .text import html_to_text


def group_name(algorithm: Algorithm) -> str:
    group = getattr(algorithm, "algorithm_group", None)
    return (getattr(group, "name", None) or "") if group is not None else ""


def output_labels(algorithm: Algorithm) -> list[str]:
    """The stem labels the model produces (as they appear in `files[].type`), else its stem keys."""
    outputs = getattr(algorithm, "outputs", None) or {}
    if outputs:
        return [str(label) for label in outputs.values()]
    return [str(stem) for stem in (getattr(algorithm, "output_stems", None) or [])]


def stem_choices(algorithm: Algorithm, options: Mapping[str, str]) -> dict[str, str]:
    """Stem key -> label of what the model makes with ``options`` (``{add_optN: key}``): its ``outputs`` and, where
    the catalogue's ``output_variants`` name the outputs for those options, those too (empty: the catalogue does not
    say)."""
    choices = {str(key): str(label) for key, label in (getattr(algorithm, "outputs", None) or {}).items()}
    if not choices:
        choices = {str(stem): str(stem) for stem in getattr(algorithm, "output_stems", None) or []}
    variants = getattr(algorithm, "output_variants", None)
    by_server_key = {f.server_key: options.get(f.name) for f in algorithm.algorithm_fields if f.server_key}
    for variant in (variants.get("variants") if isinstance(variants, dict) else None) or []:
        match = variant.get("match") if isinstance(variant, dict) else None
        outputs = variant.get("outputs") if isinstance(variant, dict) else None
        if isinstance(match, dict) and isinstance(outputs, dict) and all(
                by_server_key.get(str(k)) == str(v) for k, v in match.items()):
            choices.update({str(key): str(label) for key, label in outputs.items()})
    return choices


def output_keys(algorithm: Algorithm) -> list[str]:
    """The stem keys (`vocals`, `instrum`, …) from `outputs` and `output_stems`."""
    keys = list((getattr(algorithm, "outputs", None) or {}).keys())
    for stem in getattr(algorithm, "output_stems", None) or []:
        if stem not in keys:
            keys.append(stem)
    return [str(k) for k in keys]


def rating_average(algorithm: Algorithm) -> float | None:
    rating = getattr(algorithm, "rating", None)
    if rating is None or not getattr(rating, "total", 0):
        return None
    average = getattr(rating, "average", None)
    return float(average) if average is not None else None


def rating_total(algorithm: Algorithm) -> int:
    rating = getattr(algorithm, "rating", None)
    return int(getattr(rating, "total", 0) or 0) if rating is not None else 0


def rating_score(algorithm: Algorithm) -> float:
    """Bayesian average: votes blended with CATALOG_RATING_PRIOR_VOTES phantom votes of CATALOG_RATING_PRIOR_MEAN."""
    total = rating_total(algorithm)
    average = rating_average(algorithm)
    if average is None or total <= 0:
        return CATALOG_RATING_PRIOR_MEAN
    prior = CATALOG_RATING_PRIOR_VOTES
    return (prior * CATALOG_RATING_PRIOR_MEAN + average * total) / (prior + total)


def usage(algorithm: Algorithm) -> int:
    return int(getattr(algorithm, "usage", 0) or 0)


def is_active(algorithm: Algorithm) -> bool:
    return bool(getattr(algorithm, "is_active", True))


def _descriptions_english_first(algorithm: Algorithm) -> list[object]:
    descriptions = list(getattr(algorithm, "algorithm_descriptions", None) or [])
    return sorted(descriptions, key=lambda d: 0 if (getattr(d, "lang", None) or "").lower() == "en" else 1)


def short_description(algorithm: Algorithm) -> str:
    """The English short description if there is one, else the first, else the top-level `description`."""
    for description in _descriptions_english_first(algorithm):
        text = getattr(description, "short_description", None)
        if text:
            return str(text).strip()
    return str(getattr(algorithm, "description", None) or "").strip()


def long_description(algorithm: Algorithm) -> str:
    """Plain text of the English long description (HTML stripped), falling back to the short one."""
    for description in _descriptions_english_first(algorithm):
        html = getattr(description, "long_description", None)
        if html:
            text = html_to_text(str(html))
            if text:
                return text
    return short_description(algorithm)


def field_label(field: AlgorithmField) -> str:
    return str(getattr(field, "text", None) or field.name)


def field_title(field: AlgorithmField) -> str:
    """How errors and descriptions name a field: `"Overlap" (add_opt2)`."""
    return f'"{field_label(field)}" ({field.name})'


def field_order(field: AlgorithmField) -> tuple[int, str]:
    """Sort key putting add_opt1 … add_opt4 in number order (the catalogue lists fields in no set order)."""
    suffix = field.name.removeprefix("add_opt")
    return (int(suffix), field.name) if suffix.isdigit() else (1_000, field.name)


def field_options(field: AlgorithmField) -> dict[str, str]:
    return {str(k): str(v) for k, v in (getattr(field, "options", None) or {}).items()}


def is_text_field(field: AlgorithmField) -> bool:
    input_type = (getattr(field, "input_type", None) or "select").lower()
    return input_type in {"text", "textarea"} or (input_type != "select" and not field_options(field))


def choice_title(field: AlgorithmField, key: str) -> str:
    """How errors and descriptions name a choice: `"87.5%" (key 8)`."""
    label = field_options(field).get(key)
    return f'"{label}" (key {key})' if label is not None else f'"{key}"'
