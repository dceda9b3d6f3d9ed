"""A model's details as plain, JSON-able data: what a person needs to choose it and fill in its options."""

from __future__ import annotations

from pydantic import BaseModel

from mvsep_mcp.mvsep.models import Algorithm, AlgorithmField

from .access import access_label
from .conditions import condition_sentence, field_conditions
from .facts import (
    field_label,
    field_options,
    field_order,
    group_name,
    is_active,
    is_text_field,
    long_description,
    output_labels,
    rating_average,
    rating_total,
    short_description,
    usage,
)


class OptionDetails(BaseModel):
    key: str
    label: str
    price_multiplier: float | None = None  # from a "multiplier" price rule, when the option has one
    registered_only: bool = False


class FieldDetails(BaseModel):
    name: str  # add_optN: the form field MVSep reads
    label: str
    server_key: str | None = None
    input_type: str
    required: bool
    default_key: str | None = None
    default_label: str | None = None
    options: list[OptionDetails]
    conditions: list[str]  # sentences: 'only when "Vocal model type" (add_opt1) is "…" (key 171)'
    help_link: str | None = None


class ModelDetails(BaseModel):
    render_id: int  # the value for sep_type
    name: str
    group: str
    access: str  # "everyone" | "registered users" | "premium only" (MVSep's orientation, in words)
    active: bool
    price_coefficient: float
    rating: float | None = None
    rating_votes: int
    usage: int
    outputs: list[str]
    short_description: str
    description: str
    fields: list[FieldDetails]


def describe_field(algorithm: Algorithm, field: AlgorithmField) -> FieldDetails:
    options = field_options(field)
    multipliers: dict[str, float] = {}
    for rule in getattr(field, "price_rules", None) or []:
        if str(getattr(rule, "mode", "multiplier")).lower() == "multiplier":
            multipliers[str(rule.option_key)] = float(rule.value)
    registered_only = {str(k) for k in (getattr(field, "registered_only_keys", None) or [])}
    default = getattr(field, "default_key", None)
    default = str(default) if default is not None else None
    return FieldDetails(
        name=field.name,
        label=field_label(field),
        server_key=getattr(field, "server_key", None),
        input_type=str(getattr(field, "input_type", None) or ("text" if is_text_field(field) else "select")),
        required=bool(getattr(field, "required", False)),
        default_key=default,
        default_label=options.get(default) if default is not None else None,
        options=[
            OptionDetails(
                key=key, label=label, price_multiplier=multipliers.get(key), registered_only=key in registered_only
            )
            for key, label in options.items()
        ],
        conditions=[condition_sentence(c, algorithm) for c in field_conditions(field)],
        help_link=getattr(field, "help_link", None),
    )


def describe(algorithm: Algorithm) -> ModelDetails:
    fields = sorted(algorithm.algorithm_fields, key=field_order)
    return ModelDetails(
        render_id=algorithm.render_id,
        name=algorithm.name,
        group=group_name(algorithm),
        access=access_label(algorithm),
        active=is_active(algorithm),
        price_coefficient=float(getattr(algorithm, "price_coefficient", 1) or 1),
        rating=rating_average(algorithm),
        rating_votes=rating_total(algorithm),
        usage=usage(algorithm),
        outputs=output_labels(algorithm),
        short_description=short_description(algorithm),
        description=long_description(algorithm),
        fields=[describe_field(algorithm, f) for f in fields],
    )
