"""Turn the options a person gives (by label or key) into the `add_optN` form fields MVSep expects.

`resolve_options(algorithm, {"Overlap": "87.5%"})` -> `{"add_opt1": "81", "add_opt2": "8"}`.

Field names may be given as `add_optN`, as the field's label (case-, accent- and punctuation-insensitive; a unique
prefix or substring is enough) or as its `server_key`. Values may be an option key, a label (same loose matching), or
free text for text/textarea fields. Every applicable field gets a value: the given one, else `default_key`, else the
first choice of a required select. Fields that do not apply because of a condition are left out, and giving one is an
error that says which other choice would make it apply. Every error message names the fix.

Decisions: a default that is for registered users only is replaced by the first choice the account may use;
a value given for a field twice (say, by label and by name) is an error; a select's number given as a float that is
whole (8.0) is read as "8".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mvsep_mcp.mvsep.models import Algorithm, AlgorithmField

from .access import AccountKind
from .conditions import allowed_keys, controlling_field, field_conditions, fields_by_id, visible_fields
from .errors import InvalidOption
from .facts import choice_title, field_label, field_options, field_order, field_title, is_text_field
from .text import fold, loose

OptionValue = str | int | float


def _list_fields(algorithm: Algorithm) -> str:
    return ", ".join(field_title(f) for f in sorted(algorithm.algorithm_fields, key=field_order))


def _list_choices(field: AlgorithmField, keys: list[str] | None = None) -> str:
    return ", ".join(choice_title(field, key) for key in (keys if keys is not None else list(field_options(field))))


def find_field(algorithm: Algorithm, name: str) -> AlgorithmField:
    """The field called `name` (add_optN, server_key or label, loosely); InvalidOption naming the valid ones."""
    fields: list[AlgorithmField] = sorted(algorithm.algorithm_fields, key=field_order)
    wanted_fold = fold(name.strip())
    wanted_loose = loose(name)
    exact: list[Callable[[AlgorithmField], bool]] = [
        lambda f: fold(f.name) == wanted_fold,
        lambda f: fold(getattr(f, "server_key", None) or "") == wanted_fold,
        lambda f: loose(field_label(f)) == wanted_loose,
        lambda f: loose(getattr(f, "server_key", None) or "") == wanted_loose,
    ]
    for match in exact:
        found = [f for f in fields if match(f)]
        if len(found) == 1:
            return found[0]
    if wanted_loose:
        partial: list[Callable[[AlgorithmField], bool]] = [
            lambda f: loose(field_label(f)).startswith(wanted_loose),
            lambda f: wanted_loose in loose(field_label(f)),
        ]
        for match in partial:
            found = [f for f in fields if match(f)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise InvalidOption(
                    f'"{name}" could mean several options of {algorithm.name}: '
                    f"{', '.join(field_title(f) for f in found)}. Give the full label or the add_optN name."
                )
    if not fields:
        raise InvalidOption(f'{algorithm.name} takes no options: leave out "{name}".')
    raise InvalidOption(f'{algorithm.name} has no option "{name}". Use one of: {_list_fields(algorithm)}.')


def _as_text(value: OptionValue) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def find_choice(algorithm: Algorithm, field: AlgorithmField, value: OptionValue) -> str:
    """The option key of `field` that `value` names (a key, or a label, loosely); InvalidOption otherwise."""
    options = field_options(field)
    text = _as_text(value)
    if text in options:
        return text
    wanted_fold, wanted_loose = fold(text), loose(text)
    exact: list[Callable[[str, str], bool]] = [
        lambda k, label: fold(k) == wanted_fold,
        lambda k, label: fold(label) == wanted_fold,
        lambda k, label: loose(label) == wanted_loose,
    ]
    for match in exact:
        found = [k for k, label in options.items() if match(k, label)]
        if len(found) == 1:
            return found[0]
    if wanted_fold:
        partial: list[Callable[[str, str], bool]] = [
            lambda k, label: fold(label).startswith(wanted_fold),
            lambda k, label: bool(wanted_loose) and loose(label).startswith(wanted_loose),
            lambda k, label: wanted_fold in fold(label),
            lambda k, label: bool(wanted_loose) and wanted_loose in loose(label),
        ]
        for match in partial:
            found = [k for k, label in options.items() if match(k, label)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise InvalidOption(
                    f'{field_title(field)}: "{text}" matches several choices: {_list_choices(field, found)}. '
                    "Give more of the label, or the key.",
                    field=field.name,
                )
    raise InvalidOption(
        f'{field_title(field)} has no choice "{text}". Use one of: {_list_choices(field)}.', field=field.name
    )


def _default(field: AlgorithmField, account_kind: AccountKind | None) -> str | None:
    options = field_options(field)
    restricted = _restricted_keys(field, account_kind)
    default = getattr(field, "default_key", None)
    if default is not None and str(default) not in restricted:
        return str(default)
    if is_text_field(field) or not options:
        return None
    if default is not None or getattr(field, "required", False):
        usable = [k for k in options if k not in restricted]
        return usable[0] if usable else None
    return None


def _restricted_keys(field: AlgorithmField, account_kind: AccountKind | None) -> set[str]:
    if account_kind in ("registered", "premium"):
        return set()
    return {str(k) for k in (getattr(field, "registered_only_keys", None) or [])}


def resolve_options(
    algorithm: Algorithm,
    given: Mapping[str, OptionValue],
    *,
    account_kind: AccountKind | None = None,
) -> dict[str, str]:
    """`{add_optN: key or text}` for every field of `algorithm` that applies; see the module docstring.

    `account_kind` None counts as "anonymous" (see mvsep_mcp.catalog.access).
    """
    chosen: dict[str, str] = {}
    given_as: dict[str, str] = {}
    fields: list[AlgorithmField] = sorted(algorithm.algorithm_fields, key=field_order)
    for name, value in given.items():
        field = find_field(algorithm, name)
        if field.name in given_as:
            raise InvalidOption(
                f'{field_title(field)} was given twice (as "{given_as[field.name]}" and "{name}"): give it once.',
                field=field.name,
            )
        given_as[field.name] = name
        if is_text_field(field):
            chosen[field.name] = value if isinstance(value, str) else _as_text(value)
            continue
        key = find_choice(algorithm, field, value)
        if key in _restricted_keys(field, account_kind):
            allowed = [k for k in field_options(field) if k not in _restricted_keys(field, account_kind)]
            raise InvalidOption(
                f"{field_title(field)} choice {choice_title(field, key)} is for registered MVSep users only: "
                f"set your MVSep API token, or choose one of: {_list_choices(field, allowed)}.",
                field=field.name,
            )
        chosen[field.name] = key

    for field in fields:
        if field.name not in chosen:
            default = _default(field, account_kind)
            if default is not None:
                chosen[field.name] = default

    applies = visible_fields(algorithm, chosen)
    by_id = fields_by_id(algorithm)
    for field in fields:
        if applies.get(field.name, True):
            continue
        if field.name in given_as:
            raise InvalidOption(_hidden_message(algorithm, field, chosen, by_id), field=field.name)
        chosen.pop(field.name, None)

    for field in fields:
        if not applies.get(field.name, True) or not is_text_field(field) or not getattr(field, "required", False):
            continue
        if not chosen.get(field.name, "").strip():
            raise InvalidOption(
                f"{algorithm.name} needs {field_title(field)}: give it as text, "
                f'e.g. {{"{field_label(field)}": "..."}}.',
                field=field.name,
            )
    return {f.name: chosen[f.name] for f in fields if f.name in chosen}


def _hidden_message(
    algorithm: Algorithm, field: AlgorithmField, chosen: Mapping[str, str], by_id: Mapping[int, AlgorithmField]
) -> str:
    for condition in field_conditions(field):
        other = controlling_field(condition, by_id)
        if other is None:
            continue
        keys = allowed_keys(condition, other)
        current = chosen.get(other.name)
        if current in keys:
            continue
        now = f"with {field_title(other)} = {choice_title(other, current)}" if current is not None else (
            f"while {field_title(other)} does not apply"
        )
        if not keys:
            return f"{field_title(field)} never applies to {algorithm.name}: leave it out."
        verb = "is" if len(keys) == 1 else "is one of"
        return (
            f"{field_title(field)} does not apply {now}: it applies only when {field_title(other)} {verb} "
            f"{_list_choices(other, keys)}. Choose that, or leave {field_title(field)} out."
        )
    return f"{field_title(field)} does not apply to {algorithm.name} with these options: leave it out."
