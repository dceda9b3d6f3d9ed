"""Field conditions: when one of a model's options applies, depending on another option's value.

A condition `{depends_on_field_id, operator, value_json, action}` refers to another field's `id` (not its
`add_optN` name). The 2026 catalogue uses operator "in" with actions "show" and "hide"; "not_in" (also spelt
"not in"/"nin") is understood as its negation. A condition with an unknown operator or action is ignored (the
field is left applicable) and logged, so that MVSep itself decides.
Several conditions on one field must all let it apply.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from mvsep_mcp.mvsep.models import Algorithm, AlgorithmField, FieldCondition

from .facts import choice_title, field_options, field_title

logger = logging.getLogger(__name__)

_IN = {"in", "eq", "=", "=="}
_NOT_IN = {"not_in", "not in", "nin", "notin", "neq", "!=", "<>"}


def fields_by_id(algorithm: Algorithm) -> dict[int, AlgorithmField]:
    return {int(f.id): f for f in algorithm.algorithm_fields if getattr(f, "id", None) is not None}


def controlling_field(condition: FieldCondition, by_id: Mapping[int, AlgorithmField]) -> AlgorithmField | None:
    """The field a condition depends on (None when the condition names no field of this model)."""
    field_id = getattr(condition, "depends_on_field_id", None)
    return by_id.get(int(field_id)) if field_id is not None else None


def field_conditions(field: AlgorithmField) -> list[FieldCondition]:
    return list(getattr(field, "conditions", None) or [])


def _values(condition: FieldCondition) -> set[str]:
    return {str(v) for v in (getattr(condition, "value_json", None) or [])}


def condition_allows(condition: FieldCondition, other_value: str | None) -> bool:
    """Whether the field carrying `condition` applies when the other field has `other_value` (None: not set)."""
    operator = str(getattr(condition, "operator", "in") or "in").strip().lower()
    action = str(getattr(condition, "action", "show") or "show").strip().lower()
    if operator in _IN:
        matched = other_value is not None and other_value in _values(condition)
    elif operator in _NOT_IN:
        matched = other_value is None or other_value not in _values(condition)
    else:
        logger.warning("catalogue condition with unknown operator %r ignored", operator)
        return True
    if action == "show":
        return matched
    if action == "hide":
        return not matched
    logger.warning("catalogue condition with unknown action %r ignored", action)
    return True


def allowed_keys(condition: FieldCondition, other: AlgorithmField) -> list[str]:
    """The keys of `other` (in display order) for which the conditioned field applies."""
    keys = list(field_options(other))
    if not keys:
        return sorted(_values(condition))  # a free-text field: the listed values, as given
    return [key for key in keys if condition_allows(condition, key)]


def condition_sentence(condition: FieldCondition, algorithm: Algorithm) -> str:
    """`only when "Vocal model type" (add_opt1) is "124 bands (…)" (key 171)`."""
    other = controlling_field(condition, fields_by_id(algorithm))
    if other is None:
        return f"only when option #{condition.depends_on_field_id} allows it (that option is not in the catalogue)"
    keys = allowed_keys(condition, other)
    if not keys:
        return f"never (no choice of {field_title(other)} makes it apply)"
    choices = ", ".join(choice_title(other, key) for key in keys)
    verb = "is" if len(keys) == 1 else "is one of"
    return f"only when {field_title(other)} {verb} {choices}"


def visible_fields(algorithm: Algorithm, chosen: Mapping[str, str]) -> dict[str, bool]:
    """For every field (by add_optN name): does it apply, given the values `chosen` (by add_optN name)?

    A field whose controlling field does not itself apply counts as having no value there.
    """
    by_id = fields_by_id(algorithm)
    result: dict[str, bool] = {}

    def visible(field: AlgorithmField, seen: frozenset[str]) -> bool:
        if field.name in result:
            return result[field.name]
        ok = True
        for condition in field_conditions(field):
            other = controlling_field(condition, by_id)
            if other is None or other.name in seen:
                continue  # unknown or circular dependency: let MVSep decide
            other_value = chosen.get(other.name) if visible(other, seen | {field.name}) else None
            ok = ok and condition_allows(condition, other_value)
        result[field.name] = ok
        return ok

    for field in algorithm.algorithm_fields:
        visible(field, frozenset())
    return result
